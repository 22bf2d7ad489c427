/**
 * RPC benchmark: our RpcServer/RpcClient on both transports against bare zeromq.js REQ/REP and PUB/SUB measured
 * in the same run. The server runs in this process; every client or subscriber is a separate process (this same
 * script in worker mode), so the figures include real process boundaries.
 *
 *   node dist/bench/rpc.bench.js            (about a minute and a half)
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { decodePublish, decodeReply, encodePublish, encodeReply, encodeRequest } from "../src/codec/index.js";
import { DateTime, Event, Exchange, TickData } from "../src/kernel/index.js";
import { RpcClient, RpcServer, ZmqEndpoint, str, type TransportKind } from "../src/rpc/index.js";

type Side = TransportKind | "bare";
const SELF = fileURLToPath(import.meta.url);
const FIXTURE_1000 = "/work/shared/fixtures/vnpy-wire/rep_get_all_contracts_1000.pkl";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const nowMs = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------------- workers

async function workerCalls(side: Side, req: string, sub: string, mode: string, seconds: number, fn: string): Promise<void> {
  const latencies: number[] = [];
  let count = 0;
  const end = () => performance.now() > deadline;
  let deadline = 0;
  if (side === "bare") {
    const socket = new zmq.Request({ linger: 0 });
    socket.connect(req);
    const body = encodeRequest(fn, ["x"], {});
    await socket.send(body);
    await socket.receive();
    deadline = performance.now() + seconds * 1000;
    while (!end()) {
      const t0 = performance.now();
      await socket.send(body);
      const [reply] = await socket.receive();
      decodeReply(reply!);
      latencies.push(performance.now() - t0);
      count++;
    }
    socket.close();
  } else {
    const client = new RpcClient({ reqAddress: req, subAddress: sub, transport: side, timeout: 10_000 });
    client.start();
    await client.waitConnected(10_000);
    const args = fn === "echo" ? ["x"] : [];
    deadline = performance.now() + seconds * 1000;
    if (mode === "pipe") {
      const inFlight = 64;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (!end()) {
            await client.call(fn, args);
            count++;
          }
        }),
      );
    } else {
      while (!end()) {
        const t0 = performance.now();
        await client.call(fn, args);
        latencies.push(performance.now() - t0);
        count++;
      }
    }
    await client.close();
  }
  latencies.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ count, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }) + "\n");
  process.exit(0);
}

async function workerSubscriber(side: Side, req: string, sub: string): Promise<void> {
  let received = 0;
  let latencies: number[] = [];
  const onTick = (data: unknown) => {
    if (data instanceof Event && data.type === "eBenchEnd") {
      latencies.sort((a, b) => a - b);
      process.stdout.write(JSON.stringify({ received, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }) + "\n");
      received = 0;
      latencies = [];
      return;
    }
    if (data instanceof Event && data.data instanceof TickData) {
      received++;
      const sent = (data.data.extra as { t?: number } | undefined)?.t;
      if (typeof sent === "number") latencies.push(nowMs() - sent);
    }
  };
  if (side === "bare") {
    const socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 1_000_000 });
    socket.subscribe();
    socket.connect(sub);
    process.stdout.write(JSON.stringify({ ready: true }) + "\n");
    for await (const [frame] of socket) onTick(decodePublish(frame!).data);
  } else {
    const client = new RpcClient({ reqAddress: req, subAddress: sub, transport: side });
    client.on("event", ({ event }) => onTick(event));
    client.start();
    await client.waitConnected(10_000);
    process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  }
}

// ---------------------------------------------------------------------------------------------------- main

interface Worker {
  lines: Record<string, unknown>[];
  next(): Promise<Record<string, unknown>>;
  kill(): void;
}

function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, [SELF, "--worker", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: Record<string, unknown>[] = [];
  const waiters: ((line: Record<string, unknown>) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  return {
    lines,
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiters.push(resolve))),
    kill: () => child.kill("SIGKILL"),
  };
}

interface Running {
  side: Side;
  req: string;
  pub: string;
  publish(event: Event): void;
  stop(): Promise<void>;
}

let contracts1000: unknown[] = [];

async function startSide(side: Side, kind: "tcp" | "ipc"): Promise<Running> {
  const base = join(tmpdir(), `rpc-bench-${process.pid}-${side}-${kind}`);
  const rep = kind === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${base}-rep`;
  const pub = kind === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${base}-pub`;
  if (side === "bare") {
    const router = new zmq.Reply({ linger: 0 });
    const publisher = new zmq.Publisher({ linger: 0, sendHighWaterMark: 1_000_000, sendTimeout: 0 });
    await router.bind(rep);
    await publisher.bind(pub);
    const reply = encodeReply(true, "x");
    void (async () => {
      try {
        for await (const [request] of router) {
          void request;
          await router.send(reply);
        }
      } catch {
        // closed
      }
    })();
    return {
      side, req: router.lastEndpoint!, pub: publisher.lastEndpoint!,
      publish: (event) => void publisher.send(encodePublish("", event)).catch(() => undefined),
      stop: async () => {
        router.close();
        publisher.close();
      },
    };
  }
  const server = new RpcServer();
  server.register("echo", [{ name: "text", type: str }], ([text]) => text);
  server.register("get_all_contracts", [], () => contracts1000);
  const endpoint = new ZmqEndpoint({ repAddress: rep, pubAddress: pub, transport: side, publishHighWaterMark: 1_000_000 });
  await server.start([endpoint]);
  return { side, req: endpoint.addresses!.rep, pub: endpoint.addresses!.pub, publish: (e) => server.publish(e), stop: () => server.stop() };
}

async function runCalls(running: Running, mode: string, clients: number, seconds: number, fn = "echo") {
  const workers = Array.from({ length: clients }, () =>
    startWorker(["calls", running.side, running.req, running.pub, mode, String(seconds), fn]),
  );
  const results = await Promise.all(workers.map((w) => w.next()));
  const total = results.reduce((sum, r) => sum + (r["count"] as number), 0);
  return { callsPerSecond: Math.round(total / seconds), p50: results[0]!["p50"] as number, p99: results[0]!["p99"] as number };
}

function makeTick(seq: number): TickData {
  const tick = new TickData({
    gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: 3500 + (seq % 10),
    volume: seq, bid_price_1: 3499, ask_price_1: 3501, bid_volume_1: 10, ask_volume_1: 12,
  });
  tick.extra = { seq, t: nowMs() };
  return tick;
}

/** Publishes `count` ticks at `rate` per second (in 5 ms slices), then an end marker; collects every subscriber's report. */
async function publishRun(running: Running, subscribers: Worker[], rate: number, count: number) {
  const perSlice = Math.max(1, Math.round((rate * 5) / 1000));
  let sent = 0;
  const started = performance.now();
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + perSlice);
    while (sent < due) running.publish(new Event("eTick.", makeTick(++sent)));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const achieved = count / ((performance.now() - started) / 1000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  running.publish(new Event("eBenchEnd", null));
  const reports = await Promise.all(subscribers.map((s) => s.next()));
  return { reports, achieved };
}

async function tickRuns(running: Running, subscriberCount: number) {
  const subscribers = Array.from({ length: subscriberCount }, () => startWorker(["sub", running.side, running.req, running.pub]));
  await Promise.all(subscribers.map((s) => s.next()));
  await new Promise((resolve) => setTimeout(resolve, 300));
  let best = 0;
  for (const rate of [5_000, 10_000, 20_000, 40_000, 80_000, 160_000]) {
    const count = Math.round(rate * 1);
    const { reports, achieved } = await publishRun(running, subscribers, rate, count);
    if (reports.every((r) => r["received"] === count)) best = Math.round(achieved);
    else break;
    // The publisher itself is the limit once it cannot reach the asked rate.
    if (achieved < rate * 0.8) break;
  }
  // Tick-to-callback latency at 10,000 ticks/s, 2 s.
  const latency = (await publishRun(running, subscribers, 10_000, 20_000)).reports;
  for (const s of subscribers) s.kill();
  return { best, p50: latency[0]!["p50"] as number, p99: latency[0]!["p99"] as number, lost: 20_000 - (latency[0]!["received"] as number) };
}

async function main(): Promise<void> {
  contracts1000 = decodeReply(readFileSync(FIXTURE_1000)).ok ? ((decodeReply(readFileSync(FIXTURE_1000)) as { result: unknown[] }).result) : [];
  const sides: Side[] = ["bare", "zmtp", "zeromq"];
  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "-");
  console.log("\nCall round trip (1 client process, sequential, 2 s), ms");
  console.log("| side | transport | p50 | p99 | calls/s |\n|---|---|---|---|---|");
  for (const kind of ["tcp", "ipc"] as const) {
    for (const side of sides) {
      const running = await startSide(side, kind);
      const r = await runCalls(running, "seq", 1, 2);
      console.log(`| ${side === "bare" ? "bare zeromq.js REQ/REP" : `RpcClient/RpcServer`} | ${kind}${side === "bare" ? "" : ` ${side}`} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.callsPerSecond} |`);
      await running.stop();
    }
  }
  console.log("\nThroughput over tcp, calls/s (3 s)");
  console.log("| side | 1 client | 4 client processes | 1 pipelined client (64 in flight) |\n|---|---|---|---|");
  for (const side of sides) {
    const running = await startSide(side, "tcp");
    const one = await runCalls(running, "seq", 1, 3);
    const four = await runCalls(running, "seq", 4, 3);
    const pipe = side === "bare" ? null : await runCalls(running, "pipe", 1, 3);
    console.log(`| ${side} | ${one.callsPerSecond} | ${four.callsPerSecond} | ${pipe ? pipe.callsPerSecond : "n/a (REQ is lock-step)"} |`);
    await running.stop();
  }
  console.log("\nget_all_contracts of 1,000 contracts (tcp, 1 client, 3 s), ms");
  console.log("| transport | p50 | p99 | calls/s |\n|---|---|---|---|");
  for (const side of ["zmtp", "zeromq"] as const) {
    const running = await startSide(side, "tcp");
    const r = await runCalls(running, "seq", 1, 3, "get_all_contracts");
    console.log(`| ${side} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.callsPerSecond} |`);
    await running.stop();
  }
  console.log("\nTicks over tcp: highest rate delivered with zero loss (achieved publish rate of the best 1 s burst; ladder 5k..160k/s), and tick-to-callback latency at 10,000 ticks/s");
  console.log("| side | 1 subscriber | 4 subscribers | latency p50 ms | latency p99 ms | lost at 10k/s |\n|---|---|---|---|---|---|");
  for (const side of sides) {
    const running1 = await startSide(side, "tcp");
    const one = await tickRuns(running1, 1);
    await running1.stop();
    const running4 = await startSide(side, "tcp");
    const four = await tickRuns(running4, 4);
    await running4.stop();
    console.log(`| ${side} | ${one.best}/s | ${four.best}/s | ${fmt(one.p50)} | ${fmt(one.p99)} | ${one.lost} |`);
  }
  process.exit(0);
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  const [, role, side, req, sub, mode, seconds, fn] = args as [string, string, Side, string, string, string, string, string];
  if (role === "calls") await workerCalls(side, req, sub, mode, Number(seconds), fn);
  else await workerSubscriber(side, req, sub);
} else {
  await main();
}

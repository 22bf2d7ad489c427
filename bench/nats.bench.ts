/**
 * NATS benchmark, against our ZMTP in the same run: a call's round trip (RpcServer + NatsEndpoint on a 3-node
 * nats-server cluster vs RpcServer + ZmqEndpoint over zmtp), and tick fan-out to 1, 4 and 16 subscriber
 * processes (through the cluster, each subscriber on one of its nodes, vs straight from the ZMTP PUB socket).
 * The server runs in this process; every client or subscriber is its own process (this script in worker mode).
 *
 *   node dist/bench/nats.bench.js          (about two minutes; needs nats-server)
 *   node dist/bench/nats.bench.js calls    (one section: calls, ticks)
 *   BENCH_COUNTS=1,4 BENCH_DEBUG=1 node dist/bench/nats.bench.js ticks   (fewer subscriber counts; every burst's reports)
 *
 * Fan-out: the highest rung of the ladder delivered in full to every subscriber and on pace (p99 tick latency
 * < 50 ms) in 1 s bursts; latency p50/p99 at that rung (first subscriber); and the trading process's CPU time per
 * 1,000 ticks published (process.cpuUsage over the burst). The machine has 2 shared cores: 16 subscriber
 * processes plus 3 nats-server nodes compete with the publisher, so compare rows of one run, not across runs.
 */
import { fileURLToPath } from "node:url";
import { Event, TickData } from "../src/kernel/index.js";
import { NatsEndpoint, NatsRpcClient, RpcClient, RpcServer, ZmqEndpoint, str, type RpcCaller } from "../src/rpc/index.js";
import { NATS_SERVER_BIN, startNatsCluster, type NatsCluster } from "../test/rpc/nats/nats-cluster.js";
import { makeTick, nowMs, percentile, sleep, startWorker, type Worker } from "./workers.js";

type Side = "zmtp" | "nats";
const SELF = fileURLToPath(import.meta.url);
const END = "eBenchEnd";
const SERVER = "bench";
const SYMBOL = "rb2501.SHFE";
const LADDER = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 40_000];


// ---------------------------------------------------------------------------------------------------- workers

function callerFor(side: Side, address: string): RpcCaller {
  if (side === "zmtp") {
    const [req, sub] = address.split("|") as [string, string];
    return new RpcClient({ reqAddress: req, subAddress: sub, transport: "zmtp" });
  }
  // Only this symbol's ticks cross the network to this subscriber.
  return new NatsRpcClient({ servers: address, server: SERVER, symbols: [SYMBOL] });
}

async function workerCalls(side: Side, address: string, seconds: number): Promise<void> {
  const client = callerFor(side, address);
  client.start();
  await client.waitConnected(15_000);
  for (let i = 0; i < 200; i++) await client.call("echo", ["x"]); // warm-up
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await client.call("echo", ["x"]);
    latencies.push((performance.now() - t0) * 1000);
  }
  latencies.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }) + "\n");
  await client.close();
  process.exit(0);
}

async function workerSubscriber(side: Side, address: string): Promise<void> {
  const client = callerFor(side, address);
  let received = 0;
  let latencies: number[] = [];
  client.on("event", ({ event }) => {
    if (event.type === END) {
      latencies.sort((a, b) => a - b);
      const burst = (event.data as { burst?: number }).burst;
      process.stdout.write(JSON.stringify({ burst, received, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }) + "\n");
      received = 0;
      latencies = [];
    } else if (event.data instanceof TickData) {
      received++;
      const sent = (event.data.extra as { t?: number } | null)?.t;
      if (typeof sent === "number") latencies.push(nowMs() - sent);
    }
  });
  client.start();
  await client.waitConnected(20_000);
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
}

// ---------------------------------------------------------------------------------------------------- main side



interface Running {
  server: RpcServer;
  /** Per subscriber index, where it connects. */
  address(index: number): string;
  stop(): Promise<void>;
}

async function startSide(side: Side, cluster: NatsCluster): Promise<Running> {
  const server = new RpcServer({ log: () => {} });
  server.register("echo", [{ name: "x", type: str }], ([x]) => x);
  if (side === "zmtp") {
    const endpoint = new ZmqEndpoint({ repAddress: "tcp://127.0.0.1:0", pubAddress: "tcp://127.0.0.1:0", transport: "zmtp" });
    await server.start([endpoint]);
    const { rep, pub } = endpoint.addresses!;
    return { server, address: () => `${rep}|${pub}`, stop: () => server.stop() };
  }
  // The trading process talks to one node; subscribers spread over all three.
  const endpoint = new NatsEndpoint({ servers: [cluster.urls[0]!], serverName: SERVER, stream: { replicas: 3, maxBytes: 64 << 20 } });
  await server.start([endpoint]);
  return { server, address: (i) => cluster.urls[i % cluster.urls.length]!, stop: () => server.stop() };
}


interface Report {
  received: number;
  p50: number;
  p99: number;
}

let bursts = 0;
const LOST: Report = { received: -1, p50: Number.NaN, p99: Number.NaN };

async function reportOf(worker: Worker, burst: number): Promise<Report> {
  const end = Date.now() + 15_000;
  for (;;) {
    const line = await worker.nextWithin(Math.max(1, end - Date.now()));
    if (line === null) return LOST;
    if (line["burst"] === burst) return line as unknown as Report;
  }
}

/** `count` ticks at `rate`/s in 1 ms slices, then the end marker; every subscriber's report and the CPU it cost. */
async function burst(running: Running, subscribers: Worker[], rate: number, count: number) {
  const perSlice = Math.max(1, Math.round(rate / 1000));
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + perSlice);
    while (sent < due) running.server.publish(new Event("eTick.", makeTick(++sent)));
    await sleep(1);
  }
  const cpu = process.cpuUsage(cpu0);
  const achieved = count / ((performance.now() - started) / 1000);
  const id = ++bursts;
  running.server.publish(new Event(END, { burst: id }));
  // A subscriber that lost the end marker (NATS drops for a slow consumer) fails this burst rather than hang it.
  const reports = await Promise.all(subscribers.map((s) => reportOf(s, id)));
  return { reports, achieved, cpuPer1000: ((cpu.user + cpu.system) / 1000 / count) * 1000 };
}

async function fanOut(side: Side, cluster: NatsCluster, count: number) {
  const running = await startSide(side, cluster);
  const subscribers = Array.from({ length: count }, (_, i) => startWorker(SELF, ["sub", side, running.address(i)]));
  try {
    await Promise.all(subscribers.map((s) => s.next()));
    await sleep(500);
    await burst(running, subscribers, 1_000, 1_000); // warm-up (JIT, connections), not counted
    let best: { rate: number; p50: number; p99: number; cpu: number; publisherBound: boolean } | null = null;
    for (const rate of LADDER) {
      let passed = false;
      for (let attempt = 0; attempt < 2 && !passed; attempt++) {
        const run = await burst(running, subscribers, rate, rate);
        passed = run.reports.every((r) => r.received === rate && r.p99 < 50);
        if (process.env["BENCH_DEBUG"]) console.error(side, count, rate, JSON.stringify(run.reports), run.achieved);
        if (passed) {
          const publisherBound = run.achieved < rate * 0.95;
          best = { rate: publisherBound ? Math.round(run.achieved) : rate, p50: run.reports[0]!.p50, p99: run.reports[0]!.p99, cpu: run.cpuPer1000, publisherBound };
        }
      }
      if (!passed || best?.publisherBound) break;
    }
    // CPU per 1,000 ticks at one common rate, so the rows compare: 1,000 ticks/s.
    const common = await burst(running, subscribers, 1_000, 1_000);
    return { best, cpuAtCommon: common.cpuPer1000 };
  } finally {
    for (const s of subscribers) s.kill();
    await running.stop();
  }
}

async function main(sections: readonly string[]): Promise<void> {
  if (!NATS_SERVER_BIN) {
    console.log("nats.bench: skipped, nats-server not found (Debian package nats-server)");
    return;
  }
  const run = (section: string) => sections.length === 0 || sections.includes(section);
  const cluster = await startNatsCluster(3);
  const fmt = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n.toFixed(3) : "-");
  try {
    if (run("calls")) {
      console.log("\nCall round trip, 1 client process, sequential echo calls for 3 s (µs)");
      console.log("| side | p50 | p99 | calls/s |\n|---|---|---|---|");
      for (const side of ["zmtp", "nats"] as const) {
        const running = await startSide(side, cluster);
        const worker = startWorker(SELF, ["calls", side, running.address(1), "3"]);
        const r = (await worker.next()) as { count: number; p50: number; p99: number };
        const label = side === "zmtp" ? "RpcServer/RpcClient over our ZMTP (tcp)" : "RpcServer/NatsRpcClient through a 3-node cluster (client on another node)";
        console.log(`| ${label} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${Math.round(r.count / 3)} |`);
        await running.stop();
      }
    }
    if (run("ticks")) {
      console.log(
        `\nTick fan-out: highest rate of ${LADDER.join("/")} ticks/s delivered in full and on pace to every subscriber process\n` +
          "(1 s bursts, 2 attempts), first subscriber's latency p50/p99 (ms) at that rate, and the trading process's CPU\n" +
          "per 1,000 ticks (ms) at that rate and at 1,000 ticks/s.",
      );
      console.log("| side | subscribers | lossless ticks/s | p50 ms | p99 ms | CPU ms / 1k ticks (at best) | CPU ms / 1k ticks (at 1k/s) |\n|---|---|---|---|---|---|---|");
      for (const count of (process.env["BENCH_COUNTS"] ?? "1,4,16").split(",").map(Number)) {
        for (const side of ["zmtp", "nats"] as const) {
          const r = await fanOut(side, cluster, count);
          const label = side === "zmtp" ? "ZMTP PUB socket" : "NATS cluster (3 nodes)";
          const rate = r.best ? `${r.best.rate}${r.best.publisherBound ? " (publisher-bound)" : ""}` : `< ${LADDER[0]}`;
          console.log(`| ${label} | ${count} | ${rate} | ${fmt(r.best?.p50)} | ${fmt(r.best?.p99)} | ${fmt(r.best?.cpu)} | ${fmt(r.cpuAtCommon)} |`);
        }
      }
    }
  } finally {
    await cluster.stop();
  }
  process.exit(0);
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  const [, role, side, address, seconds] = args as [string, string, Side, string, string];
  if (role === "calls") await workerCalls(side, address, Number(seconds));
  else await workerSubscriber(side, address);
} else {
  await main(args);
}

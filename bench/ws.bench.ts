/**
 * The native WebSocket endpoint against a bare `ws` server doing the least possible, in the same run:
 *
 * - round trip: one client, sequential calls; p50/p99 of `add(1, 2)` and of `get_tick` (a TickData encoded
 *   with $class and µs datetimes) beside a bare echo of the same request;
 * - fan-out: TickData events published to 1 and 4 subscribed clients; events/s until every client has them
 *   all, beside a bare broadcast of one pre-encoded tick.
 *
 * Clients run in a worker thread, so the server's thread does only server work (2 threads on 2 cores).
 * Run: node dist/bench/ws.bench.js
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { WebSocket, WebSocketServer } from "ws";
import { CHINA_TZ, DateTime, Event, Exchange, TickData } from "../src/kernel/index.js";
import { WsEndpoint, eventToJson } from "../src/rpc/index.js";
import { WebHost } from "../src/console/index.js";

const RTT_CALLS = 5_000;
const RTT_WARMUP = 500;
const FANOUT_EVENTS = 50_000;
const BATCH = 500;

function sampleTick(i: number): TickData {
  return new TickData({
    gateway_name: "SIM",
    symbol: "rb2501",
    exchange: Exchange.SHFE,
    datetime: new DateTime({ year: 2025, month: 1, day: 2, hour: 9, minute: 30, second: i % 60, microsecond: (i * 1000) % 1_000_000 }, CHINA_TZ),
    last_price: 3500 + (i % 10),
    volume: i,
    bid_price_1: 3499,
    ask_price_1: 3501,
    bid_volume_1: 10,
    ask_volume_1: 12,
  });
}

// ---- client side (worker thread) -----------------------------------------------------------------------------

type Job =
  | { kind: "rtt"; url: string; call: string; greeted: boolean }
  | { kind: "fanout"; url: string; clients: number; events: number; subscribe: boolean };

async function runClient(job: Job): Promise<void> {
  const port = parentPort!;
  if (job.kind === "rtt") {
    const ws = await openSocket(job.url, job.greeted);
    const samples: number[] = [];
    for (let i = 0; i < RTT_WARMUP + RTT_CALLS; i++) {
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        ws.once("message", () => resolve());
        ws.send(JSON.stringify({ id: i, call: job.call, args: job.call === "add" ? [1, 2] : ["rb2501.SHFE"] }));
      });
      if (i >= RTT_WARMUP) samples.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    ws.close();
    port.postMessage({ samples });
    return;
  }
  const sockets = await Promise.all(Array.from({ length: job.clients }, () => openSocket(job.url, job.subscribe)));
  const done = sockets.map(
    (ws) =>
      new Promise<void>((resolve) => {
        let count = 0;
        ws.on("message", () => {
          if (++count === job.events) resolve();
        });
      }),
  );
  if (job.subscribe) {
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once("message", () => resolve());
            ws.send(JSON.stringify({ id: 0, subscribe: { types: ["eTick."] } }));
          }),
      ),
    );
  }
  port.postMessage({ ready: true });
  await Promise.all(done);
  port.postMessage({ done: true });
  for (const ws of sockets) ws.close();
}

async function openSocket(url: string, greeted: boolean): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    // The endpoint greets first; a bare server does not.
    if (greeted) ws.once("message", () => resolve());
    else ws.once("open", () => resolve());
  });
  return ws;
}

// ---- server side (main thread) -------------------------------------------------------------------------------

interface Server {
  url: string;
  publish(i: number): void;
  stop(): Promise<void>;
}

async function endpointServer(): Promise<Server> {
  const tick = sampleTick(7);
  // Built before the clock starts: making ticks is the gateway's work, not the endpoint's.
  const ticks = Array.from({ length: FANOUT_EVENTS }, (_, i) => sampleTick(i));
  const endpoint = new WsEndpoint({ server: new WebHost({ host: "127.0.0.1", port: 0, token: null, staticRoot: null }), maxBufferedBytes: 256 << 20 });
  await endpoint.start(async (name, args) => (name === "add" ? (args[0] as number) + (args[1] as number) : tick));
  let seq = 0;
  return {
    url: `ws://127.0.0.1:${endpoint.address!.port}/ws`,
    publish: (i) => endpoint.publish({ seq: ++seq, epoch: "bench", event: new Event("eTick.", ticks[i]!) }),
    stop: () => endpoint.stop(),
  };
}

/** The floor: ws with no protocol, no validation, no filtering; one tick encoded once and broadcast as is. */
async function bareServer(): Promise<Server> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  wss.on("connection", (ws) => ws.on("message", (data) => ws.send(data, { binary: false })));
  const encoded = Buffer.from(eventToJson(1, "bench", new Event("eTick.", sampleTick(7))));
  return {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    publish: () => {
      for (const ws of wss.clients) ws.send(encoded, { binary: false });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

function worker(job: Job): Worker {
  return new Worker(new URL(import.meta.url), { workerData: job });
}

async function roundTrip(server: Server, call: string, greeted: boolean): Promise<{ p50: number; p99: number; perSecond: number }> {
  const w = worker({ kind: "rtt", url: server.url, call, greeted });
  const { samples } = await new Promise<{ samples: number[] }>((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  await w.terminate();
  const sorted = [...samples].sort((a, b) => a - b);
  const total = samples.reduce((a, b) => a + b, 0);
  return { p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]!, perSecond: (samples.length / total) * 1e6 };
}

async function fanOut(server: Server, clients: number, subscribe: boolean): Promise<number> {
  const w = worker({ kind: "fanout", url: server.url, clients, events: FANOUT_EVENTS, subscribe });
  const messages: { ready?: boolean; done?: boolean }[] = [];
  let notify: () => void = () => {};
  w.on("message", (m: { ready?: boolean; done?: boolean }) => {
    messages.push(m);
    notify();
  });
  const next = (key: "ready" | "done") =>
    new Promise<void>((resolve) => {
      const check = () => (messages.some((m) => m[key]) ? resolve() : (notify = check));
      check();
    });
  await next("ready");
  const start = process.hrtime.bigint();
  // Batches with a turn of the event loop between them, as the EventEngine processes its queue.
  for (let i = 0; i < FANOUT_EVENTS; i += BATCH) {
    for (let j = i; j < Math.min(i + BATCH, FANOUT_EVENTS); j++) server.publish(j);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await next("done");
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await w.terminate();
  return FANOUT_EVENTS / seconds;
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const rows: string[][] = [];
  const bare = await bareServer();
  const endpoint = await endpointServer();
  try {
    const echo = await roundTrip(bare, "add", false);
    rows.push(["round trip", "bare ws echo (baseline)", `${fmt(echo.p50, 1)} µs`, `${fmt(echo.p99, 1)} µs`, `${fmt(echo.perSecond)} calls/s`]);
    const add = await roundTrip(endpoint, "add", true);
    rows.push(["round trip", "WsEndpoint add(1, 2)", `${fmt(add.p50, 1)} µs`, `${fmt(add.p99, 1)} µs`, `${fmt(add.perSecond)} calls/s`]);
    const getTick = await roundTrip(endpoint, "get_tick", true);
    rows.push(["round trip", "WsEndpoint get_tick → TickData", `${fmt(getTick.p50, 1)} µs`, `${fmt(getTick.p99, 1)} µs`, `${fmt(getTick.perSecond)} calls/s`]);
    for (const clients of [1, 4]) {
      const base = await fanOut(bare, clients, false);
      rows.push(["fan-out", `bare ws broadcast, ${clients} client${clients > 1 ? "s" : ""} (baseline)`, "", "", `${fmt(base)} events/s`]);
      const ours = await fanOut(endpoint, clients, true);
      rows.push(["fan-out", `WsEndpoint TickData, ${clients} client${clients > 1 ? "s" : ""}`, "", "", `${fmt(ours)} events/s`]);
    }
  } finally {
    await bare.stop();
    await endpoint.stop();
  }
  const header = ["what", "case", "p50", "p99", "throughput"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`WebSocket endpoint: ${RTT_CALLS} sequential calls after ${RTT_WARMUP} warm-up; ${FANOUT_EVENTS} tick events per fan-out run`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

if (isMainThread) await main();
else await runClient(workerData as Job);

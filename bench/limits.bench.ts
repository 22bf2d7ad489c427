/**
 * Per-client limits: what one abusive client does to everyone else. A probe client (its own process) measures its
 * lock-step `get_all_accounts` round trip while the server is idle (the baseline, same run), then while another
 * process floods the server:
 *   (a) one ZeroMQ peer pipelining 200,000 VeighNa calls without reading a single reply,
 *   (b) 10,000 concurrent `query_history` calls from one client, repeated while the probe runs.
 * Each flood runs against the RPC service with its default per-client limits and, for comparison, with the limits
 * off (`--unlimited`, slow: an unlimited flood takes the server a long while to work through).
 * Goal: the probe's p99 under a flood at most 2x its idle p99. A third row runs a process that only burns a core beside
 * the server (no calls): a flooding client is such a process too, and on a two-core machine the probe feels it.
 *
 *   node dist/bench/limits.bench.js [--unlimited] [pipeline] [history]   (default: both floods)
 * The probe keeps within its own limits (at most one call per millisecond: the default is 2,000 calls/s).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { encodeRequest } from "../src/codec/index.js";
import { DateTime, Exchange, HistoryRequest, Interval, MainEngine } from "../src/kernel/index.js";
import { RpcClient } from "../src/rpc/index.js";
import { RpcServiceApp, type ClientLimitSettings, type RpcEngine } from "../src/service/index.js";
import { SimGateway } from "../src/sim/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SELF = fileURLToPath(import.meta.url);
const PROBE_SECONDS = 5;
const PIPELINED = 200_000;
const CONCURRENT_HISTORY = 10_000;

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---------------------------------------------------------------------------------------------------- workers

async function probe(rep: string, pub: string): Promise<void> {
  const client = new RpcClient({ reqAddress: rep, subAddress: pub, timeout: 60_000, name: "probe" });
  client.start();
  await client.waitConnected(30_000);
  process.stdout.write("ready\n");
  // Waits for "go" on stdin, so the flood is under way when the clock starts.
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
  const latencies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + PROBE_SECONDS * 1000;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    try {
      await client.call("get_all_accounts");
    } catch {
      failures++;
    }
    const took = performance.now() - t0;
    latencies.push(took);
    if (took < 1) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  latencies.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ p50: percentile(latencies, 50), p99: percentile(latencies, 99), calls: latencies.length, failures }) + "\n");
  await client.close();
  process.exit(0);
}

/** The machine's floor: a process that only burns a core, as a flooding client does, and sends the server nothing. */
function burn(): void {
  process.stdout.write("flooding\n");
  for (;;) {
    // a busy loop until killed
  }
}

/** (a): a DEALER speaking VeighNa's REQ framing, sending and never receiving (libzmq then stops reading too). */
async function floodPipeline(rep: string): Promise<void> {
  const dealer = new zmq.Dealer({ sendHighWaterMark: PIPELINED, receiveHighWaterMark: 10, linger: 0 });
  dealer.connect(rep);
  const body = encodeRequest("get_all_accounts", [], {});
  const empty = Buffer.alloc(0);
  process.stdout.write("flooding\n");
  for (let i = 0; i < PIPELINED; i++) await dealer.send([empty, body]);
  // Keep the connection (and the unread replies) until killed.
  setInterval(() => {}, 1 << 30);
}

/** (b): one client with 10,000 query_history calls in flight at once, again and again. */
async function floodHistory(rep: string, pub: string): Promise<void> {
  const client = new RpcClient({ reqAddress: rep, subAddress: pub, timeout: 120_000, name: "history-flood" });
  client.start();
  await client.waitConnected(30_000);
  const end = DateTime.now();
  const start = DateTime.fromDate(new Date(Date.now() - 86_400_000));
  const req = new HistoryRequest({ symbol: "rb2701", exchange: Exchange.SHFE, start, end, interval: Interval.MINUTE });
  process.stdout.write("flooding\n");
  for (;;) await Promise.all(Array.from({ length: CONCURRENT_HISTORY }, () => client.call("query_history", [req, "SIM"]).catch(() => undefined)));
}

// ---------------------------------------------------------------------------------------------------- main

function child(args: string[]): { process: ChildProcess; line: () => Promise<string> } {
  const proc = spawn(process.execPath, [SELF, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  return {
    process: proc,
    line: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiters.push(resolve))),
  };
}

interface ProbeResult {
  p50: number;
  p99: number;
  calls: number;
  failures: number;
  /** The server's event-loop delay while the probe ran (ms): how long one turn held everyone up. */
  loopP99?: number;
  /** The flooding client's calls so far, and how many of them were refused at once (from the clients view). */
  flood?: { calls: number; refused: number };
}

async function measure(rpc: RpcEngine, rep: string, pub: string, flood: "pipeline" | "history" | "burn" | null): Promise<ProbeResult> {
  const prober = child(["--probe", rep, pub]);
  await prober.line(); // ready
  let flooder: ReturnType<typeof child> | null = null;
  if (flood) {
    flooder = child([flood === "pipeline" ? "--flood-pipeline" : flood === "history" ? "--flood-history" : "--burn", rep, pub]);
    await flooder.line(); // flooding
    await new Promise((resolve) => setTimeout(resolve, 500)); // let it build up
  }
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  prober.process.stdin!.write("go\n");
  const result = JSON.parse(await prober.line()) as ProbeResult;
  loop.disable();
  result.loopP99 = loop.percentile(99) / 1e6;
  if (flood === "pipeline" || flood === "history") {
    // The client with the most calls is the flood (the probe makes a few thousand).
    const busiest = rpc.clients().sort((a, b) => b.calls - a.calls)[0];
    if (busiest) result.flood = { calls: busiest.calls, refused: busiest.rateLimited ?? 0 };
  }
  if (flooder) {
    flooder.process.kill("SIGKILL");
    await new Promise((resolve) => flooder!.process.once("exit", resolve));
  }
  return result;
}

async function main(): Promise<void> {
  const withUnlimited = process.argv.includes("--unlimited");
  const named = process.argv.slice(2).filter((arg) => arg === "pipeline" || arg === "history");
  const floods = named.length > 0 ? named : ["pipeline", "history"];
  const home = mkdtempSync(join(tmpdir(), "rpcservice-limits-bench-"));
  const mainEngine = new MainEngine({ home });
  mainEngine.addGateway(SimGateway);
  await mainEngine.connect({ data_dir: ":memory:", ticks_per_second: 2 }, "SIM");
  const rpc = mainEngine.addApp(RpcServiceApp) as RpcEngine;
  if (!(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"))) throw new Error("the RPC service did not start");
  const { rep, pub } = rpc.addresses!;
  const defaults: ClientLimitSettings = { ...rpc.clientLimits };
  const unlimited: ClientLimitSettings = { calls_per_second: 0, burst: 0, calls_in_flight: 0, subscriptions: 0, heavy_calls_per_second: 0, heavy_burst: 0 };
  const rows: [string, ProbeResult][] = [];
  try {
    // Warm the history path first (generation, the encoder's paths for bars): a cold first call takes 30x longer, and
    // a long-running server is warm.
    const warm = new RpcClient({ reqAddress: rep, subAddress: pub, timeout: 60_000, name: "warm-up" });
    warm.start();
    await warm.waitConnected(30_000);
    const now = DateTime.now();
    const day = new HistoryRequest({ symbol: "rb2701", exchange: Exchange.SHFE, start: DateTime.fromDate(new Date(Date.now() - 86_400_000)), end: now, interval: Interval.MINUTE });
    for (let i = 0; i < 20; i++) await warm.call("query_history", [day, "SIM"]);
    await warm.close();
    rows.push(["idle (baseline)", await measure(rpc, rep, pub, null)]);
    // A flooding client is a process burning a core on the same two-core machine: how much of a flood's cost is that.
    rows.push(["a CPU-bound process beside it, no calls", await measure(rpc, rep, pub, "burn")]);
    if (floods.includes("pipeline")) rows.push([`(a) ${PIPELINED / 1000}k pipelined, unread, limits on`, await measure(rpc, rep, pub, "pipeline")]);
    if (floods.includes("history")) rows.push([`(b) ${CONCURRENT_HISTORY / 1000}k query_history, limits on`, await measure(rpc, rep, pub, "history")]);
    if (withUnlimited) {
      rpc.accessControl.limits.update(unlimited);
      if (floods.includes("pipeline")) rows.push([`(a) ${PIPELINED / 1000}k pipelined, unread, limits off`, await measure(rpc, rep, pub, "pipeline")]);
      if (floods.includes("history")) rows.push([`(b) ${CONCURRENT_HISTORY / 1000}k query_history, limits off`, await measure(rpc, rep, pub, "history")]);
      rpc.accessControl.limits.update(defaults);
    }
  } finally {
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
  const idle = rows[0]![1];
  console.log(`Another client's get_all_accounts round trip (lock-step, ${PROBE_SECONDS} s) while one client floods; limits ${JSON.stringify(defaults)}`);
  const header = ["phase", "p50 µs", "p99 µs", "p99 / idle", "probe calls", "probe failures", "server loop delay p99 ms", "flood calls (refused at once)"];
  const table = rows.map(([label, r]) => [
    label,
    (r.p50 * 1000).toFixed(0),
    (r.p99 * 1000).toFixed(0),
    `${(r.p99 / idle.p99).toFixed(2)}x`,
    String(r.calls),
    String(r.failures),
    (r.loopP99 ?? Number.NaN).toFixed(1),
    r.flood ? `${r.flood.calls} (${r.flood.refused})` : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(format(header));
  for (const row of table) console.log(format(row));
  const floodRows = rows.slice(1).filter(([label]) => label.includes("limits on"));
  const met = floodRows.every(([, r]) => r.p99 <= 2 * idle.p99);
  console.log(`goal (probe p99 under each flood <= 2x idle p99, limits on): ${met ? "MET" : "NOT MET"}`);
}

const [mode, a, b] = process.argv.slice(2);
if (mode === "--probe") await probe(a!, b!);
else if (mode === "--flood-pipeline") await floodPipeline(a!);
else if (mode === "--flood-history") await floodHistory(a!, b!);
else if (mode === "--burn") burn();
else await main();

/**
 * Tick overload (issue 12): `rpcservice serve` as a real process asked for far more ticks than one thread can
 * publish, against a baseline run of the same server at a rate it handles easily, in the same run.
 *
 * Per scenario: the ticks/s asked for, the messages/s a reading subscriber actually received (what the server
 * publishes: the load factor is asked / published), the server's RSS (before the flood, peak, and 3 s after a
 * stalled subscriber left), the call latency of a plain VeighNa-style client calling throughout, the counters of a
 * subscriber that never reads (conflated / dropped / queued, from the connected-clients view), the EventEngine's
 * own conflation, and how long SIGTERM takes.
 *
 *   node dist/bench/overload.bench.js [seconds per scenario, default 10] [scenario name part, e.g. flood]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { Product } from "../src/kernel/index.js";
import { defaultUniverse } from "../src/sim/index.js";
import { specToJson } from "../src/sim/spec.js";
import { PlainCaller, ServeProcess, stalledSubscriber, subscribeFutures } from "../test/cli/overload-harness.js";
import { RawClient } from "../test/rpc/ws/helpers.js";
import { HELLO_FUNCTION } from "../src/rpc/index.js";

const SECONDS = Number(process.argv[2] ?? 10);

interface Scenario {
  name: string;
  contracts: number;
  ticksPerSecond: number;
}

const ONLY = process.argv[3];
const SCENARIOS: Scenario[] = [
  { name: "baseline", contracts: 20, ticksPerSecond: 20 },
  { name: "moderate", contracts: 20, ticksPerSecond: 500 },
  { name: "flood", contracts: 20, ticksPerSecond: 10_000 },
  { name: "flood, 200 contracts", contracts: 200, ticksPerSecond: 10_000 },
].filter((s) => ONLY === undefined || s.name.includes(ONLY));

/** A universe of `count` futures: the built-in ones, cloned under new symbols past their number. */
function contractsFile(dir: string, count: number): string {
  const futures = defaultUniverse(Date.now(), 1).filter((spec) => !spec.option && spec.product === Product.FUTURES);
  const specs = [];
  for (let i = 0; i < count; i++) {
    const base = futures[i % futures.length]!;
    const copy = Math.floor(i / futures.length);
    specs.push(specToJson(copy === 0 ? base : { ...base, symbol: `${base.symbol}x${copy}`, name: `${base.name} ${copy}` }));
  }
  const path = join(dir, "contracts.json");
  writeFileSync(path, JSON.stringify(specs));
  return path;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

interface ClientRow {
  clientId: string;
  eventsBehind: number;
  eventsDropped: number;
  eventsConflated?: number;
}

async function consoleCall<T>(url: string, call: string): Promise<T> {
  const client = await RawClient.open(url.replace(/^http/, "ws") + "console");
  try {
    client.send({ id: 1, call });
    return (await client.reply(1)).result as T;
  } finally {
    client.close();
  }
}

async function run(scenario: Scenario): Promise<string[]> {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-overload-bench-"));
  const args = ["--ticks-per-second", String(scenario.ticksPerSecond), "--no-risk", "--contracts", contractsFile(home, scenario.contracts)];
  const server = new ServeProcess(home, args, true);
  const caller = new PlainCaller(server.rep);
  const reader = new zmq.Subscriber({ linger: 0 });
  let stalled: zmq.Subscriber | null = null;
  try {
    await server.waitFor(/RPC service started successfully/);
    const [, consoleUrl] = (await server.waitFor(/console: (http:\/\/127\.0\.0\.1:\d+\/)/)) as RegExpMatchArray & [string, string];
    await new Promise((r) => setTimeout(r, 1_000));
    const rssBefore = server.rssMiB();
    reader.subscribe();
    reader.connect(server.pub);
    let received = 0;
    void (async () => {
      try {
        for await (const _ of reader) received++;
      } catch {
        // closed
      }
    })();
    stalled = stalledSubscriber(server.pub);
    await subscribeFutures(caller, scenario.contracts);
    const latencies: number[] = [];
    let peak = rssBefore;
    // The server's own count of published events (ticks included: its seq leaves them out), read through the hello call.
    const seqNow = async () => (await caller.call<{ published: number }>(HELLO_FUNCTION)).published;
    const seqAtStart = await seqNow();
    const started = performance.now();
    const receivedAtStart = received;
    while (performance.now() - started < SECONDS * 1000) {
      latencies.push(await caller.timed("get_all_accounts"));
      peak = Math.max(peak, server.rssMiB());
      await new Promise((r) => setTimeout(r, 50));
    }
    const seqAtEnd = await seqNow();
    const elapsed = (performance.now() - started) / 1000;
    const published = (seqAtEnd - seqAtStart) / elapsed;
    const read = (received - receivedAtStart) / elapsed;
    const clients = await consoleCall<ClientRow[]>(consoleUrl, "get_clients");
    const status = await consoleCall<{ event_queue?: { conflated: number; pending: number } }>(consoleUrl, "rpc_status");
    const slow = clients.filter((c) => c.clientId.includes(":sub-")).sort((a, b) => (b.eventsConflated ?? 0) - (a.eventsConflated ?? 0))[0];
    stalled.close();
    stalled = null;
    await new Promise((r) => setTimeout(r, 3_000));
    const rssAfter = server.rssMiB();
    const stop = await server.stop("SIGTERM", 15_000);
    latencies.sort((a, b) => a - b);
    const asked = scenario.contracts * scenario.ticksPerSecond;
    return [
      scenario.name,
      `${scenario.contracts} × ${scenario.ticksPerSecond.toLocaleString("en")}`,
      asked.toLocaleString("en"),
      `${Math.round(published / 2).toLocaleString("en")} (${(asked / Math.max(1, published / 2)).toFixed(1)}×)`,
      Math.round(read / 2).toLocaleString("en"),
      `${rssBefore.toFixed(0)} / ${peak.toFixed(0)} / ${rssAfter.toFixed(0)}`,
      `${quantile(latencies, 0.5).toFixed(1)} / ${quantile(latencies, 0.99).toFixed(1)}`,
      slow ? `${slow.eventsConflated ?? 0} / ${slow.eventsDropped} / ${slow.eventsBehind}` : "–",
      status.event_queue ? String(status.event_queue.conflated) : "–",
      `${stop.elapsedMs.toFixed(0)} (exit ${stop.code})`,
    ];
  } catch (error) {
    throw new Error(`${scenario.name}: ${(error as Error).message}\nserver output (tail):\n${server.output.slice(-3_000)}`, { cause: error });
  } finally {
    stalled?.close();
    reader.close();
    caller.close();
    server.kill();
    rmSync(home, { recursive: true, force: true });
  }
}

const header = [
  "scenario",
  "contracts × ticks/s",
  "ticks/s asked",
  "ticks/s published (load)",
  "ticks/s a reader got",
  "RSS MiB before / peak / after",
  "call ms p50 / p99",
  "stalled sub: conflated / dropped / queued",
  "EventEngine conflated",
  "SIGTERM → exit, ms",
];
const rows: string[][] = [];
for (const scenario of SCENARIOS) {
  process.stdout.write(`running ${scenario.name} (${SECONDS} s)...\n`);
  rows.push(await run(scenario));
}
console.log(`\n| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
console.log("\npublished = the server's events/s (its published count) / 2: each tick goes out as eTick. and its eTick.<vt_symbol> twin; load = asked / published");

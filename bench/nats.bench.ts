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
 * Calls: each side runs 3 s, alternately, BENCH_ROUNDS times (default 3); p50/p99 are the medians of the rounds, so
 * one slow patch of a shared machine moves one round, not the row.
 *
 * Fan-out: the highest rung of the ladder delivered in full to every subscriber and on pace (p99 tick latency
 * < 50 ms) in 1 s bursts; latency p50/p99 at that rung (all subscribers' ticks). The trading process's CPU per
 * 1,000 ticks is measured at one common rate (1,000 ticks/s, 10 ms pacing slices) from the first tick until every
 * subscriber has reported (so a PUB socket's queued writes count), minus the CPU of the same pacing loop without
 * publishing (the same run's baseline: timers and the idle loop), median of BENCH_ROUNDS bursts. The goal: with
 * NATS that cost stays flat as subscribers grow (16 subscribers ≤ 1.5x one), the verdict line says whether it did.
 * The machine has 2 shared cores: 16 subscriber processes plus 3 nats-server nodes compete with the publisher, so
 * compare rows of one run, not across runs.
 */
import { fileURLToPath } from "node:url";
import { Event, TickData } from "../src/kernel/index.js";
import { NatsEndpoint, NatsRpcClient, RpcClient, RpcServer, ZmqEndpoint, str, type RpcCaller } from "../src/rpc/index.js";
import { NATS_SERVER_BIN, startNatsCluster, type NatsCluster } from "../test/rpc/nats/nats-cluster.js";
import { makeTick, median, nowMs, percentile, sleep, startWorker, type Worker } from "./workers.js";

type Side = "zmtp" | "nats";
const SELF = fileURLToPath(import.meta.url);
const END = "eBenchEnd";
const SERVER = "bench";
const SYMBOL = "rb2501.SHFE";
const LADDER = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 40_000];
const ROUNDS = Math.max(1, Number(process.env["BENCH_ROUNDS"] ?? 3));
const COMMON_RATE = 1_000;
/** Flat enough: the NATS publisher's CPU per 1,000 ticks with 16 subscribers at most this times that with one. */
const FLAT = 1.5;


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
      process.stdout.write(JSON.stringify({ burst, received, p50: percentile(latencies, 50), p99: percentile(latencies, 99), latencies: sample(latencies) }) + "\n");
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
  /** Up to 200 of its latencies (ms), evenly spread over the sorted list, to pool the subscribers' percentiles. */
  latencies: number[];
}

function sample(sorted: number[]): number[] {
  if (sorted.length <= 200) return sorted;
  return Array.from({ length: 200 }, (_, i) => sorted[Math.floor((i * sorted.length) / 200)]!);
}

/** p50/p99 over every subscriber's sampled latencies (one slow subscriber shows in p99). */
function pooled(reports: Report[]): { p50: number; p99: number } {
  const all = reports.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  return { p50: percentile(all, 50), p99: percentile(all, 99) };
}

let bursts = 0;
const LOST: Report = { received: -1, p50: Number.NaN, p99: Number.NaN, latencies: [] };

async function reportOf(worker: Worker, burst: number): Promise<Report> {
  const end = Date.now() + 15_000;
  for (;;) {
    const line = await worker.nextWithin(Math.max(1, end - Date.now()));
    if (line === null) return LOST;
    if (line["burst"] === burst) return line as unknown as Report;
  }
}

/** Paces `count` steps at `rate`/s in slices of `sliceMs`, calling `step` for each (none: the loop alone). */
async function pace(rate: number, count: number, sliceMs: number, step: ((i: number) => void) | null): Promise<number> {
  const started = performance.now();
  let done = 0;
  const perSlice = Math.max(1, Math.round((rate * sliceMs) / 1000));
  while (done < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + perSlice);
    if (step) while (done < due) step(++done);
    else done = due;
    await sleep(sliceMs);
  }
  return performance.now() - started;
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

/**
 * `count` ticks at `rate`/s, then the end marker; every subscriber's report, and the trading process's CPU from the
 * first tick until the last report (queued socket writes included).
 */
async function burst(running: Running, subscribers: Worker[], rate: number, count: number, sliceMs = 1) {
  const cpu0 = process.cpuUsage();
  const elapsed = await pace(rate, count, sliceMs, (seq) => running.server.publish(new Event("eTick.", makeTick(seq))));
  const achieved = count / (elapsed / 1000);
  const id = ++bursts;
  running.server.publish(new Event(END, { burst: id }));
  // A subscriber that lost the end marker (NATS drops for a slow consumer) fails this burst rather than hang it.
  const reports = await Promise.all(subscribers.map((s) => reportOf(s, id)));
  return { reports, achieved, cpuMs: cpuMs(cpu0) };
}

/** CPU ms per 1,000 ticks at COMMON_RATE: bursts minus the bare pacing loop (same run), median of ROUNDS. */
async function cpuPerThousand(running: Running, subscribers: Worker[]): Promise<{ perThousand: number; rounds: number[] }> {
  const rounds: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const idle0 = process.cpuUsage();
    await pace(COMMON_RATE, COMMON_RATE, 10, null);
    const idle = cpuMs(idle0);
    const run = await burst(running, subscribers, COMMON_RATE, COMMON_RATE, 10);
    if (run.reports.some((r) => r.received !== COMMON_RATE)) continue; // a lossy burst measures something else
    rounds.push(((run.cpuMs - idle) / COMMON_RATE) * 1000);
  }
  return { perThousand: median(rounds), rounds };
}

async function fanOut(side: Side, cluster: NatsCluster, count: number) {
  const running = await startSide(side, cluster);
  const subscribers = Array.from({ length: count }, (_, i) => startWorker(SELF, ["sub", side, running.address(i)]));
  try {
    await Promise.all(subscribers.map((s) => s.next()));
    await sleep(500);
    await burst(running, subscribers, 1_000, 1_000); // warm-up (JIT, connections), not counted
    let best: { rate: number; p50: number; p99: number; publisherBound: boolean } | null = null;
    for (const rate of LADDER) {
      let passed = false;
      for (let attempt = 0; attempt < 2 && !passed; attempt++) {
        const run = await burst(running, subscribers, rate, rate);
        passed = run.reports.every((r) => r.received === rate && r.p99 < 50);
        if (process.env["BENCH_DEBUG"]) console.error(side, count, rate, JSON.stringify(run.reports), run.achieved);
        if (passed) {
          const publisherBound = run.achieved < rate * 0.95;
          best = { rate: publisherBound ? Math.round(run.achieved) : rate, ...pooled(run.reports), publisherBound };
        }
      }
      if (!passed || best?.publisherBound) break;
    }
    // CPU per 1,000 ticks at one common rate, so the rows compare.
    return { best, cpu: await cpuPerThousand(running, subscribers) };
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
      console.log(`\nCall round trip, 1 client process, sequential echo calls, ${ROUNDS} alternating rounds of 3 s per side (µs; median of the rounds)`);
      const rows = { zmtp: [] as { count: number; p50: number; p99: number }[], nats: [] as { count: number; p50: number; p99: number }[] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of ["zmtp", "nats"] as const) {
          const running = await startSide(side, cluster);
          const worker = startWorker(SELF, ["calls", side, running.address(1), "3"]);
          rows[side].push((await worker.next()) as { count: number; p50: number; p99: number });
          await running.stop();
        }
      }
      console.log("| side | p50 | p99 | calls/s | rounds' p50 |\n|---|---|---|---|---|");
      for (const side of ["zmtp", "nats"] as const) {
        const r = rows[side];
        const label = side === "zmtp" ? "RpcServer/RpcClient over our ZMTP (tcp)" : "RpcServer/NatsRpcClient through a 3-node cluster (client on another node)";
        const p50 = median(r.map((x) => x.p50));
        console.log(`| ${label} | ${p50.toFixed(0)} | ${median(r.map((x) => x.p99)).toFixed(0)} | ${Math.round(median(r.map((x) => x.count)) / 3)} | ${r.map((x) => x.p50.toFixed(0)).join(" / ")} |`);
      }
      const extra = median(rows.nats.map((x) => x.p50)) - median(rows.zmtp.map((x) => x.p50));
      console.log(`a NATS call costs ${extra.toFixed(0)} µs more than a ZMTP call at p50 (two more hops and a cluster route)`);
    }
    if (run("ticks")) {
      console.log(
        `\nTick fan-out: highest rate of ${LADDER.join("/")} ticks/s delivered in full and on pace to every subscriber process\n` +
          "(1 s bursts, 2 attempts) with latency p50/p99 (ms, all subscribers) at that rate; the trading process's CPU per\n" +
          `1,000 ticks (ms) at ${COMMON_RATE} ticks/s, net of the bare pacing loop, median of ${ROUNDS} bursts (each burst's in brackets).`,
      );
      console.log("| side | subscribers | lossless ticks/s | p50 ms | p99 ms | CPU ms / 1k ticks |\n|---|---|---|---|---|---|");
      const cpu: Record<Side, Map<number, number>> = { zmtp: new Map(), nats: new Map() };
      const counts = (process.env["BENCH_COUNTS"] ?? "1,4,16").split(",").map(Number);
      for (const count of counts) {
        for (const side of ["zmtp", "nats"] as const) {
          const r = await fanOut(side, cluster, count);
          cpu[side].set(count, r.cpu.perThousand);
          const label = side === "zmtp" ? "ZMTP PUB socket" : "NATS cluster (3 nodes)";
          const rate = r.best ? `${r.best.rate}${r.best.publisherBound ? " (publisher-bound)" : ""}` : `< ${LADDER[0]}`;
          console.log(`| ${label} | ${count} | ${rate} | ${fmt(r.best?.p50)} | ${fmt(r.best?.p99)} | ${fmt(r.cpu.perThousand)} [${r.cpu.rounds.map((x) => x.toFixed(0)).join(", ")}] |`);
        }
      }
      const lo = Math.min(...counts);
      const hi = Math.max(...counts);
      if (hi > lo) {
        const growth = (side: Side) => (cpu[side].get(hi) ?? Number.NaN) / (cpu[side].get(lo) ?? Number.NaN);
        const nats = growth("nats");
        const verdict = Number.isFinite(nats) ? (nats <= FLAT ? "flat: goal met" : "grows: goal NOT met") : "not measured (lossy at every burst)";
        console.log(
          `publisher CPU per 1k ticks, ${hi} vs ${lo} subscriber(s): NATS x${nats.toFixed(2)}, ZMTP x${growth("zmtp").toFixed(2)} — NATS ${verdict} (goal ≤ x${FLAT})`,
        );
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

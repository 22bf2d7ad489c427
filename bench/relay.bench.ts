/**
 * Relay benchmark: what `rpcservice serve --upstream` costs and what it gives, measured in one run.
 *
 * 1. A call's round trip (a forwarded call: `subscribe`, answered by the upstream) direct to the upstream and
 *    through the relay, for two upstreams: the Python VeighNa-style server (bench/veighna_publisher.py, on
 *    test/python's stand-in vnpy.rpc) and our own RpcServer. The relay's added latency is the difference.
 * 2. Tick fan-out to 1 and 4 subscriber processes: the Python VeighNa-style server by itself, our RpcServer by
 *    itself (the ceiling of any relay fed by it), and our relay (fed by our RpcServer, so the relay and not its
 *    feed is measured). A rate counts when every tick of a 1 s burst
 *    reached every subscriber (zero loss; each rung gets two attempts); the p99 tick latency (publisher to
 *    subscriber callback) at that rate is printed beside it, to show whether subscribers kept pace or buffered.
 *    Both publish every tick twice (eTick. and eTick.<vt_symbol>) as VeighNa's RpcEngine does.
 *
 * Every server, relay, caller and subscriber is its own process, as in production (our upstream too: it answers
 * `burst` like the Python one). Relays write their log lines to a file, so no bench process reads them while timed.
 * Needs /usr/bin/python3 with python3-zmq.
 *   node dist/bench/relay.bench.js            (about two minutes)
 *   node dist/bench/relay.bench.js calls      (one section: calls, fanout)
 *   RELAY_BENCH_PROF=/tmp/prof node dist/bench/relay.bench.js calls
 *                                             (each relay writes a --cpu-prof profile there when the bench ends)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ContractData, DateTime, Event, Exchange, Product, SubscribeRequest, TickData } from "../src/kernel/index.js";
import { RpcClient, RpcServer, ZmqEndpoint, instanceOf, str, type ArgType } from "../src/rpc/index.js";
import { ZmtpDealer, ZmtpRouter } from "../src/zmtp/index.js";

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), "..", "..");
const MAIN = join(ROOT, "dist", "src", "cli", "main.js");
const PYTHON = "/usr/bin/python3";
const END = "eBenchEnd";
const CALLS = 3_000;
/** The issue's goals: added call latency (p50) and fan-out against the Python server alone, same run. */
const ADDED_P50_GOAL_US = 30;
const FANOUT_GOAL_RATIO = 5;
const WARMUP = 300;

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Specific twins (`eTick.rb2501.SHFE`) are counted by the client but never decoded: subscribers take eTick. */
const isTwin = (type: string) => type.startsWith("eTick.") && type.length > "eTick.".length;

// ---------------------------------------------------------------------------------------------------- workers

/** Times `subscribe` calls one after another; prints {p50, p99} in µs. */
async function workerCalls(req: string, sub: string, gateway: string): Promise<void> {
  const client = new RpcClient({ reqAddress: req, subAddress: sub, skipEvent: () => true });
  client.start();
  await client.waitConnected(20_000);
  const args = [new SubscribeRequest({ symbol: "rb2501", exchange: Exchange.SHFE }), gateway];
  const times: number[] = [];
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const started = performance.now();
    await client.call("subscribe", args);
    if (i >= WARMUP) times.push((performance.now() - started) * 1000);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ p50: percentile(times, 50), p99: percentile(times, 99) }) + "\n");
  await client.close();
}

/** Counts ticks and their latency; reports (and resets) on every end marker. */
async function workerSubscriber(req: string, sub: string): Promise<void> {
  let received = 0;
  let latencies: number[] = [];
  const client = new RpcClient({ reqAddress: req, subAddress: sub, skipEvent: isTwin });
  client.on("event", ({ event }) => {
    if (event.type === END) {
      latencies.sort((a, b) => a - b);
      process.stdout.write(JSON.stringify({ received, p99: percentile(latencies, 99) }) + "\n");
      received = 0;
      latencies = [];
    } else if (event.data instanceof TickData) {
      received++;
      const sent = (event.data.extra as { t?: number } | null | undefined)?.t;
      if (typeof sent === "number") latencies.push(nowMs() - sent);
    }
  });
  client.start();
  await client.waitConnected(20_000);
  await sleep(300); // the subscriber socket connects on its own schedule
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
}

// ---------------------------------------------------------------------------------------------------- processes

interface LineProcess {
  readonly child: ChildProcess;
  next(): Promise<Record<string, unknown>>;
  /** Resolves when a line of plain output matches (the relay's log). */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  kill(): void;
}

/** `logFile`: the child's output goes there (read back by waitFor) instead of a pipe this process reads. */
function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, logFile?: string): LineProcess {
  const out = logFile === undefined ? "pipe" : openSync(logFile, "w");
  const child = spawn(command, args, { stdio: ["ignore", out, "inherit"], env });
  if (typeof out === "number") closeSync(out);
  const lines: Record<string, unknown>[] = [];
  const waiters: ((line: Record<string, unknown>) => void)[] = [];
  let text = "";
  const output = () => (logFile === undefined ? text : readFileSync(logFile, "utf8"));
  child.stdout?.setEncoding("utf8");
  if (child.stdout) createInterface({ input: child.stdout }).on("line", (line) => {
    text += line + "\n";
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const waiter = waiters.shift();
    if (waiter) waiter(parsed);
    else lines.push(parsed);
  });
  return {
    child,
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiters.push(resolve))),
    waitFor: async (pattern, ms = 30_000) => {
      const deadline = Date.now() + ms;
      while (!pattern.test(output())) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} within ${ms} ms:\n${output().slice(-3000)}`);
        await sleep(50);
      }
    },
    kill: () => child.kill("SIGKILL"),
  };
}

const worker = (...args: string[]) => startProcess(process.execPath, [SELF, "--worker", ...args]);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const homes: string[] = [];
const children: LineProcess[] = [];
/** RELAY_BENCH_PROF=dir: relays run with --cpu-prof and are stopped with SIGTERM, so their profiles get written. */
const PROFILE_DIR = process.env["RELAY_BENCH_PROF"];
const relays: LineProcess[] = [];

async function pythonServer(): Promise<{ rep: string; pub: string; process: LineProcess }> {
  const p = startProcess(PYTHON, [join(ROOT, "bench", "veighna_publisher.py")], { ...process.env, PYTHONPATH: join(ROOT, "test", "python") });
  children.push(p);
  const { rep, pub } = (await p.next()) as { rep: string; pub: string };
  return { rep, pub, process: p };
}

/** `rpcservice serve --upstream REQ,SUB --no-sim` on free loopback ports. */
async function relay(upstream: { rep: string; pub: string }): Promise<{ rep: string; pub: string }> {
  const home = mkdtempSync(join(tmpdir(), "relay-bench-"));
  homes.push(home);
  const rep = `tcp://127.0.0.1:${await freePort()}`;
  const pub = `tcp://127.0.0.1:${await freePort()}`;
  const profile = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const args = [...profile, MAIN, "serve", "--home", home, "--no-sim", "--no-console", "--no-risk", "--upstream", `${upstream.rep},${upstream.pub}`, "--rep", rep, "--pub", pub];
  // Not in the home: the relay watches its home for key and user files, and would hear every line it logs.
  const p = startProcess(process.execPath, args, process.env, `${home}.log`);
  (PROFILE_DIR ? relays : children).push(p);
  await p.waitFor(/RPC service started successfully/);
  await p.waitFor(/Trades queried/);
  return { rep, pub };
}

/** Our RpcServer as an upstream, in its own process: prints its addresses, serves until killed. */
async function workerUpstream(): Promise<void> {
  const { rep, pub } = await ourServer();
  process.stdout.write(JSON.stringify({ rep, pub }) + "\n");
}

/**
 * The floor of what any relay adds: a bare ZMTP forwarder (ROUTER in, DEALER out, frames passed through undecoded,
 * replies routed back in order), in its own process. Prints its address.
 */
async function workerForwarder(upstreamRep: string): Promise<void> {
  const router = new ZmtpRouter();
  const dealer = new ZmtpDealer();
  const callers: string[] = [];
  router.on("message", (peer, frames) => {
    callers.push(peer.id);
    dealer.send(frames.map((frame) => Buffer.from(frame))); // frames are views into the read buffer
  });
  dealer.on("message", (frames) => {
    const caller = callers.shift();
    if (caller !== undefined) router.send(caller, frames.map((frame) => Buffer.from(frame)));
  });
  dealer.connect(upstreamRep);
  const rep = await router.bind("tcp://127.0.0.1:0");
  process.stdout.write(JSON.stringify({ rep }) + "\n");
}

/** Our upstream's process, and a caller for its `burst`. */
async function ourUpstream(): Promise<{ rep: string; pub: string; burst: (rate: number, count: number) => Promise<number>; stop: () => Promise<void> }> {
  const p = worker("upstream");
  children.push(p);
  const { rep, pub } = (await p.next()) as { rep: string; pub: string };
  const caller = new RpcClient({ reqAddress: rep, subAddress: pub, skipEvent: () => true, timeout: 120_000 });
  caller.start();
  await caller.waitConnected(20_000);
  return { rep, pub, burst: (rate, count) => caller.call<number>("burst", [rate, count]), stop: () => caller.close() };
}

/** Our RpcServer as an upstream: answers the relay's snapshot and `subscribe`, publishes ticks on `burst`. */
async function ourServer() {
  const server = new RpcServer();
  server.register("subscribe", [{ name: "req", type: instanceOf(SubscribeRequest) }, { name: "gateway_name", type: str }], () => null);
  // The contract makes the relay route `subscribe` here: a relay forwards only what an upstream contract lists.
  const contract = new ContractData({ gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, name: "rb2501", product: Product.FUTURES, size: 10, pricetick: 1 });
  server.register("get_all_contracts", [], () => [contract]);
  for (const name of ["get_all_accounts", "get_all_positions", "get_all_orders", "get_all_trades"]) server.register(name, [], () => []);
  const endpoint = new ZmqEndpoint({ repAddress: "tcp://127.0.0.1:0", pubAddress: "tcp://127.0.0.1:0" });
  await server.start([endpoint]);
  const { rep, pub } = endpoint.addresses!;
  const publishTick = (seq: number) => {
    const tick = new TickData({
      gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: 3500 + (seq % 10),
      volume: seq, bid_price_1: 3499, ask_price_1: 3501, bid_volume_1: 10, ask_volume_1: 12,
    });
    tick.extra = { seq, t: nowMs() };
    server.publish(new Event("eTick.", tick));
    server.publish(new Event(`eTick.${tick.vt_symbol}`, tick));
  };
  /** Same pacing as the Python publisher's burst(). */
  const burst = async (rate: number, count: number): Promise<number> => {
    const perSlice = Math.max(1, Math.round(rate / 1000));
    let sent = 0;
    const started = performance.now();
    while (sent < count) {
      const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + perSlice);
      while (sent < due) publishTick(++sent);
      await sleep(1);
    }
    const achieved = count / ((performance.now() - started) / 1000);
    server.publish(new Event(END, null));
    return achieved;
  };
  const int: ArgType = { name: "int", test: (v) => typeof v === "number" };
  server.register("burst", [{ name: "rate", type: int }, { name: "count", type: int }], ([rate, count]) => burst(rate as number, count as number));
  return { rep, pub };
}

// ---------------------------------------------------------------------------------------------------- sections

async function timeCalls(req: string, pub: string, gateway: string): Promise<{ p50: number; p99: number }> {
  const w = worker("calls", req, pub, gateway);
  children.push(w);
  return (await w.next()) as { p50: number; p99: number };
}

async function benchCalls(): Promise<void> {
  const python = await pythonServer();
  const ours = await ourUpstream();
  try {
    const viaPython = await relay(python);
    const viaOurs = await relay(ours);
    const forwarder = worker("forwarder", ours.rep);
    children.push(forwarder);
    const { rep: forwarderRep } = (await forwarder.next()) as { rep: string };
    const ourDirect = await timeCalls(ours.rep, ours.pub, "CTP");
    const rows: [string, { p50: number; p99: number }, { p50: number; p99: number }][] = [
      ["Python VeighNa-style server", await timeCalls(python.rep, python.pub, "CTP"), await timeCalls(viaPython.rep, viaPython.pub, "RPC")],
      ["our RpcServer", ourDirect, await timeCalls(viaOurs.rep, viaOurs.pub, "RPC")],
      // The calls go to the upstream undecoded (its gateway name): what the extra hop alone costs.
      ["our RpcServer, through a bare ZMTP forwarder (the floor)", ourDirect, await timeCalls(forwarderRep, ours.pub, "CTP")],
    ];
    console.log(`\nCall round trip, \`subscribe\` answered by the upstream, ${CALLS} calls one at a time, tcp loopback (µs)`);
    console.log("| upstream | direct p50 / p99 | through the relay p50 / p99 | added p50 / p99 |");
    console.log("|---|---|---|---|");
    for (const [name, direct, relayed] of rows) {
      const f = (n: number) => n.toFixed(0);
      console.log(`| ${name} | ${f(direct.p50)} / ${f(direct.p99)} | ${f(relayed.p50)} / ${f(relayed.p99)} | ${f(relayed.p50 - direct.p50)} / ${f(relayed.p99 - direct.p99)} |`);
    }
    const worst = Math.max(...rows.slice(0, 2).map(([, direct, relayed]) => relayed.p50 - direct.p50));
    console.log(`goal (the relay adds <= ${ADDED_P50_GOAL_US} µs p50 to a call): ${worst <= ADDED_P50_GOAL_US ? "MET" : "NOT MET"} (adds up to ${worst.toFixed(0)} µs)`);
  } finally {
    await ours.stop();
  }
}

const LADDER = [1_000, 2_000, 5_000, 10_000, 20_000, 40_000, 60_000, 80_000, 120_000];

/** The highest ladder rate every subscriber received in full (or what the publisher reached), with its p99 latency. */
async function fanout(source: { rep: string; pub: string }, burst: (rate: number, count: number) => Promise<number>, subscribers: number) {
  const subs = Array.from({ length: subscribers }, () => worker("sub", source.rep, source.pub));
  children.push(...subs);
  await Promise.all(subs.map((s) => s.next()));
  let best = 0;
  let note = "";
  let p99 = Number.NaN;
  try {
    for (const rate of LADDER) {
      let passed = false;
      let achieved = 0;
      for (let attempt = 0; attempt < 2 && !passed; attempt++) {
        achieved = await burst(rate, rate);
        if (process.env["RELAY_BENCH_VERBOSE"]) console.error(`  ${subscribers} sub(s) at ${rate}/s: publisher reached ${achieved.toFixed(0)}/s`);
        const reports = (await Promise.all(subs.map((s) => s.next()))) as { received: number; p99: number }[];
        passed = reports.every((r) => r.received === rate);
        if (passed) p99 = Math.max(...reports.map((r) => r.p99));
        else if (attempt === 1) note = `lost ticks at ${rate}/s`;
      }
      if (!passed) break;
      if (achieved < rate * 0.8) {
        best = Math.round(achieved);
        note = "publisher-bound";
        break;
      }
      best = rate;
    }
  } finally {
    for (const s of subs) s.kill();
  }
  return { best, note, p99 };
}

async function benchFanout(): Promise<void> {
  const python = await pythonServer();
  const caller = new RpcClient({ reqAddress: python.rep, subAddress: python.pub, skipEvent: () => true, timeout: 120_000 });
  caller.start();
  await caller.waitConnected(20_000);
  const pythonBurst = async (rate: number, count: number) => caller.call<number>("burst", [rate, count]);
  const ours = await ourUpstream();
  type Rung = { best: number; note: string; p99: number };
  const measured = new Map<number, { py: Rung; direct: Rung; rl?: Rung }>();
  const verdicts: string[] = [];
  try {
    // Our server alone first, before the relay subscribes to it (a relay busy re-publishing would slow it down).
    for (const n of [1, 4]) {
      const py = await fanout(python, pythonBurst, n);
      // What our own server reaches with no relay in between: a relay re-publishes, so it cannot do better.
      measured.set(n, { py, direct: await fanout(ours, ours.burst, n) });
    }
    const viaRelay = await relay(ours);
    for (const n of [1, 4]) measured.get(n)!.rl = await fanout(viaRelay, ours.burst, n);
    console.log("\nTick fan-out: highest rate with zero loss, ticks/s to each subscriber process (2 events per tick), [p99 latency there]");
    console.log("| subscribers | Python VeighNa-style server alone | our RpcServer alone (the relay's ceiling) | our relay (fed by our RpcServer) | relay / Python |");
    console.log("|---|---|---|---|---|");
    const cell = (r: Rung) => `${r.best.toLocaleString("en")} [${Number.isNaN(r.p99) ? "–" : `${r.p99.toFixed(0)} ms`}]${r.note ? ` (${r.note})` : ""}`;
    for (const [n, { py, direct, rl }] of measured) {
      const ratio = py.best > 0 ? `${(rl!.best / py.best).toFixed(1)}×` : "–";
      console.log(`| ${n} | ${cell(py)} | ${cell(direct)} | ${cell(rl!)} | ${ratio} |`);
      verdicts.push(`${n} subscriber(s): ${py.best > 0 && rl!.best >= FANOUT_GOAL_RATIO * py.best ? "MET" : "NOT MET"}`);
    }
    // A rung the publisher could not reach says little about the fan-out behind it: the verdict says so.
    console.log(`goal (relay fan-out >= ${FANOUT_GOAL_RATIO}x the Python server alone, zero loss): ${verdicts.join(", ")}`);
  } finally {
    await caller.close();
    await ours.stop();
  }
}

async function main(sections: readonly string[]): Promise<void> {
  const run = (name: string) => sections.length === 0 || sections.includes(name);
  try {
    if (run("calls")) await benchCalls();
    if (run("fanout")) await benchFanout();
  } finally {
    await Promise.all(
      relays.map(async (r) => {
        r.child.kill("SIGTERM");
        for (let i = 0; i < 100 && r.child.exitCode === null && r.child.signalCode === null; i++) await sleep(50);
        r.kill();
      }),
    );
    for (const c of children) c.kill();
    for (const home of homes) {
      rmSync(home, { recursive: true, force: true });
      rmSync(`${home}.log`, { force: true });
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  const [, mode, req, sub, gateway] = args;
  if (mode === "calls") await workerCalls(req!, sub!, gateway!);
  else if (mode === "upstream") await workerUpstream();
  else if (mode === "forwarder") await workerForwarder(req!);
  else await workerSubscriber(req!, sub!);
} else {
  await main(args);
  process.exit(0);
}

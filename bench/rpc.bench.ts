/**
 * RPC benchmark: our RpcServer/RpcClient on both transports, and the product path (RpcServiceApp -> RpcGateway),
 * against the building blocks measured in the same run: bare zeromq.js and bare ZMTP sockets doing the same codec
 * work (decode the request and encode the reply per call; one encode per event, decode per event). The server
 * runs in this process; every client or subscriber is a separate process (this script in worker mode), so the
 * figures include real process boundaries.
 *
 *   node dist/bench/rpc.bench.js                  (every section, every side)
 *   node dist/bench/rpc.bench.js ticks contracts  (only the named sections: calls, throughput, contracts, ticks, cpu,
 *                                                  stall; "ticks" alone measures bare ZMTP and the service side,
 *                                                  "ticks all-ticks" every side; "cpu service" one side)
 *   node dist/bench/rpc.bench.js calls ticks cpu stall   (issue 19's goals, each with a verdict at the end)
 *   node dist/bench/rpc.bench.js hops                    (a tick's time per hop, bare ZMTP and the product path)
 *   node dist/bench/rpc.bench.js latency                 (only the latency goals' alternating rounds, which "ticks"
 *                                                         also runs; RPC_BENCH_LATENCY_ROUNDS sets how many)
 *   node dist/bench/rpc.bench.js alloc                   (bytes allocated per tick, server and subscriber, same two;
 *                                                         and per call, bare ZMTP against RpcServer/RpcClient)
 *   node --cpu-prof dist/bench/rpc.bench.js cpu service  (profiles of the server and its subscriber process)
 *
 * cpu: the server's CPU per published tick (process CPU while publishing, minus the tick generator alone).
 * calls, throughput, contracts, cpu and alloc run with this process on CPU 0 and its workers on the others (taskset;
 * RPC_BENCH_PIN=0 leaves them to the scheduler), ticks, stall and hops on every CPU: see placeBench.
 * RPC_BENCH_METRICS=1 attaches the console's metrics recorder to the service side, as `npm start` runs the product.
 * stall: one subscriber process frozen (SIGSTOP) next to a healthy RpcGateway; the healthy one's latency and the
 * frozen one's queue, conflated count and lag from the connected-clients view.
 *
 * Tick rate: a rate counts as delivered when every tick of a 1 s burst arrived AND the subscriber kept pace (p99
 * tick latency under 50 ms; a subscriber that merely buffers the burst falls behind linearly and fails that).
 * Both ZMTP sides publish through the product's publisher socket with its default queue bounds: a subscriber more
 * than 1 MiB behind gets its ticks conflated on either side, so "lossless" compares the paths' work, not a product
 * that conflates with a baseline that buffers (RPC_BENCH_TRACE=1 prints each side's conflated count per attempt).
 * Each rung gets a second attempt, so one scheduling hiccup on a shared machine does not end the search; past the
 * ladder's last rung delivered, four halvings of the gap to the first rung not delivered narrow the rate down. The
 * lossless goals are judged on rounds of the two sides in alternating order (RPC_BENCH_RATE_ROUNDS, default 5, the
 * table's run being the first), the median of each round's ratio: one search per side, a minute apart, compares two
 * machines as often as two paths.
 * Latency is tick creation (publisher clock) to the subscriber's callback, at 10,000 ticks/s published in 1 ms
 * slices, so it is the latency of one tick, not the wait for a large batch to be encoded and decoded. (Ten ticks a
 * slice still wait for each other: RPC_BENCH_LATENCY_RATE=1000 measures one tick a slice.) The latency goals are
 * judged on alternating rounds of bare ZMTP and the product path (RPC_BENCH_LATENCY_ROUNDS, default 7), not on the
 * table's one run per side, minutes apart. Seven, not three: a 2 s window's p99 is set by whether the machine stalled
 * a process for ~20 ms in it (eight rounds of each side read 0.5–1.1 ms or 1.5–4.4 ms, rarely between), so three
 * rounds' median ratio was a draw of which side met a stall.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { decodePublish, decodeReply, decodeRequest, encodePublish, encodeReply, encodeRequest } from "../src/codec/index.js";
import { BaseGateway, Event, EventEngine, Exchange, MainEngine, TickData, marketDataKey, type GatewaySetting } from "../src/kernel/index.js";
import { DEFAULT_PUBLISH_MAX_LAG, DEFAULT_PUBLISH_QUEUE, RpcClient, RpcServer, ZmqEndpoint, resolveTransport, str, type ConnectedClient, type TransportKind } from "../src/rpc/index.js";
import { PromMetrics } from "../src/console/index.js";
import { RpcGateway, RpcServiceApp, type RpcConnectionStatus } from "../src/service/index.js";
import { ZmtpRequest, ZmtpRouter, ZmtpSubscriber } from "../src/zmtp/index.js";
import { vnpyWireDir } from "../test/fixtures/paths.js";
import { HopSamples, traceServerSockets, traceServiceServer, traceSubscriber, type HopSummary } from "./tick-hops.js";
import { allocationSampler, bufferBytesMeter, gcCounter, makeTick, median, nowMs, percentile, placeBench, sequenced, sleep, startWorker, type Allocations, type GcPauses, type Worker } from "./workers.js";

/** "bare": zeromq.js sockets + codec; "bare-zmtp": our ZMTP sockets + codec; "service": RpcServiceApp -> RpcGateway. */
type Side = TransportKind | "bare" | "bare-zmtp" | "service";
const SELF = fileURLToPath(import.meta.url);
const FIXTURE_1000 = join(vnpyWireDir, "rep_get_all_contracts_1000.pkl");
const END = "eBenchEnd";

const LABEL: Record<Side, string> = {
  bare: "bare zeromq.js + codec",
  "bare-zmtp": "bare ZMTP + codec",
  zmtp: "RpcServer/RpcClient zmtp",
  zeromq: "RpcServer/RpcClient zeromq",
  service: "RpcServiceApp -> RpcGateway (zmtp)",
};


// ---------------------------------------------------------------------------------------------------- workers

/** A bare REQ client: one call in flight; its caller encodes each request and decodes each reply. */
interface BareRequester {
  call(body: Buffer): Promise<Buffer>;
  close(): void;
}

async function bareRequester(side: "bare" | "bare-zmtp", address: string): Promise<BareRequester> {
  if (side === "bare") {
    const socket = new zmq.Request({ linger: 0 });
    socket.connect(address);
    return {
      call: async (body) => {
        await socket.send(body);
        return (await socket.receive())[0]!;
      },
      close: () => socket.close(),
    };
  }
  const socket = new ZmtpRequest();
  socket.connect(address);
  return { call: async (body) => (await socket.request([body]))[0]!, close: () => void socket.close() };
}

/** `mode` "seq": one call at a time; "pipe": 64 in flight (our client only); "alloc": see workerCallAllocations. */
async function workerCalls(side: Side, req: string, sub: string, mode: string, seconds: number, fn: string): Promise<void> {
  const latencies: number[] = [];
  let count = 0;
  let deadline = 0;
  const end = () => performance.now() > deadline;
  const args = fn === "echo" ? ["x"] : [];
  if (side === "bare" || side === "bare-zmtp") {
    const requester = await bareRequester(side, req);
    // Each request encoded, as RpcClient does (reusing one encoded body left ~0.7 µs of codec work out of bare).
    const call = async () => decodeReply(await requester.call(encodeRequest(fn, args, {})));
    await call();
    if (mode === "alloc") return workerCallAllocations(call);
    deadline = performance.now() + seconds * 1000;
    while (!end()) {
      const t0 = performance.now();
      await call();
      latencies.push(performance.now() - t0);
      count++;
    }
    requester.close();
  } else {
    const client = new RpcClient({ reqAddress: req, subAddress: sub, transport: side as TransportKind, timeout: 10_000 });
    client.start();
    await client.waitConnected(10_000);
    if (mode === "alloc") return workerCallAllocations(() => client.call(fn, args));
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

/** Calls a client process makes for the alloc section, after as many to warm up. */
const ALLOC_CALLS = 20_000;

/**
 * The alloc section's client: warms up, says "sampling" (the server starts its own sampler then), and reports the
 * bytes it allocated over ALLOC_CALLS calls made one at a time, and where.
 */
async function workerCallAllocations(call: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ALLOC_CALLS; i++) await call();
  process.stdout.write(JSON.stringify({ sampling: true }) + "\n");
  await sleep(200);
  const sampler = allocationSampler();
  await sampler.start();
  for (let i = 0; i < ALLOC_CALLS; i++) await call();
  const allocations = await sampler.stop();
  process.stdout.write(JSON.stringify({ count: ALLOC_CALLS, allocations }) + "\n");
  process.exit(0);
}

/**
 * Counts ticks and their latency; reports (and resets) on every end marker, with the per-hop stamps if traced.
 * `mode` "alloc": the allocation sampler starts after the first burst (the warm-up) and the second burst's report
 * carries the bytes this process allocated during it, and where.
 */
function tickCounter(hops?: HopSamples, mode = ""): { onTick(tick: TickData): void; onEnd(): void } {
  const sampler = mode === "alloc" ? allocationSampler() : undefined;
  let bursts = 0;
  let received = 0;
  let latencies: number[] = [];
  // This process's CPU since the previous report: the burst's decode and handling, plus the idle wait before it.
  let cpuMark = process.cpuUsage();
  const collections = gcCounter();
  return {
    onTick: (tick) => {
      received++;
      const sent = (tick.extra as { t?: number } | null | undefined)?.t;
      if (typeof sent !== "number") return;
      const now = nowMs();
      latencies.push(now - sent);
      hops?.stamp("handler", sent, now);
    },
    onEnd: () => {
      latencies.sort((a, b) => a - b);
      const cpu = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      const report = {
        received, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN,
        cpuMicros: cpu.user + cpu.system,
        gc: collections.take(),
        ...(hops ? { hops: hops.summary() } : {}),
      };
      received = 0;
      latencies = [];
      hops?.clear();
      const write = (extra?: object) => process.stdout.write(JSON.stringify({ ...report, ...extra }) + "\n");
      bursts++;
      // The report goes out once the sampler has started (or stopped): the next burst waits for it.
      if (sampler && bursts === 1) void sampler.start().then(() => write());
      else if (sampler && bursts === 2) void sampler.stop().then((allocations) => write({ allocations }));
      else write();
    },
  };
}

/** `mode` "hops": every tick's hops are stamped too (see tick-hops.ts); "alloc": see tickCounter. */
async function workerSubscriber(side: Side, req: string, sub: string, mode: string, home: string): Promise<void> {
  process.on("SIGTERM", () => process.exit(0)); // a normal exit, so that a --cpu-prof profile is written
  const hops = mode === "hops" ? new HopSamples() : undefined;
  const trace = hops ? traceSubscriber(hops) : undefined;
  const counter = tickCounter(hops, mode);
  const onEvent = (data: unknown) => {
    if (!(data instanceof Event)) return;
    if (data.type === END) counter.onEnd();
    else if (data.data instanceof TickData) {
      if (side !== "service") trace?.decoded(data.data); // the product path stamps it in RpcGateway.onTick
      counter.onTick(data.data);
    }
  };
  const ready = () => process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  if (side === "bare") {
    const socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 1_000_000 });
    socket.subscribe();
    socket.connect(sub);
    ready();
    for await (const [frame] of socket) onEvent(decodePublish(frame!).data);
  } else if (side === "bare-zmtp") {
    const socket = new ZmtpSubscriber({ flow: "drop", highWaterMark: { messages: 1_000_000 } });
    socket.subscribe("");
    socket.on("message", (frames) => onEvent(decodePublish(frames[0]!).data));
    socket.on("connect", () => setTimeout(ready, 100));
    socket.connect(sub);
  } else if (side === "service") {
    // What a strategy process sees: the gateway relabels, its EventEngine dispatches eTick. to a handler.
    const mainEngine = new MainEngine({ home: mkdtempSync(join(home, "sub-")), eventEngine: new EventEngine() });
    const gateway = mainEngine.addGateway(RpcGateway, "RPC");
    mainEngine.eventEngine.register("eTick.", (event) => counter.onTick(event.data));
    mainEngine.eventEngine.register(END, () => counter.onEnd());
    mainEngine.eventEngine.register("eRpcConnection", (event) => {
      if ((event.data as RpcConnectionStatus).state === "connected") setTimeout(ready, 300);
    });
    gateway.connect({ req_address: req, sub_address: sub, transport: "zmtp" });
  } else {
    const client = new RpcClient({ reqAddress: req, subAddress: sub, transport: side });
    client.on("event", ({ event }) => onEvent(event));
    client.start();
    await client.waitConnected(10_000);
    ready();
  }
}

// ---------------------------------------------------------------------------------------------------- main



interface Running {
  side: Side;
  req: string;
  pub: string;
  /** Publishes one tick the way this side's producer does (numbered by the server, or as the bare sides mimic). */
  publishTick(tick: TickData): void;
  publishEnd(): void;
  stop(): Promise<void>;
  /** The event socket's subscribers with their queues and counters (the service side). */
  subscribers?(): ConnectedClient[];
  /** Each subscriber's ticks conflated and messages dropped by the publisher so far (the sides with such a queue). */
  publisherLosses?(): { conflated: number; dropped: number }[];
}

/** A market data source for the product path: the test drives onTick, like a broker API callback would. */
class FeedGateway extends BaseGateway {
  static override readonly defaultName = "FEED";
  static override readonly defaultSetting: Readonly<GatewaySetting> = {};
  static override readonly exchanges: readonly Exchange[] = [Exchange.SHFE];
  connect(): void {}
  close(): void {}
  subscribe(): void {}
  sendOrder(): string {
    return "";
  }
  cancelOrder(): void {}
  queryAccount(): void {}
  queryPosition(): void {}
}

let contracts1000: unknown[] = [];
const homes: string[] = [];

function tempHome(): string {
  const home = mkdtempSync(join(tmpdir(), "rpc-bench-"));
  homes.push(home);
  return home;
}

/** A bare REP server doing the codec work our server does: decode the request, encode the reply, per call. */
function bareReply(request: Buffer): Buffer {
  const { name } = decodeRequest(request);
  return encodeReply(true, name === "get_all_contracts" ? contracts1000 : "x");
}

/** `hops`: the server's hops of every tick are stamped there (the "hops" section; see tick-hops.ts). */
async function startSide(side: Side, kind: "tcp" | "ipc", hops?: HopSamples): Promise<Running> {
  const base = join(tmpdir(), `rpc-bench-${process.pid}-${side}-${kind}`);
  const rep = kind === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${base}-rep`;
  const pub = kind === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${base}-pub`;
  let seq = 0;
  if (side === "bare") {
    const router = new zmq.Reply({ linger: 0 });
    const publisher = new zmq.Publisher({ linger: 0, sendHighWaterMark: 1_000_000, sendTimeout: 0 });
    await router.bind(rep);
    await publisher.bind(pub);
    void (async () => {
      try {
        for await (const [request] of router) await router.send(bareReply(request!));
      } catch {
        // closed
      }
    })();
    const send = (event: Event) => void publisher.send(encodePublish("", sequenced(event, ++seq))).catch(() => undefined);
    return {
      side, req: router.lastEndpoint!, pub: publisher.lastEndpoint!,
      publishTick: (tick) => send(new Event("eTick.", tick)),
      publishEnd: () => send(new Event(END, null)),
      stop: async () => {
        router.close();
        publisher.close();
      },
    };
  }
  if (side === "bare-zmtp") {
    const router = new ZmtpRouter();
    // The product's publisher socket with the product's queue bounds, a tick keyed by its symbol as the endpoint
    // keys it: a subscriber more than the socket's 1 MiB behind gets its ticks conflated on both sides alike. (With
    // a queue of its own, a million messages deep, this side used to buffer a lag the product conflates: "lossless"
    // then compared the product's slow-subscriber policy with none, not the two paths' work.)
    const publisher = resolveTransport("zmtp").publisher({
      highWaterMark: DEFAULT_PUBLISH_QUEUE.messages,
      highWaterMarkBytes: DEFAULT_PUBLISH_QUEUE.bytes,
      maxLagMs: DEFAULT_PUBLISH_MAX_LAG,
    });
    router.on("message", (peer, frames) => router.send(peer.id, [bareReply(frames[0]!)]));
    const reqAddress = await router.bind(rep);
    const pubAddress = await publisher.bind(pub);
    const send = (event: Event) => publisher.send([encodePublish("", sequenced(event, ++seq))], marketDataKey(event));
    const trace = hops ? traceServerSockets(hops) : undefined;
    return {
      side, req: reqAddress, pub: pubAddress,
      publishTick: (tick) => {
        if (trace) trace.markPublishing((tick.extra as { t: number }).t);
        send(new Event("eTick.", tick));
      },
      publishEnd: () => send(new Event(END, null)),
      stop: async () => {
        await router.close();
        await publisher.close();
      },
      publisherLosses: () => publisher.subscriberStats?.().map(({ conflated, dropped }) => ({ conflated, dropped })) ?? [],
    };
  }
  if (side === "service") {
    const mainEngine = new MainEngine({ home: tempHome(), eventEngine: new EventEngine() });
    // RPC_BENCH_METRICS=1: the console's recorder on, as `npm start` runs the product (every call and event counted).
    if (RECORDER_ON) new PromMetrics().attach(mainEngine);
    const feed = mainEngine.addGateway(FeedGateway);
    const app = mainEngine.addApp(RpcServiceApp);
    if (!(await app.start(rep, pub, { transport: "zmtp" }))) throw new Error("the RPC service did not start");
    if (hops) traceServiceServer(hops, mainEngine.eventEngine, app.server, traceServerSockets(hops).markPublishing);
    return {
      side, req: app.addresses!.rep, pub: app.addresses!.pub,
      publishTick: (tick) => feed.onTick(tick),
      publishEnd: () => mainEngine.eventEngine.put(new Event(END, null)),
      stop: () => mainEngine.close(),
      subscribers: () => app.server.subscribers(),
      publisherLosses: () => app.server.subscribers().map((s) => ({ conflated: s.eventsConflated ?? 0, dropped: s.eventsDropped })),
    };
  }
  const server = new RpcServer();
  server.register("echo", [{ name: "text", type: str }], ([text]) => text);
  server.register("get_all_contracts", [], () => contracts1000);
  const endpoint = new ZmqEndpoint({ repAddress: rep, pubAddress: pub, transport: side, publishHighWaterMark: 1_000_000 });
  await server.start([endpoint]);
  return {
    side, req: endpoint.addresses!.rep, pub: endpoint.addresses!.pub,
    publishTick: (tick) => server.publish(new Event("eTick.", tick)),
    publishEnd: () => server.publish(new Event(END, null)),
    stop: () => server.stop(),
  };
}

async function runCalls(running: Running, mode: string, clients: number, seconds: number, fn = "echo") {
  const workers = Array.from({ length: clients }, () =>
    startWorker(SELF, ["calls", running.side, running.req, running.pub, mode, String(seconds), fn]),
  );
  const results = await Promise.all(workers.map((w) => w.next()));
  const total = results.reduce((sum, r) => sum + (r["count"] as number), 0);
  return { callsPerSecond: Math.round(total / seconds), p50: results[0]!["p50"] as number, p99: results[0]!["p99"] as number };
}


interface BurstReport {
  received: number;
  p50: number;
  p99: number;
  max: number;
  /** The subscriber process's CPU (user + system) since its previous report, µs. */
  cpuMicros: number;
  /** The subscriber process's garbage collections since its previous report. */
  gc: GcPauses;
}

/** Publishes `count` ticks at `rate` per second in 1 ms slices; returns the rate reached. */
async function publishLoop(running: Running, rate: number, count: number): Promise<{ achieved: number }> {
  const perSlice = Math.max(1, Math.round(rate / 1000));
  let sent = 0;
  const started = performance.now();
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + perSlice);
    while (sent < due) running.publishTick(makeTick(++sent));
    await sleep(1);
  }
  return { achieved: count / ((performance.now() - started) / 1000) };
}

/** The same loop making the same ticks, publishing none: the tick generator's own cost, which CPU and allocation figures subtract. */
function generateOnly(running: Running, rate: number, count: number): Promise<{ achieved: number }> {
  return publishLoop({ ...running, publishTick: () => undefined, publishEnd: () => undefined }, rate, count);
}

/** Publishes `count` ticks at `rate` per second in 1 ms slices, then an end marker; collects every subscriber's report. */
async function publishRun(running: Running, subscribers: Worker[], rate: number, count: number) {
  const { achieved } = await publishLoop(running, rate, count);
  running.publishEnd();
  const reports = (await Promise.all(subscribers.map((s) => s.next()))) as unknown as BurstReport[];
  return { reports, achieved };
}

/** Every tick arrived, and the subscriber kept pace instead of buffering the burst. */
const delivered = (reports: BurstReport[], count: number) => reports.every((r) => r.received === count && r.p99 < 50);

/** RPC_BENCH_TRACE=1: each attempt of the rate search on stderr (received and p99 per subscriber), to see why a rung failed. */
const TRACE_RUNGS = process.env["RPC_BENCH_TRACE"] === "1";

function traceRung(running: Running, subscriberCount: number, rate: number, run: { reports: BurstReport[]; achieved: number }): void {
  const each = run.reports.map((r) => `${r.received === rate ? "all" : `${r.received}`} p99 ${r.p99.toFixed(1)} ms`).join(", ");
  // Whether the publisher conflated or dropped (both ZMTP sides keep the counters): a loss the subscriber did not cause.
  const counters = running.publisherLosses?.().map((s) => `${s.conflated}/${s.dropped}`).join(", ");
  const server = counters === undefined ? "" : `; server conflated/dropped so far: ${counters}`;
  process.stderr.write(`  ${running.side} x${subscriberCount} at ${rate}/s (published ${Math.round(run.achieved)}/s): ${each}${server}\n`);
}

/** Halvings of the gap above the ladder's last rung delivered (see tickRuns). */
const RATE_HALVINGS = 4;

const LADDER = [5_000, 10_000, 20_000, 40_000, 60_000, 80_000, 120_000, 160_000];
/** The service side with the console's metrics recorder attached (see startSide). */
const RECORDER_ON = process.env["RPC_BENCH_METRICS"] === "1";

/** Ticks per second of the latency phase (10,000 unless RPC_BENCH_LATENCY_RATE says otherwise). */
const LATENCY_RATE = Number(process.env["RPC_BENCH_LATENCY_RATE"] ?? 10_000);

async function tickRuns(side: Side, subscriberCount: number, measureLatency: boolean) {
  const running = await startSide(side, "tcp");
  const home = tempHome();
  const subscribers = Array.from({ length: subscriberCount }, () => startWorker(SELF, ["sub", side, running.req, running.pub, "", "", "", home]));
  try {
    await Promise.all(subscribers.map((s) => s.next()));
    await sleep(300);
    // Warm-up, not judged: fresh processes compile their hot paths in the first burst, and four of them at once on
    // two CPUs missed the 50 ms pace twice at the first rung (the side then read 0/s).
    await publishRun(running, subscribers, 5_000, 5_000);
    let best = 0;
    let publisherBound = false;
    let failedAt = 0;
    /** Whether `rate` is delivered (two attempts); the publisher is the limit once it cannot reach the rate asked. */
    const tryRate = async (rate: number): Promise<boolean> => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const run = await publishRun(running, subscribers, rate, rate);
        if (TRACE_RUNGS) traceRung(running, subscriberCount, rate, run);
        if (!delivered(run.reports, rate)) continue;
        publisherBound = run.achieved < rate * 0.95;
        best = publisherBound ? Math.round(run.achieved) : rate;
        return true;
      }
      failedAt = rate;
      return false;
    };
    for (const rate of LADDER.slice(subscriberCount > 1 ? 1 : 0)) {
      if (!(await tryRate(rate)) || publisherBound) break;
    }
    // The ladder's steps (up to 2×) are too coarse to judge a 0.9× goal: halve the gap between the last rate
    // delivered and the first that was not, four times (to within 1/16 of that step; 1/8 left two sides of the same
    // capacity a grid step apart, 25k against 28k = 0.89×).
    for (let step = 0; step < RATE_HALVINGS && best > 0 && failedAt > best && !publisherBound; step++) {
      const rate = Math.round((best + failedAt) / 2_000) * 1_000;
      if (rate <= best || rate >= failedAt) break;
      await tryRate(rate);
    }
    if (!measureLatency) return { best, publisherBound, latency: null };
    // Tick-to-callback latency at LATENCY_RATE ticks/s, 2 s.
    const count = 2 * LATENCY_RATE;
    const latency = (await publishRun(running, subscribers, LATENCY_RATE, count)).reports[0]!;
    return { best, publisherBound, latency: { ...latency, lost: count - latency.received } };
  } finally {
    for (const s of subscribers) s.kill();
    await running.stop();
  }
}

/** What the goals of issue 19 are judged on, filled by the sections that ran. */
const results: {
  callP50Tcp: Partial<Record<Side, number>>;
  /** Median over alternating rounds of (ours - bare) call p50, ms: each pair measured a second apart. */
  callAddedTcp?: number;
  /** Median over alternating rounds of the product path's tick latency over bare's, p50 and p99. */
  latencyRatios?: { p50: number; p99: number };
  /** Median over alternating rounds of the product path's lossless rate over bare's, 1 and 4 subscribers. */
  rateRatios?: { one: number; four: number };
  ticks: Partial<Record<Side, { one: number; four: number; p50: number; p99: number }>>;
  cpu: Partial<Record<Side, number>>;
  alloc: Partial<Record<Side, { server: number; subscriber: number }>>;
  stall?: { rounds: StallRound[] };
} = { callP50Tcp: {}, ticks: {}, cpu: {}, alloc: {} };

async function benchCalls(sides: readonly Side[]): Promise<void> {
  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "-");
  console.log("\nCall round trip (1 client process, sequential, 2 s), ms");
  console.log("| side | transport | p50 | p99 | calls/s |\n|---|---|---|---|---|");
  for (const kind of ["tcp", "ipc"] as const) {
    for (const side of sides) {
      const running = await startSide(side, kind);
      const r = await runCalls(running, "seq", 1, 2);
      console.log(`| ${LABEL[side]} | ${kind} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.callsPerSecond} |`);
      await running.stop();
    }
  }
  await callGoalRounds();
}

/**
 * The call goal compares two p50s a few µs apart, which one pass of each side cannot show on a shared machine
 * (one pass read -19 to +42 µs apart within a minute): both servers stay up and 1 s rounds alternate between them,
 * and the verdict takes the median of each side's p50s.
 */
async function callGoalRounds(rounds = 7): Promise<void> {
  const bare = await startSide("bare-zmtp", "tcp");
  const ours = await startSide("zmtp", "tcp");
  const p50s: Record<"bare-zmtp" | "zmtp", number[]> = { "bare-zmtp": [], zmtp: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const running of round % 2 === 0 ? [bare, ours] : [ours, bare]) {
        p50s[running.side as "bare-zmtp" | "zmtp"].push((await runCalls(running, "seq", 1, 1)).p50);
      }
    }
  } finally {
    await bare.stop();
    await ours.stop();
  }
  results.callP50Tcp["bare-zmtp"] = median(p50s["bare-zmtp"]);
  results.callP50Tcp.zmtp = median(p50s.zmtp);
  const added = p50s.zmtp.map((ours, i) => ours - p50s["bare-zmtp"][i]!);
  results.callAddedTcp = median(added);
  const us = (values: number[]) => values.map((v) => (v * 1000).toFixed(0)).join(" ");
  console.log(`
Call p50 over tcp in ${rounds} alternating 1 s rounds, µs: bare ZMTP + codec ${us(p50s["bare-zmtp"])}; RpcServer/RpcClient ${us(p50s.zmtp)}; added in each round ${us(added)}`);
}

async function benchThroughput(sides: readonly Side[]): Promise<void> {
  console.log("\nThroughput over tcp, calls/s (3 s)");
  console.log("| side | 1 client | 4 client processes | 1 pipelined client (64 in flight) |\n|---|---|---|---|");
  for (const side of sides) {
    const running = await startSide(side, "tcp");
    const one = await runCalls(running, "seq", 1, 3);
    const four = await runCalls(running, "seq", 4, 3);
    const bare = side === "bare" || side === "bare-zmtp";
    const pipe = bare ? null : await runCalls(running, "pipe", 1, 3);
    console.log(`| ${LABEL[side]} | ${one.callsPerSecond} | ${four.callsPerSecond} | ${pipe ? pipe.callsPerSecond : "n/a (REQ is lock-step)"} |`);
    await running.stop();
  }
}

async function benchContracts(sides: readonly Side[]): Promise<void> {
  const fmt = (n: number) => n.toFixed(3);
  console.log("\nget_all_contracts of 1,000 contracts (tcp, 1 client, 3 s; every side encodes and decodes each reply), ms");
  console.log("| side | p50 | p99 | calls/s |\n|---|---|---|---|");
  for (const side of sides) {
    const running = await startSide(side, "tcp");
    const r = await runCalls(running, "seq", 1, 3, "get_all_contracts");
    console.log(`| ${LABEL[side]} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.callsPerSecond} |`);
    await running.stop();
  }
}

async function benchTicks(sides: readonly Side[]): Promise<void> {
  const fmt = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n.toFixed(3) : "-");
  const rate = (r: { best: number; publisherBound: boolean }) => `${r.best}/s${r.publisherBound ? " (publisher-bound)" : ""}`;
  console.log(
    "\nTicks over tcp: highest rate delivered in full and on pace (a ladder 5k..160k/s, then four halvings of the gap above its last rung delivered; 1 s bursts, 2 attempts each),\n" +
      `and tick-to-callback latency at ${LATENCY_RATE.toLocaleString("en-US")} ticks/s (1 subscriber, 2 s). The service side publishes 2 events per tick (eTick. and eTick.<vt_symbol>, as VeighNa); RpcGateway opts out of the second, so 1 frame per tick reaches it.`,
  );
  console.log(`| side | 1 subscriber | 4 subscribers | latency p50 ms | latency p99 ms | lost at ${LATENCY_RATE / 1000}k/s |\n|---|---|---|---|---|---|`);
  for (const side of sides) {
    const one = await tickRuns(side, 1, true);
    const four = await tickRuns(side, 4, false);
    console.log(`| ${LABEL[side]} | ${rate(one)} | ${rate(four)} | ${fmt(one.latency?.p50)} | ${fmt(one.latency?.p99)} | ${one.latency?.lost ?? "-"} |`);
    results.ticks[side] = { one: one.best, four: four.best, p50: one.latency?.p50 ?? Number.NaN, p99: one.latency?.p99 ?? Number.NaN };
  }
  if (sides.includes("bare-zmtp") && sides.includes("service")) {
    await rateGoalRounds();
    await latencyGoalRounds();
  }
}

/**
 * The lossless goals compare two searches whose result moves with the machine's speed from one minute to the next:
 * more rounds, the two sides in alternating order within each (the table's run is the first), and the verdict takes
 * the median of each round's ratio. A round whose baseline reached no rung has no ratio. Five rounds, not three:
 * with four subscriber processes on two cores one run's rounds spread as far as 0.78-0.97x, and the median of
 * three was the draw of a single round (as seven latency rounds replaced three).
 */
async function rateGoalRounds(rounds = Number(process.env["RPC_BENCH_RATE_ROUNDS"] ?? 5)): Promise<void> {
  const bare = results.ticks["bare-zmtp"];
  const service = results.ticks.service;
  if (!bare || !service) return;
  const rates = { one: { bare: [bare.one], service: [service.one] }, four: { bare: [bare.four], service: [service.four] } };
  for (let round = 1; round < rounds; round++) {
    for (const [count, key] of [[1, "one"], [4, "four"]] as const) {
      for (const side of round % 2 === 1 ? (["service", "bare-zmtp"] as const) : (["bare-zmtp", "service"] as const)) {
        rates[key][side === "service" ? "service" : "bare"].push((await tickRuns(side, count, false)).best);
      }
    }
  }
  const ratios = (key: "one" | "four") => rates[key].service.map((ours, i) => ours / rates[key].bare[i]!);
  const finite = (values: number[]) => values.filter((v) => Number.isFinite(v));
  results.rateRatios = { one: median(finite(ratios("one"))), four: median(finite(ratios("four"))) };
  const k = (values: number[]) => values.map((v) => `${Math.round(v / 1000)}k`).join(" ");
  const times = (values: number[]) => values.map((v) => (Number.isFinite(v) ? `${v.toFixed(3)}×` : "-")).join(" ");
  console.log(
    `\nLossless ticks/s in ${rounds} rounds (the table's, then the two sides in alternating order; the goals take the median ratio): ` +
      `1 subscriber: bare ZMTP + codec ${k(rates.one.bare)}, RpcServiceApp -> RpcGateway ${k(rates.one.service)}, over bare ${times(ratios("one"))}; ` +
      `4 subscribers: bare ${k(rates.four.bare)}, product path ${k(rates.four.service)}, over bare ${times(ratios("four"))}`,
  );
}

/**
 * The latency goals compare two sides measured minutes apart in the table above, long enough for the machine to
 * change under them (one run read bare's call p50 45 µs, the next 60). As for calls: 2 s rounds of the two sides
 * alternate, each on a fresh server and subscriber, and the verdict takes the median of the rounds' ratios (the
 * table then shows each side's median p50 and p99).
 */
async function latencyGoalRounds(rounds = Number(process.env["RPC_BENCH_LATENCY_ROUNDS"] ?? 7)): Promise<void> {
  const sides = ["bare-zmtp", "service"] as const;
  const runs: Record<(typeof sides)[number], BurstReport[]> = { "bare-zmtp": [], service: [] };
  // The server's (this process's) collections during each side's measured runs.
  const serverGc: Record<(typeof sides)[number], GcPauses[]> = { "bare-zmtp": [], service: [] };
  const collections = gcCounter();
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const running = await startSide(side, "tcp");
      const subscriber = startWorker(SELF, ["sub", side, running.req, running.pub, "", "", "", tempHome()]);
      try {
        await subscriber.next();
        await sleep(300);
        await publishRun(running, [subscriber], LATENCY_RATE, LATENCY_RATE); // warm-up
        collections.take();
        runs[side].push((await publishRun(running, [subscriber], LATENCY_RATE, 2 * LATENCY_RATE)).reports[0]!);
        serverGc[side].push(collections.take());
      } finally {
        subscriber.kill();
        await running.stop();
      }
    }
  }
  for (const side of sides) {
    const ticks = results.ticks[side];
    if (ticks) Object.assign(ticks, { p50: median(runs[side].map((r) => r.p50)), p99: median(runs[side].map((r) => r.p99)) });
  }
  const ratio = (key: "p50" | "p99") => runs.service.map((r, i) => r[key] / runs["bare-zmtp"][i]![key]);
  results.latencyRatios = { p50: median(ratio("p50")), p99: median(ratio("p99")) };
  const ms = (reports: BurstReport[], key: "p50" | "p99") => reports.map((r) => r[key].toFixed(3)).join(" ");
  const times = (values: number[]) => values.map((v) => `${v.toFixed(2)}×`).join(" ");
  console.log(
    `\nTick latency at ${LATENCY_RATE.toLocaleString("en-US")} ticks/s in ${rounds} alternating 2 s rounds (the goals take the medians), ms: ` +
      `bare ZMTP + codec p50 ${ms(runs["bare-zmtp"], "p50")}, p99 ${ms(runs["bare-zmtp"], "p99")}; ` +
      `RpcServiceApp -> RpcGateway p50 ${ms(runs.service, "p50")}, p99 ${ms(runs.service, "p99")}; ` +
      `over bare in each round: p50 ${times(ratio("p50"))}, p99 ${times(ratio("p99"))}`,
  );
  // A p99 of a few ms is often a full collection (mark-compact) in one of the two processes during the round.
  const full = (windows: GcPauses[]) => {
    const count = windows.reduce((sum, w) => sum + w.full, 0);
    return `${count} (${windows.reduce((sum, w) => sum + w.fullMs, 0).toFixed(1)} ms)`;
  };
  console.log(
    `Full collections (mark-compact) in those ${rounds} measured rounds, count (pauses in total): ` +
      `the server process ${full(serverGc["bare-zmtp"])} publishing bare ZMTP, ${full(serverGc.service)} for the product path; ` +
      `the subscriber ${full(runs["bare-zmtp"].map((r) => r.gc))} bare, ${full(runs.service.map((r) => r.gc))} RpcGateway`,
  );
}

async function benchCpu(sides: readonly Side[]): Promise<void> {
  const rate = 10_000;
  const count = 30_000;
  const rounds = Number(process.env["RPC_BENCH_CPU_ROUNDS"] ?? 3);
  console.log(
    `\nServer CPU per published tick (${rate} ticks/s for ${count / rate} s to 1 subscriber process, minus the tick generator alone;` +
      ` ${rounds} rounds, sides alternating; best = lowest run minus lowest generator: other processes only ever add), µs`,
  );
  console.log(roundsHeader(rounds));
  const rows = new Map<Side, { total: number; generator: number; subscriber: number }[]>(sides.map((side) => [side, []]));
  for (let round = 0; round < rounds; round++) {
    for (const side of sides) rows.get(side)!.push(await cpuPerTick(side, rate, count));
  }
  // Least disturbed of each: the publishing run and the generator alone, each at its lowest.
  for (const [side, values] of rows) {
    const best = Math.max(0, Math.min(...values.map((v) => v.total)) - Math.min(...values.map((v) => v.generator)));
    results.cpu[side] = best;
    console.log(`| ${LABEL[side]} | ${values.map((v) => (v.total - v.generator).toFixed(1)).join(" | ")} | ${best.toFixed(1)} |`);
  }
  // The other end of the same runs: what a subscriber pays per tick decides how many fit on the cores (the lossless
  // rate to 4 subscriber processes), and the product path's is the bare decode plus the client's event semantics.
  console.log(`\nThe subscriber process's CPU per tick in the same runs (its own clock: the burst, and its idle wait before it), µs`);
  console.log(roundsHeader(rounds));
  for (const [side, values] of rows) {
    const each = values.map((v) => v.subscriber);
    console.log(`| ${LABEL[side]} | ${each.map((v) => v.toFixed(1)).join(" | ")} | ${Math.min(...each).toFixed(1)} |`);
  }
}

/** A table's header: a side, then one column per round, then the best. */
function roundsHeader(rounds: number): string {
  return `| side | ${Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(" | ")} | best |\n|---|${"---|".repeat(rounds + 1)}`;
}

/** The sites that allocated most, in bytes per tick or per call (`units` of them in the window). */
function topSites(allocations: Allocations, units: number): string {
  return allocations.sites.map(([site, bytes]) => `${site} ${Math.round(bytes / units)}`).join(", ");
}

/**
 * Bytes allocated per tick at both ends, at 10,000 ticks/s to 1 subscriber process: the server's (this process,
 * minus the tick generator alone, as for CPU) and the subscriber's, each from V8's sampling heap profiler. Every
 * byte is young garbage that a collection must pass over, and each young collection holds every tick behind it.
 * A count of bytes does not move with the machine's load as time does: two runs, or two trees, compare directly.
 */
async function benchAlloc(sides: readonly Side[]): Promise<void> {
  const rate = 10_000;
  const count = 20_000;
  const perTick = (allocations: Allocations, ticks: number) => Math.round(allocations.bytes / ticks);
  console.log(
    `\nBytes allocated per tick (${rate} ticks/s for ${count / rate} s to 1 subscriber process; the server's minus the tick generator's alone)` +
      "; and the server's Buffer bytes per tick, outside V8's heap (see bufferBytesMeter)",
  );
  console.log("| side | server | subscriber | server, Buffers |\n|---|---|---|---|");
  const notes: string[] = [];
  for (const side of sides) {
    const running = await startSide(side, "tcp");
    const subscriber = startWorker(SELF, ["sub", side, running.req, running.pub, "alloc", "", "", tempHome()]);
    try {
      await subscriber.next();
      await sleep(300);
      await publishRun(running, [subscriber], rate, rate); // warm-up; the subscriber's sampler starts after it
      const sampler = allocationSampler();
      const buffers = bufferBytesMeter();
      await sampler.start();
      buffers.start();
      await generateOnly(running, rate, count);
      const generatorBuffers = buffers.stop();
      const generator = await sampler.stop();
      await sampler.start();
      buffers.start();
      const run = await publishRun(running, [subscriber], rate, count);
      const serverBuffers = buffers.stop();
      const server = await sampler.stop();
      const report = run.reports[0] as BurstReport & { allocations?: Allocations };
      const received = report.received;
      const serverBytes = Math.max(0, Math.round((server.bytes - generator.bytes) / count));
      const subscriberBytes = report.allocations ? perTick(report.allocations, received) : Number.NaN;
      results.alloc[side] = { server: serverBytes, subscriber: subscriberBytes };
      const bufferBytes = Math.max(0, Math.round((serverBuffers - generatorBuffers) / count));
      console.log(`| ${LABEL[side]} | ${serverBytes} | ${subscriberBytes} | ${bufferBytes} |`);
      notes.push(`${LABEL[side]}: the server's most (the generator's included) ${topSites(server, count)}; the subscriber's ${report.allocations ? topSites(report.allocations, received) : "-"}`);
    } finally {
      subscriber.kill("SIGTERM");
      await running.stop();
    }
  }
  console.log(`\nWhere, bytes per tick:\n${notes.map((note) => `- ${note}`).join("\n")}`);
}

/**
 * Bytes allocated per call (`echo("x")`, one at a time from 1 client process, after as many to warm up): the server's
 * (this process) and the client's, bare ZMTP REQ/ROUTER with the codec against RpcServer/RpcClient, the call goal's pair.
 */
async function benchCallAlloc(): Promise<void> {
  console.log(`\nBytes allocated per call (echo("x"), ${ALLOC_CALLS.toLocaleString("en-US")} calls one at a time from 1 client process)`);
  console.log("| side | server | client |\n|---|---|---|");
  const notes: string[] = [];
  for (const side of ["bare-zmtp", "zmtp"] as const) {
    const running = await startSide(side, "tcp");
    const client = startWorker(SELF, ["calls", side, running.req, running.pub, "alloc", "0", "echo"]);
    try {
      await client.next(); // warmed up
      const sampler = allocationSampler();
      await sampler.start();
      const report = (await client.next()) as { count: number; allocations: Allocations };
      const server = await sampler.stop();
      const perCall = (allocations: Allocations) => Math.round(allocations.bytes / report.count);
      console.log(`| ${LABEL[side]} | ${perCall(server)} | ${perCall(report.allocations)} |`);
      notes.push(`${LABEL[side]}: the server's most ${topSites(server, report.count)}; the client's ${topSites(report.allocations, report.count)}`);
    } finally {
      client.kill();
      await running.stop();
    }
  }
  console.log(`\nWhere, bytes per call:\n${notes.map((note) => `- ${note}`).join("\n")}`);
}

/** One round of the stall comparison: the healthy subscriber next to a reading neighbour, then next to it frozen. */
interface StallRound {
  /** Ticks/s of both bursts: the highest the round's own baseline delivered in full (see benchStall). */
  rate: number;
  alone: BurstReport;
  withStalled: BurstReport;
  /** The frozen one as the server's connected-clients view shows it at the end of the frozen burst. */
  stalled: ConnectedClient | undefined;
  /** Ticks the server conflated in the frozen burst (the view's count runs from the connection on). */
  conflated: number;
}

/**
 * One stalled subscriber next to a healthy one: the healthy one's tick latency at the top rate it takes in full
 * for 3 s next to a reading neighbour, then with that neighbour frozen (SIGSTOP) for the whole burst; and what the
 * stalled one's queue looks like at the end (conflated, dropped, lag), from the server's connected-clients view.
 * In rounds (RPC_BENCH_STALL_ROUNDS, default 3), the neighbour resumed and caught up between them; the verdict takes
 * the median of the rounds' p99 ratios. One pair decided it before, and a 3 s p99 is set by whether the machine
 * stalled the process in it: one run read 7.6 against 4.6 ms, where four runs before read the stalled side lower.
 */
async function benchStall(rounds = Number(process.env["RPC_BENCH_STALL_ROUNDS"] ?? 3)): Promise<void> {
  const topRate = results.ticks.service?.one || 10_000;
  let rate = topRate;
  const running = await startSide("service", "tcp");
  const home = tempHome();
  const healthy = startWorker(SELF, ["sub", "service", running.req, running.pub, "", "", "", home]);
  const stalled = startWorker(SELF, ["sub", "bare-zmtp", running.req, running.pub, "", "", "", home]);
  try {
    await Promise.all([healthy.next(), stalled.next()]);
    await sleep(300);
    await publishRun(running, [healthy, stalled], rate, Math.min(rate, 10_000)); // warm-up, both reading
    const done: StallRound[] = [];
    const conflatedSoFar = () => (running.subscribers?.() ?? []).reduce((sum, s) => sum + (s.eventsConflated ?? 0), 0);
    for (let round = 0; round < rounds; round++) {
      // Each round's baseline must lose nothing, or its comparison measures an overload rather than the stalled
      // neighbour: the ladder's top rate holds for 1 s bursts to one subscriber, and the machine's pace moves from
      // round to round, so every round halves the rate until 3 s next to a reading subscriber lose nothing.
      let alone = (await publishRun(running, [healthy], rate, rate * 3)).reports[0]!;
      for (let tries = 0; alone.received < rate * 3 && rate > 5_000 && tries < 4; tries++) {
        rate = Math.max(5_000, Math.round(rate / 2000) * 1000);
        alone = (await publishRun(running, [healthy], rate, rate * 3)).reports[0]!;
      }
      const conflatedBefore = conflatedSoFar();
      stalled.kill("SIGSTOP");
      const withStalled = (await publishRun(running, [healthy], rate, rate * 3)).reports[0]!;
      const subscribers = running.subscribers?.() ?? [];
      const view = subscribers.sort((a, b) => (b.eventsConflated ?? 0) - (a.eventsConflated ?? 0))[0];
      done.push({ rate, alone, withStalled, stalled: view && { ...view }, conflated: conflatedSoFar() - conflatedBefore });
      stalled.kill("SIGCONT");
      await sleep(1_000); // it reads what its socket holds (its queue was conflated to a few events)
    }
    results.stall = { rounds: done };
    const fmt = (n: number) => n.toFixed(3);
    console.log(
      `\nOne stalled subscriber (SIGSTOP) next to a healthy RpcGateway, 3 s bursts from the ladder's ${topRate} ticks/s, halved in a ` +
        `round until its baseline lost nothing (service side), ${rounds} rounds`,
    );
    console.log("| round | ticks/s | healthy subscriber | received | latency p50 ms | latency p99 ms | the stalled one at the end |\n|---|---|---|---|---|---|---|");
    done.forEach(({ rate: roundRate, alone, withStalled, stalled: view, conflated }, i) => {
      const queue = view
        ? `queued ${view.eventsBehind} (${view.bytesBehind ?? 0} B), conflated ${conflated}, dropped ${view.eventsDropped}, lag ${Math.round(view.lagMs ?? 0)} ms`
        : "not found";
      console.log(`| ${i + 1} | ${roundRate} | next to a subscriber that reads | ${alone.received} | ${fmt(alone.p50)} | ${fmt(alone.p99)} | |`);
      console.log(`| ${i + 1} | ${roundRate} | next to the stalled one | ${withStalled.received} | ${fmt(withStalled.p50)} | ${fmt(withStalled.p99)} | ${queue} |`);
    });
  } finally {
    healthy.kill();
    stalled.kill();
    await running.stop();
  }
}

/**
 * Where a tick's time goes: every hop of every tick stamped (tick-hops.ts) at LATENCY_RATE ticks/s for 2 s to one
 * subscriber process, bare ZMTP and the product path in alternating rounds. Each cell is the p50 (and p99) of the
 * hop's time since the tick was made, in µs; the last row is the handler, the latency the ticks section reports.
 */
async function benchHops(rounds = Number(process.env["RPC_BENCH_HOP_ROUNDS"] ?? 2)): Promise<void> {
  const sides = ["bare-zmtp", "service"] as const;
  const columns: { side: Side; hops: HopSummary[] }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const hops = new HopSamples();
      const running = await startSide(side, "tcp", hops);
      const subscriber = startWorker(SELF, ["sub", side, running.req, running.pub, "hops", "", "", tempHome()]);
      try {
        await subscriber.next();
        await sleep(300);
        await publishRun(running, [subscriber], LATENCY_RATE, LATENCY_RATE); // warm-up
        hops.clear();
        const report = (await publishRun(running, [subscriber], LATENCY_RATE, 2 * LATENCY_RATE)).reports[0] as unknown as { hops: HopSummary[] };
        columns.push({ side, hops: [...hops.summary(), ...report.hops] });
      } finally {
        subscriber.kill();
        await running.stop();
      }
    }
  }
  const order = [...new Set(columns.flatMap((column) => column.hops.map((h) => h.hop)))];
  const rank = (hop: string) => columns.find((c) => c.side === "service")?.hops.findIndex((h) => h.hop === hop) ?? order.indexOf(hop);
  order.sort((a, b) => rank(a) - rank(b));
  const us = (ms: number) => (ms * 1000).toFixed(0);
  console.log(
    `\nA tick's hops at ${LATENCY_RATE.toLocaleString("en-US")} ticks/s (tcp, 1 subscriber process, 2 s; ${rounds} rounds alternating), ` +
      "µs since the tick was made, p50 / p99 (server: the bench process; subscriber: its own process, same clock)",
  );
  console.log(`| hop | ${columns.map((c) => LABEL[c.side]).join(" | ")} |\n|---|${"---|".repeat(columns.length)}`);
  for (const hop of order) {
    const cells = columns.map((c) => {
      const h = c.hops.find((x) => x.hop === hop);
      return h ? `${us(h.p50)} / ${us(h.p99)}` : "";
    });
    console.log(`| ${hop} | ${cells.join(" | ")} |`);
  }
}

/** Issue 19's goals, each judged against the bare-ZMTP baseline of this run (or said to be unmeasured). */
function printVerdicts(): void {
  const lines: string[] = [];
  const verdict = (goal: string, measured: string, pass: boolean | null) =>
    lines.push(`| ${goal} | ${measured} | ${pass === null ? "not measured" : pass ? "PASS" : "FAIL"} |`);
  const bare = results.ticks["bare-zmtp"];
  const service = results.ticks.service;
  if (bare && service) {
    // Paired when the alternating rounds ran (the median of each round's ratio), else the table's one run per side.
    const paired = results.latencyRatios;
    const r50 = paired?.p50 ?? service.p50 / bare.p50;
    const r99 = paired?.p99 ?? service.p99 / bare.p99;
    const how = paired ? ", median of the rounds' ratios" : "";
    // The goals are set at 10,000 ticks/s; at another rate the line says so.
    const at = LATENCY_RATE === 10_000 ? "" : ` (at ${LATENCY_RATE}/s)`;
    verdict(`tick latency p50 ≤ 1.2× bare${at}`, `${service.p50.toFixed(3)} / ${bare.p50.toFixed(3)} ms (medians)${how}: ${r50.toFixed(2)}×`, r50 <= 1.2);
    verdict(`tick latency p99 ≤ 1.5× bare${at}`, `${service.p99.toFixed(3)} / ${bare.p99.toFixed(3)} ms (medians)${how}: ${r99.toFixed(2)}×`, r99 <= 1.5);
    const rateRatios = results.rateRatios;
    for (const [what, key] of [["1 subscriber", "one"], ["4 subscribers", "four"]] as const) {
      const ours = service[key];
      const base = bare[key];
      const goal = `lossless ticks/s, ${what} ≥ 0.9× bare`;
      if (rateRatios) {
        const ratio = rateRatios[key];
        if (Number.isNaN(ratio)) verdict(goal, "no round's baseline reached a rung", null);
        else verdict(goal, `the table's ${ours} / ${base}; median of the rounds' ratios: ${ratio.toFixed(3)}×`, ratio >= 0.9);
      } else if (base === 0) {
        // A baseline that delivered no rung of the ladder (a starved machine) cannot judge anything.
        verdict(goal, `${ours} / 0 (the baseline reached no rung)`, null);
      } else verdict(goal, `${ours} / ${base} = ${(ours / base).toFixed(2)}×`, ours >= 0.9 * base);
    }
  } else verdict("tick latency and lossless rate vs bare", "-", null);
  const callBare = results.callP50Tcp["bare-zmtp"];
  const callOurs = results.callP50Tcp.zmtp;
  if (callBare !== undefined && callOurs !== undefined) {
    // The median of each round's difference: a round's pair is measured a second apart, while the two sides' medians
    // may come from rounds far apart, on a machine that changed in between.
    const added = (results.callAddedTcp ?? callOurs - callBare) * 1000;
    verdict("call p50 ≤ bare + 5 µs", `${(callOurs * 1000).toFixed(1)} vs ${(callBare * 1000).toFixed(1)} µs (medians); median added in a round ${added.toFixed(1)} µs`, added <= 5);
  } else verdict("call p50 ≤ bare + 5 µs", "-", null);
  const stall = results.stall;
  if (stall) {
    const ratios = stall.rounds.map((r) => r.withStalled.p99 / r.alone.p99);
    const moved = median(ratios);
    const lost = stall.rounds.filter((r) => r.withStalled.received !== r.rate * 3).length;
    verdict(
      "a stalled subscriber: the healthy one's p99 does not move (≤ 1.5×), nothing lost",
      `next to it stalled / next to it reading, each round: ${ratios.map((v) => `${v.toFixed(2)}×`).join(" ")}; median ${moved.toFixed(2)}×; ` +
        `rounds that lost ticks: ${lost}`,
      moved <= 1.5 && lost === 0,
    );
    const views = stall.rounds.map((r) => r.stalled);
    const queued = Math.max(...views.map((v) => v?.eventsBehind ?? Number.POSITIVE_INFINITY));
    const lag = Math.max(...views.map((v) => v?.lagMs ?? 0));
    const conflatedEach = stall.rounds.every((r) => r.conflated > 0);
    verdict(
      "a stalled subscriber: its queue and lag stay bounded",
      `at most ${queued} queued (bound ${DEFAULT_PUBLISH_QUEUE.messages.toLocaleString("en-US")}), conflated in every round: ${conflatedEach ? "yes" : "no"}, lag at most ${Math.round(lag)} ms (bound ${DEFAULT_PUBLISH_MAX_LAG})`,
      queued <= DEFAULT_PUBLISH_QUEUE.messages && lag <= DEFAULT_PUBLISH_MAX_LAG && conflatedEach,
    );
  } else verdict("a stalled subscriber next to a healthy one", "-", null);
  const cpu = results.cpu.service;
  verdict("server CPU per published tick ≤ 10 µs", cpu === undefined ? "-" : `${cpu.toFixed(1)} µs (bare ZMTP: ${results.cpu["bare-zmtp"]?.toFixed(1) ?? "-"})`, cpu === undefined ? null : cpu <= 10);
  console.log("\nIssue 19 goals (this run)\n| goal | measured | verdict |\n|---|---|---|\n" + lines.join("\n"));
}

/**
 * Server CPU per published tick: the process's CPU time (user + system) while it publishes `count` ticks at `rate`
 * to one subscriber process of the same side, minus the CPU of the same loop that only makes the ticks (measured
 * just before, same run): what the publishing path itself costs. The service side's tick goes out as 2 events.
 */
async function cpuPerTick(side: Side, rate: number, count: number): Promise<{ total: number; generator: number; subscriber: number }> {
  const running = await startSide(side, "tcp");
  const subscriber = startWorker(SELF, ["sub", side, running.req, running.pub, "", "", "", tempHome()]);
  try {
    await subscriber.next();
    await sleep(300);
    await publishRun(running, [subscriber], rate, Math.min(count, rate)); // warm-up
    const cpu = () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    };
    const t0 = cpu();
    await generateOnly(running, rate, count);
    const generator = cpu() - t0;
    const t1 = cpu();
    const run = await publishRun(running, [subscriber], rate, count);
    const total = cpu() - t1;
    return { total: total / count, generator: generator / count, subscriber: run.reports[0]!.cpuMicros / count };
  } finally {
    subscriber.kill("SIGTERM");
    await running.stop();
  }
}

async function main(sections: readonly string[]): Promise<void> {
  const reply = decodeReply(readFileSync(FIXTURE_1000));
  contracts1000 = reply.ok ? (reply.result as unknown[]) : [];
  const run = (section: string) => sections.length === 0 || sections.includes(section);
  const callSides: Side[] = ["bare", "bare-zmtp", "zmtp", "zeromq"];
  try {
    // Calls and the server's CPU run pinned, so that every round of either side has the same placement; the tick
    // sections (several subscriber processes, or figures measured that way before) where the scheduler puts them.
    const section = async (name: string, pinned: boolean, body: () => Promise<void>): Promise<void> => {
      if (!run(name)) return;
      console.log(`\n${placeBench(pinned)}`);
      await body();
    };
    const named = sections.filter((name): name is Side => name in LABEL);
    await section("calls", true, () => benchCalls(callSides));
    await section("throughput", true, () => benchThroughput(callSides));
    await section("contracts", true, () => benchContracts(callSides));
    // Alone, when "ticks" does not run them anyway (after its rate search).
    if (!run("ticks")) await section("latency", false, () => latencyGoalRounds());
    await section("ticks", false, () => benchTicks(run("all-ticks") || sections.length === 0 ? ["bare", "bare-zmtp", "zmtp", "zeromq", "service"] : ["bare-zmtp", "service"]));
    await section("cpu", true, () => benchCpu(named.length > 0 ? named : ["bare-zmtp", "zmtp", "service"]));
    await section("alloc", true, async () => {
      await benchAlloc(named.length > 0 ? named : ["bare-zmtp", "service"]);
      await benchCallAlloc();
    });
    await section("stall", false, benchStall);
    printVerdicts();
    // Last: the tracing hooks it installs stay in this process.
    await section("hops", false, benchHops);
  } finally {
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  }
  process.exit(0);
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  const [, role, side, req, sub, mode, seconds, fn, home] = args as [string, string, Side, string, string, string, string, string, string];
  if (role === "calls") await workerCalls(side, req, sub, mode, Number(seconds), fn);
  else await workerSubscriber(side, req, sub, mode, home);
} else {
  await main(args);
}

/**
 * What metrics cost on the hot paths: the same work with the recorder off (NO_METRICS, the default) and on
 * (the console's prom-client recorder), in alternating rounds of one run so machine noise hits both alike.
 *
 *   1. dispatch: RpcServer's call path in process (bind arguments, run `get_tick`, reply), no transport;
 *      the whole cost of recording shows here, nothing hides it.
 *   2. call over zmtp: RpcClient -> RpcServer on loopback in this process, one call in flight: what a client sees.
 *   3. publish: RpcServer.publish of a tick and its eTick.<vt_symbol> twin, as a gateway's tick is published, to
 *      an endpoint that drops them (counting by event kind: the twin counts as eTick.).
 *
 *   node dist/bench/metrics.bench.js [seconds per round, default 0.5] [rounds, default 12]
 *
 * "slower" is the median over the paired rounds of (rate off / rate on) - 1.
 */
import { DateTime, Event, Exchange, NO_METRICS, TickData } from "../src/kernel/index.js";
import { RpcClient, RpcServer, ZmqEndpoint, str, type ServerEndpoint } from "../src/rpc/index.js";
import type { EndpointHost } from "../src/rpc/endpoint.js";
import { PromMetrics } from "../src/console/index.js";
import type { MetricsRecorder } from "../src/kernel/index.js";

const secondsPerRound = Number(process.argv[2] ?? 0.5);
const rounds = Number(process.argv[3] ?? 12);
if (!(secondsPerRound > 0 && secondsPerRound <= 20) || !(Number.isInteger(rounds) && rounds >= 2 && rounds <= 50)) {
  throw new RangeError("usage: metrics.bench.js [seconds per round (0, 20]] [rounds 2..50]");
}

interface Tally {
  latencies: number[];
  count: number;
  seconds: number;
  /** ops/s of each round, in order: round i of "off" pairs with round i of "on". */
  rates: number[];
}

const tally = (): Tally => ({ latencies: [], count: 0, seconds: 0, rates: [] });

const tick = new TickData({
  gateway_name: "SIM",
  symbol: "rb2501",
  exchange: Exchange.SHFE,
  datetime: DateTime.now(),
  last_price: 3500,
});

/** An endpoint that only keeps the host, so the bench can call its dispatcher directly; events go nowhere. */
class InProcessEndpoint implements ServerEndpoint {
  readonly name = "bench";
  host: EndpointHost | undefined;
  async start(host: EndpointHost): Promise<void> {
    this.host = host;
  }
  async stop(): Promise<void> {}
  publish(): void {}
  clients() {
    return [];
  }
}

function makeServer(recorder: { current: MetricsRecorder }): RpcServer {
  const server = new RpcServer({ metrics: () => recorder.current, log: () => {} });
  server.register("get_tick", [{ name: "vt_symbol", type: str }], () => tick);
  return server;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function round(op: () => Promise<unknown> | unknown, t: Tally, sampleLatency: boolean): Promise<void> {
  const end = performance.now() + secondsPerRound * 1000;
  const started = performance.now();
  let count = 0;
  while (performance.now() < end) {
    // Time batches of 100 operations: the clock itself would otherwise be most of a sub-µs operation.
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) await op();
    if (sampleLatency) t.latencies.push(((performance.now() - t0) / 100) * 1000);
    count += 100;
  }
  const seconds = (performance.now() - started) / 1000;
  t.count += count;
  t.seconds += seconds;
  t.rates.push(count / seconds);
}

function syncRound(op: () => void, t: Tally): void {
  const end = performance.now() + secondsPerRound * 1000;
  const started = performance.now();
  let count = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) op();
    t.latencies.push(((performance.now() - t0) / 1000) * 1000);
    count += 1000;
  }
  const seconds = (performance.now() - started) / 1000;
  t.count += count;
  t.seconds += seconds;
  t.rates.push(count / seconds);
}

function row(section: string, mode: string, tally: Tally, base?: Tally): string {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  const rate = tally.count / tally.seconds;
  // The median of the paired rounds' ratios: a slow patch of the machine hits one pair, not the verdict.
  const ratios = base ? tally.rates.map((r, i) => base.rates[i]! / r).sort((a, b) => a - b) : [];
  const slower = base ? `${((percentile(ratios, 0.5) - 1) * 100).toFixed(1).padStart(6)} %` : "baseline";
  return `${section.padEnd(16)} ${mode.padEnd(5)} ${percentile(sorted, 0.5).toFixed(2).padStart(9)} ${percentile(sorted, 0.99).toFixed(2).padStart(9)} ${Math.round(rate).toLocaleString("en").padStart(12)}   ${slower}`;
}

async function main(): Promise<void> {
  const prom = new PromMetrics();
  const recorder = { current: NO_METRICS as MetricsRecorder };
  const lines: string[] = [];
  /** Rounds with the recorder off and on, alternating; one row each. */
  const compare = async (section: string, measure: (t: Tally) => Promise<void> | void): Promise<void> => {
    const off = tally();
    const on = tally();
    for (let r = 0; r < rounds; r++) {
      recorder.current = NO_METRICS;
      await measure(off);
      recorder.current = prom;
      await measure(on);
    }
    lines.push(row(section, "off", off), row(section, "on", on, off));
  };
  const context = { clientId: "bench:1", endpoint: "bench" };

  // 1. dispatch in process
  {
    const server = makeServer(recorder);
    const endpoint = new InProcessEndpoint();
    await server.start([endpoint]);
    const dispatch = endpoint.host!.dispatch;
    const args = ["rb2501.SHFE"];
    const op = () => dispatch("get_tick", args, {}, context);
    await compare("dispatch", (t) => round(op, t, true));
    await server.stop();
  }

  // 2. a call over zmtp on loopback, one in flight
  {
    const server = makeServer(recorder);
    const endpoint = new ZmqEndpoint({ repAddress: "tcp://127.0.0.1:0", pubAddress: "tcp://127.0.0.1:0", transport: "zmtp" });
    await server.start([endpoint]);
    const bound = endpoint.addresses!;
    const client = new RpcClient({ reqAddress: bound.rep, subAddress: bound.pub, transport: "zmtp", timeout: 10_000 });
    client.start();
    await client.waitConnected(10_000);
    const op = () => client.call("get_tick", ["rb2501.SHFE"]);
    for (let i = 0; i < 2000; i++) await op(); // warm-up
    await compare("call over zmtp", (t) => round(op, t, true));
    await client.close();
    await server.stop();
  }

  // 3. publish
  {
    const server = makeServer(recorder);
    await server.start([new InProcessEndpoint()]);
    const event = new Event("eTick.", tick);
    const twin = new Event(`eTick.${tick.vt_symbol}`, tick);
    const op = () => {
      server.publish(event);
      server.publish(twin);
    };
    await compare("publish", (t) => syncRound(op, t));
    await server.stop();
  }

  console.log(`metrics off vs on, ${rounds} alternating rounds of ${secondsPerRound} s; latency per operation in µs`);
  console.log(`${"path".padEnd(16)} ${"mode".padEnd(5)} ${"p50 µs".padStart(9)} ${"p99 µs".padStart(9)} ${"ops/s".padStart(12)}   slower`);
  for (const line of lines) console.log(line);
  process.exit(0);
}

await main();

/**
 * What a tick costs a subscriber beyond its decode: the same captured-shape frames through a bare decode and a
 * callback (what bare ZMTP's subscriber does), through `RpcClient` alone (decode, the stream position, the "event"
 * emit), and through the product path to a strategy's handler (`RpcClient` -> `RpcGateway` -> its EventEngine:
 * the tick and its eTick.<vt_symbol> twin, the OMS, the handler). The gateway is connected and synced to a real
 * `RpcServiceApp` in this process, as in production; the bench then hands frames to its subscriber callback itself:
 * the part the sockets add is the same for all paths, and left out so that a fraction of a microsecond shows.
 * A fourth path is the product path peeking at each frame's type before decoding it, as it does against a server
 * that sends every tick's twin (VeighNa's): our server's hello says it withholds them, so the client skips the peek.
 * Rounds alternate; each row gives the median µs per tick and the median of its rounds' difference from bare.
 *
 * With four subscriber processes on two cores, this difference decides how many ticks a second fit
 * (rpc.bench.ts's lossless rate to 4 subscribers).
 *
 *   node dist/bench/client-path.bench.js [rounds, default 12]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePublish, encodePublish } from "../src/codec/index.js";
import { Event, EventEngine, MainEngine, TickData } from "../src/kernel/index.js";
import type { RpcClient } from "../src/rpc/index.js";
import { RpcGateway, RpcServiceApp } from "../src/service/index.js";
import { makeTick, median, placeBench, sequenced } from "./workers.js";

const TICKS = 40_000;
const FRAMES = 1_000;

async function main(rounds: number): Promise<void> {
  const placement = placeBench(true);
  console.log(placement.includes("on CPU 0") ? "CPU placement: this process on CPU 0 (RPC_BENCH_PIN=0: left to the scheduler)" : placement);
  const home = mkdtempSync(join(tmpdir(), "client-path-"));
  const serverEngine = new MainEngine({ home: join(home, "server"), eventEngine: new EventEngine() });
  const app = serverEngine.addApp(RpcServiceApp);
  if (!(await app.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", { transport: "zmtp" }))) throw new Error("the RPC service did not start");
  const mainEngine = new MainEngine({ home: join(home, "client"), eventEngine: new EventEngine() });
  const gateway = mainEngine.addGateway(RpcGateway, "RPC");
  let handled = 0;
  mainEngine.eventEngine.register("eTick.", () => handled++);
  gateway.connect({ req_address: app.addresses!.rep, sub_address: app.addresses!.pub, transport: "zmtp" });
  await gateway.ready(10_000);
  // The bench drives the socket's callback itself: the private handler our subscriber socket calls per message.
  const client = (gateway as unknown as { client: RpcClient }).client;
  const internals = client as unknown as { onBroadcast(frames: Buffer[]): void; peekBeforeDecode: boolean };
  const onBroadcast = internals.onBroadcast.bind(client);
  if (internals.peekBeforeDecode) throw new Error("the client peeks at every frame against our server: its hello was not read");
  const frames = Array.from({ length: FRAMES }, (_, i) =>
    encodePublish("", sequenced(new Event("eTick.", makeTick(i)), 5)),
  );

  let bareTicks = 0;
  const bareCallback = (data: unknown) => {
    if (data instanceof Event && data.data instanceof TickData) bareTicks++;
  };
  const gatewayListeners = client.listeners("event") as ((...args: unknown[]) => void)[];
  const clientOnly = (pushed: { event: Event }) => bareCallback(pushed.event);
  const paths: Record<string, () => void> = {
    "bare: decode + callback": () => {
      for (let i = 0; i < TICKS; i++) bareCallback(decodePublish(frames[i % FRAMES]!).data);
    },
    "RpcClient: decode, stream position, emit": () => {
      client.removeAllListeners("event");
      client.on("event", clientOnly);
      for (let i = 0; i < TICKS; i++) onBroadcast([frames[i % FRAMES]!]);
      client.removeAllListeners("event");
      for (const listener of gatewayListeners) client.on("event", listener);
    },
    "RpcClient -> RpcGateway -> EventEngine -> handler": () => {
      // Log lines of the connection may wait: they would make every tick queue behind them.
      mainEngine.eventEngine.flush();
      for (let i = 0; i < TICKS; i++) onBroadcast([frames[i % FRAMES]!]);
    },
    "the same, peeking at each type first (a server sending tick twins)": () => {
      mainEngine.eventEngine.flush();
      internals.peekBeforeDecode = true;
      for (let i = 0; i < TICKS; i++) onBroadcast([frames[i % FRAMES]!]);
      internals.peekBeforeDecode = false;
    },
  };
  const names = Object.keys(paths);
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const started = performance.now();
      paths[name]!();
      times.get(name)!.push(((performance.now() - started) * 1000) / TICKS);
    }
  }
  const bare = times.get(names[0]!)!;
  const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(3)}`;
  console.log(`\nA tick's cost in one subscriber process, no socket (${TICKS.toLocaleString("en-US")} ticks a round, ${rounds} rounds alternating), µs per tick`);
  console.log("| path | median | over bare (median of the rounds' differences) |\n|---|---|---|");
  for (const name of names) {
    const own = times.get(name)!;
    const over = median(own.map((t, i) => t - bare[i]!));
    console.log(`| ${name} | ${median(own).toFixed(3)} | ${name === names[0] ? "-" : signed(over)} |`);
  }
  // What the peek costs where it is skipped now: the last two paths, round by round.
  const withPeek = times.get(names[3]!)!;
  const without = times.get(names[2]!)!;
  console.log(`\nThe type peek, per tick (median of the rounds' differences, peeking minus not): ${signed(median(withPeek.map((t, i) => t - without[i]!)))} µs`);
  const expected = TICKS * rounds * 2;
  if (handled !== expected) throw new Error(`the handler saw ${handled} ticks, not ${expected}: the product path was not measured whole`);
  if (bareTicks !== TICKS * rounds * 2) throw new Error(`bare and RpcClient alone saw ${bareTicks} ticks, not ${TICKS * rounds * 2}`);
  await mainEngine.close();
  await serverEngine.close();
  rmSync(home, { recursive: true, force: true });
}

await main(Number(process.argv[2] ?? 12));
process.exit(0);

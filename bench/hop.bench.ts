/**
 * The EventEngine's hop: how an event reaches its handlers. put() schedules a drain with setImmediate (one batch per
 * event-loop turn); deliver() (market data: a gateway's onTick, RpcGateway's reads) drains as soon as its source
 * returns, unless a drain is running or events wait, so handlers still run one at a time and in order. Between them,
 * a microtask drain (right after the current callback), measured on a copy of the queue: put() does not use it, as
 * it would run a local venue's order events before `await sendOrder(...)` has returned to its caller.
 *
 * Events come the way they do in production: from socket reads (a sender process writes 16-byte messages over
 * loopback tcp at the given rate, in 1 ms slices; each read puts one Event per message). Per rate and strategy:
 * put-to-handler latency p50/p99 (sender clock to handler, so it includes the socket) and this process's CPU per
 * event. The put and deliver rows are the real EventEngine; the microtask row is a copy of its queue.
 *
 *   node dist/bench/hop.bench.js [seconds per row, default 3]
 */
import { createServer, connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { Event, EventEngine } from "../src/kernel/index.js";
import { nowMs, percentile, placeBench, sleep, startWorker } from "./workers.js";

const SELF = fileURLToPath(import.meta.url);
const MESSAGE = 16;

type Strategy = "put: setImmediate" | "microtask" | "deliver: direct";

/** put + register, the part of the EventEngine the hop is about. */
interface Hop {
  put(event: Event): void;
  register(type: string, handler: (event: Event) => void): void;
  stop(): void;
}

/** The EventEngine's queue and drain on a microtask. */
class MicrotaskHop implements Hop {
  private queue: Event[] = [];
  private head = 0;
  private scheduled = false;
  private readonly handlers = new Map<string, ((event: Event) => void)[]>();
  register(type: string, handler: (event: Event) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), handler]);
  }
  put(event: Event): void {
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drain);
    }
  }
  private readonly drain = (): void => {
    this.scheduled = false;
    while (this.head < this.queue.length) {
      const event = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Event;
      const list = this.handlers.get(event.type);
      if (list) for (const handler of list) handler(event);
    }
    this.queue = [];
    this.head = 0;
  };
  stop(): void {}
}

function makeHop(strategy: Strategy): Hop {
  if (strategy === "microtask") return new MicrotaskHop();
  const engine = new EventEngine();
  engine.start();
  const put = strategy === "deliver: direct" ? (e: Event) => engine.deliver(() => engine.put(e)) : (e: Event) => engine.put(e);
  return { put, register: (t, h) => engine.register(t, h), stop: () => engine.stop() };
}

async function measure(strategy: Strategy, rate: number, seconds: number): Promise<{ p50: number; p99: number; cpuPerEvent: number; received: number }> {
  const hop = makeHop(strategy);
  const latencies: number[] = [];
  let received = 0;
  hop.register("eTick.", (event) => {
    received++;
    latencies.push(nowMs() - (event.data as number));
  });
  let socketOf: (socket: Socket) => void = () => undefined;
  const connected = new Promise<Socket>((resolve) => (socketOf = resolve));
  const server = createServer((socket) => socketOf(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const sender = startWorker(SELF, [String(port), String(rate), String(seconds)]);
  const socket = await connected;
  socket.setNoDelay(true);
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (; at + MESSAGE <= data.length; at += MESSAGE) hop.put(new Event("eTick.", data.readDoubleLE(at + 8)));
    pending = data.subarray(at);
  });
  const cpu0 = process.cpuUsage();
  await sender.next(); // the sender is done
  await sleep(50);
  const cpu = process.cpuUsage(cpu0);
  socket.destroy();
  server.close();
  hop.stop();
  sender.kill();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerEvent: (cpu.user + cpu.system) / Math.max(1, received), received };
}

async function sender(port: number, rate: number, seconds: number): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once("connect", resolve));
  const total = rate * seconds;
  const perSlice = Math.max(1, Math.round(rate / 1000));
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + perSlice);
    // One write per slice, as a publisher's batched flush does.
    const out = Buffer.alloc((due - sent) * MESSAGE);
    for (let at = 0; sent < due; sent++, at += MESSAGE) {
      out.writeUInt32LE(sent, at);
      out.writeDoubleLE(nowMs(), at + 8);
    }
    socket.write(out);
    await sleep(1);
  }
  socket.end();
  process.stdout.write(JSON.stringify({ done: sent }) + "\n");
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  await sender(Number(args[1]), Number(args[2]), Number(args[3]));
} else {
  const seconds = Number(args[0] ?? 3);
  console.log(placeBench(true));
  console.log(`EventEngine hop: socket read -> put -> handler (${seconds} s per row; latency from the sender's clock)`);
  console.log("| events/s | strategy | latency p50 µs | latency p99 µs | CPU µs per event | received |\n|---|---|---|---|---|---|");
  for (const rate of [1_000, 10_000, 100_000]) {
    for (const strategy of ["put: setImmediate", "microtask", "deliver: direct"] as const) {
      const r = await measure(strategy, rate, seconds);
      console.log(`| ${rate} | ${strategy} | ${(r.p50 * 1000).toFixed(0)} | ${(r.p99 * 1000).toFixed(0)} | ${r.cpuPerEvent.toFixed(2)} | ${r.received} |`);
    }
  }
  process.exit(0);
}

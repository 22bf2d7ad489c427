/**
 * Per-hop timestamps of a tick, for bench/rpc's "hops" section: where between its creation and a strategy's handler
 * a tick spends its time. Each hop is stamped as milliseconds since the tick was made (its `extra.t`, the publisher's
 * clock; both processes read the same wall clock, so the subscriber's hops are comparable).
 *
 * The hooks wrap public methods and the sockets' write and "data" events of the process they are installed in, so
 * the product code carries no tracing of its own. They are installed only by the "hops" section: the other sections
 * measure untraced code.
 */
import { Socket } from "node:net";
import { EVENT_TICK, type EventEngine, type TickData } from "../src/kernel/index.js";
import type { RpcServer } from "../src/rpc/index.js";
import { RpcGateway } from "../src/service/index.js";
import { ZmtpPublisher } from "../src/zmtp/index.js";
import { nowMs, percentile } from "./workers.js";

/** Hop name -> ms since each tick's creation, in the order the hops were first stamped. */
export class HopSamples {
  private readonly samples = new Map<string, number[]>();

  stamp(hop: string, created: number, at: number = nowMs()): void {
    let list = this.samples.get(hop);
    if (!list) this.samples.set(hop, (list = []));
    list.push(at - created);
  }

  clear(): void {
    this.samples.clear();
  }

  /** p50 and p99 of every hop, in ms since creation. */
  summary(): HopSummary[] {
    return [...this.samples].map(([hop, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { hop, p50: percentile(sorted, 50), p99: percentile(sorted, 99), count: sorted.length };
    });
  }
}

export interface HopSummary {
  hop: string;
  p50: number;
  p99: number;
  count: number;
}

const createdAt = (tick: TickData): number | undefined => {
  const t = (tick.extra as { t?: unknown } | null | undefined)?.t;
  return typeof t === "number" ? t : undefined;
};

/** Ticks handed to a publisher and not yet written to a socket: their creation times. */
let unwritten: number[] = [];
/** The tick whose frame is about to reach ZmtpPublisher.publish (set by the hop before, synchronously). */
let publishing: number | undefined;

/**
 * The server's side, common to every publisher in this process: a tick's frame reaching `ZmtpPublisher.publish`
 * (encoded), leaving it (queued per subscriber), and the next socket write (the connection flushes on nextTick).
 * `markPublishing(created)` names the tick of the next publish.
 */
export function traceServerSockets(samples: HopSamples): { markPublishing(created: number): void } {
  serverSamples = samples;
  if (!serverTraced) patchServerSockets();
  serverTraced = true;
  return { markPublishing: (created) => (publishing = created) };
}

let serverSamples = new HopSamples();
let serverTraced = false;

function patchServerSockets(): void {
  const samples = (): HopSamples => serverSamples;
  const publish = ZmtpPublisher.prototype.publish;
  ZmtpPublisher.prototype.publish = function (this: ZmtpPublisher, ...args: Parameters<typeof publish>) {
    const created = publishing;
    publishing = undefined;
    if (created !== undefined) samples().stamp("encoded (ZmtpPublisher.publish)", created);
    const result = publish.apply(this, args);
    if (created !== undefined) {
      samples().stamp("queued for the subscriber", created);
      unwritten.push(created);
    }
    return result;
  };
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    if (unwritten.length > 0) {
      const at = nowMs();
      for (const created of unwritten) samples().stamp("socket write", created, at);
      unwritten = [];
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
}

/** The product server's own hops: the EventEngine's tick handlers (the OMS's first), then RpcServer.publish. */
export function traceServiceServer(samples: HopSamples, eventEngine: EventEngine, server: RpcServer, markPublishing: (created: number) => void): void {
  eventEngine.register(EVENT_TICK, (event) => {
    const created = createdAt(event.data);
    if (created !== undefined) samples.stamp("EventEngine handlers (OMS)", created);
  });
  const publish = server.publish.bind(server);
  server.publish = (event) => {
    const created = event.type === EVENT_TICK ? createdAt(event.data as TickData) : undefined;
    if (created !== undefined) {
      samples.stamp("RpcServer.publish", created);
      markPublishing(created);
    }
    publish(event);
    publishing = undefined; // a twin left out publishes nothing: never stamp another event as this tick
  };
}

/** When the last socket "data" event of this process came: the read a decoded tick came in. */
let lastRead = 0;

/** The subscriber's side: the socket read a tick came in, its decode, and (product path) RpcGateway.onTick. */
export function traceSubscriber(samples: HopSamples): { decoded(tick: TickData): void } {
  const emit = Socket.prototype.emit;
  Socket.prototype.emit = function (this: Socket, name: string | symbol, ...args: unknown[]) {
    if (name === "data") lastRead = nowMs();
    return (emit as (...a: unknown[]) => boolean).call(this, name, ...args);
  } as typeof emit;
  const decoded = (tick: TickData): void => {
    const created = createdAt(tick);
    if (created === undefined) return;
    samples.stamp("socket read", created, lastRead);
    samples.stamp("decoded", created);
  };
  const onTick = RpcGateway.prototype.onTick;
  RpcGateway.prototype.onTick = function (this: RpcGateway, tick: TickData) {
    decoded(tick); // RpcClient decoded it, RpcGateway relabelled it: it is handed to the EventEngine now
    onTick.call(this, tick);
  };
  return { decoded };
}

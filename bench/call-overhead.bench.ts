/**
 * A call's bookkeeping on the client, without the wire: register the call with its deadline, write its header,
 * read the reply's header, take the call back. Issue 19 asks for it ("pool or coalesce deadline timers, encode the
 * header without allocation"): the baseline, in the same run, is how it was done before, a timer per call
 * (setTimeout, then clearTimeout at the reply) on a copy of the call object, and headers built with Buffer.alloc
 * and the epoch converted from and to hex at every reply.
 *
 * A third column is protocol 2's compact framing, which our client and server use today (headers written in place).
 * Its read includes the view of the pickle behind the header; protocol 1's three frames get their views from the
 * transport, outside this bench, so the two columns differ by that and by the two frames protocol 2 saves the wire.
 *
 * Two shapes: one call at a time (a strategy's lock-step calls) and 64 in flight (a pipelined client), each a
 * million calls, alternating rounds; ns per call, median of the rounds. Then, on the server, the context the call
 * gate makes for each call: Node 20's V8 copies `{ ...context, role }` (a spread followed by more properties) on a
 * slow path, ~2 µs, where `Object.assign({}, context, { role })` takes ~0.1 µs.
 *
 *   node dist/bench/call-overhead.bench.js [rounds, default 5]
 */
import { CallTable, RpcTimeoutError, type PendingCall } from "../src/rpc/index.js";
import {
  COMPACT_CALL_HEADROOM,
  COMPACT_REPLY_HEADROOM,
  decodeReplyHeader,
  encodeCallHeader,
  encodeReplyHeader,
  readCompactReply,
  writeCompactCallHeader,
  writeCompactReplyHeader,
  type ReplyHeader,
} from "../src/rpc/protocol.js";
import { median } from "./workers.js";

const CALLS = 1_000_000;
const TIMEOUT = 30_000;
const EPOCH = "0123456789abcdef";

/** The previous CallTable: a timer and a copied entry per call. */
class TimerPerCall {
  private readonly calls = new Map<number, PendingCall & { timer: NodeJS.Timeout }>();
  private nextId = 1;
  add(call: PendingCall): number {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      if (this.calls.get(id) !== entry) return;
      this.calls.delete(id);
      call.reject(new RpcTimeoutError(call.name, call.timeout));
    }, call.timeout);
    const entry = { ...call, timer };
    this.calls.set(id, entry);
    return id;
  }
  take(id: number): PendingCall | undefined {
    const entry = this.calls.get(id);
    if (!entry) return undefined;
    this.calls.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }
}

/** The previous headers. */
const previous = {
  encodeCallHeader(id: number, deadline: number): Buffer {
    const buffer = Buffer.alloc(16);
    buffer.writeUInt8(1, 0);
    buffer.writeUInt32LE(id >>> 0, 4);
    buffer.writeDoubleLE(deadline, 8);
    return buffer;
  },
  encodeReplyHeader(header: ReplyHeader): Buffer {
    const buffer = Buffer.alloc(24);
    buffer.writeUInt8(2, 0);
    buffer.writeUInt32LE(header.id >>> 0, 4);
    buffer.writeDoubleLE(header.seq, 8);
    Buffer.from(header.epoch.padStart(16, "0").slice(-16), "hex").copy(buffer, 16);
    return buffer;
  },
  decodeReplyHeader(frame: Buffer): ReplyHeader | null {
    if (frame.length !== 24 || frame.readUInt8(0) !== 2) return null;
    return { id: frame.readUInt32LE(4), seq: frame.readDoubleLE(8), epoch: frame.subarray(16, 24).toString("hex") };
  },
};

interface Table {
  add(call: PendingCall): number;
  take(id: number): PendingCall | undefined;
}

type Headers = {
  call(id: number, deadline: number): Buffer;
  reply(header: ReplyHeader): Buffer;
  read(frame: Buffer): ReplyHeader | null;
};

const current: Headers = {
  call: (id, deadline) => encodeCallHeader({ id, deadline }),
  reply: encodeReplyHeader,
  read: decodeReplyHeader,
};
const before: Headers = { call: previous.encodeCallHeader, reply: previous.encodeReplyHeader, read: previous.decodeReplyHeader };
/**
 * Protocol 2, what our client and server do today: the header is written into the room the encoder left before the
 * pickle (here one buffer per side standing for it), and read from the reply's one frame.
 */
const callFrame = Buffer.alloc(COMPACT_CALL_HEADROOM + 64);
const replyFrame = Buffer.alloc(COMPACT_REPLY_HEADROOM + 64);
const compact: Headers = {
  call: (id, deadline) => {
    writeCompactCallHeader(callFrame, { id, deadline });
    return callFrame;
  },
  reply: (header) => {
    writeCompactReplyHeader(replyFrame, header);
    return replyFrame;
  },
  read: (frame) => readCompactReply(frame)?.header ?? null,
};

const noop = (): void => undefined;
let sink = 0;

/** ns per call for `inFlight` calls outstanding at a time: add, call header, reply header both ways, take. */
function run(table: Table, headers: Headers, inFlight: number): number {
  const ids: number[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    const call: PendingCall = { name: "get_all_accounts", timeout: TIMEOUT, resolve: noop, reject: noop };
    const id = table.add(call);
    sink += headers.call(id, Date.now() + TIMEOUT).length;
    ids.push(id);
    if (ids.length === inFlight) {
      const replied = ids.shift()!;
      const header = headers.read(headers.reply({ id: replied, seq: i, epoch: EPOCH }));
      sink += table.take(header!.id) ? 1 : 0;
    }
  }
  for (const id of ids) table.take(id);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

const rounds = Number(process.argv[2] ?? 5);
console.log(`Client call bookkeeping without the wire, ns per call (median of ${rounds} alternating rounds of ${CALLS.toLocaleString("en")} calls)`);
console.log(
  "| calls in flight | before: a timer per call, allocated headers | one deadline timer, cached epoch (protocol 1's header frames) | saved | the same, protocol 2 (headers in the pickle's headroom) |",
);
console.log("|---|---|---|---|---|");
for (const inFlight of [1, 64]) {
  const old: number[] = [];
  const now: number[] = [];
  const joined: number[] = [];
  for (let round = 0; round < rounds; round++) {
    old.push(run(new TimerPerCall(), before, inFlight));
    now.push(run(new CallTable(), current, inFlight));
    joined.push(run(new CallTable(), compact, inFlight));
  }
  const [o, n, j] = [median(old), median(now), median(joined)];
  console.log(`| ${inFlight} | ${o.toFixed(0)} | ${n.toFixed(0)} | ${(o - n).toFixed(0)} ns (${(o / n).toFixed(1)}x) | ${j.toFixed(0)} |`);
}

// The server's call gate gives each call a context of its own: the caller's, plus its role and a refusal hook.
const endpointContext = { clientId: "zmq:7", endpoint: "zmq", remoteAddress: "127.0.0.1:50514", deadline: Date.now(), clientName: "strategy-1" };
const spreadContext = (context: typeof endpointContext) => ({ ...context, role: "trader", reportRefusal: noop });
const assignedContext = (context: typeof endpointContext) => Object.assign({}, context, { role: "trader", reportRefusal: noop });
const contextNs = (make: typeof spreadContext): number => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) sink += make(endpointContext).role.length;
  return Number(process.hrtime.bigint() - started) / CALLS;
};
const spread: number[] = [];
const assigned: number[] = [];
for (let round = 0; round < rounds; round++) {
  spread.push(contextNs(spreadContext));
  assigned.push(contextNs(assignedContext));
}
const [sp, as] = [median(spread), median(assigned)];
console.log(`\nServer: a call's gate context, ns per call: { ...context, role, reportRefusal } ${sp.toFixed(0)}; Object.assign({}, context, { role, reportRefusal }) ${as.toFixed(0)} (${(sp / as).toFixed(1)}x)`);
if (sink < 0) console.log(sink);
process.exit(0);

/**
 * Our request/reply protocol on VeighNa's sockets, and how the server tells it from VeighNa's.
 *
 * A VeighNa client (REQ) always sends `["", pickle]`: an empty delimiter, then one frame. Our client (DEALER)
 * sends frames a REQ never does, starting with a non-empty signature frame:
 *
 *   call   client -> server   ["rpcservice/1", header(16), pickle([name, args, kwargs])]
 *            header: u8 kind=1, u8 0, u16 0, u32 LE request id, f64 LE deadline (epoch ms, server clock; 0 = none)
 *   reply  server -> client   ["rpcservice/1", header(24), pickle([ok, result | traceback text])]
 *            header: u8 kind=2, 3 x u8 0, u32 LE request id, f64 LE seq, 8 bytes epoch
 *
 * Calls are pipelined: many may be in flight, replies come back in any order and are matched by id. The reply
 * payload is exactly VeighNa's reply pickle, and the header adds the stream position (epoch + last published
 * seq) at the moment the result was computed, which lines a snapshot up with the event stream.
 *
 * Handshake: the client's first message is a valid REQ-style call of `HELLO_FUNCTION`, `["", pickle]`. Our server
 * answers `[True, {protocol, epoch, seq, time, heartbeat_interval}]`; a Python VeighNa server answers
 * `[False, "...KeyError: '__rpcservice_hello__'"]`, and the client falls back to lock-step REQ calls. The same
 * hello, sent in our framing every heartbeat interval, is the client's liveness probe: it also reports the
 * epoch (restart detection), the last seq (a lost tail of the stream) and the server clock (for deadlines).
 *
 * Deadlines: a call carries its caller's deadline translated to the server clock (offset measured by the hello,
 * minus half a round trip), and the server never starts a call whose deadline has passed. With DEALER's
 * `immediate` option nothing is queued while disconnected, so a request a client gave up on is never executed.
 */

export const SIGNATURE = Buffer.from("rpcservice/1");
export const EMPTY = Buffer.alloc(0);
export const HELLO_FUNCTION = "__rpcservice_hello__";
export const PROTOCOL_VERSION = 1;

const KIND_CALL = 1;
const KIND_REPLY = 2;
export const CALL_HEADER_SIZE = 16;
export const REPLY_HEADER_SIZE = 24;

export interface CallHeader {
  readonly id: number;
  /** Epoch ms on the server clock, or 0 for none. */
  readonly deadline: number;
}

export interface ReplyHeader {
  readonly id: number;
  readonly seq: number;
  readonly epoch: string;
}

/** What the hello call returns. */
export interface HelloInfo {
  readonly protocol: number;
  readonly epoch: string;
  readonly seq: number;
  /** Server clock, epoch ms. */
  readonly time: number;
  /** Milliseconds between heartbeats on the publish socket. */
  readonly heartbeat_interval: number;
  /** Events the server has published, ticks included (our servers; seq leaves ticks out). */
  readonly published?: number;
}

export function isSignature(frame: Buffer | undefined): boolean {
  return frame !== undefined && frame.equals(SIGNATURE);
}

export function encodeCallHeader(header: CallHeader): Buffer {
  const buffer = Buffer.allocUnsafe(CALL_HEADER_SIZE); // every byte is written below
  buffer.writeUInt32LE(KIND_CALL, 0); // kind, then three zero bytes
  buffer.writeUInt32LE(header.id >>> 0, 4);
  buffer.writeDoubleLE(header.deadline, 8);
  return buffer;
}

export function decodeCallHeader(frame: Buffer): CallHeader | null {
  if (frame.length !== CALL_HEADER_SIZE || frame.readUInt8(0) !== KIND_CALL) return null;
  const deadline = frame.readDoubleLE(8);
  return { id: frame.readUInt32LE(4), deadline: Number.isFinite(deadline) ? deadline : 0 };
}

/** Epochs are 16 hex digits so they fit the reply header's 8 bytes. */
export function newEpoch(): string {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  bytes.writeUInt32BE((Math.random() * 0x1_0000_0000) >>> 0, 4);
  return bytes.toString("hex");
}

/**
 * The last epoch encoded and the last decoded: a server keeps one epoch per run and a client mostly hears one
 * server, so every reply would otherwise convert the same value again. (Two caches: a relay does both, with two
 * epochs.)
 */
const encodedEpoch = { text: "", high: 0, low: 0 };
const decodedEpoch = { text: "0000000000000000", high: 0, low: 0 };

export function encodeReplyHeader(header: ReplyHeader): Buffer {
  if (header.epoch !== encodedEpoch.text) {
    const bytes = Buffer.alloc(8);
    Buffer.from(header.epoch.padStart(16, "0").slice(-16), "hex").copy(bytes);
    encodedEpoch.text = header.epoch;
    encodedEpoch.high = bytes.readUInt32BE(0);
    encodedEpoch.low = bytes.readUInt32BE(4);
  }
  const buffer = Buffer.allocUnsafe(REPLY_HEADER_SIZE); // every byte is written below
  buffer.writeUInt32LE(KIND_REPLY, 0); // kind, then three zero bytes
  buffer.writeUInt32LE(header.id >>> 0, 4);
  buffer.writeDoubleLE(header.seq, 8);
  buffer.writeUInt32BE(encodedEpoch.high, 16);
  buffer.writeUInt32BE(encodedEpoch.low, 20);
  return buffer;
}

export function decodeReplyHeader(frame: Buffer): ReplyHeader | null {
  if (frame.length !== REPLY_HEADER_SIZE || frame[0] !== KIND_REPLY) return null;
  const high = frame.readUInt32BE(16);
  const low = frame.readUInt32BE(20);
  if (high !== decodedEpoch.high || low !== decodedEpoch.low) {
    decodedEpoch.text = frame.toString("hex", 16, 24);
    decodedEpoch.high = high;
    decodedEpoch.low = low;
  }
  return { id: frame.readUInt32LE(4), seq: frame.readDoubleLE(8), epoch: decodedEpoch.text };
}

export function isHelloInfo(value: unknown): value is HelloInfo {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["protocol"] === "number" &&
    typeof v["epoch"] === "string" &&
    typeof v["seq"] === "number" &&
    typeof v["time"] === "number" &&
    typeof v["heartbeat_interval"] === "number"
  );
}

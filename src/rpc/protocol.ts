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
 * Protocol 2, the compact framing: the same three parts joined in one frame, the pickle encoded straight behind its
 * header (the encoder's headroom, no second copy):
 *
 *   call   client -> server   ["rpcservice/2" header(16) pickle]
 *   reply  server -> client   ["rpcservice/2" header(24) pickle]
 *
 * Every ZMTP frame is framed, parsed and, under CURVE, sealed and opened on its own (one box each): one frame instead
 * of three makes a CURVE round trip 4 boxes instead of 12. A client uses it once the hello says `protocol >= 2`;
 * the server answers each call in the framing it came in, so clients of protocol 1 keep working.
 *
 * Handshake: the client's first message is a valid REQ-style call of `HELLO_FUNCTION`, `["", pickle]`. Our server
 * answers `[True, {protocol, epoch, seq, time, heartbeat_interval, ...}]` (HelloInfo); a Python VeighNa server
 * answers `[False, "...KeyError: '__rpcservice_hello__'"]`, and the client falls back to lock-step REQ calls. The same
 * hello, sent in our framing every heartbeat interval, is the client's liveness probe: it also reports the
 * epoch (restart detection), the last seq (a lost tail of the stream) and the server clock (for deadlines).
 *
 * Deadlines: a call carries its caller's deadline translated to the server clock (offset measured by the hello,
 * minus half a round trip), and the server never starts a call whose deadline has passed. With DEALER's
 * `immediate` option nothing is queued while disconnected, so a request a client gave up on is never executed.
 */

export const SIGNATURE = Buffer.from("rpcservice/1");

/**
 * A subscription by which our subscriber tells our server it does without the specific tick events
 * (`eTick.<vt_symbol>`, the copies VeighNa publishes beside each `eTick.`): it starts with a zero byte, so it matches
 * no broadcast (pickles start with 0x80) and any other publisher just holds it. The copies carry no seq of their own,
 * so leaving them out opens no gap; the server skips them for such subscribers, and re-labels no copy when every
 * subscriber holds it.
 */
export const NO_SPECIFIC_TICKS = Buffer.from("\0rpcservice/no-specific-ticks", "latin1");
export const EMPTY = Buffer.alloc(0);
export const HELLO_FUNCTION = "__rpcservice_hello__";
export const PROTOCOL_VERSION = 2;
/** The first protocol with the compact framing. */
export const COMPACT_PROTOCOL = 2;
export const COMPACT_SIGNATURE = Buffer.from("rpcservice/2");
const SIGNATURE_SIZE = 12;

const KIND_CALL = 1;
const KIND_REPLY = 2;
export const CALL_HEADER_SIZE = 16;
export const REPLY_HEADER_SIZE = 24;
/** Bytes before the pickle in a compact call and reply frame: the signature and the header. */
export const COMPACT_CALL_HEADROOM = SIGNATURE_SIZE + CALL_HEADER_SIZE;
export const COMPACT_REPLY_HEADROOM = SIGNATURE_SIZE + REPLY_HEADER_SIZE;

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
  /**
   * true: the publish socket leaves the specific ticks out for a subscriber holding NO_SPECIFIC_TICKS (our ZMTP
   * publisher; libzmq's sends them regardless). Absent from older servers: assume they come.
   */
  readonly specific_ticks_withheld?: boolean;
}

export function isSignature(frame: Buffer | undefined): boolean {
  return frame !== undefined && frame.equals(SIGNATURE);
}

function writeCallHeader(buffer: Buffer, at: number, header: CallHeader): void {
  buffer.writeUInt32LE(KIND_CALL, at); // kind, then three zero bytes
  buffer.writeUInt32LE(header.id >>> 0, at + 4);
  buffer.writeDoubleLE(header.deadline, at + 8);
}

function readCallHeader(frame: Buffer, at: number): CallHeader | null {
  if (frame[at] !== KIND_CALL) return null;
  const deadline = frame.readDoubleLE(at + 8);
  return { id: frame.readUInt32LE(at + 4), deadline: Number.isFinite(deadline) ? deadline : 0 };
}

export function encodeCallHeader(header: CallHeader): Buffer {
  const buffer = Buffer.allocUnsafe(CALL_HEADER_SIZE); // every byte is written
  writeCallHeader(buffer, 0, header);
  return buffer;
}

export function decodeCallHeader(frame: Buffer): CallHeader | null {
  return frame.length === CALL_HEADER_SIZE ? readCallHeader(frame, 0) : null;
}

/** Fills the headroom of a call pickle encoded with COMPACT_CALL_HEADROOM: the frame is then a compact call. */
export function writeCompactCallHeader(frame: Buffer, header: CallHeader): void {
  COMPACT_SIGNATURE.copy(frame, 0);
  writeCallHeader(frame, SIGNATURE_SIZE, header);
}

/** The compact signature as three little-endian words: every call and reply checks it, three reads beat a compare. */
const SIGNATURE_WORDS = [COMPACT_SIGNATURE.readUInt32LE(0), COMPACT_SIGNATURE.readUInt32LE(4), COMPACT_SIGNATURE.readUInt32LE(8)] as const;

/** Whether `frame` is at least `headroom` long and starts with the compact signature. */
function isCompact(frame: Buffer, headroom: number): boolean {
  return (
    frame.length >= headroom &&
    frame.readUInt32LE(0) === SIGNATURE_WORDS[0] &&
    frame.readUInt32LE(4) === SIGNATURE_WORDS[1] &&
    frame.readUInt32LE(8) === SIGNATURE_WORDS[2]
  );
}

/** A compact call frame's header and pickle (a view), or null when the frame is not one. */
export function readCompactCall(frame: Buffer): { header: CallHeader; body: Buffer } | null {
  const header = isCompact(frame, COMPACT_CALL_HEADROOM) ? readCallHeader(frame, SIGNATURE_SIZE) : null;
  return header && { header, body: frame.subarray(COMPACT_CALL_HEADROOM) };
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

function writeReplyHeader(buffer: Buffer, at: number, header: ReplyHeader): void {
  if (header.epoch !== encodedEpoch.text) {
    const bytes = Buffer.alloc(8);
    Buffer.from(header.epoch.padStart(16, "0").slice(-16), "hex").copy(bytes);
    encodedEpoch.text = header.epoch;
    encodedEpoch.high = bytes.readUInt32BE(0);
    encodedEpoch.low = bytes.readUInt32BE(4);
  }
  buffer.writeUInt32LE(KIND_REPLY, at); // kind, then three zero bytes
  buffer.writeUInt32LE(header.id >>> 0, at + 4);
  buffer.writeDoubleLE(header.seq, at + 8);
  buffer.writeUInt32BE(encodedEpoch.high, at + 16);
  buffer.writeUInt32BE(encodedEpoch.low, at + 20);
}

function readReplyHeader(frame: Buffer, at: number): ReplyHeader | null {
  if (frame[at] !== KIND_REPLY) return null;
  const high = frame.readUInt32BE(at + 16);
  const low = frame.readUInt32BE(at + 20);
  if (high !== decodedEpoch.high || low !== decodedEpoch.low) {
    decodedEpoch.text = frame.toString("hex", at + 16, at + 24);
    decodedEpoch.high = high;
    decodedEpoch.low = low;
  }
  return { id: frame.readUInt32LE(at + 4), seq: frame.readDoubleLE(at + 8), epoch: decodedEpoch.text };
}

export function encodeReplyHeader(header: ReplyHeader): Buffer {
  const buffer = Buffer.allocUnsafe(REPLY_HEADER_SIZE); // every byte is written
  writeReplyHeader(buffer, 0, header);
  return buffer;
}

export function decodeReplyHeader(frame: Buffer): ReplyHeader | null {
  return frame.length === REPLY_HEADER_SIZE ? readReplyHeader(frame, 0) : null;
}

/** Fills the headroom of a reply pickle encoded with COMPACT_REPLY_HEADROOM: the frame is then a compact reply. */
export function writeCompactReplyHeader(frame: Buffer, header: ReplyHeader): void {
  COMPACT_SIGNATURE.copy(frame, 0);
  writeReplyHeader(frame, SIGNATURE_SIZE, header);
}

/** A compact reply frame's header and pickle (a view), or null when the frame is not one. */
export function readCompactReply(frame: Buffer): { header: ReplyHeader; body: Buffer } | null {
  const header = isCompact(frame, COMPACT_REPLY_HEADROOM) ? readReplyHeader(frame, SIGNATURE_SIZE) : null;
  return header && { header, body: frame.subarray(COMPACT_REPLY_HEADROOM) };
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

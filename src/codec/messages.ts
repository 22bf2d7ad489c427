/**
 * VeighNa's three RPC messages, one pickle per ZeroMQ frame (vnpy/rpc, reference §1.3):
 *   request  [name, args_tuple, kwargs_dict]
 *   reply    [True, result] | [False, traceback_text]
 *   publish  [topic, data]
 */
import { decodePickle, type DecodeLimits, type DecodeMode, type DecodeOptions } from "./decoder.js";
import { encodePickle } from "./encoder.js";
import { MessageShapeError } from "./errors.js";
import { FRAME_SIZE_TARGET } from "./opcodes.js";
import { decodeUtf8 } from "./utf8.js";
import { Tuple, tuple } from "./values.js";

export interface MessageDecodeOptions {
  limits?: Partial<DecodeLimits>;
  onGlobal?: DecodeOptions["onGlobal"];
}

export interface RpcRequest {
  readonly name: string;
  readonly args: Tuple;
  readonly kwargs: Readonly<Record<string, unknown>>;
}

export type RpcReply = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly traceback: string };

export interface RpcPublish {
  readonly topic: string;
  readonly data: unknown;
}

function decodeAs(bytes: Uint8Array, mode: DecodeMode, options: MessageDecodeOptions | undefined): unknown {
  const decodeOptions: DecodeOptions = { mode };
  if (options?.limits) decodeOptions.limits = options.limits;
  if (options?.onGlobal) decodeOptions.onGlobal = options.onGlobal;
  return decodePickle(bytes, decodeOptions);
}

/** A sequence as vnpy unpacks one (`name, args, kwargs = req`): a list, or a tuple. */
function items(value: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw new MessageShapeError(`${what} must be a list of ${length} items`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** `RpcClient.__getattr__` → `[name, args, kwargs]`, after `headroom` zero bytes for the caller's header. */
export function encodeRequest(
  name: string,
  args: readonly unknown[] = [],
  kwargs: Readonly<Record<string, unknown>> = {},
  headroom = 0,
): Buffer {
  const argsTuple = args instanceof Tuple ? args : tuple(...args);
  return encodePickle([name, argsTuple, kwargs], headroom > 0 ? { headroom } : undefined);
}

/** Decodes a client's request, strictly (request mode), and checks its shape. */
export function decodeRequest(bytes: Uint8Array, options?: MessageDecodeOptions): RpcRequest {
  const [name, args, kwargs] = items(decodeAs(bytes, "request", options), 3, "a request");
  if (typeof name !== "string") throw new MessageShapeError("a request's function name must be a str");
  if (!Array.isArray(args)) throw new MessageShapeError("a request's arguments must be a tuple or a list");
  // Python calls func(*args, **kwargs): keyword names must be str, so a Map (non-str keys) is refused too.
  if (!isPlainObject(kwargs)) throw new MessageShapeError("a request's keyword arguments must be a dict with str keys");
  return { name, args: args instanceof Tuple ? args : Tuple.from(args), kwargs };
}

/** `[True, result]`, or `[False, traceback_text]` for a failed call (after `headroom` zero bytes, as encodeRequest). */
export function encodeReply(ok: true, result: unknown, headroom?: number): Buffer;
export function encodeReply(ok: false, traceback: string, headroom?: number): Buffer;
export function encodeReply(ok: boolean, resultOrTraceback: unknown, headroom?: number): Buffer;
export function encodeReply(ok: boolean, resultOrTraceback: unknown, headroom = 0): Buffer {
  if (!ok && typeof resultOrTraceback !== "string") throw new TypeError("a failed reply carries the traceback text");
  return encodePickle([ok, resultOrTraceback], headroom > 0 ? { headroom } : undefined);
}

/** Decodes a server's reply (event mode: results may hold app objects of unknown classes). */
export function decodeReply(bytes: Uint8Array, options?: MessageDecodeOptions): RpcReply {
  const [ok, value] = items(decodeAs(bytes, "event", options), 2, "a reply");
  if (ok === true) return { ok: true, result: value };
  if (ok === false && typeof value === "string") return { ok: false, traceback: value };
  throw new MessageShapeError("a reply must be [True, result] or [False, traceback]");
}

/** `RpcServer.publish(topic, data)` → `[topic, data]`. */
export function encodePublish(topic: string, data: unknown): Buffer {
  return encodePickle([topic, data]);
}

/** Decodes a published event (event mode). */
export function decodePublish(bytes: Uint8Array, options?: MessageDecodeOptions): RpcPublish {
  const [topic, data] = items(decodeAs(bytes, "event", options), 2, "a publish");
  if (typeof topic !== "string") throw new MessageShapeError("a publish topic must be a str");
  return { topic, data };
}

const EVENT_MODULE = Buffer.from("vnpy.event.engine", "latin1");
const EVENT_NAME = Buffer.from("Event", "latin1");
const TYPE_KEY = Buffer.from("type", "latin1");

/** Where a publish frame's Event type is: its text's [start, end), and how many memo slots precede it. */
interface TypeLocation {
  readonly start: number;
  readonly end: number;
  /** MEMOIZE opcodes before the type's text (8 when every object up to it was memoized, as CPython does). */
  readonly memoBefore: number;
  /** The type's text is followed by its own MEMOIZE. */
  readonly memoized: boolean;
}

/** The position after a SHORT_BINUNICODE at `at` (of exactly `expect`'s bytes, when given), or -1. */
function afterShortText(bytes: Uint8Array, at: number, expect?: Uint8Array): number {
  if (bytes[at] !== 0x8c || at + 2 > bytes.length) return -1;
  const length = bytes[at + 1]!;
  const start = at + 2;
  const end = start + length;
  if (end > bytes.length) return -1;
  if (expect) {
    if (length !== expect.length) return -1;
    for (let i = 0; i < length; i++) if (bytes[start + i] !== expect[i]) return -1;
  }
  return end;
}

/**
 * Finds the Event type in a frame that starts the way both CPython's pickler and ours write `["topic", Event]`
 * (protocol 4+: list, topic, `vnpy.event.engine.Event` by STACK_GLOBAL, NEWOBJ, state dict whose first key is
 * "type"); undefined for any other start. No arrays and one closure per call: our own frames are found before it,
 * by one compare (typeAfterOurPrefix), so this runs for the others, e.g. a frame whose topic is not "".
 */
function locateEventType(bytes: Uint8Array): TypeLocation | undefined {
  if (bytes[0] !== 0x80 || !(bytes[1]! >= 4)) return undefined; // PROTO 4+
  let at = bytes[2] === 0x95 ? 11 : 2; // FRAME and its length
  let memos = 0;
  /** Steps over the MEMOIZE that may follow what was just read. */
  const memoize = (): void => {
    if (bytes[at] === 0x94) {
      at++;
      memos++;
    }
  };
  if (bytes[at] !== 0x5d) return undefined; // EMPTY_LIST
  at++;
  memoize();
  if (bytes[at] !== 0x28) return undefined; // MARK
  at = afterShortText(bytes, at + 1); // the topic
  if (at < 0) return undefined;
  memoize();
  at = afterShortText(bytes, at, EVENT_MODULE);
  if (at < 0) return undefined;
  memoize();
  at = afterShortText(bytes, at, EVENT_NAME);
  if (at < 0) return undefined;
  memoize();
  if (bytes[at] !== 0x93) return undefined; // STACK_GLOBAL
  at++;
  memoize();
  if (bytes[at] !== 0x29 || bytes[at + 1] !== 0x81) return undefined; // EMPTY_TUPLE NEWOBJ
  at += 2;
  memoize();
  if (bytes[at] !== 0x7d) return undefined; // EMPTY_DICT
  at++;
  memoize();
  if (bytes[at] !== 0x28) return undefined; // MARK
  at = afterShortText(bytes, at + 1, TYPE_KEY);
  if (at < 0) return undefined;
  memoize();
  const end = afterShortText(bytes, at);
  if (end < 0) return undefined;
  return { start: at + 2, end, memoBefore: memos, memoized: bytes[end] === 0x94 };
}

/**
 * The `type` of the Event a publish frame carries, read from the frame's first bytes without decoding it, or
 * undefined when the frame does not start the way both CPython's pickler and ours write `["topic", Event]`.
 * It only lets a subscriber skip an event it would throw away; undefined means "decode it to know".
 */
export function peekPublishedEventType(bytes: Uint8Array): string | undefined {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const type = eventTypeAt(buf);
  if (!type) return undefined;
  // Through the decoder's string cache: the same few types arrive thousands of times a second. Bytes that are not
  // UTF-8 are "don't know", as the decode would refuse them too.
  try {
    return decodeUtf8(buf, type.start, type.end, type.start);
  } catch {
    return undefined;
  }
}

/** Where a publish frame's Event type is: our encoder's frames by one compare, any other by parsing its start. */
function eventTypeAt(frame: Buffer): TypeLocation | undefined {
  return typeAfterOurPrefix(frame) ?? locateEventType(frame);
}

/** FRAME opcode + 8-byte length, right after PROTO. */
const FRAME_AT = 2;
const FRAME_HEADER_END = FRAME_AT + 9;
/** What our encoder writes after the FRAME header of `["", Event]` up to the type's SHORT_BINUNICODE opcode. */
const OUR_EVENT_PREFIX = Buffer.concat([
  Buffer.from([0x5d, 0x94, 0x28, 0x8c, 0x00, 0x94, 0x8c, EVENT_MODULE.length]), EVENT_MODULE,
  Buffer.from([0x94, 0x8c, EVENT_NAME.length]), EVENT_NAME,
  Buffer.from([0x94, 0x93, 0x94, 0x29, 0x81, 0x94, 0x7d, 0x94, 0x28, 0x8c, TYPE_KEY.length]), TYPE_KEY,
  Buffer.from([0x94, 0x8c]),
]);

/** The type's place in a frame of ours with the topic "" (one compare instead of a parse), else undefined. */
function typeAfterOurPrefix(frame: Buffer): TypeLocation | undefined {
  const end = FRAME_HEADER_END + OUR_EVENT_PREFIX.length;
  if (frame.length <= end || frame.compare(OUR_EVENT_PREFIX, 0, OUR_EVENT_PREFIX.length, FRAME_HEADER_END, end) !== 0) return undefined;
  const start = end + 1;
  const textEnd = start + frame[end]!;
  if (textEnd >= frame.length) return undefined;
  return { start, end: textEnd, memoBefore: 8, memoized: frame[textEnd] === 0x94 };
}

/** BINGET of memo slot 8, the type string's. */
const TYPE_SLOT_GET = Buffer.from([0x68, 8]);
/** Printable ASCII: a type made of these is written as SHORT_BINUNICODE of exactly these bytes. */
const PLAIN_TYPE = /^[\x20-\x7e]{0,255}$/;

/**
 * The same published Event under another `type`: what `encodePublish(topic, event)` gives for an Event whose
 * type alone differs from the one `frame` carries (VeighNa's `eTick.` and its `eTick.<vt_symbol>` twin, same data
 * and the same extra attributes), written from `frame`'s bytes without encoding the data again. Undefined when
 * splicing could differ from encoding afresh (then encode it): a frame not written by our encoder in one pickle
 * frame, a type that is not short printable ASCII, or data that may refer to either type string (a BINGET of the
 * old type's memo slot, or the new type's bytes anywhere: both checks are conservative byte searches).
 */
export function retypePublishedEvent(frame: Buffer, type: string): Buffer | undefined {
  // Our encoder memoizes every object up to the type: 8 slots (list, topic, module, name, global, obj, dict, "type").
  const at = eventTypeAt(frame);
  if (!at || at.memoBefore !== 8 || !at.memoized || !PLAIN_TYPE.test(type)) return undefined;
  if (frame[FRAME_AT] !== 0x95 || frame.readUInt32LE(FRAME_AT + 5) !== 0 || frame.readUInt32LE(FRAME_AT + 1) !== frame.length - FRAME_HEADER_END) return undefined;
  const text = Buffer.from(type, "latin1");
  const length = frame.length - (at.end - at.start) + text.length;
  // One pickle frame either way (the encoder cuts frames at 64 KiB), and nothing refers to either type string.
  if (length - FRAME_HEADER_END >= FRAME_SIZE_TARGET) return undefined;
  if (frame.indexOf(TYPE_SLOT_GET, at.end) !== -1 || frame.indexOf(text, at.end) !== -1) return undefined;
  const out = Buffer.allocUnsafe(length);
  frame.copy(out, 0, 0, at.start);
  out[at.start - 1] = text.length;
  let pos = at.start + text.copy(out, at.start);
  pos += frame.copy(out, pos, at.end);
  out.writeUInt32LE(length - FRAME_HEADER_END, FRAME_AT + 1);
  return out;
}

/**
 * VeighNa's three RPC messages, one pickle per ZeroMQ frame (vnpy/rpc, reference §1.3):
 *   request  [name, args_tuple, kwargs_dict]
 *   reply    [True, result] | [False, traceback_text]
 *   publish  [topic, data]
 */
import { decodePickle, type DecodeLimits, type DecodeMode, type DecodeOptions } from "./decoder.js";
import { encodePickle } from "./encoder.js";
import { MessageShapeError } from "./errors.js";
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

/** `RpcClient.__getattr__` → `[name, args, kwargs]`. */
export function encodeRequest(name: string, args: readonly unknown[] = [], kwargs: Readonly<Record<string, unknown>> = {}): Buffer {
  const argsTuple = args instanceof Tuple ? args : tuple(...args);
  return encodePickle([name, argsTuple, kwargs]);
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

/** `[True, result]`, or `[False, traceback_text]` for a failed call. */
export function encodeReply(ok: true, result: unknown): Buffer;
export function encodeReply(ok: false, traceback: string): Buffer;
export function encodeReply(ok: boolean, resultOrTraceback: unknown): Buffer;
export function encodeReply(ok: boolean, resultOrTraceback: unknown): Buffer {
  if (!ok && typeof resultOrTraceback !== "string") throw new TypeError("a failed reply carries the traceback text");
  return encodePickle([ok, resultOrTraceback]);
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

/**
 * The `type` of the Event a publish frame carries, read from the frame's first bytes without decoding it, or
 * undefined when the frame does not start the way both CPython's pickler and ours write `["topic", Event]`
 * (protocol 4+: list, topic, `vnpy.event.engine.Event` by STACK_GLOBAL, NEWOBJ, state dict whose first key is
 * "type"). It only lets a subscriber skip an event it would throw away; undefined means "decode it to know".
 */
export function peekPublishedEventType(bytes: Uint8Array): string | undefined {
  let at = 0;
  const op = (code: number): boolean => (bytes[at] === code ? (at++, true) : false);
  const memoize = () => op(0x94);
  /** A SHORT_BINUNICODE; with `expect`, only those exact bytes. Returns [start, end) of its text, or null. */
  const shortText = (expect?: Uint8Array): [number, number] | null => {
    if (bytes[at] !== 0x8c || at + 2 > bytes.length) return null;
    const length = bytes[at + 1]!;
    const start = at + 2;
    const end = start + length;
    if (end > bytes.length) return null;
    if (expect) {
      if (length !== expect.length) return null;
      for (let i = 0; i < length; i++) if (bytes[start + i] !== expect[i]) return null;
    }
    at = end;
    memoize();
    return [start, end];
  };
  if (!(op(0x80) && bytes[at] !== undefined && bytes[at]! >= 4)) return undefined;
  at++;
  if (op(0x95)) at += 8;
  if (!op(0x5d)) return undefined; // EMPTY_LIST
  memoize();
  if (!op(0x28) || !shortText()) return undefined; // MARK, topic
  if (!shortText(EVENT_MODULE) || !shortText(EVENT_NAME) || !op(0x93)) return undefined; // STACK_GLOBAL
  memoize();
  if (!op(0x29) || !op(0x81)) return undefined; // EMPTY_TUPLE NEWOBJ
  memoize();
  if (!op(0x7d)) return undefined; // EMPTY_DICT
  memoize();
  if (!op(0x28) || !shortText(TYPE_KEY)) return undefined;
  const type = shortText();
  if (!type) return undefined;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return buf.toString("utf8", type[0], type[1]);
}

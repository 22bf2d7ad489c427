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

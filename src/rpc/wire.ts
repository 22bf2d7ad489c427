/**
 * The pickle codec as the RPC layer uses it, in one place: VeighNa's three message shapes
 * (`[name, args, kwargs]`, `[ok, value]`, `[topic, data]`), each one ZeroMQ frame.
 */
import {
  PyFloat,
  decodePublish,
  decodeReply,
  decodeRequest,
  encodePublish,
  encodeReply,
  encodeReplySliced,
  encodeRequest,
  peekPublishedEventType,
  peekRequestName,
  retypePublishedEvent,
  worthSlicing,
} from "../codec/index.js";

export interface DecodedCall {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
}

/** Strict "request" mode: a pickle naming anything beyond VeighNa's data classes is refused, never run. */
export function decodeCall(bytes: Buffer): DecodedCall {
  return decodeRequest(bytes);
}

/** The function a request calls, read without decoding its arguments; undefined when only a full decode can tell. */
export function peekCallName(bytes: Buffer): string | undefined {
  return peekRequestName(bytes);
}

/** `headroom`: zero bytes before the pickle, for a header written in place (the compact framing of protocol.ts). */
export function encodeCall(name: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, headroom = 0): Buffer {
  return encodeRequest(name, args, kwargs, headroom);
}

export function encodeResult(ok: boolean, value: unknown, headroom = 0): Buffer {
  return encodeReply(ok, value, headroom);
}

/** Whether a result is long enough (a list of many items) to be worth encodeResultSliced. */
export function worthEncodingInSlices(value: unknown): boolean {
  return worthSlicing(value);
}

/** encodeResult's bytes, encoded in slices of about a millisecond with yields to the event loop between them. */
export function encodeResultSliced(ok: boolean, value: unknown, headroom = 0): Promise<Buffer> {
  return encodeReplySliced(ok, value, headroom > 0 ? { headroom } : undefined);
}

/** `value` is the result, or the traceback text when `ok` is false. */
export function decodeResult(bytes: Buffer): { ok: boolean; value: unknown } {
  const reply = decodeReply(bytes);
  return reply.ok ? { ok: true, value: reply.result } : { ok: false, value: reply.traceback };
}

export function encodeBroadcast(topic: string, data: unknown): Buffer {
  return encodePublish(topic, data);
}

/**
 * A broadcast frame re-labelled with another Event type (same data, seq and epoch): byte-identical to encoding it
 * afresh, or undefined when that cannot be guaranteed (encode it then).
 */
export function retypeBroadcast(frame: Buffer, type: string): Buffer | undefined {
  return retypePublishedEvent(frame, type);
}

/** The Event type a broadcast carries, read without decoding it; undefined when the frame must be decoded to know. */
export function peekBroadcastType(bytes: Buffer): string | undefined {
  return peekPublishedEventType(bytes);
}

export function decodeBroadcast(bytes: Buffer): { topic: string; data: unknown } {
  return decodePublish(bytes);
}

/** VeighNa's heartbeat payload is `time.time()`: always a Python float. */
export function heartbeatPayload(epochMs: number): PyFloat {
  return new PyFloat(epochMs / 1000);
}

/**
 * The VeighNa wire codec: Python pickles (one per ZeroMQ frame) to kernel objects and back.
 *
 * How Python values are represented (decoding gives these; encoding accepts them):
 *
 * | Python                                   | JS                                                                      |
 * | ---------------------------------------- | ----------------------------------------------------------------------- |
 * | None, bool, str                          | null (undefined also encodes as None), boolean, string                  |
 * | int                                      | number when it is a safe integer, bigint beyond 2**53                   |
 * | float                                    | number (see "ints and floats" below); PyFloat forces one when encoding  |
 * | bytes, bytearray                         | Buffer (any Uint8Array encodes as bytes)                                |
 * | list                                     | Array                                                                   |
 * | tuple                                    | Tuple (an Array subclass; build one with `tuple(...)`)                  |
 * | dict with str keys                       | plain object, keys in order (a "__proto__" key is an own property)      |
 * | dict with other keys, or an index-like   | Map (a str key such as "1" would be reordered by a plain object)        |
 * |   str key ("0", "42")                    |                                                                         |
 * | collections.OrderedDict / defaultdict    | decoded as a plain dict (the default factory is dropped)                |
 * | set, frozenset                           | Set (encodes as set)                                                    |
 * | vnpy.trader.object.* dataclass           | the kernel class (TickData, ...), built without running its constructor:|
 * |                                          | own keys = the pickled __dict__, in order, unknown attributes kept,     |
 * |                                          | `extra` absent unless sent; enum fields hold plain kernel enum values   |
 * | vnpy.event.engine.Event                  | kernel Event                                                            |
 * | vnpy.trader.constant enum member         | plain value inside a data-class enum field; PyEnum anywhere else.       |
 * |                                          | Decoded by name (getattr) or by value, Chinese or English locale;       |
 * |                                          | always encoded by name (loads in any CPython 3, any locale)             |
 * | datetime.datetime                        | kernel DateTime (µs, fold, zone: ZoneInfo key, timezone.utc, fixed)     |
 * | datetime.timedelta                       | TimeDelta                                                               |
 * | anything else (event mode only)          | PyObject placeholder (class, args, state); PyGlobal for a bare global   |
 *
 * Ints and floats: Python sends `price=3500` (int) and `volume=123456.0` (float) side by side. Decoded, both
 * are plain numbers; the container keeps hints under the symbol key HINTS (invisible to Object.keys, JSON and
 * the pickled state, visible to console.log): which slots held integral floats, and which strings Python wrote
 * as separate copies, so re-encoding a decoded value reproduces CPython's bytes exactly. A number our own code
 * creates is pickled as an int when it is a safe integer (not -0), as a float otherwise; `markFloat(container,
 * key)` or PyFloat override that. A bare integral float at the top level decodes to a number and loses its
 * float-ness. Datetime folds travel with protocol 4 and 5 only, as in CPython.
 *
 * Limits of exactness: for pickles CPython writes, decode -> encode gives CPython's bytes. A stream that
 * refers to a data object's state dict after BUILD, or to a dict before its first non-str key arrives, gets
 * equivalent but not identical values there (the dict is written straight into the instance / turns into a
 * Map); both are safe.
 *
 * Safety: decoding never imports or runs anything; only ALLOWED_GLOBALS mean something. Mode "request"
 * (requests from clients) refuses every other global with a PickleSecurityError; mode "event" (replies and
 * events from a Python server) turns unknown classes and calls into inert PyObject / PyGlobal values. Input
 * size, nesting depth, memo size, container length and integer size are bounded (DecodeLimits); any bad
 * input ends in a PickleDecodeError with a code. Decoded values may share references (as Python's do, and
 * may even be cyclic); the encoder memoizes by identity, so shared structure stays linear in size.
 */
export { decodePickle, DEFAULT_DECODE_LIMITS, type DecodeLimits, type DecodeMode, type DecodeOptions } from "./decoder.js";
export { encodePickle, type EncodeOptions } from "./encoder.js";
export { encodePickleSliced, encodeReplySliced, worthSlicing, type SlicedEncodeOptions } from "./sliced.js";
export { peekRequestName } from "./peek-request.js";
export {
  MessageShapeError,
  PickleDecodeError,
  PickleEncodeError,
  PickleSecurityError,
  type PickleDecodeErrorCode,
  type PickleEncodeErrorCode,
} from "./errors.js";
export { ALLOWED_GLOBALS } from "./globals.js";
export {
  decodePublish,
  decodeReply,
  decodeRequest,
  encodePublish,
  encodeReply,
  encodeRequest,
  peekPublishedEventType,
  retypePublishedEvent,
  type MessageDecodeOptions,
  type RpcPublish,
  type RpcReply,
  type RpcRequest,
} from "./messages.js";
export {
  CONSTANT_MODULE,
  HINTS,
  PyEnum,
  PyFloat,
  PyGlobal,
  PyObject,
  TimeDelta,
  Tuple,
  floatSlots,
  isFloatSlot,
  isPythonInt,
  markFloat,
  tuple,
  type PickleHints,
  type Slot,
} from "./values.js";

/**
 * Typed errors of the pickle codec. Every failure of `decodePickle` is a `PickleDecodeError` (or a subclass);
 * every failure of `encodePickle` is a `PickleEncodeError`. Nothing else escapes, whatever the input.
 */

export type PickleDecodeErrorCode =
  /** The input ended inside an opcode, or before STOP. */
  | "ERR_CODEC_TRUNCATED"
  /** A byte that is no pickle opcode (or one this decoder refuses, such as persistent ids). */
  | "ERR_CODEC_UNKNOWN_OPCODE"
  | "ERR_CODEC_UNSUPPORTED_PROTOCOL"
  /** The frame is bigger than `limits.maxBytes`. */
  | "ERR_CODEC_TOO_LARGE"
  | "ERR_CODEC_DEPTH_EXCEEDED"
  | "ERR_CODEC_MEMO_LIMIT"
  | "ERR_CODEC_CONTAINER_TOO_LARGE"
  | "ERR_CODEC_INT_TOO_LARGE"
  /** The opcodes do not form a valid program: stack underflow, missing MARK, BINGET of an empty slot... */
  | "ERR_CODEC_MALFORMED"
  /** A well-formed pickle holding a value Python itself would reject (bad datetime, unknown enum value, bad UTF-8). */
  | "ERR_CODEC_BAD_VALUE"
  /** An allow-listed global called in a way this decoder does not imitate. */
  | "ERR_CODEC_UNSUPPORTED_CALL"
  | "ERR_CODEC_GLOBAL_NOT_ALLOWED"
  /** The pickle decoded, but is not the VeighNa message it should be. */
  | "ERR_CODEC_BAD_MESSAGE";

export class PickleDecodeError extends Error {
  override name = "PickleDecodeError";
  readonly code: PickleDecodeErrorCode;
  /** Byte offset of the opcode that failed (-1 when not tied to one). */
  readonly offset: number;

  constructor(code: PickleDecodeErrorCode, message: string, offset = -1) {
    super(offset >= 0 ? `${message} (at byte ${offset})` : message);
    this.code = code;
    this.offset = offset;
  }
}

/** A global outside the allow-list, in "request" mode. Decoding never imports or calls anything. */
export class PickleSecurityError extends PickleDecodeError {
  override name = "PickleSecurityError";
  /** "module.name" of the refused global, e.g. "os.system". */
  readonly global: string;

  constructor(global: string, offset = -1) {
    super("ERR_CODEC_GLOBAL_NOT_ALLOWED", `global '${global}' is not allowed`, offset);
    this.global = global;
  }
}

/** The bytes are a valid pickle but not a VeighNa request / reply / publish of the expected shape. */
export class MessageShapeError extends PickleDecodeError {
  override name = "MessageShapeError";

  constructor(message: string) {
    super("ERR_CODEC_BAD_MESSAGE", message);
  }
}

export type PickleEncodeErrorCode =
  /** A JS value with no Python counterpart (a function, a symbol, a class instance the codec does not know). */
  | "ERR_CODEC_UNSUPPORTED_TYPE"
  /** A data-class enum field holding something that is no member of its enum. */
  | "ERR_CODEC_BAD_ENUM_VALUE"
  /** A value Python cannot hold (an invalid datetime, a time zone offset of a day or more...). */
  | "ERR_CODEC_BAD_VALUE"
  | "ERR_CODEC_DEPTH_EXCEEDED";

export class PickleEncodeError extends Error {
  override name = "PickleEncodeError";
  readonly code: PickleEncodeErrorCode;

  constructor(code: PickleEncodeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The text arguments of protocol 0 and 1 opcodes (INT, LONG, FLOAT, GET/PUT, UNICODE, STRING): old pickles,
 * Python 2 peers. VeighNa itself never sends them, but a decoder of "protocols 2 to 5" meets them in
 * protocol 2 streams too (GLOBAL is text).
 */
import { PickleDecodeError, type PickleDecodeErrorCode } from "./errors.js";

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = BigInt(Number.MIN_SAFE_INTEGER);

function fail(code: PickleDecodeErrorCode, message: string, offset: number): never {
  throw new PickleDecodeError(code, message, offset);
}

/** A Python int: a number while safe, a bigint beyond. */
export function toInt(big: bigint): number | bigint {
  return big >= MIN_SAFE_BIG && big <= MAX_SAFE_BIG ? Number(big) : big;
}

export function parseIntText(text: string, offset: number): number | bigint {
  if (!/^[+-]?\d{1,4300}$/.test(text.trim())) fail("ERR_CODEC_MALFORMED", "invalid integer literal", offset);
  return toInt(BigInt(text.trim()));
}

export function parseFloatText(text: string, offset: number): number {
  const t = text.trim().toLowerCase();
  if (t === "nan" || t === "+nan" || t === "-nan") return NaN;
  if (t === "inf" || t === "+inf" || t === "infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(t)) fail("ERR_CODEC_MALFORMED", "invalid float literal", offset);
  return Number(t);
}

export function parseIndex(text: string, offset: number): number {
  if (!/^\d{1,10}$/.test(text)) fail("ERR_CODEC_MALFORMED", "invalid memo index", offset);
  return Number(text);
}

/** Protocol 0 UNICODE: latin-1 text with \uXXXX and \UXXXXXXXX escapes. */
export function rawUnicodeEscape(text: string, offset: number): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_whole, u4: string | undefined, u8: string | undefined) => {
    const code = parseInt(u4 ?? u8!, 16);
    if (code > 0x10ffff) fail("ERR_CODEC_BAD_VALUE", "invalid \\U escape", offset);
    return String.fromCodePoint(code);
  });
}

/** Protocol 0 STRING: a Python 2 str literal, quotes included; decoded as latin-1. */
export function pythonStringLiteral(text: string, offset: number): string {
  const quote = text[0];
  if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) fail("ERR_CODEC_MALFORMED", "the STRING opcode argument must be quoted", offset);
  const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", f: "\f", v: "\v", "\n": "" };
  return text.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[\s\S])/g, (whole, esc: string) => {
    if (esc[0] === "x") return String.fromCharCode(parseInt(esc.slice(1), 16));
    if (/^[0-7]/.test(esc)) return String.fromCharCode(parseInt(esc, 8) & 0xff);
    return simple[esc] ?? whole;
  });
}

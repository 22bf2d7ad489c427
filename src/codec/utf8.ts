/**
 * UTF-8 as Python's pickle uses it: 'utf-8' with 'surrogatepass', so a lone surrogate (legal in both a Python
 * str and a JS string) survives the trip both ways, where Buffer's codec would turn it into U+FFFD.
 */
import { PickleDecodeError } from "./errors.js";

const SHORT_MAX = 24;
const CACHE_SIZE = 16384;
/**
 * Field names, symbols and gateway names recur in every frame: short strings are looked up in a small
 * direct-mapped cache keyed by their bytes, so decoding them allocates nothing and yields the same string
 * object each time (cheap to use as a property key afterwards). The bytes of each entry live in one arena.
 */
const cacheText: (string | undefined)[] = new Array<string | undefined>(CACHE_SIZE).fill(undefined);
const cacheLength = new Uint8Array(CACHE_SIZE);
const cacheBytes = new Uint8Array(CACHE_SIZE * SHORT_MAX);
/** Per pair of slots: which one was hit last (the other is replaced first). */
const recent = new Uint8Array(CACHE_SIZE / 2);
/**
 * Per slot: the slot of the string decoded right after it last time, or -1. A tick's field names and values come
 * in the same order in every frame, so the next string is usually the one that followed last time: checking that
 * slot's bytes finds it without hashing them first. A wrong guess costs one compare (usually of the length alone).
 */
const successor = new Int32Array(CACHE_SIZE).fill(-1);
/** The slot of the last cached string decoded, or -1 after one that was not cacheable. */
let previousSlot = -1;

/**
 * Side result of the last decodeUtf8: its cache bucket (a function of its bytes alone, whatever the cache
 * holds), or -1 when the string was not cacheable. The decoder tracks which texts it has seen by bucket.
 */
export const lastDecoded = { bucket: -1 };

export const CACHE_SLOTS = CACHE_SIZE;

/** Decodes `buf[start, end)`; throws BAD_VALUE on bytes that are not UTF-8 (surrogates excepted). */
export function decodeUtf8(buf: Buffer, start: number, end: number, offset: number): string {
  const length = end - start;
  lastDecoded.bucket = -1;
  const previous = previousSlot;
  previousSlot = -1;
  if (length === 0 || length > SHORT_MAX) return length === 0 ? "" : decodeLong(buf, start, end, offset);
  if (previous >= 0) {
    const guess = successor[previous]!;
    if (guess >= 0 && cacheLength[guess] === length && sameBytes(guess, buf, start, end)) {
      // Its pair's first slot is the bucket that hashing its bytes gives (it was filed there).
      lastDecoded.bucket = guess & ~1;
      recent[guess >> 1] = guess & 1;
      previousSlot = guess;
      return cacheText[guess]!;
    }
  }
  // FNV-1a over every byte: identifiers such as "IO2501-C-3084.CFFEX" differ only in a few inner bytes, so a
  // hash of sampled bytes puts whole families of them in one bucket. The full comparison below settles hits.
  let hash = 0x811c9dc5 ^ length;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
  // Two-way set-associative: a pair of slots per hash, so two hot strings that hash alike both stay cached.
  const first = (hash ^ (hash >>> 16)) & (CACHE_SIZE - 2);
  lastDecoded.bucket = first;
  for (let slot = first; slot <= first + 1; slot++) {
    if (cacheLength[slot] === length && sameBytes(slot, buf, start, end)) {
      recent[first >> 1] = slot - first;
      if (previous >= 0) successor[previous] = slot;
      previousSlot = slot;
      return cacheText[slot]!;
    }
  }
  const text = cacheMiss(buf, start, end, offset, first);
  if (previous >= 0) successor[previous] = missSlot;
  previousSlot = missSlot;
  return text;
}

/** Whether cache slot `slot` holds exactly `buf[start, end)` (its length already checked). */
function sameBytes(slot: number, buf: Buffer, start: number, end: number): boolean {
  const base = slot * SHORT_MAX - start;
  let i = start;
  while (i < end && cacheBytes[base + i] === buf[i]) i++;
  return i === end;
}

/**
 * The slot cacheMiss filed its string in, read back by decodeUtf8 (which records what follows what in one place:
 * moving that bookkeeping into a helper both call measured slower in paired decode rounds).
 */
let missSlot = -1;

function cacheMiss(buf: Buffer, start: number, end: number, offset: number, first: number): string {
  const length = end - start;
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  const text = ascii ? asciiString(buf, start, end) : decodeLong(buf, start, end, offset);
  // An empty slot of the pair, else the one not hit last.
  const slot = cacheLength[first] === 0 ? first : cacheLength[first + 1] === 0 ? first + 1 : first + 1 - recent[first >> 1]!;
  recent[first >> 1] = slot - first;
  missSlot = slot;
  const base = slot * SHORT_MAX;
  cacheText[slot] = text;
  cacheLength[slot] = length;
  for (let i = 0; i < length; i++) cacheBytes[base + i] = buf[start + i]!;
  return text;
}

function decodeLong(buf: Buffer, start: number, end: number, offset: number): string {
  const text = buf.toString("utf8", start, end);
  // U+FFFD marks what Buffer could not decode; a genuine U+FFFD in the input decodes the same way twice.
  return text.indexOf("\uFFFD") === -1 ? text : decodeStrict(buf, start, end, offset);
}

function asciiString(buf: Uint8Array, start: number, end: number): string {
  // fromCharCode over a short run beats the native slice call, whose fixed cost dominates tiny strings.
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]!);
  return text;
}

/** A full decoder that accepts encoded surrogates (ED A0..BF xx) and rejects everything else invalid. */
function decodeStrict(buf: Uint8Array, start: number, end: number, offset: number): string {
  const units: number[] = [];
  let text = "";
  const bad = (): never => {
    throw new PickleDecodeError("ERR_CODEC_BAD_VALUE", "string is not valid UTF-8", offset);
  };
  let i = start;
  while (i < end) {
    const b0 = buf[i]!;
    let code: number;
    if (b0 < 0x80) {
      code = b0;
      i += 1;
    } else if (b0 >= 0xc2 && b0 < 0xe0) {
      if (i + 1 >= end) bad();
      const b1 = buf[i + 1]!;
      if ((b1 & 0xc0) !== 0x80) bad();
      code = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
      i += 2;
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      if (i + 2 >= end) bad();
      const b1 = buf[i + 1]!;
      const b2 = buf[i + 2]!;
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80) bad();
      code = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      if (code < 0x800) bad(); // overlong
      i += 3;
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      if (i + 3 >= end) bad();
      const b1 = buf[i + 1]!;
      const b2 = buf[i + 2]!;
      const b3 = buf[i + 3]!;
      if ((b1 & 0xc0) !== 0x80 || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) bad();
      code = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      if (code < 0x10000 || code > 0x10ffff) bad();
      i += 4;
    } else {
      return bad();
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
    } else {
      units.push(code);
    }
    if (units.length >= 8192) {
      text += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return text + String.fromCharCode(...units);
}

const isWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** True when the string has no lone surrogate, so Buffer's UTF-8 encoder writes what Python would. */
export function wellFormed(text: string): boolean {
  if (isWellFormed) return isWellFormed.call(text);
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** UTF-8 with surrogatepass: Buffer.byteLength is right for it too (a lone surrogate is 3 bytes either way). */
export function encodeSurrogatePass(text: string, out: Buffer, at: number): number {
  let p = at;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    if (code < 0x80) out[p++] = code;
    else if (code < 0x800) {
      out[p++] = 0xc0 | (code >> 6);
      out[p++] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      out[p++] = 0xe0 | (code >> 12);
      out[p++] = 0x80 | ((code >> 6) & 0x3f);
      out[p++] = 0x80 | (code & 0x3f);
    } else {
      out[p++] = 0xf0 | (code >> 18);
      out[p++] = 0x80 | ((code >> 12) & 0x3f);
      out[p++] = 0x80 | ((code >> 6) & 0x3f);
      out[p++] = 0x80 | (code & 0x3f);
    }
  }
  return p - at;
}

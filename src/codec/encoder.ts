/**
 * The pickle encoder: protocol 4 (or 5) bytes as CPython 3.11's C pickler writes them, into one growable
 * buffer.
 *
 * "As CPython writes them" means the same opcodes, the same memo indices (MEMOIZE after every str, bytes,
 * tuple, list, dict, global and reduced object, BINGET for a repeated one) and the same FRAME boundaries
 * (a frame is closed at the first save() once it holds 64 KiB; payloads of 64 KiB or more go outside frames).
 * Where Python's choice depends on object identity, the encoder follows identity for JS objects, and treats
 * equal strings as one object (as Python's interning mostly does) unless a decoded value says otherwise.
 */
import { BarSeries, DateTime, type EnumName, type FieldKind, type TimeZone } from "../kernel/index.js";
import { PickleEncodeError } from "./errors.js";
import { knownClassGlobals } from "./globals.js";
import { BATCH_SIZE, FRAME_SIZE_MIN, FRAME_SIZE_TARGET, Op } from "./opcodes.js";
import { encodeSurrogatePass, wellFormed } from "./utf8.js";
import { CONSTANT_MODULE, HINTS, PyEnum, PyFloat, PyGlobal, PyObject, SlotHints, TimeDelta, Tuple, isPythonInt, type Hinted } from "./values.js";

export interface EncodeOptions {
  /** 4 (VeighNa on CPython 3.8-3.13, the default) or 5 (CPython 3.14); the bytes differ only in the PROTO byte. */
  protocol?: 4 | 5;
  /** Deepest nesting of containers before a DEPTH_EXCEEDED error (CPython's own limit is about 1000). */
  maxDepth?: number;
  /**
   * Zeroed bytes before the pickle in the returned buffer, for a header the caller writes there: a header and its
   * pickle then travel as one frame without a second copy (our RPC protocol's compact framing). Default 0.
   */
  headroom?: number;
}

const FRAME_HEADER = 9;
/** A str of at most this many UTF-16 units has at most 255 UTF-8 bytes: SHORT_BINUNICODE, written in one pass. */
const SHORT_STR_CHARS = 85;
/** Distinct strings remembered across encodes before the tables start afresh (bounds memory). */
const MAX_REMEMBERED = 50_000;

/** A memo slot remembered across encodes: it holds for the encode whose stamp it carries. */
interface MemoEntry {
  stamp: number;
  index: number;
}

/** The memo index of `key` in this encode, or -1. */
function lookup(table: Map<string, MemoEntry>, key: string, stamp: number): number {
  const entry = table.get(key);
  return entry !== undefined && entry.stamp === stamp ? entry.index : -1;
}

function remember(table: Map<string, MemoEntry>, key: string, stamp: number, index: number): void {
  const entry = table.get(key);
  if (entry === undefined) table.set(key, { stamp, index });
  else {
    entry.stamp = stamp;
    entry.index = index;
  }
}

/**
 * A data class's field names as the encoder last wrote them, kept per class from encode to encode. `entries` are the
 * string memo's own entries for them: the layouts go when the memo is cleared.
 */
interface FieldLayout {
  readonly keys: string[];
  readonly entries: readonly MemoEntry[];
  /** What each name's writeStr and MEMOIZE wrote the first time, to write again (undefined: not yet, or not short). */
  readonly written: (WordBytes | undefined)[];
  /** The enum each field holds, if any. */
  readonly enumKinds: readonly (EnumName | undefined)[];
}

/** Key sets remembered per class: a tick with `extra` and one without, and room for a few more. */
const LAYOUTS_PER_CLASS = 4;

/** Bytes kept as little-endian 32-bit words, for writeWords. */
interface WordBytes {
  readonly words: Int32Array;
  readonly length: number;
}

function wordsOf(bytes: Uint8Array): WordBytes {
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return { words, length: bytes.length };
}

/** Whether a for-in over `instance` walks exactly `keys`: its own keys, in order, and nothing enumerable inherited. */
function forInWalks(instance: Record<string, unknown>, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in instance) if (key !== keys[i++]) return false;
  return i === keys.length;
}

const ENUM_GLOBAL_KEYS = new Map<string, string>();
export const DEFAULT_MAX_DEPTH = 1000;

/** What the encoder knows of a kernel class: where Python finds it, and which fields hold enums. */
interface ClassInfo {
  readonly module: string;
  readonly name: string;
  readonly globalKey: string;
  readonly enumKinds: ReadonlyMap<string, EnumName>;
}

const classInfo = new Map<object, ClassInfo>();
for (const [prototype, known] of knownClassGlobals()) {
  const ctor = (prototype as { constructor: { fieldKinds?: Readonly<Record<string, FieldKind>> } }).constructor;
  const enumKinds = new Map<string, EnumName>();
  for (const [field, kind] of Object.entries(ctor.fieldKinds ?? {})) if (kind !== "datetime") enumKinds.set(field, kind);
  classInfo.set(prototype, { module: known.module, name: known.name, globalKey: `${known.module}\n${known.name}`, enumKinds });
}

function isTimeZone(value: object): value is TimeZone {
  // Kernel zones are frozen plain objects; a decoded dict never is.
  if (!Object.isFrozen(value)) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === "zoneinfo" || kind === "utc" || kind === "fixed";
}

/** Objects an identity memo holds in its arrays before a Map takes over. */
const SMALL_MEMO = 16;

/**
 * One encode's memo of objects by identity. Most encodes memoize a handful (a tick's event: its list, the Event,
 * the TickData, its datetime): those sit in two arrays kept from encode to encode and searched in order, which
 * allocates nothing. A fresh Map per encode was over a quarter of the bytes a tick's encode allocated. Past
 * SMALL_MEMO objects, a Map of this encode alone takes over.
 */
class IdentityMemo {
  private readonly objects: (object | undefined)[] = [];
  private readonly indexes: number[] = [];
  private count = 0;
  private large: Map<object, number> | null = null;

  get(value: object): number | undefined {
    if (this.large !== null) return this.large.get(value);
    const objects = this.objects;
    for (let i = 0; i < this.count; i++) if (objects[i] === value) return this.indexes[i];
    return undefined;
  }

  /** Adds an object not in the memo yet: the encoder writes an object only after get() missed it. */
  set(value: object, index: number): void {
    if (this.large !== null) {
      this.large.set(value, index);
      return;
    }
    const objects = this.objects;
    if (this.count === SMALL_MEMO) {
      this.large = new Map();
      for (let i = 0; i < this.count; i++) this.large.set(objects[i]!, this.indexes[i]!);
      this.large.set(value, index);
      this.drop();
      return;
    }
    objects[this.count] = value;
    this.indexes[this.count++] = index;
  }

  delete(value: object): void {
    if (this.large !== null) {
      this.large.delete(value);
      return;
    }
    const objects = this.objects;
    for (let i = 0; i < this.count; i++) {
      if (objects[i] !== value) continue;
      const last = --this.count;
      objects[i] = objects[last];
      this.indexes[i] = this.indexes[last]!;
      objects[last] = undefined;
      return;
    }
  }

  /**
   * Forgets everything, keeping no reference to this encode's objects. The Map, if any, is dropped rather than
   * cleared: V8's clear() links the old table to the new one and, once a table has been promoted, allocates the
   * next in old space, so each encode's values (its tick, its datetime) would survive young collections and be
   * promoted, for full collections to find (test/codec/retention.test.ts).
   */
  reset(): void {
    this.drop();
    this.large = null;
  }

  private drop(): void {
    this.objects.fill(undefined, 0, this.count);
    this.count = 0;
  }
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}

if (new Uint16Array(new Uint8Array([1, 0]).buffer)[0] !== 1) throw new Error("the codec assumes a little-endian host");

export class Pickler {
  private buf = Buffer.allocUnsafe(64 * 1024);
  /** `buf` as a DataView, for writes of several bytes at once. */
  private view = viewOf(this.buf);
  private pos = 0;
  private frameStart = -1;
  private framing = false;
  private memoCount = 0;
  private readonly objMemo = new IdentityMemo();
  /**
   * Strings, globals by name and zoneinfo zones by key (Python has one object for each). Entries outlive an
   * encode and count only when they carry its stamp: updating an entry in place is much cheaper than
   * refilling a cleared Map with the same field names for every tick.
   */
  private readonly strMemo = new Map<string, MemoEntry>();
  private readonly globalMemo = new Map<string, MemoEntry>();
  private readonly zoneMemo = new Map<string, MemoEntry>();
  private stamp = 0;
  /**
   * Field layouts by class, the latest first (a class's instances may differ in keys: `extra` set or not). They hold
   * strMemo entries, so they are cleared with it.
   */
  private readonly layouts = new Map<ClassInfo, FieldLayout[]>();
  private depth = 0;
  private maxDepth = DEFAULT_MAX_DEPTH;
  busy = false;

  encode(value: unknown, protocol: number, maxDepth: number, headroom = 0): Buffer {
    this.begin(protocol, maxDepth);
    try {
      this.save(value);
      return this.finish(headroom);
    } finally {
      this.release();
    }
  }

  // ---- one step at a time: encode()'s steps for sliced.ts, which yields to the event loop between them ----

  /** encode()'s start: PROTO, then framing on. Pair with release(). */
  begin(protocol: number, maxDepth: number): void {
    this.busy = true;
    this.maxDepth = maxDepth;
    this.stamp++;
    this.pos = 0;
    this.frameStart = -1;
    this.framing = false;
    this.reserve(2);
    this.buf[this.pos++] = Op.PROTO;
    this.buf[this.pos++] = protocol;
    this.framing = true;
  }

  /** One value, as save() inside the encode. */
  saveValue(value: unknown): void {
    this.save(value);
  }

  /**
   * save()'s start for a plain list (no hints) whose items the caller writes: true when it was written already
   * (a reference to its memo slot: nothing more to write, no closeList).
   */
  openList(list: object): boolean {
    this.boundary();
    const known = this.objMemo.get(list);
    if (known !== undefined) {
      this.writeGet(known);
      return true;
    }
    if (++this.depth > this.maxDepth) throw new PickleEncodeError("ERR_CODEC_DEPTH_EXCEEDED", `nesting deeper than ${this.maxDepth}`);
    this.byte(Op.EMPTY_LIST);
    this.objMemo.set(list, this.memoize());
    return false;
  }

  closeList(): void {
    this.depth--;
  }

  /**
   * A data class instance, written as a new object each time even when it is the same one: for a reader that reuses
   * one object for many values (a BarSeries walked with fill()), each written before the object changes. The bytes
   * are those of as many distinct objects.
   */
  saveTransient(instance: object): void {
    const prototype = Object.getPrototypeOf(instance) as object | null;
    const info = prototype === null ? undefined : classInfo.get(prototype);
    if (!info) throw new PickleEncodeError("ERR_CODEC_UNSUPPORTED_TYPE", "saveTransient takes data class instances only");
    this.boundary();
    if (++this.depth > this.maxDepth) throw new PickleEncodeError("ERR_CODEC_DEPTH_EXCEEDED", `nesting deeper than ${this.maxDepth}`);
    this.saveInstance(instance as Record<string, unknown>, info, false);
    this.depth--;
  }

  /**
   * Drops an object from the memo: for one the caller built for this encode alone and will not pass again (a
   * BarSeries' bars), so it can die before the encode ends. Its memo slot stays numbered: the bytes do not change.
   */
  forget(value: object): void {
    this.objMemo.delete(value);
  }

  /** One opcode byte (MARK, APPEND, APPENDS). */
  op(code: number): void {
    this.byte(code);
  }

  /** encode()'s end: STOP and the bytes, after `headroom` zero bytes. */
  finish(headroom = 0): Buffer {
    this.byte(Op.STOP);
    this.commitFrame();
    const out = Buffer.allocUnsafe(headroom + this.pos);
    if (headroom > 0) out.fill(0, 0, headroom);
    this.buf.copy(out, headroom, 0, this.pos);
    return out;
  }

  /** encode()'s cleanup, after the bytes or a failure. */
  release(): void {
    this.memoCount = 0;
    this.depth = 0;
    this.objMemo.reset();
    // Do not pin what one huge value needed: its scratch buffer, or its strings.
    if (this.buf.length > 4 * 1024 * 1024) {
      this.buf = Buffer.allocUnsafe(64 * 1024);
      this.view = viewOf(this.buf);
    }
    if (this.strMemo.size > MAX_REMEMBERED) {
      this.strMemo.clear();
      this.layouts.clear();
    }
    if (this.zoneMemo.size > MAX_REMEMBERED) this.zoneMemo.clear();
    if (this.globalMemo.size > MAX_REMEMBERED) this.globalMemo.clear();
    this.busy = false;
  }

  // ---- output --------------------------------------------------------------------------------------------

  /** Makes room for n bytes, opening a frame first if none is open (as CPython's _Pickler_Write does). */
  private reserve(n: number): void {
    if (this.framing && this.frameStart < 0) {
      this.frameStart = this.pos;
      this.grow(FRAME_HEADER + n);
      this.pos += FRAME_HEADER;
    } else if (this.pos + n > this.buf.length) {
      this.grow(n);
    }
  }

  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.view = viewOf(bigger);
  }

  /**
   * Cached bytes, four at a time: less than half the time of a byte-by-byte copy for a field name. The last word
   * may write up to 3 bytes past them, into room reserved for it, which the next write covers.
   */
  private writeWords(bytes: WordBytes): void {
    this.reserve(bytes.length + 3);
    const view = this.view;
    const words = bytes.words;
    const p = this.pos;
    for (let i = 0; i < words.length; i++) view.setInt32(p + 4 * i, words[i]!, true);
    this.pos = p + bytes.length;
  }

  /**
   * writeStr and MEMOIZE (the memo index is the caller's to count), returning those bytes for writeWords to write
   * again (a frame opened for them stays out: its header precedes them).
   */
  private writeStrKept(text: string): WordBytes | undefined {
    const before = this.pos;
    this.writeStr(text);
    this.byte(Op.MEMOIZE);
    // Past writeStr's short path a large str may close the frame and move bytes: nothing kept then.
    if (text.length > SHORT_STR_CHARS) return undefined;
    const start = this.frameStart === before ? before + FRAME_HEADER : before;
    return wordsOf(this.buf.subarray(start, this.pos));
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** CPython closes the open frame at the start of a save() once it holds FRAME_SIZE_TARGET bytes. */
  private boundary(): void {
    if (this.frameStart >= 0 && this.pos - this.frameStart - FRAME_HEADER >= FRAME_SIZE_TARGET) this.commitFrame();
  }

  private commitFrame(): void {
    const start = this.frameStart;
    if (start < 0) return;
    const length = this.pos - start - FRAME_HEADER;
    if (length >= FRAME_SIZE_MIN) {
      this.buf[start] = Op.FRAME;
      this.buf.writeUInt32LE(length >>> 0, start + 1);
      this.buf.writeUInt32LE(Math.floor(length / 0x100000000), start + 5);
    } else {
      this.buf.copyWithin(start, start + FRAME_HEADER, this.pos);
      this.pos -= FRAME_HEADER;
    }
    this.frameStart = -1;
  }

  /** Header inside the frame flow, payload after; a payload of 64 KiB or more closes the frame and goes outside. */
  private writeSized(shortOp: number, op32: number, op64: number, length: number): void {
    const large = length >= FRAME_SIZE_TARGET;
    if (large) {
      this.commitFrame();
      this.framing = false;
    }
    if (length < 256) {
      this.reserve(2 + length);
      this.buf[this.pos++] = shortOp;
      this.buf[this.pos++] = length;
    } else if (length <= 0xffffffff) {
      this.reserve(5 + length);
      this.buf[this.pos++] = op32;
      this.buf.writeUInt32LE(length, this.pos);
      this.pos += 4;
    } else {
      this.reserve(9 + length);
      this.buf[this.pos++] = op64;
      this.buf.writeUInt32LE(length >>> 0, this.pos);
      this.buf.writeUInt32LE(Math.floor(length / 0x100000000), this.pos + 4);
      this.pos += 8;
    }
  }

  private endLarge(length: number): void {
    if (length >= FRAME_SIZE_TARGET) this.framing = true;
  }

  // ---- memo ----------------------------------------------------------------------------------------------

  private memoize(): number {
    this.byte(Op.MEMOIZE);
    return this.memoCount++;
  }

  private writeGet(index: number): void {
    if (index < 256) {
      this.reserve(2);
      this.buf[this.pos++] = Op.BINGET;
      this.buf[this.pos++] = index;
    } else {
      this.reserve(5);
      this.buf[this.pos++] = Op.LONG_BINGET;
      this.buf.writeUInt32LE(index, this.pos);
      this.pos += 4;
    }
  }

  // ---- save ----------------------------------------------------------------------------------------------

  /** CPython's save(): one value, with its container's hints (integral float? a separate string object?). */
  private save(value: unknown, isFloat = false, distinct = false): void {
    this.boundary();
    switch (typeof value) {
      case "string":
        this.saveStr(value, distinct);
        return;
      case "number":
        if (isFloat || !isPythonInt(value)) this.saveFloat(value);
        else this.saveInt(value);
        return;
      case "boolean":
        this.byte(value ? Op.NEWTRUE : Op.NEWFALSE);
        return;
      case "bigint":
        this.saveBigInt(value);
        return;
      case "undefined":
        this.byte(Op.NONE);
        return;
      case "object":
        if (value === null) this.byte(Op.NONE);
        else this.saveObject(value);
        return;
      default:
        throw new PickleEncodeError("ERR_CODEC_UNSUPPORTED_TYPE", `cannot pickle a ${typeof value}`);
    }
  }

  private saveStr(text: string, distinct: boolean): void {
    const entry = this.strMemo.get(text);
    const known = entry !== undefined && entry.stamp === this.stamp;
    if (known && !distinct) {
      this.writeGet(entry.index);
      return;
    }
    this.writeStr(text);
    const index = this.memoize();
    if (entry === undefined) this.strMemo.set(text, { stamp: this.stamp, index });
    else if (!known) {
      entry.stamp = this.stamp;
      entry.index = index;
    }
  }

  /** A str object of its own (a C type's __qualname__, a method name): written and memoized, never shared. */
  private saveFreshStr(text: string): void {
    this.writeStr(text);
    this.memoize();
  }

  private writeStr(text: string): void {
    const n = text.length;
    if (n <= SHORT_STR_CHARS) {
      // At most 255 UTF-8 bytes: SHORT_BINUNICODE, its length patched in after writing.
      this.reserve(2 + 3 * n);
      const buf = this.buf;
      const at = this.pos;
      buf[at] = Op.SHORT_BINUNICODE;
      let p = at + 2;
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i < n) p = at + 2 + (wellFormed(text) ? buf.write(text, at + 2, "utf8") : encodeSurrogatePass(text, buf, at + 2));
      buf[at + 1] = p - at - 2;
      this.pos = p;
      return;
    }
    const length = Buffer.byteLength(text, "utf8");
    this.writeSized(Op.SHORT_BINUNICODE, Op.BINUNICODE, Op.BINUNICODE8, length);
    this.grow(length);
    if (wellFormed(text)) this.buf.write(text, this.pos, "utf8");
    else encodeSurrogatePass(text, this.buf, this.pos);
    this.pos += length;
    this.endLarge(length);
  }

  private saveBytes(bytes: Uint8Array): void {
    const length = bytes.length;
    this.writeSized(Op.SHORT_BINBYTES, Op.BINBYTES, Op.BINBYTES8, length);
    this.grow(length);
    this.buf.set(bytes, this.pos);
    this.pos += length;
    this.endLarge(length);
    this.objMemo.set(bytes, this.memoize());
  }

  private saveFloat(value: number): void {
    this.reserve(9);
    const p = this.pos;
    this.buf[p] = Op.BINFLOAT;
    this.view.setFloat64(p + 1, value); // big-endian, as pickle wants
    this.pos = p + 9;
  }

  private saveInt(value: number): void {
    if (value >= 0 && value <= 0xff) {
      this.reserve(2);
      this.buf[this.pos++] = Op.BININT1;
      this.buf[this.pos++] = value;
    } else if (value >= 0 && value <= 0xffff) {
      this.reserve(3);
      this.buf[this.pos++] = Op.BININT2;
      this.buf[this.pos++] = value & 0xff;
      this.buf[this.pos++] = value >> 8;
    } else if (value >= -0x80000000 && value <= 0x7fffffff) {
      this.reserve(5);
      this.buf[this.pos++] = Op.BININT;
      this.buf.writeInt32LE(value, this.pos);
      this.pos += 4;
    } else {
      this.saveLong(BigInt(value));
    }
  }

  private saveBigInt(value: bigint): void {
    if (value >= -0x80000000n && value <= 0x7fffffffn) this.saveInt(Number(value));
    else this.saveLong(value);
  }

  /** LONG1 / LONG4: the shortest little-endian two's complement, as pickle.encode_long. */
  private saveLong(value: bigint): void {
    const negative = value < 0n;
    const magnitude = negative ? -value : value;
    let nbytes = (magnitude.toString(2).length >> 3) + 1;
    const twos = negative ? (1n << BigInt(nbytes * 8)) + value : value;
    const bytes = Buffer.from(twos.toString(16).padStart(nbytes * 2, "0"), "hex").reverse();
    if (negative && nbytes > 1 && bytes[nbytes - 1] === 0xff && (bytes[nbytes - 2]! & 0x80) !== 0) nbytes--;
    if (nbytes < 256) {
      this.reserve(2 + nbytes);
      this.buf[this.pos++] = Op.LONG1;
      this.buf[this.pos++] = nbytes;
    } else {
      this.reserve(5 + nbytes);
      this.buf[this.pos++] = Op.LONG4;
      this.buf.writeInt32LE(nbytes, this.pos);
      this.pos += 4;
    }
    bytes.copy(this.buf, this.pos, 0, nbytes);
    this.pos += nbytes;
  }

  private saveObject(value: object): void {
    const known = this.objMemo.get(value);
    if (known !== undefined) {
      this.writeGet(known);
      return;
    }
    if (++this.depth > this.maxDepth) throw new PickleEncodeError("ERR_CODEC_DEPTH_EXCEEDED", `nesting deeper than ${this.maxDepth}`);
    if (Array.isArray(value)) {
      if (value instanceof Tuple) this.saveTuple(value);
      else this.saveList(value);
    } else {
      const prototype = Object.getPrototypeOf(value) as object | null;
      const info = prototype === null ? undefined : classInfo.get(prototype);
      if (info) this.saveInstance(value as Record<string, unknown>, info);
      else if (value instanceof DateTime) this.saveDateTime(value);
      else if (prototype === Object.prototype || prototype === null) {
        if (isTimeZone(value)) this.saveZone(value);
        else this.saveDict(value as Record<string, unknown>);
      } else if (value instanceof PyEnum) this.saveEnum(value);
      else if (value instanceof Uint8Array) this.saveBytes(value);
      else if (value instanceof Map) this.saveMap(value);
      else if (value instanceof Set) this.saveSet(value);
      else if (value instanceof PyFloat) this.saveFloat(value.value);
      else if (value instanceof PyObject) this.savePlaceholder(value);
      else if (value instanceof PyGlobal) this.saveGlobal(value.module, value.name, true);
      else if (value instanceof TimeDelta) this.saveTimeDelta(value.days, value.seconds, value.microseconds, value);
      else if (value instanceof BarSeries) this.saveSeries(value); // a list of BarData to Python
      else {
        const name = (prototype as { constructor?: { name?: string } } | null)?.constructor?.name ?? "object";
        throw new PickleEncodeError("ERR_CODEC_UNSUPPORTED_TYPE", `cannot pickle a ${name}`);
      }
    }
    this.depth--;
  }

  private saveTuple(t: Tuple): void {
    const n = t.length;
    if (n === 0) {
      this.byte(Op.EMPTY_TUPLE); // the empty tuple is never memoized
      return;
    }
    const hints = (t as Hinted)[HINTS];
    const floats = hints && SlotHints.of(hints.floats, n);
    const distinct = hints && SlotHints.of(hints.distinct, n);
    if (n > 3) this.byte(Op.MARK);
    for (let i = 0; i < n; i++) this.save(t[i], floats !== undefined && floats.has(i), distinct !== undefined && distinct.has(i));
    const recursive = this.objMemo.get(t);
    if (recursive !== undefined) {
      // The tuple was reached through its own items: drop them and reference the copy already made.
      if (n > 3) this.byte(Op.POP_MARK);
      else for (let i = 0; i < n; i++) this.byte(Op.POP);
      this.writeGet(recursive);
      return;
    }
    this.byte(n > 3 ? Op.TUPLE : Op.TUPLE1 + n - 1);
    this.objMemo.set(t, this.memoize());
  }

  /** `identity`: what a second reference to this list is (the series a list was made from). */
  private saveList(list: unknown[], identity: object = list): void {
    this.byte(Op.EMPTY_LIST);
    this.objMemo.set(identity, this.memoize());
    const n = list.length;
    if (n === 0) return;
    const hints = (list as Hinted)[HINTS];
    const floats = hints && SlotHints.of(hints.floats, n);
    const distinct = hints && SlotHints.of(hints.distinct, n);
    this.appendItems(n, (i) => this.save(list[i], floats !== undefined && floats.has(i), distinct !== undefined && distinct.has(i)));
  }

  /**
   * The items of a list of `n` > 0 after its EMPTY_LIST, as CPython's batch_list_exact writes them: one item is
   * APPEND, more are MARK ... APPENDS per 1000 (the sliced encoder walks the same steps).
   */
  private appendItems(n: number, write: (i: number) => void): void {
    if (n === 1) {
      write(0);
      this.byte(Op.APPEND);
      return;
    }
    let i = 0;
    do {
      this.byte(Op.MARK);
      const stop = Math.min(n, i + BATCH_SIZE);
      for (; i < stop; i++) write(i);
      this.byte(Op.APPENDS);
    } while (i < n);
  }

  /** A BarSeries as saveList writes the list of its bars, a bar at a time through one reused BarData. */
  private saveSeries(series: BarSeries): void {
    this.byte(Op.EMPTY_LIST);
    this.objMemo.set(series, this.memoize());
    const n = series.length;
    if (n === 0) return;
    const bar = series.at(0);
    this.appendItems(n, (i) => {
      series.fill(bar, i);
      this.saveTransient(bar); // its boundary() is where save() puts one
      this.objMemo.delete(bar.datetime);
    });
  }

  /** A plain object: a dict with str keys. */
  private saveDict(dict: Record<string, unknown>): void {
    this.byte(Op.EMPTY_DICT);
    this.objMemo.set(dict, this.memoize());
    this.saveItems(dict, Object.keys(dict), undefined);
  }

  /**
   * The items of a dict (or of an instance __dict__), batched as CPython's batch_dict_exact: a lone item is
   * SETITEM, otherwise MARK ... SETITEMS per 1000, with a trailing empty batch when the count is a multiple of 1000.
   */
  private saveItems(dict: Record<string, unknown>, keys: string[], enumKinds: ReadonlyMap<string, EnumName> | undefined): void {
    const n = keys.length;
    if (n === 0) return;
    const hints = (dict as Hinted)[HINTS];
    const floats = hints && SlotHints.of(hints.floats, keys);
    const distinct = hints && SlotHints.of(hints.distinct, keys);
    if (n === 1) {
      this.saveItem(dict, keys[0]!, enumKinds, floats, distinct);
      this.byte(Op.SETITEM);
      return;
    }
    let i = 0;
    let batch: number;
    do {
      this.byte(Op.MARK);
      batch = 0;
      for (; i < n && batch < BATCH_SIZE; i++, batch++) this.saveItem(dict, keys[i]!, enumKinds, floats, distinct);
      this.byte(Op.SETITEMS);
    } while (batch === BATCH_SIZE);
  }

  private saveItem(
    dict: Record<string, unknown>,
    key: string,
    enumKinds: ReadonlyMap<string, EnumName> | undefined,
    floats: SlotHints | undefined,
    distinct: SlotHints | undefined,
  ): void {
    this.boundary();
    this.saveStr(key, false);
    let value = dict[key];
    if (enumKinds !== undefined && typeof value === "string") {
      const kind = enumKinds.get(key);
      if (kind !== undefined) value = this.enumMember(kind, key, value);
    }
    // Both cursors must see every key, in order.
    const isFloat = floats !== undefined && floats.has(key);
    const isDistinct = distinct !== undefined && distinct.has(key);
    this.save(value, isFloat, isDistinct);
  }

  /**
   * An instance's fields as saveItems writes them, through its class's layout: each field name's memo entry without
   * a lookup by name, its bytes cached, and its value read in a for-in, where V8 loads `instance[key]` from the
   * object's enum cache instead of looking the name up.
   */
  private saveFields(instance: Record<string, unknown>, layout: FieldLayout): void {
    const { entries, written, enumKinds } = layout;
    const single = entries.length === 1;
    if (!single) this.byte(Op.MARK);
    let i = 0;
    for (const key in instance) {
      this.boundary();
      const entry = entries[i]!;
      if (entry.stamp === this.stamp) this.writeGet(entry.index);
      else {
        const bytes = written[i];
        if (bytes !== undefined) this.writeWords(bytes);
        else written[i] = this.writeStrKept(key);
        entry.index = this.memoCount++;
        entry.stamp = this.stamp;
      }
      let value = instance[key];
      const kind = enumKinds[i++];
      if (kind !== undefined && typeof value === "string") value = this.enumMember(kind, key, value);
      this.save(value, false, false);
    }
    this.byte(single ? Op.SETITEM : Op.SETITEMS);
  }

  /**
   * The layout of `instance`'s fields when saveFields can write them: its own keys are those a for-in walks, fewer
   * than a batch, and it carries no hints from a decode. Made anew for keys unlike those of the class's last few.
   */
  private layoutOf(instance: Record<string, unknown>, info: ClassInfo): FieldLayout | undefined {
    if ((instance as Hinted)[HINTS] !== undefined) return undefined;
    let known = this.layouts.get(info);
    if (known === undefined) this.layouts.set(info, (known = []));
    for (const layout of known) if (forInWalks(instance, layout.keys)) return layout;
    const keys = Object.keys(instance);
    if (keys.length >= BATCH_SIZE || !forInWalks(instance, keys)) return undefined;
    const layout: FieldLayout = {
      keys,
      entries: keys.map((key) => {
        let entry = this.strMemo.get(key);
        if (entry === undefined) this.strMemo.set(key, (entry = { stamp: 0, index: 0 }));
        return entry;
      }),
      written: keys.map(() => undefined),
      enumKinds: keys.map((key) => info.enumKinds.get(key)),
    };
    known.unshift(layout);
    if (known.length > LAYOUTS_PER_CLASS) known.pop();
    return layout;
  }

  private enumMember(kind: EnumName, field: string, value: string): PyEnum {
    const member = PyEnum.fromValue(kind, value);
    if (!member) throw new PickleEncodeError("ERR_CODEC_BAD_ENUM_VALUE", `${field}=${JSON.stringify(value)} is not a ${kind}`);
    return member;
  }

  private saveMap(map: Map<unknown, unknown>): void {
    this.byte(Op.EMPTY_DICT);
    this.objMemo.set(map, this.memoize());
    const n = map.size;
    if (n === 0) return;
    const hints = (map as Hinted)[HINTS];
    const order = hints ? [...map.keys()] : [];
    const floats = hints && SlotHints.of(hints.floats, order);
    const distinct = hints && SlotHints.of(hints.distinct, order);
    const entries = map.entries();
    const item = (key: unknown, value: unknown): void => {
      this.save(key);
      const isFloat = floats !== undefined && floats.has(key);
      const isDistinct = distinct !== undefined && distinct.has(key);
      this.save(value, isFloat, isDistinct);
    };
    if (n === 1) {
      const [key, value] = entries.next().value as [unknown, unknown];
      item(key, value);
      this.byte(Op.SETITEM);
      return;
    }
    let batch: number;
    do {
      this.byte(Op.MARK);
      batch = 0;
      for (let next = entries.next(); !next.done; next = entries.next()) {
        item(next.value[0], next.value[1]);
        if (++batch === BATCH_SIZE) break;
      }
      this.byte(Op.SETITEMS);
    } while (batch === BATCH_SIZE);
  }

  private saveSet(set: Set<unknown>): void {
    this.byte(Op.EMPTY_SET);
    this.objMemo.set(set, this.memoize());
    if (set.size === 0) return;
    const items = set.values();
    let batch: number;
    do {
      this.byte(Op.MARK);
      batch = 0;
      for (let next = items.next(); !next.done; next = items.next()) {
        this.save(next.value);
        if (++batch === BATCH_SIZE) break;
      }
      this.byte(Op.ADDITEMS);
    } while (batch === BATCH_SIZE);
  }

  /** STACK_GLOBAL, memoized by name. A C type's __qualname__ is a new str each time; a Python class's is shared. */
  private saveGlobal(module: string, name: string, sharedName: boolean, key = `${module}\n${name}`): void {
    this.boundary();
    const known = lookup(this.globalMemo, key, this.stamp);
    if (known >= 0) {
      this.writeGet(known);
      return;
    }
    this.boundary();
    this.saveStr(module, false);
    this.boundary();
    if (sharedName) this.saveStr(name, false);
    else this.saveFreshStr(name);
    this.byte(Op.STACK_GLOBAL);
    remember(this.globalMemo, key, this.stamp, this.memoize());
  }

  /**
   * copyreg.__reduce_ex__ of a dataclass: cls.__new__(cls) then BUILD with the whole instance __dict__.
   * `remember` false: the memo slot is numbered but not kept for the object (saveTransient).
   */
  private saveInstance(instance: Record<string, unknown>, info: ClassInfo, remember = true): void {
    this.saveGlobal(info.module, info.name, true, info.globalKey);
    this.boundary();
    this.byte(Op.EMPTY_TUPLE);
    this.byte(Op.NEWOBJ);
    const index = this.memoize();
    if (remember) this.objMemo.set(instance, index);
    const layout = this.layoutOf(instance, info);
    const keys = layout?.keys ?? Object.keys(instance);
    if (keys.length === 0) return; // an empty __dict__ pickles as state None: no BUILD
    this.boundary();
    this.byte(Op.EMPTY_DICT);
    this.memoize(); // the __dict__ itself: nothing else refers to it
    if (layout !== undefined) this.saveFields(instance, layout);
    else this.saveItems(instance, keys, info.enumKinds);
    this.byte(Op.BUILD);
  }

  /** By member name, `getattr(Direction, 'LONG')`: loads in any CPython 3 and in either locale. */
  private saveEnum(member: PyEnum): void {
    this.saveGlobal("builtins", "getattr", false, "builtins\ngetattr");
    this.boundary();
    let key = ENUM_GLOBAL_KEYS.get(member.enumName);
    if (key === undefined) ENUM_GLOBAL_KEYS.set(member.enumName, (key = `${CONSTANT_MODULE}\n${member.enumName}`));
    this.saveGlobal(CONSTANT_MODULE, member.enumName, true, key);
    this.boundary();
    this.saveStr(member.name, false);
    this.byte(Op.TUPLE2);
    this.memoize();
    this.byte(Op.REDUCE);
    this.objMemo.set(member, this.memoize());
  }

  /** datetime.datetime(<10 bytes>[, tzinfo]). */
  private saveDateTime(dt: DateTime): void {
    this.saveGlobal("datetime", "datetime", false, "datetime\ndatetime");
    this.boundary(); // the arguments tuple
    this.boundary();
    this.writeSized(Op.SHORT_BINBYTES, Op.BINBYTES, Op.BINBYTES8, 10);
    const b = this.buf;
    let p = this.pos;
    b[p++] = dt.year >> 8;
    b[p++] = dt.year & 0xff;
    b[p++] = dt.month | (dt.fold ? 0x80 : 0);
    b[p++] = dt.day;
    b[p++] = dt.hour;
    b[p++] = dt.minute;
    b[p++] = dt.second;
    b[p++] = dt.microsecond >> 16;
    b[p++] = (dt.microsecond >> 8) & 0xff;
    b[p++] = dt.microsecond & 0xff;
    this.pos = p;
    this.memoize();
    const zone = dt.tzinfo;
    if (zone) {
      this.boundary();
      this.saveZone(zone);
    }
    this.byte(zone ? Op.TUPLE2 : Op.TUPLE1);
    this.memoize();
    this.byte(Op.REDUCE);
    this.objMemo.set(dt, this.memoize());
  }

  private saveZone(zone: TimeZone): void {
    if (zone.kind === "zoneinfo") {
      // ZoneInfo(key) is cached by key in Python: one object per key, so memoized by key.
      const known = lookup(this.zoneMemo, zone.key, this.stamp);
      if (known >= 0) {
        this.writeGet(known);
        return;
      }
      // getattr(ZoneInfo, '_unpickle')(key, 1)
      this.boundary();
      this.saveGlobal("builtins", "getattr", false, "builtins\ngetattr");
      this.boundary();
      this.saveGlobal("zoneinfo", "ZoneInfo", false, "zoneinfo\nZoneInfo");
      this.boundary();
      this.saveFreshStr("_unpickle");
      this.byte(Op.TUPLE2);
      this.memoize();
      this.byte(Op.REDUCE);
      this.memoize();
      this.boundary();
      this.boundary();
      this.saveStr(zone.key, false);
      this.boundary();
      this.saveInt(1);
      this.byte(Op.TUPLE2);
      this.memoize();
      this.byte(Op.REDUCE);
      remember(this.zoneMemo, zone.key, this.stamp, this.memoize());
      return;
    }
    const known = this.objMemo.get(zone);
    if (known !== undefined) {
      this.writeGet(known);
      return;
    }
    // datetime.timezone(timedelta(...)[, name])
    const offset = zone.kind === "utc" ? 0 : zone.offsetMicros;
    if (!Number.isSafeInteger(offset) || Math.abs(offset) >= 86_400_000_000) {
      throw new PickleEncodeError("ERR_CODEC_BAD_VALUE", "a timezone offset must be whole microseconds strictly within a day");
    }
    this.saveGlobal("datetime", "timezone", false, "datetime\ntimezone");
    this.boundary();
    const delta = TimeDelta.fromMicros(offset);
    this.boundary();
    this.saveTimeDelta(delta.days, delta.seconds, delta.microseconds, undefined);
    const name = zone.kind === "fixed" ? zone.name : undefined;
    if (name !== undefined) {
      this.boundary();
      this.saveStr(name, false);
    }
    this.byte(name !== undefined ? Op.TUPLE2 : Op.TUPLE1);
    this.memoize();
    this.byte(Op.REDUCE);
    this.objMemo.set(zone, this.memoize());
  }

  private saveTimeDelta(days: number, seconds: number, micros: number, identity: object | undefined): void {
    this.saveGlobal("datetime", "timedelta", false, "datetime\ntimedelta");
    this.boundary();
    for (const part of [days, seconds, micros]) {
      this.boundary();
      this.saveInt(part);
    }
    this.byte(Op.TUPLE3);
    this.memoize();
    this.byte(Op.REDUCE);
    const index = this.memoize();
    if (identity) this.objMemo.set(identity, index);
  }

  /** An inert placeholder pickles back into the call it came from. */
  private savePlaceholder(obj: PyObject): void {
    this.save(obj.callable);
    this.save(obj.args);
    this.byte(obj.via === "newobj" ? Op.NEWOBJ : Op.REDUCE);
    const recursive = this.objMemo.get(obj);
    if (recursive !== undefined) {
      this.byte(Op.POP);
      this.writeGet(recursive);
      return;
    }
    this.objMemo.set(obj, this.memoize());
    if (obj.listItems) {
      const items = obj.listItems;
      for (let i = 0; i < items.length; i += BATCH_SIZE) {
        const stop = Math.min(items.length, i + BATCH_SIZE);
        if (stop - i > 1) this.byte(Op.MARK);
        for (let j = i; j < stop; j++) this.save(items[j]);
        this.byte(stop - i > 1 ? Op.APPENDS : Op.APPEND);
      }
    }
    if (obj.dictItems) {
      const entries = [...obj.dictItems];
      for (let i = 0; i < entries.length; i += BATCH_SIZE) {
        const stop = Math.min(entries.length, i + BATCH_SIZE);
        if (stop - i > 1) this.byte(Op.MARK);
        for (let j = i; j < stop; j++) {
          this.save(entries[j]![0]);
          this.save(entries[j]![1]);
        }
        this.byte(stop - i > 1 ? Op.SETITEMS : Op.SETITEM);
      }
    }
    if (obj.state !== undefined) {
      this.save(obj.state);
      this.byte(Op.BUILD);
    }
  }
}

const shared = new Pickler();

/**
 * Pickles a value as CPython's `pickle.dumps(value, 4)` would pickle its Python counterpart (see index.ts for
 * the mapping). Throws PickleEncodeError for what has no Python counterpart.
 */
export function encodePickle(value: unknown, options?: EncodeOptions): Buffer {
  const protocol = options?.protocol ?? 4;
  if (protocol !== 4 && protocol !== 5) throw new RangeError(`protocol must be 4 or 5, got ${String(protocol)}`);
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) throw new RangeError(`maxDepth must be a positive integer, got ${String(maxDepth)}`);
  // A getter on a value could call encodePickle again: a busy shared encoder is never re-entered.
  const headroom = options?.headroom ?? 0;
  if (!Number.isSafeInteger(headroom) || headroom < 0) throw new RangeError(`headroom must be a whole number of bytes, got ${String(headroom)}`);
  const pickler = shared.busy ? new Pickler() : shared;
  return pickler.encode(value, protocol, maxDepth, headroom);
}

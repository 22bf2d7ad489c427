/**
 * The pickle decoder: a loop over the bytes with one switch, a manual value stack and the memo.
 *
 * Safe by construction: globals are looked up in the allow-list (globals.ts) and every "call" a pickle asks
 * for is the codec's own imitation of that callable (calls.ts); nothing is imported or executed. Every input either
 * decodes or throws a PickleDecodeError; work and memory are linear in the input size.
 */
import { PickleDecodeError, PickleSecurityError } from "./errors.js";
import { isPlainObject, newObject, reduce, resolveGlobal, setOwn, typeName, type CallSite } from "./calls.js";
import { HIGHEST_PROTOCOL, Op } from "./opcodes.js";
import { learnShape, shapeOf, type ClassShape } from "./shapes.js";
import { parseFloatText, parseIndex, parseIntText, pythonStringLiteral, rawUnicodeEscape, toInt } from "./text-opcodes.js";
import { CACHE_SLOTS, decodeUtf8, lastDecoded } from "./utf8.js";
import { HINTS, PyEnum, PyObject, Tuple, asTuple, attachHints, type Hinted, type Slot } from "./values.js";

export type DecodeMode = "request" | "event";

export interface DecodeLimits {
  /** Largest accepted frame, in bytes. */
  maxBytes: number;
  /** Deepest nesting of containers. */
  maxDepth: number;
  /** Highest memo index (MEMOIZE / PUT). */
  maxMemo: number;
  /** Most items in one list, tuple, dict or set. */
  maxContainerLength: number;
  /** Longest integer (LONG1 / LONG4), in bytes. */
  maxIntBytes: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxDepth: 1000,
  maxMemo: 1 << 22,
  maxContainerLength: 1 << 22,
  maxIntBytes: 1024,
});

export interface DecodeOptions {
  /**
   * "request": strict, for requests from clients: a global outside the allow-list is a PickleSecurityError.
   * "event": lenient, for replies and events from a Python server: objects of unknown classes become inert
   * PyObject placeholders (nothing is ever called), so app payloads keep flowing.
   */
  mode: DecodeMode;
  limits?: Partial<DecodeLimits>;
  /** Sees every global the pickle names, before it is resolved (auditing, tests). */
  onGlobal?: (module: string, name: string, allowed: boolean) => void;
}

/**
 * Meta word per stack slot and memo entry: flag bits, then the nesting depth. A const enum, so the values are
 * inlined as literals: module-level constants cost a context load and a TDZ check at every use in the loop.
 */
const enum Meta {
  FLOAT = 1,
  DISTINCT = 2,
  /**
   * A tuple is built as a plain array and only becomes a Tuple (in place, so identity holds) when it lands in
   * a container or is returned: most tuples are REDUCE arguments that never reach the user, and constructing
   * an Array subclass is slow.
   */
  TUPLE = 4,
  /** An instance made by NEWOBJ that BUILD has not filled yet (stack slots only). */
  PENDING = 8,
  /** A dict just made by EMPTY_DICT right above a PENDING instance: its items go straight into the instance. */
  INTO_INSTANCE = 16,
  /** Such a dict after its first SETITEMS: later batches (objects of over 1000 attributes) add to the instance. */
  STATE_STARTED = 32,
  DEPTH_SHIFT = 6,
  DEPTH_ONE = 64,
  DEPTH_MASK = ~63,
  FLAGS = 63,
}

const EMPTY = Buffer.alloc(0);
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
if (new Uint16Array(new Uint8Array([1, 0]).buffer)[0] !== 1) throw new Error("the codec assumes a little-endian host");



/** A string key that a plain JS object keeps in insertion order (array-index-like keys would be moved first). */
function isPlainKey(key: unknown): key is string {
  if (typeof key !== "string") return false;
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57) return true;
  return !/^(?:0|[1-9]\d{0,9})$/.test(key) || Number(key) >= 4294967295;
}



class Unpickler implements CallSite {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  private opStart = 0;
  private stack: unknown[] = [];
  private meta = new Int32Array(64);
  private sp = 0;
  private stackHigh = 0;
  private marks: number[] = [];
  private memo: unknown[] = [];
  private memoMeta = new Int32Array(64);
  private memoCount = 0;
  /** Highest memo index used + 1: the part of `memo` to clear afterwards. */
  private memoHigh = 0;
  /** Strings memoized so far, to spot a second copy of the same text (see seenBefore). */
  private readonly seenSlotEpoch = new Int32Array(CACHE_SLOTS);
  private readonly seenSlotText: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
  private epoch = 0;
  /** The epoch of the decode that memoized an empty string ("" has no cache bucket, and is in every tick). */
  private emptySeenEpoch = 0;
  private seenStrings = new Set<string>();
  /**
   * Classes whose keys changed in this decode: their instances made before the change may hold the older keys (an
   * instance's class tells no more). Other classes' instances are unaffected. Almost always empty.
   */
  private reshaped: ClassShape[] = [];
  /** Stack index of the string pushed last, and its cache slot. */
  private lastStringAt = -1;
  private lastStringSlot = -1;
  private dictSizes = new Map<object, number>();
  /** Dicts turned into Maps after their first non-string key: references still to the old object are forwarded. */
  private forwarded: Map<object, Map<unknown, unknown>> | null = null;
  strict = true;
  private limits: DecodeLimits = DEFAULT_DECODE_LIMITS;
  onGlobal: DecodeOptions["onGlobal"] = undefined;
  busy = false;

  decode(bytes: Buffer, strict: boolean, limits: DecodeLimits, onGlobal: DecodeOptions["onGlobal"]): unknown {
    this.buf = bytes;
    this.pos = 0;
    this.end = bytes.length;
    if (++this.epoch === 0x7fffffff) {
      this.epoch = 1;
      this.seenSlotEpoch.fill(0);
      this.emptySeenEpoch = 0;
    }
    this.strict = strict;
    this.limits = limits;
    this.onGlobal = onGlobal;
    this.busy = true;
    try {
      return this.run();
    } finally {
      this.reset();
    }
  }

  /** Drops every reference to the decoded values; working arrays are kept for the next frame unless one grew large. */
  private reset(): void {
    const large = 1 << 16;
    if (Math.max(this.sp, this.stackHigh) > large) {
      this.stack = [];
      this.meta = new Int32Array(64);
    } else {
      this.stack.fill(undefined, 0, Math.max(this.sp, this.stackHigh));
    }
    this.sp = 0;
    this.stackHigh = 0;
    this.marks.length = 0;
    if (this.memoHigh > large || this.memoMeta.length > large) {
      this.memo = [];
      this.memoMeta = new Int32Array(64);
    } else {
      this.memo.fill(undefined, 0, this.memoHigh);
    }
    this.memoHigh = 0;
    this.memoCount = 0;
    // Fresh collections, not clear(): see Pickler.release().
    if (this.seenStrings.size) this.seenStrings = new Set();
    if (this.dictSizes.size) this.dictSizes = new Map();
    this.lastStringAt = -1;
    if (this.reshaped.length > 0) this.reshaped = [];
    this.forwarded = null;
    this.buf = EMPTY;
    this.onGlobal = undefined;
    this.busy = false;
  }

  fail(code: PickleDecodeError["code"], message: string): never {
    throw new PickleDecodeError(code, message, this.opStart);
  }

  refuse(global: string): never {
    throw new PickleSecurityError(global, this.opStart);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.fail("ERR_CODEC_TRUNCATED", "pickle data was truncated");
  }

  private push(value: unknown, meta: number): void {
    const sp = this.sp;
    if (sp === this.meta.length) {
      const grown = new Int32Array(sp * 2);
      grown.set(this.meta);
      this.meta = grown;
    }
    this.stack[sp] = value;
    this.meta[sp] = meta;
    this.sp = sp + 1;
  }

  /** Bottom of the current MARK segment: Python's stack is empty below it. */
  private base(): number {
    const marks = this.marks;
    return marks.length === 0 ? 0 : marks[marks.length - 1]!;
  }

  private requireItems(n: number): void {
    if (this.sp - this.base() < n) this.fail("ERR_CODEC_MALFORMED", "unpickling stack underflow");
  }

  private popMark(): number {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail("ERR_CODEC_MALFORMED", "could not find MARK");
    return mark;
  }

  private checkLength(n: number): void {
    if (n > this.limits.maxContainerLength) this.fail("ERR_CODEC_CONTAINER_TOO_LARGE", `container of ${n} items exceeds the limit of ${this.limits.maxContainerLength}`);
  }

  /** Depth meta of a container holding children of meta `m` (with `current` its own meta so far). */
  private deeper(current: number, child: number): number {
    const depth = (child >>> Meta.DEPTH_SHIFT) + 1;
    if (depth > this.limits.maxDepth) this.fail("ERR_CODEC_DEPTH_EXCEEDED", `nesting deeper than ${this.limits.maxDepth}`);
    return depth > current >>> Meta.DEPTH_SHIFT ? (depth << Meta.DEPTH_SHIFT) | (current & Meta.FLAGS) : current;
  }

  private run(): unknown {
    const buf = this.buf;
    for (;;) {
      if (this.pos >= this.end) this.fail("ERR_CODEC_TRUNCATED", "pickle data was truncated (no STOP)");
      this.opStart = this.pos;
      const op = buf[this.pos++]!;
      switch (op) {
        case Op.PROTO: {
          this.need(1);
          const proto = buf[this.pos++]!;
          if (proto > HIGHEST_PROTOCOL) this.fail("ERR_CODEC_UNSUPPORTED_PROTOCOL", `unsupported pickle protocol ${proto}`);
          break;
        }
        case Op.FRAME: {
          this.need(8);
          const length = this.readU64();
          if (length > this.end - this.pos) this.fail("ERR_CODEC_TRUNCATED", "pickle data was truncated (frame)");
          break;
        }
        case Op.STOP: {
          this.requireItems(1);
          return this.escape(this.stack[this.sp - 1], this.meta[this.sp - 1]!);
        }
        case Op.MARK:
          this.marks.push(this.sp);
          break;
        case Op.POP:
          if (this.sp > this.base()) this.stack[--this.sp] = undefined;
          else this.popMark();
          break;
        case Op.POP_MARK:
          this.sp = this.popMark();
          break;
        case Op.DUP:
          this.requireItems(1);
          this.push(this.stack[this.sp - 1], this.meta[this.sp - 1]!);
          break;

        case Op.NONE:
          this.push(null, 0);
          break;
        case Op.NEWTRUE:
          this.push(true, 0);
          break;
        case Op.NEWFALSE:
          this.push(false, 0);
          break;
        case Op.BININT1:
          this.need(1);
          this.push(buf[this.pos++], 0);
          break;
        case Op.BININT2:
          this.need(2);
          this.push(buf[this.pos]! | (buf[this.pos + 1]! << 8), 0);
          this.pos += 2;
          break;
        case Op.BININT:
          this.need(4);
          this.push(buf.readInt32LE(this.pos), 0);
          this.pos += 4;
          break;
        case Op.LONG1: {
          this.need(1);
          const n = buf[this.pos++]!;
          this.push(this.readLong(n), 0);
          break;
        }
        case Op.LONG4: {
          this.need(4);
          const n = buf.readInt32LE(this.pos);
          this.pos += 4;
          if (n < 0) this.fail("ERR_CODEC_MALFORMED", "LONG pickle has negative byte count");
          this.push(this.readLong(n), 0);
          break;
        }
        case Op.BINFLOAT: {
          this.need(8);
          // Big-endian on the wire; the scratch is little-endian (checked at load).
          const p = this.pos;
          float64Bytes[7] = buf[p]!;
          float64Bytes[6] = buf[p + 1]!;
          float64Bytes[5] = buf[p + 2]!;
          float64Bytes[4] = buf[p + 3]!;
          float64Bytes[3] = buf[p + 4]!;
          float64Bytes[2] = buf[p + 5]!;
          float64Bytes[1] = buf[p + 6]!;
          float64Bytes[0] = buf[p + 7]!;
          const value = float64[0]!;
          this.pos = p + 8;
          this.push(value, Number.isSafeInteger(value) ? Meta.FLOAT : 0);
          break;
        }
        case Op.INT: {
          const text = this.readLine();
          if (text === "00") this.push(false, 0);
          else if (text === "01") this.push(true, 0);
          else this.push(parseIntText(text, this.opStart), 0);
          break;
        }
        case Op.LONG: {
          const text = this.readLine();
          this.push(parseIntText(text.endsWith("L") ? text.slice(0, -1) : text, this.opStart), 0);
          break;
        }
        case Op.FLOAT: {
          const value = parseFloatText(this.readLine(), this.opStart);
          this.push(value, Number.isSafeInteger(value) ? Meta.FLOAT : 0);
          break;
        }

        case Op.SHORT_BINUNICODE: {
          this.need(1);
          const n = buf[this.pos++]!;
          this.need(n);
          this.pushString(decodeUtf8(buf, this.pos, this.pos + n, this.opStart));
          this.pos += n;
          break;
        }
        case Op.BINUNICODE: {
          this.need(4);
          const n = buf.readUInt32LE(this.pos);
          this.pos += 4;
          this.need(n);
          this.pushString(decodeUtf8(buf, this.pos, this.pos + n, this.opStart));
          this.pos += n;
          break;
        }
        case Op.BINUNICODE8: {
          this.need(8);
          const n = this.readU64();
          this.need(n);
          this.pushString(decodeUtf8(buf, this.pos, this.pos + n, this.opStart));
          this.pos += n;
          break;
        }
        case Op.UNICODE:
          this.push(rawUnicodeEscape(this.readLine(), this.opStart), 0);
          break;
        case Op.SHORT_BINSTRING: {
          // Python 2 str: decoded as latin-1 so every byte survives.
          this.need(1);
          const n = buf[this.pos++]!;
          this.need(n);
          this.push(buf.toString("latin1", this.pos, this.pos + n), 0);
          this.pos += n;
          break;
        }
        case Op.BINSTRING: {
          this.need(4);
          const n = buf.readInt32LE(this.pos);
          this.pos += 4;
          if (n < 0) this.fail("ERR_CODEC_MALFORMED", "BINSTRING pickle has negative byte count");
          this.need(n);
          this.push(buf.toString("latin1", this.pos, this.pos + n), 0);
          this.pos += n;
          break;
        }
        case Op.STRING:
          this.push(pythonStringLiteral(this.readLine(), this.opStart), 0);
          break;
        case Op.SHORT_BINBYTES: {
          this.need(1);
          const n = buf[this.pos++]!;
          this.push(this.readBytes(n), 0);
          break;
        }
        case Op.BINBYTES: {
          this.need(4);
          const n = buf.readUInt32LE(this.pos);
          this.pos += 4;
          this.push(this.readBytes(n), 0);
          break;
        }
        case Op.BINBYTES8:
        case Op.BYTEARRAY8: {
          this.need(8);
          const n = this.readU64();
          this.push(this.readBytes(n), 0);
          break;
        }

        case Op.EMPTY_TUPLE:
          this.push([], Meta.DEPTH_ONE | Meta.TUPLE);
          break;
        case Op.TUPLE1:
        case Op.TUPLE2:
        case Op.TUPLE3: {
          const n = op - Op.TUPLE1 + 1;
          this.requireItems(n);
          this.makeTuple(this.sp - n);
          break;
        }
        case Op.TUPLE:
          this.makeTuple(this.popMark());
          break;
        case Op.EMPTY_LIST:
          this.push([], Meta.DEPTH_ONE);
          break;
        case Op.LIST: {
          const mark = this.popMark();
          const list: unknown[] = [];
          const m = this.appendItems(list, Meta.DEPTH_ONE, mark);
          this.sp = mark;
          this.push(list, m);
          break;
        }
        case Op.APPEND:
          this.requireItems(2);
          this.appendTo(this.sp - 1);
          break;
        case Op.APPENDS: {
          const mark = this.popMark();
          if (mark < 1 || mark - 1 < this.base()) this.fail("ERR_CODEC_MALFORMED", "APPENDS without a list");
          this.appendTo(mark);
          break;
        }
        case Op.EMPTY_DICT: {
          // The state dict of a data object (NEWOBJ, EMPTY_DICT, ..., SETITEMS, BUILD) is written straight into
          // the instance: CPython never refers to a state dict again, so the dict itself stays empty.
          const below = this.sp - 1;
          const into = below >= this.base() && this.sp > 0 && (this.meta[below]! & Meta.PENDING) !== 0 ? Meta.INTO_INSTANCE : 0;
          this.push({}, Meta.DEPTH_ONE | into);
          break;
        }
        case Op.DICT: {
          const mark = this.popMark();
          const dict: Record<string, unknown> = {};
          this.push(dict, Meta.DEPTH_ONE); // above the items: setItems reads the target just below `from`
          // Move the new dict below its items so setItems sees the usual [dict, k, v, ...] layout.
          const sp = this.sp;
          for (let i = sp - 1; i > mark; i--) {
            this.stack[i] = this.stack[i - 1];
            this.meta[i] = this.meta[i - 1]!;
          }
          this.stack[mark] = dict;
          this.meta[mark] = Meta.DEPTH_ONE;
          this.setItems(mark + 1);
          break;
        }
        case Op.SETITEM:
          this.requireItems(3);
          this.setItems(this.sp - 2);
          break;
        case Op.SETITEMS: {
          const mark = this.popMark();
          if (mark < 1 || mark - 1 < this.base()) this.fail("ERR_CODEC_MALFORMED", "SETITEMS without a dict");
          this.setItems(mark);
          break;
        }
        case Op.EMPTY_SET:
          this.push(new Set(), Meta.DEPTH_ONE);
          break;
        case Op.ADDITEMS: {
          const mark = this.popMark();
          if (mark < 1 || mark - 1 < this.base()) this.fail("ERR_CODEC_MALFORMED", "ADDITEMS without a set");
          const target = this.stack[mark - 1];
          if (!(target instanceof Set)) this.fail("ERR_CODEC_MALFORMED", `ADDITEMS on ${typeName(target)}`);
          let m = this.meta[mark - 1]!;
          for (let i = mark; i < this.sp; i++) {
            target.add(this.escape(this.stack[i], this.meta[i]!));
            m = this.deeper(m, this.meta[i]!);
          }
          this.checkLength(target.size);
          this.meta[mark - 1] = m;
          this.truncate(mark);
          break;
        }
        case Op.FROZENSET: {
          const mark = this.popMark();
          const set = new Set<unknown>();
          let m = Meta.DEPTH_ONE;
          for (let i = mark; i < this.sp; i++) {
            set.add(this.escape(this.stack[i], this.meta[i]!));
            m = this.deeper(m, this.meta[i]!);
          }
          this.checkLength(set.size);
          this.truncate(mark);
          this.push(set, m);
          break;
        }

        case Op.BINGET:
          this.need(1);
          this.memoGet(buf[this.pos++]!);
          break;
        case Op.LONG_BINGET:
          this.need(4);
          this.memoGet(buf.readUInt32LE(this.pos));
          this.pos += 4;
          break;
        case Op.GET:
          this.memoGet(parseIndex(this.readLine(), this.opStart));
          break;
        case Op.MEMOIZE:
          this.memoPut(this.memoCount);
          break;
        case Op.BINPUT:
          this.need(1);
          this.memoPut(buf[this.pos++]!);
          break;
        case Op.LONG_BINPUT:
          this.need(4);
          this.memoPut(buf.readUInt32LE(this.pos));
          this.pos += 4;
          break;
        case Op.PUT:
          this.memoPut(parseIndex(this.readLine(), this.opStart));
          break;

        case Op.STACK_GLOBAL: {
          this.requireItems(2);
          const name = this.stack[this.sp - 1];
          const module = this.stack[this.sp - 2];
          if (typeof module !== "string" || typeof name !== "string") this.fail("ERR_CODEC_MALFORMED", "STACK_GLOBAL requires str");
          this.truncate(this.sp - 2);
          this.push(resolveGlobal(this, module, name), 0);
          break;
        }
        case Op.GLOBAL: {
          const module = this.readLine();
          const name = this.readLine();
          this.push(resolveGlobal(this, module, name), 0);
          break;
        }
        case Op.REDUCE: {
          this.requireItems(2);
          const args = this.stack[this.sp - 1] as unknown[];
          const argsMeta = this.meta[this.sp - 1]!;
          const callable = this.stack[this.sp - 2];
          if (!(argsMeta & Meta.TUPLE)) this.fail("ERR_CODEC_MALFORMED", `REDUCE arguments must be a tuple, not ${typeName(args)}`);
          this.truncate(this.sp - 2);
          this.push(reduce(this, callable, args), argsMeta & Meta.DEPTH_MASK);
          break;
        }
        case Op.NEWOBJ: {
          this.requireItems(2);
          const args = this.stack[this.sp - 1] as unknown[];
          const cls = this.stack[this.sp - 2];
          if (!(this.meta[this.sp - 1]! & Meta.TUPLE)) this.fail("ERR_CODEC_MALFORMED", `NEWOBJ arguments must be a tuple, not ${typeName(args)}`);
          this.truncate(this.sp - 2);
          const instance = newObject(this, cls, args);
          this.push(instance, instance instanceof PyObject ? Meta.DEPTH_ONE : Meta.DEPTH_ONE | Meta.PENDING);
          break;
        }
        case Op.NEWOBJ_EX: {
          this.requireItems(3);
          const kwargs = this.stack[this.sp - 1];
          const args = this.stack[this.sp - 2] as unknown[];
          const cls = this.stack[this.sp - 3];
          if (!(this.meta[this.sp - 2]! & Meta.TUPLE)) this.fail("ERR_CODEC_MALFORMED", "NEWOBJ_EX arguments must be a tuple");
          if (!isPlainObject(kwargs) || Object.keys(kwargs).length !== 0) this.fail("ERR_CODEC_UNSUPPORTED_CALL", "NEWOBJ_EX with keyword arguments");
          this.truncate(this.sp - 3);
          this.push(newObject(this, cls, args), Meta.DEPTH_ONE);
          break;
        }
        case Op.INST: {
          const module = this.readLine();
          const name = this.readLine();
          const cls = resolveGlobal(this, module, name);
          this.instantiate(cls, this.popMark());
          break;
        }
        case Op.OBJ: {
          const mark = this.popMark();
          if (this.sp - mark < 1) this.fail("ERR_CODEC_MALFORMED", "OBJ without a class");
          const cls = this.stack[mark];
          this.instantiate(cls, mark + 1, mark);
          break;
        }
        case Op.BUILD: {
          this.requireItems(2);
          const state = this.stack[this.sp - 1];
          const stateMeta = this.meta[this.sp - 1]!;
          const target = this.stack[this.sp - 2];
          const targetMeta = this.meta[this.sp - 2]!;
          this.truncate(this.sp - 1);
          if (stateMeta & Meta.INTO_INSTANCE && targetMeta & Meta.PENDING) this.finishInstance(target as Record<string, unknown>);
          else this.build(target, this.escape(state, stateMeta));
          this.meta[this.sp - 1] = this.meta[this.sp - 1]! & ~Meta.PENDING;
          this.meta[this.sp - 1] = this.deeper(this.meta[this.sp - 1]!, this.meta[this.sp]!);
          break;
        }

        case Op.PERSID:
        case Op.BINPERSID:
          this.fail("ERR_CODEC_UNKNOWN_OPCODE", "persistent IDs are not supported");
          break;
        case Op.EXT1:
        case Op.EXT2:
        case Op.EXT4:
          this.fail("ERR_CODEC_UNKNOWN_OPCODE", "the copyreg extension registry is not supported");
          break;
        case Op.NEXT_BUFFER:
        case Op.READONLY_BUFFER:
          this.fail("ERR_CODEC_UNKNOWN_OPCODE", "out-of-band buffers are not supported");
          break;
        default:
          this.fail("ERR_CODEC_UNKNOWN_OPCODE", `invalid load key 0x${op.toString(16).padStart(2, "0")}`);
      }
    }
  }

  // ---- readers -------------------------------------------------------------------------------------------

  private readU64(): number {
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    // Anything past 2^53 is far beyond any frame we accept; report it as such rather than lose precision.
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
  }

  /** A copy: the caller may reuse its input buffer (a ZeroMQ message) once decoding returns. */
  private readBytes(n: number): Buffer {
    this.need(n);
    const out = Buffer.allocUnsafe(n);
    const buf = this.buf;
    const at = this.pos;
    if (n <= 64) for (let i = 0; i < n; i++) out[i] = buf[at + i]!;
    else buf.copy(out, 0, at, at + n);
    this.pos = at + n;
    return out;
  }

  private readLong(n: number): number | bigint {
    if (n > this.limits.maxIntBytes) this.fail("ERR_CODEC_INT_TOO_LARGE", `integer of ${n} bytes exceeds the limit of ${this.limits.maxIntBytes}`);
    this.need(n);
    const buf = this.buf;
    const at = this.pos;
    this.pos += n;
    if (n === 0) return 0;
    if (n <= 6) {
      let value = 0;
      for (let i = n - 1; i >= 0; i--) value = value * 256 + buf[at + i]!;
      return buf[at + n - 1]! & 0x80 ? value - 2 ** (8 * n) : value;
    }
    let big = BigInt(`0x${Buffer.from(buf.subarray(at, at + n)).reverse().toString("hex")}`);
    if (buf[at + n - 1]! & 0x80) big -= 1n << BigInt(8 * n);
    return toInt(big);
  }

  private readLine(): string {
    const nl = this.buf.indexOf(0x0a, this.pos);
    if (nl < 0 || nl >= this.end) this.fail("ERR_CODEC_TRUNCATED", "pickle data was truncated (line)");
    const text = this.buf.toString("latin1", this.pos, nl);
    this.pos = nl + 1;
    return text;
  }

  // ---- memo ----------------------------------------------------------------------------------------------

  private memoGet(index: number): void {
    let value = index < this.memoHigh ? this.memo[index] : undefined;
    if (value === undefined) this.fail("ERR_CODEC_MALFORMED", `memo key ${index} not found`);
    if (this.forwarded !== null && typeof value === "object" && value !== null) {
      const target = this.forwarded.get(value);
      if (target) this.memo[index] = value = target;
    }
    this.push(value, this.memoMeta[index]!);
  }

  private memoPut(index: number): void {
    if (this.sp <= this.base()) this.fail("ERR_CODEC_MALFORMED", "memoizing an empty stack");
    if (index >= this.limits.maxMemo) this.fail("ERR_CODEC_MEMO_LIMIT", `memo index ${index} exceeds the limit of ${this.limits.maxMemo}`);
    const top = this.sp - 1;
    const value = this.stack[top];
    // Python only pickles a string again (rather than referencing the first copy) when it is another object
    // with the same text; remember that, so pickling the value again writes the same bytes.
    if (typeof value === "string" && this.seenBefore(value, top)) this.meta[top] = this.meta[top]! | Meta.DISTINCT;
    if (index >= this.memoMeta.length) {
      const grown = new Int32Array(Math.max(index + 1, this.memoMeta.length * 2));
      grown.set(this.memoMeta);
      this.memoMeta = grown;
    }
    if (index >= this.memoHigh) this.memoHigh = index + 1;
    if (this.memo[index] === undefined) this.memoCount++;
    this.memo[index] = value;
    this.memoMeta[index] = this.meta[top]! & ~(Meta.PENDING | Meta.INTO_INSTANCE);
  }

  private pushString(text: string): void {
    this.lastStringAt = this.sp;
    this.lastStringSlot = lastDecoded.bucket;
    this.push(text, 0);
  }

  /**
   * Was this text memoized before in this pickle? Records it if not. Cached short strings live in an
   * open-addressing table (probing from their cache bucket; a slot counts only with this decode's epoch);
   * long strings, and any that find no slot within a few probes, in a Set.
   */
  private seenBefore(text: string, at: number): boolean {
    if (text.length === 0) {
      if (this.emptySeenEpoch === this.epoch) return true;
      this.emptySeenEpoch = this.epoch;
      return false;
    }
    let slot = at === this.lastStringAt ? this.lastStringSlot : -1;
    if (slot >= 0) {
      for (let probe = 0; probe < 16; probe++) {
        if (this.seenSlotEpoch[slot] !== this.epoch) {
          this.seenSlotEpoch[slot] = this.epoch;
          this.seenSlotText[slot] = text;
          return false;
        }
        if (this.seenSlotText[slot] === text) return true;
        slot = (slot + 1) & (CACHE_SLOTS - 1);
      }
    }
    if (this.seenStrings.has(text)) return true;
    this.seenStrings.add(text);
    return false;
  }

  /** A value leaving the stack for a container (or the caller): a tuple-to-be becomes a Tuple now. */
  private escape(value: unknown, meta: number): unknown {
    if (meta & Meta.TUPLE) asTuple(value as unknown[]);
    return value;
  }

  /** Drops stack[to..sp). The slots keep their values until overwritten or reset(): clearing costs more than it saves. */
  private truncate(to: number): void {
    if (this.sp > this.stackHigh) this.stackHigh = this.sp;
    this.sp = to;
  }

  // ---- containers ----------------------------------------------------------------------------------------

  private makeTuple(from: number): void {
    const n = this.sp - from;
    this.checkLength(n);
    const items = new Array<unknown>(n);
    let floats: Slot[] | undefined;
    let distinct: Slot[] | undefined;
    let m = Meta.DEPTH_ONE | Meta.TUPLE;
    for (let i = 0; i < n; i++) {
      const im = this.meta[from + i]!;
      items[i] = im & Meta.TUPLE ? this.escape(this.stack[from + i], im) : this.stack[from + i];
      if (im & Meta.FLOAT) (floats ??= []).push(i);
      if (im & Meta.DISTINCT) (distinct ??= []).push(i);
      if (im >= Meta.DEPTH_ONE) m = this.deeper(m, im);
    }
    if (floats || distinct) attachHints(items, floats, distinct);
    this.truncate(from);
    this.push(items, m);
  }

  /** Appends stack[from..sp) to `list`; returns the list's new meta. */
  private appendItems(list: unknown[], meta: number, from: number): number {
    const offset = list.length;
    const n = this.sp - from;
    this.checkLength(offset + n);
    let floats: Slot[] | undefined;
    let distinct: Slot[] | undefined;
    let m = meta;
    for (let i = 0; i < n; i++) {
      const im = this.meta[from + i]!;
      list.push(im & Meta.TUPLE ? this.escape(this.stack[from + i], im) : this.stack[from + i]);
      if (im & Meta.FLOAT) (floats ??= []).push(offset + i);
      if (im & Meta.DISTINCT) (distinct ??= []).push(offset + i);
      if (im >= Meta.DEPTH_ONE) m = this.deeper(m, im);
    }
    if (floats || distinct) attachHints(list, floats, distinct);
    return m;
  }

  /** APPEND / APPENDS: stack[from..sp) go into the list at stack[from - 1]. */
  private appendTo(from: number): void {
    const target = this.stack[from - 1];
    const targetMeta = this.meta[from - 1]!;
    if (Array.isArray(target) && !(targetMeta & Meta.TUPLE) && !(target instanceof Tuple)) {
      this.meta[from - 1] = this.appendItems(target, targetMeta, from);
    } else if (target instanceof PyObject && !this.strict) {
      const items = (target.listItems ??= []);
      this.checkLength(items.length + this.sp - from);
      for (let i = from; i < this.sp; i++) items.push(this.escape(this.stack[i], this.meta[i]!));
    } else {
      this.fail("ERR_CODEC_MALFORMED", `APPEND on ${typeName(target)}`);
    }
    this.truncate(from);
  }

  /** SETITEM / SETITEMS: pairs stack[from..sp) go into the dict at stack[from - 1]. */
  private setItems(from: number): void {
    if ((this.sp - from) % 2 !== 0) this.fail("ERR_CODEC_MALFORMED", "odd number of items for SETITEMS");
    const at = from - 1;
    let target = this.stack[at];
    let m = this.meta[at]!;
    if (m & Meta.INTO_INSTANCE && at - 1 >= this.base() && this.meta[at - 1]! & Meta.PENDING) {
      const started = (m & Meta.STATE_STARTED) !== 0;
      this.meta[at - 1] = this.writeState(this.stack[at - 1] as Record<string, unknown>, from, this.meta[at - 1]!, started);
      this.meta[at] = m | Meta.STATE_STARTED;
      this.truncate(at + 1);
      return;
    }
    if (isPlainObject(target)) {
      const dict = target;
      let floats: Slot[] | undefined;
      let distinct: Slot[] | undefined;
      let i = from;
      for (; i < this.sp; i += 2) {
        const key = this.stack[i];
        if (!isPlainKey(key)) break;
        const vm = this.meta[i + 1]!;
        setOwn(dict, key, vm & Meta.TUPLE ? this.escape(this.stack[i + 1], vm) : this.stack[i + 1]);
        if (vm & Meta.FLOAT) (floats ??= []).push(key);
        if (vm & Meta.DISTINCT) (distinct ??= []).push(key);
        if (vm >= Meta.DEPTH_ONE) m = this.deeper(m, vm);
      }
      if (floats || distinct) attachHints(dict, floats, distinct);
      if (i < this.sp) {
        // A key a plain object cannot hold in order: from now on this dict is a Map.
        const map = this.toMap(dict);
        this.stack[at] = map;
        target = map;
        from = i;
      } else if (i - from > 64 || this.dictSizes.size > 0) {
        // Counting keys would cost O(size) per batch; an upper bound (repeated keys counted twice) is enough.
        const size = (this.dictSizes.get(dict) ?? 0) + (i - from) / 2;
        this.checkLength(size);
        this.dictSizes.set(dict, size);
      }
    }
    if (target instanceof Map) {
      const map = target;
      const floats: Slot[] = [];
      const distinct: Slot[] = [];
      for (let i = from; i < this.sp; i += 2) {
        const km = this.meta[i]!;
        const vm = this.meta[i + 1]!;
        const key = this.escape(this.stack[i], km);
        map.set(key, this.escape(this.stack[i + 1], vm));
        if (vm & Meta.FLOAT) floats.push(key);
        if (vm & Meta.DISTINCT) distinct.push(key);
        if (km >= Meta.DEPTH_ONE) m = this.deeper(m, km);
        if (vm >= Meta.DEPTH_ONE) m = this.deeper(m, vm);
      }
      if (floats.length || distinct.length) attachHints(map, floats.length ? floats : undefined, distinct.length ? distinct : undefined);
      this.checkLength(map.size);
    } else if (target instanceof PyObject && !this.strict) {
      const items = (target.dictItems ??= new Map());
      for (let i = from; i < this.sp; i += 2) items.set(this.escape(this.stack[i], this.meta[i]!), this.escape(this.stack[i + 1], this.meta[i + 1]!));
      this.checkLength(items.size);
    } else if (!isPlainObject(target)) {
      this.fail("ERR_CODEC_MALFORMED", `SETITEM on ${typeName(target)}`);
    }
    this.meta[at] = m;
    this.truncate(at + 1);
  }

  /** Converts a plain-object dict to a Map, keeping order and hints, and forwards memo references to it. */
  private toMap(dict: Record<string, unknown>): Map<unknown, unknown> {
    const map = new Map<unknown, unknown>();
    for (const key of Object.keys(dict)) map.set(key, dict[key]);
    const hints = (dict as Hinted)[HINTS];
    if (hints) attachHints(map, hints.floats?.slice(), hints.distinct?.slice());
    (this.forwarded ??= new Map()).set(dict, map);
    return map;
  }

  /** INST / OBJ (protocols 0 and 1): `cls(*args)`, or `cls.__new__(cls)` when there are no arguments. */
  private instantiate(cls: unknown, from: number, to = from): void {
    const args: unknown[] = [];
    for (let i = from; i < this.sp; i++) args.push(this.escape(this.stack[i], this.meta[i]!));
    this.truncate(to);
    this.push(args.length === 0 ? newObject(this, cls, args) : reduce(this, cls, args), Meta.DEPTH_ONE);
  }

  private build(target: unknown, state: unknown): void {
    if (target instanceof PyObject) {
      if (this.strict) this.fail("ERR_CODEC_MALFORMED", "BUILD on a placeholder");
      target.state = state;
      return;
    }
    const shape = typeof target === "object" && target !== null ? shapeOf(Object.getPrototypeOf(target) as object | null) : undefined;
    if (!shape) this.fail("ERR_CODEC_MALFORMED", `BUILD on ${typeName(target)}`);
    const instance = target as Record<string, unknown>;
    let dictState = state;
    let slotState: unknown = null;
    if (state instanceof Tuple && state.length === 2) [dictState, slotState] = state as unknown[];
    this.applyState(instance, dictState);
    this.applyState(instance, slotState);
    this.finishInstance(instance);
  }

  /** After its state is in: enum fields hold plain kernel values. */
  private finishInstance(instance: Record<string, unknown>): void {
    const shape = shapeOf(Object.getPrototypeOf(instance) as object | null)!;
    for (const [field, enumName] of shape.enumFields) {
      const value = instance[field];
      if (value instanceof PyEnum && value.enumName === enumName) instance[field] = value.value;
    }
  }

  /**
   * Items of a data object's state dict (stack[from..sp)), written straight into the instance. When the keys
   * are those of the instance's template, in order, only values are stored; otherwise the instance is rebuilt
   * key by key and the class's template follows this new shape.
   */
  private writeState(instance: Record<string, unknown>, from: number, meta: number, started: boolean): number {
    const shape = shapeOf(Object.getPrototypeOf(instance) as object | null)!;
    const n = (this.sp - from) / 2;
    const keys = shape.keys;
    // An instance holds the keys its class had when it was made: the current ones, unless they changed in this decode
    // (an object inside this one, of the same class but another shape). Then it is rebuilt key by key.
    let same = !started && shape.template !== undefined && keys.length === n && !(this.reshaped.length > 0 && this.reshaped.includes(shape));
    for (let i = 0; same && i < n; i++) same = this.stack[from + 2 * i] === keys[i];
    let floats: Slot[] | undefined;
    let distinct: Slot[] | undefined;
    let m = meta;
    if (!same) {
      const seen: string[] = [];
      for (let i = from; i < this.sp; i += 2) {
        const key = this.stack[i];
        if (typeof key !== "string") this.fail("ERR_CODEC_BAD_VALUE", `object state must be a dict with str keys, not ${typeName(key)}`);
        seen.push(key);
      }
      if (!started) {
        // Another shape (an extra attribute, an older vnpy...): the instance keeps the keys it shares with the state
        // from the start, in order, and loses the rest, last first (V8 undoes the last property added without
        // leaving fast mode: a tick without `extra` made as one with it loses one key). The stores below add the
        // state's other keys in its order. The class's template follows this shape from now on.
        const own = Object.keys(instance);
        let common = 0;
        while (common < own.length && common < seen.length && own[common] === seen[common]) common++;
        for (let k = own.length - 1; k >= common; k--) delete instance[own[k]!];
        learnShape(shape, seen);
        if (!this.reshaped.includes(shape)) this.reshaped.push(shape);
      }
    }
    // The usual case: the keys the instance was made with (by the shape's compiled maker, when it has one), whose
    // writer stores every value at once (a tuple is escaped again below); the loop after it only reads meta words.
    const write = same ? shape.write : undefined;
    const written = write !== undefined;
    if (written) write(instance, this.stack, from);
    for (let i = from; i < this.sp; i += 2) {
      const key = this.stack[i] as string;
      const vm = this.meta[i + 1]!;
      if (!written || vm & Meta.TUPLE) {
        const value = vm & Meta.TUPLE ? this.escape(this.stack[i + 1], vm) : this.stack[i + 1];
        if (same || key !== "__proto__") instance[key] = value;
        else setOwn(instance, key, value);
      }
      if (vm & Meta.FLOAT) (floats ??= []).push(key);
      if (vm & Meta.DISTINCT) (distinct ??= []).push(key);
      if (vm >= Meta.DEPTH_ONE) m = this.deeper(m, vm);
    }
    if (floats || distinct) attachHints(instance, floats, distinct);
    return m;
  }

  private applyState(instance: Record<string, unknown>, state: unknown): void {
    if (state === null || state === undefined) return;
    if (!isPlainObject(state)) this.fail("ERR_CODEC_BAD_VALUE", `object state must be a dict with str keys, not ${typeName(state)}`);
    const keys = Object.keys(state);
    for (let i = 0; i < keys.length; i++) setOwn(instance, keys[i]!, state[keys[i]!]);
    const hints = (state as Hinted)[HINTS];
    if (hints) attachHints(instance, hints.floats?.slice(), hints.distinct?.slice());
  }
}


const shared = new Unpickler();

function resolveLimits(limits: Partial<DecodeLimits> | undefined): DecodeLimits {
  if (limits === undefined) return DEFAULT_DECODE_LIMITS;
  const resolved = { ...DEFAULT_DECODE_LIMITS };
  for (const key of Object.keys(DEFAULT_DECODE_LIMITS) as (keyof DecodeLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`limits.${key} must be a positive integer, got ${String(value)}`);
    resolved[key] = value;
  }
  return resolved;
}

/**
 * Decodes one pickle (protocols 0 to 5; VeighNa sends 4, Python 3.14 sends 5) into kernel objects and the
 * codec's value types. See index.ts for how each Python type is represented.
 */
export function decodePickle(bytes: Uint8Array, options: DecodeOptions): unknown {
  const mode = options?.mode;
  if (mode !== "request" && mode !== "event") throw new TypeError(`options.mode must be "request" or "event", got ${String(mode)}`);
  const limits = resolveLimits(options.limits);
  if (bytes.length > limits.maxBytes) {
    throw new PickleDecodeError("ERR_CODEC_TOO_LARGE", `pickle of ${bytes.length} bytes exceeds the limit of ${limits.maxBytes}`);
  }
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  // onGlobal may decode recursively: a busy shared decoder is never re-entered.
  const unpickler = shared.busy ? new Unpickler() : shared;
  return unpickler.decode(buf, mode === "request", limits, options.onGlobal);
}

/**
 * The pickle decoder: a loop over the bytes with one switch, a manual value stack and the memo.
 *
 * Safe by construction: globals are looked up in the allow-list (globals.ts) and every "call" a pickle asks
 * for is this file's own imitation of that callable; nothing is imported or executed. Every input either
 * decodes or throws a PickleDecodeError; work and memory are linear in the input size.
 */
import { DATA_CLASSES, DateTime, Event, type DataClassName, type EnumName, type FieldKind, type TimeZone } from "../kernel/index.js";
import { PickleDecodeError, PickleSecurityError } from "./errors.js";
import { GETATTR, KnownGlobal, ZONEINFO, ZONEINFO_UNPICKLE, lookupGlobal } from "./globals.js";
import { HIGHEST_PROTOCOL, Op } from "./opcodes.js";
import { CACHE_SLOTS, decodeUtf8, lastDecoded } from "./utf8.js";
import { HINTS, PyEnum, PyGlobal, PyObject, TimeDelta, Tuple, asTuple, attachHints, type Hinted, type Slot } from "./values.js";
import { fixedZone, isDecodedZone, zoneForKey } from "./zones.js";

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
  DEPTH_SHIFT = 5,
  DEPTH_ONE = 32,
  DEPTH_MASK = ~31,
  FLAGS = 31,
}

const EMPTY = Buffer.alloc(0);
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
if (new Uint16Array(new Uint8Array([1, 0]).buffer)[0] !== 1) throw new Error("the codec assumes a little-endian host");

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * What the decoder knows of a kernel class it rebuilds: its enum fields (turned from PyEnum back into plain
 * kernel values after BUILD) and the key sequence of the last state it saw. Instances are created with those
 * keys already in place, from a template: an object that gets its properties one computed key at a time
 * turns into a slow dictionary-mode object in V8, and ticks are decoded by the thousand.
 */
interface ClassShape {
  readonly prototype: object;
  readonly enumFields: ReadonlyArray<readonly [string, EnumName]>;
  keys: readonly string[];
  template: object | undefined;
}

const shapes = new Map<object, ClassShape>();

/** A fast-mode object holding `keys` in order, and the hints slot (JSON.parse builds objects in fast mode). */
function makeTemplate(keys: readonly string[]): object | undefined {
  if (keys.length === 0 || keys.length > 256) return undefined;
  const template = JSON.parse(`{${keys.map((k) => `${JSON.stringify(k)}:null`).join(",")}}`) as Hinted;
  template[HINTS] = undefined;
  return template;
}

function addShape(prototype: object, enumFields: ClassShape["enumFields"], keys: string[]): void {
  shapes.set(prototype, { prototype, enumFields, keys, template: makeTemplate(keys) });
}

// The first template of each class: the keys its constructor defines, which are VeighNa's __dict__ order
// (constructing with no fields is harmless: our own constructors only copy and format what they are given).
for (const name of Object.keys(DATA_CLASSES) as DataClassName[]) {
  const cls = DATA_CLASSES[name] as unknown as { new (init: object): object; prototype: object; fieldKinds: Readonly<Record<string, FieldKind>> };
  const enumFields = Object.entries(cls.fieldKinds).filter((entry): entry is [string, EnumName] => entry[1] !== "datetime");
  let keys: string[] = [];
  try {
    keys = Object.keys(new cls({}));
  } catch {
    // A constructor that insists on its fields: the template is learned from the first state decoded instead.
  }
  addShape(cls.prototype, enumFields, keys);
}
addShape(Event.prototype, [], Object.keys(new Event("")));


function typeName(value: unknown): string {
  if (value === null) return "None";
  if (typeof value !== "object") return typeof value;
  return (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? "object";
}

/** A string key that a plain JS object keeps in insertion order (array-index-like keys would be moved first). */
function isPlainKey(key: unknown): key is string {
  if (typeof key !== "string") return false;
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57) return true;
  return !/^(?:0|[1-9]\d{0,9})$/.test(key) || Number(key) >= 4294967295;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

class Unpickler {
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
  /**
   * Strings memoized so far, to spot a second copy of the same text. Cached short strings are tracked in a
   * table indexed by their cache slot (first text per slot and decode); the rest, and slot collisions, in a Set.
   */
  private readonly seenSlotEpoch = new Int32Array(CACHE_SLOTS);
  private readonly seenSlotText: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
  private epoch = 0;
  private readonly seenStrings = new Set<string>();
  /** Stack index of the string pushed last, and its cache slot. */
  private lastStringAt = -1;
  private lastStringSlot = -1;
  private dictSizes = new Map<object, number>();
  /** Dicts turned into Maps after their first non-string key: references still to the old object are forwarded. */
  private forwarded: Map<object, Map<unknown, unknown>> | null = null;
  private strict = true;
  private limits: DecodeLimits = DEFAULT_DECODE_LIMITS;
  private onGlobal: DecodeOptions["onGlobal"] = undefined;
  busy = false;

  decode(bytes: Buffer, strict: boolean, limits: DecodeLimits, onGlobal: DecodeOptions["onGlobal"]): unknown {
    this.buf = bytes;
    this.pos = 0;
    this.end = bytes.length;
    if (++this.epoch === 0x7fffffff) {
      this.epoch = 1;
      this.seenSlotEpoch.fill(0);
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
    if (this.seenStrings.size) this.seenStrings.clear();
    if (this.dictSizes.size) this.dictSizes.clear();
    this.lastStringAt = -1;
    this.forwarded = null;
    this.buf = EMPTY;
    this.onGlobal = undefined;
    this.busy = false;
  }

  private fail(code: PickleDecodeError["code"], message: string): never {
    throw new PickleDecodeError(code, message, this.opStart);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.fail("TRUNCATED", "pickle data was truncated");
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
    if (this.sp - this.base() < n) this.fail("MALFORMED", "unpickling stack underflow");
  }

  private popMark(): number {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail("MALFORMED", "could not find MARK");
    return mark;
  }

  private checkLength(n: number): void {
    if (n > this.limits.maxContainerLength) this.fail("CONTAINER_TOO_LARGE", `container of ${n} items exceeds the limit of ${this.limits.maxContainerLength}`);
  }

  /** Depth meta of a container holding children of meta `m` (with `current` its own meta so far). */
  private deeper(current: number, child: number): number {
    const depth = (child >>> Meta.DEPTH_SHIFT) + 1;
    if (depth > this.limits.maxDepth) this.fail("DEPTH_EXCEEDED", `nesting deeper than ${this.limits.maxDepth}`);
    return depth > current >>> Meta.DEPTH_SHIFT ? (depth << Meta.DEPTH_SHIFT) | (current & Meta.FLAGS) : current;
  }

  private run(): unknown {
    const buf = this.buf;
    for (;;) {
      if (this.pos >= this.end) this.fail("TRUNCATED", "pickle data was truncated (no STOP)");
      this.opStart = this.pos;
      const op = buf[this.pos++]!;
      switch (op) {
        case Op.PROTO: {
          this.need(1);
          const proto = buf[this.pos++]!;
          if (proto > HIGHEST_PROTOCOL) this.fail("UNSUPPORTED_PROTOCOL", `unsupported pickle protocol ${proto}`);
          break;
        }
        case Op.FRAME: {
          this.need(8);
          const length = this.readU64();
          if (length > this.end - this.pos) this.fail("TRUNCATED", "pickle data was truncated (frame)");
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
          if (n < 0) this.fail("MALFORMED", "LONG pickle has negative byte count");
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
          else this.push(this.parseIntText(text), 0);
          break;
        }
        case Op.LONG: {
          const text = this.readLine();
          this.push(this.parseIntText(text.endsWith("L") ? text.slice(0, -1) : text), 0);
          break;
        }
        case Op.FLOAT: {
          const value = this.parseFloatText(this.readLine());
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
          this.push(this.rawUnicodeEscape(this.readLine()), 0);
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
          if (n < 0) this.fail("MALFORMED", "BINSTRING pickle has negative byte count");
          this.need(n);
          this.push(buf.toString("latin1", this.pos, this.pos + n), 0);
          this.pos += n;
          break;
        }
        case Op.STRING:
          this.push(this.pythonStringLiteral(this.readLine()), 0);
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
          if (mark < 1 || mark - 1 < this.base()) this.fail("MALFORMED", "APPENDS without a list");
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
          if (mark < 1 || mark - 1 < this.base()) this.fail("MALFORMED", "SETITEMS without a dict");
          this.setItems(mark);
          break;
        }
        case Op.EMPTY_SET:
          this.push(new Set(), Meta.DEPTH_ONE);
          break;
        case Op.ADDITEMS: {
          const mark = this.popMark();
          if (mark < 1 || mark - 1 < this.base()) this.fail("MALFORMED", "ADDITEMS without a set");
          const target = this.stack[mark - 1];
          if (!(target instanceof Set)) this.fail("MALFORMED", `ADDITEMS on ${typeName(target)}`);
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
          this.memoGet(this.parseIndex(this.readLine()));
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
          this.memoPut(this.parseIndex(this.readLine()));
          break;

        case Op.STACK_GLOBAL: {
          this.requireItems(2);
          const name = this.stack[this.sp - 1];
          const module = this.stack[this.sp - 2];
          if (typeof module !== "string" || typeof name !== "string") this.fail("MALFORMED", "STACK_GLOBAL requires str");
          this.truncate(this.sp - 2);
          this.push(this.resolveGlobal(module, name), 0);
          break;
        }
        case Op.GLOBAL: {
          const module = this.readLine();
          const name = this.readLine();
          this.push(this.resolveGlobal(module, name), 0);
          break;
        }
        case Op.REDUCE: {
          this.requireItems(2);
          const args = this.stack[this.sp - 1] as unknown[];
          const argsMeta = this.meta[this.sp - 1]!;
          const callable = this.stack[this.sp - 2];
          if (!(argsMeta & Meta.TUPLE)) this.fail("MALFORMED", `REDUCE arguments must be a tuple, not ${typeName(args)}`);
          this.truncate(this.sp - 2);
          this.push(this.reduce(callable, args), argsMeta & Meta.DEPTH_MASK);
          break;
        }
        case Op.NEWOBJ: {
          this.requireItems(2);
          const args = this.stack[this.sp - 1] as unknown[];
          const cls = this.stack[this.sp - 2];
          if (!(this.meta[this.sp - 1]! & Meta.TUPLE)) this.fail("MALFORMED", `NEWOBJ arguments must be a tuple, not ${typeName(args)}`);
          this.truncate(this.sp - 2);
          const instance = this.newObject(cls, args);
          this.push(instance, instance instanceof PyObject ? Meta.DEPTH_ONE : Meta.DEPTH_ONE | Meta.PENDING);
          break;
        }
        case Op.NEWOBJ_EX: {
          this.requireItems(3);
          const kwargs = this.stack[this.sp - 1];
          const args = this.stack[this.sp - 2] as unknown[];
          const cls = this.stack[this.sp - 3];
          if (!(this.meta[this.sp - 2]! & Meta.TUPLE)) this.fail("MALFORMED", "NEWOBJ_EX arguments must be a tuple");
          if (!isPlainObject(kwargs) || Object.keys(kwargs).length !== 0) this.fail("UNSUPPORTED_CALL", "NEWOBJ_EX with keyword arguments");
          this.truncate(this.sp - 3);
          this.push(this.newObject(cls, args), Meta.DEPTH_ONE);
          break;
        }
        case Op.INST: {
          const module = this.readLine();
          const name = this.readLine();
          const cls = this.resolveGlobal(module, name);
          this.instantiate(cls, this.popMark());
          break;
        }
        case Op.OBJ: {
          const mark = this.popMark();
          if (this.sp - mark < 1) this.fail("MALFORMED", "OBJ without a class");
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
          this.fail("UNKNOWN_OPCODE", "persistent IDs are not supported");
          break;
        case Op.EXT1:
        case Op.EXT2:
        case Op.EXT4:
          this.fail("UNKNOWN_OPCODE", "the copyreg extension registry is not supported");
          break;
        case Op.NEXT_BUFFER:
        case Op.READONLY_BUFFER:
          this.fail("UNKNOWN_OPCODE", "out-of-band buffers are not supported");
          break;
        default:
          this.fail("UNKNOWN_OPCODE", `invalid load key 0x${op.toString(16).padStart(2, "0")}`);
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
    if (n > this.limits.maxIntBytes) this.fail("INT_TOO_LARGE", `integer of ${n} bytes exceeds the limit of ${this.limits.maxIntBytes}`);
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
    return big >= MIN_SAFE_BIG && big <= MAX_SAFE_BIG ? Number(big) : big;
  }

  private readLine(): string {
    const nl = this.buf.indexOf(0x0a, this.pos);
    if (nl < 0 || nl >= this.end) this.fail("TRUNCATED", "pickle data was truncated (line)");
    const text = this.buf.toString("latin1", this.pos, nl);
    this.pos = nl + 1;
    return text;
  }

  private parseIntText(text: string): number | bigint {
    if (!/^[+-]?\d{1,4300}$/.test(text.trim())) this.fail("MALFORMED", "invalid integer literal");
    const big = BigInt(text.trim());
    return big >= MIN_SAFE_BIG && big <= MAX_SAFE_BIG ? Number(big) : big;
  }

  private parseFloatText(text: string): number {
    const t = text.trim().toLowerCase();
    if (t === "nan" || t === "+nan" || t === "-nan") return NaN;
    if (t === "inf" || t === "+inf" || t === "infinity") return Infinity;
    if (t === "-inf" || t === "-infinity") return -Infinity;
    if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(t)) this.fail("MALFORMED", "invalid float literal");
    return Number(t);
  }

  private parseIndex(text: string): number {
    if (!/^\d{1,10}$/.test(text)) this.fail("MALFORMED", "invalid memo index");
    return Number(text);
  }

  /** Protocol 0 UNICODE: latin-1 text with \uXXXX and \UXXXXXXXX escapes. */
  private rawUnicodeEscape(text: string): string {
    return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_whole, u4: string | undefined, u8: string | undefined) => {
      const code = parseInt(u4 ?? u8!, 16);
      if (code > 0x10ffff) this.fail("BAD_VALUE", "invalid \\U escape");
      return String.fromCodePoint(code);
    });
  }

  /** Protocol 0 STRING: a Python 2 str literal, quotes included; decoded as latin-1. */
  private pythonStringLiteral(text: string): string {
    const quote = text[0];
    if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) this.fail("MALFORMED", "the STRING opcode argument must be quoted");
    const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", f: "\f", v: "\v", "\n": "" };
    return text.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[\s\S])/g, (whole, esc: string) => {
      if (esc[0] === "x") return String.fromCharCode(parseInt(esc.slice(1), 16));
      if (/^[0-7]/.test(esc)) return String.fromCharCode(parseInt(esc, 8) & 0xff);
      return simple[esc] ?? whole;
    });
  }

  // ---- memo ----------------------------------------------------------------------------------------------

  private memoGet(index: number): void {
    let value = index < this.memoHigh ? this.memo[index] : undefined;
    if (value === undefined) this.fail("MALFORMED", `memo key ${index} not found`);
    if (this.forwarded !== null && typeof value === "object" && value !== null) {
      const target = this.forwarded.get(value);
      if (target) this.memo[index] = value = target;
    }
    this.push(value, this.memoMeta[index]!);
  }

  private memoPut(index: number): void {
    if (this.sp <= this.base()) this.fail("MALFORMED", "memoizing an empty stack");
    if (index >= this.limits.maxMemo) this.fail("MEMO_LIMIT", `memo index ${index} exceeds the limit of ${this.limits.maxMemo}`);
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

  /** Was this text memoized before in this pickle? Records it if not. */
  private seenBefore(text: string, at: number): boolean {
    const slot = at === this.lastStringAt ? this.lastStringSlot : -1;
    if (slot >= 0) {
      if (this.seenSlotEpoch[slot] !== this.epoch) {
        this.seenSlotEpoch[slot] = this.epoch;
        this.seenSlotText[slot] = text;
        return false;
      }
      if (this.seenSlotText[slot] === text) return true;
      // Another text owns this slot in this pickle: this one is tracked in the Set, always (same slot each time).
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
      this.fail("MALFORMED", `APPEND on ${typeName(target)}`);
    }
    this.truncate(from);
  }

  /** SETITEM / SETITEMS: pairs stack[from..sp) go into the dict at stack[from - 1]. */
  private setItems(from: number): void {
    if ((this.sp - from) % 2 !== 0) this.fail("MALFORMED", "odd number of items for SETITEMS");
    const at = from - 1;
    let target = this.stack[at];
    let m = this.meta[at]!;
    if (m & Meta.INTO_INSTANCE && at - 1 >= this.base() && this.meta[at - 1]! & Meta.PENDING) {
      this.meta[at - 1] = this.writeState(this.stack[at - 1] as Record<string, unknown>, from, this.meta[at - 1]!);
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
      this.fail("MALFORMED", `SETITEM on ${typeName(target)}`);
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

  // ---- globals and calls ---------------------------------------------------------------------------------

  private resolveGlobal(module: string, name: string): unknown {
    let known: KnownGlobal | PyEnum | undefined = lookupGlobal(module, name);
    if (!known) {
      // Protocol 4 may name a nested attribute directly, e.g. ("vnpy.trader.constant", "Direction.LONG").
      const dot = name.indexOf(".");
      if (dot > 0) {
        const outer = lookupGlobal(module, name.slice(0, dot));
        if (outer?.meaning.kind === "enum") known = PyEnum.lookup(outer.meaning.enumName, name.slice(dot + 1));
      }
    }
    this.onGlobal?.(module, name, known !== undefined);
    if (known) return known;
    if (this.strict) throw new PickleSecurityError(`${module}.${name}`, this.opStart);
    return new PyGlobal(module, name);
  }

  /** What a call the pickle asks for is not imitated: an error in strict mode, an inert placeholder otherwise. */
  private placeholder(callable: unknown, args: unknown[], via: "reduce" | "newobj", why: string): PyObject {
    if (this.strict) {
      if (callable instanceof PyGlobal && !(callable instanceof KnownGlobal)) throw new PickleSecurityError(callable.toString(), this.opStart);
      this.fail("UNSUPPORTED_CALL", why);
    }
    if (!(callable instanceof PyGlobal) && !(callable instanceof PyObject)) this.fail("MALFORMED", `${typeName(callable)} is not callable`);
    return new PyObject(callable, asTuple(args), via);
  }

  private reduce(callable: unknown, args: unknown[]): unknown {
    if (!(callable instanceof KnownGlobal)) return this.placeholder(callable, args, "reduce", "call of an unknown callable");
    const meaning = callable.meaning;
    switch (meaning.kind) {
      case "getattr":
        return this.getattr(args);
      case "enum": {
        const value = args[0];
        const member = args.length === 1 && typeof value === "string" ? PyEnum.fromValue(meaning.enumName, value) : undefined;
        if (member) return member;
        if (this.strict) this.fail("BAD_VALUE", `${JSON.stringify(value)} is not a valid ${meaning.enumName}`);
        return this.placeholder(callable, args, "reduce", "");
      }
      case "datetime":
        return this.datetime(callable, args);
      case "timedelta": {
        if (args.length > 3 || !args.every((a) => Number.isSafeInteger(a))) return this.placeholder(callable, args, "reduce", "timedelta() with non-integer arguments");
        try {
          return new TimeDelta((args[0] as number | undefined) ?? 0, (args[1] as number | undefined) ?? 0, (args[2] as number | undefined) ?? 0);
        } catch {
          return this.fail("BAD_VALUE", "timedelta out of range");
        }
      }
      case "timezone": {
        const [offset, name] = args;
        if (!(offset instanceof TimeDelta) || args.length > 2 || (args.length === 2 && typeof name !== "string")) {
          return this.placeholder(callable, args, "reduce", "timezone() arguments must be (timedelta[, str])");
        }
        const micros = offset.totalMicros();
        if (Math.abs(micros) >= 86_400_000_000) this.fail("BAD_VALUE", "timezone offset must be strictly between -24h and 24h");
        return fixedZone(micros, name as string | undefined);
      }
      case "zoneinfo":
      case "zoneinfo_unpickle": {
        const key = args[0];
        const arity = meaning.kind === "zoneinfo" ? 1 : 2;
        if (typeof key !== "string" || args.length !== arity) return this.placeholder(callable, args, "reduce", "ZoneInfo needs a key");
        const zone = zoneForKey(key);
        if (!zone) this.fail("BAD_VALUE", `unknown time zone ${JSON.stringify(key)}`);
        return zone;
      }
      case "ordereddict":
      case "defaultdict": {
        // The default factory of a defaultdict is dropped: a decoded dict never calls anything.
        const items = meaning.kind === "ordereddict" ? args[0] : args[1];
        const dict: Record<string, unknown> = {};
        if (items === undefined || items === null) return dict;
        if (isPlainObject(items)) {
          for (const key of Object.keys(items)) setOwn(dict, key, items[key]);
          return dict;
        }
        return this.placeholder(callable, args, "reduce", `${callable.name}() with these arguments`);
      }
      case "codecs_encode": {
        const [text, encoding] = args;
        if (typeof text === "string" && (encoding === "latin1" || encoding === "latin-1") && !/[^\u0000-\u00ff]/.test(text)) {
          return Buffer.from(text, "latin1");
        }
        return this.placeholder(callable, args, "reduce", "_codecs.encode() other than latin-1");
      }
      case "builtin":
        return this.builtinCall(callable, meaning.builtin, args);
      case "dataclass":
      case "event":
        return this.placeholder(callable, args, "reduce", `${callable} is only rebuilt through NEWOBJ + BUILD`);
    }
  }

  private getattr(args: unknown[]): unknown {
    const [target, name] = args;
    if (args.length !== 2 || typeof name !== "string") return this.placeholder(GETATTR, args, "reduce", "getattr() needs (object, name)");
    if (target instanceof KnownGlobal) {
      if (target.meaning.kind === "enum") {
        const member = PyEnum.lookup(target.meaning.enumName, name);
        if (member) return member;
        if (this.strict) this.fail("BAD_VALUE", `${target.meaning.enumName} has no member ${JSON.stringify(name)}`);
        return new PyGlobal(target.module, `${target.name}.${name}`);
      }
      if (target === ZONEINFO && name === "_unpickle") return ZONEINFO_UNPICKLE;
    }
    if (target instanceof PyGlobal) {
      this.onGlobal?.(target.module, `${target.name}.${name}`, false);
      if (this.strict) throw new PickleSecurityError(`${target}.${name}`, this.opStart);
      return new PyGlobal(target.module, `${target.name}.${name}`);
    }
    if (this.strict) throw new PickleSecurityError(`getattr(<${typeName(target)}>, ${JSON.stringify(name)})`, this.opStart);
    return new PyObject(GETATTR, asTuple(args));
  }

  private datetime(callable: KnownGlobal, args: unknown[]): unknown {
    const first = args[0];
    let bytes: Uint8Array | undefined;
    if (first instanceof Uint8Array) bytes = first;
    else if (typeof first === "string" && first.length === 10 && !/[^\u0000-\u00ff]/.test(first)) bytes = Buffer.from(first, "latin1");
    let tz: unknown = null;
    let fields: ConstructorParameters<typeof DateTime>[0];
    if (bytes && bytes.length === 10 && args.length <= 2) {
      tz = args.length === 2 ? args[1] : null;
      fields = {
        year: (bytes[0]! << 8) | bytes[1]!,
        month: bytes[2]! & 0x7f,
        day: bytes[3]!,
        hour: bytes[4]!,
        minute: bytes[5]!,
        second: bytes[6]!,
        microsecond: (bytes[7]! << 16) | (bytes[8]! << 8) | bytes[9]!,
        fold: bytes[2]! & 0x80 ? 1 : 0,
      };
    } else if (args.length >= 3 && args.length <= 8 && args.slice(0, Math.min(args.length, 7)).every((a) => Number.isSafeInteger(a))) {
      // datetime(year, month, day[, hour[, minute[, second[, microsecond[, tzinfo]]]]])
      const n = args as unknown as number[];
      tz = args.length === 8 ? args[7] : null;
      fields = { year: n[0]!, month: n[1]!, day: n[2]!, hour: n[3] ?? 0, minute: n[4] ?? 0, second: n[5] ?? 0, microsecond: n[6] ?? 0 };
    } else {
      return this.placeholder(callable, args, "reduce", "datetime() with arguments of an unknown form");
    }
    if (tz !== null && !isDecodedZone(tz)) {
      if (this.strict) this.fail("BAD_VALUE", `tzinfo must be a time zone, not ${typeName(tz)}`);
      return new PyObject(callable, asTuple(args)); // e.g. a pytz zone from vnpy 2.x: kept inert, whole
    }
    try {
      return new DateTime(fields, tz as TimeZone | null);
    } catch {
      return this.fail("BAD_VALUE", "invalid datetime fields");
    }
  }

  private builtinCall(callable: KnownGlobal, builtin: string, args: unknown[]): unknown {
    const [arg] = args;
    if (args.length === 0) {
      switch (builtin) {
        case "bytes":
        case "bytearray":
          return Buffer.alloc(0);
        case "set":
        case "frozenset":
          return new Set();
        case "list":
          return [];
        case "tuple":
          return asTuple([]);
        case "dict":
          return {};
      }
    } else if (args.length === 1) {
      if ((builtin === "bytes" || builtin === "bytearray") && arg instanceof Uint8Array) return Buffer.from(arg);
      if ((builtin === "bytes" || builtin === "bytearray") && Array.isArray(arg) && arg.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
        return Buffer.from(arg as number[]);
      }
      if (Array.isArray(arg)) {
        if (builtin === "set" || builtin === "frozenset") return new Set(arg);
        if (builtin === "list") return Array.from(arg);
        if (builtin === "tuple") return asTuple(Array.from(arg));
      }
    }
    return this.placeholder(callable, args, "reduce", `${builtin}() with these arguments`);
  }

  private newObject(cls: unknown, args: unknown[]): unknown {
    if (cls instanceof KnownGlobal && args.length === 0) {
      const meaning = cls.meaning;
      const prototype = meaning.kind === "dataclass" ? (meaning.cls.prototype as object) : meaning.kind === "event" ? (Event.prototype as object) : undefined;
      if (prototype) {
        const shape = shapes.get(prototype)!;
        if (!shape.template) return Object.create(prototype) as object;
        // Its own keys exist from the start (null until BUILD), in the order the last state of this class had.
        const instance = { ...shape.template };
        Object.setPrototypeOf(instance, prototype);
        return instance;
      }
    }
    return this.placeholder(cls, args, "newobj", `${String(cls)}.__new__ with these arguments`);
  }

  /** INST / OBJ (protocols 0 and 1): `cls(*args)`, or `cls.__new__(cls)` when there are no arguments. */
  private instantiate(cls: unknown, from: number, to = from): void {
    const args: unknown[] = [];
    for (let i = from; i < this.sp; i++) args.push(this.escape(this.stack[i], this.meta[i]!));
    this.truncate(to);
    this.push(args.length === 0 ? this.newObject(cls, args) : this.reduce(cls, args), Meta.DEPTH_ONE);
  }

  private build(target: unknown, state: unknown): void {
    if (target instanceof PyObject) {
      if (this.strict) this.fail("MALFORMED", "BUILD on a placeholder");
      target.state = state;
      return;
    }
    const shape = typeof target === "object" && target !== null ? shapes.get(Object.getPrototypeOf(target) as object) : undefined;
    if (!shape) this.fail("MALFORMED", `BUILD on ${typeName(target)}`);
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
    const shape = shapes.get(Object.getPrototypeOf(instance) as object)!;
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
  private writeState(instance: Record<string, unknown>, from: number, meta: number): number {
    const shape = shapes.get(Object.getPrototypeOf(instance) as object)!;
    const n = (this.sp - from) / 2;
    const keys = shape.keys;
    let same = shape.template !== undefined && keys.length === n && Object.keys(instance).length === n;
    for (let i = 0; same && i < n; i++) same = this.stack[from + 2 * i] === keys[i];
    let floats: Slot[] | undefined;
    let distinct: Slot[] | undefined;
    let m = meta;
    if (!same) {
      // Another shape (first decode of the class, an extra attribute...): start from an empty instance.
      for (const key of Object.keys(instance)) delete instance[key];
      const seen: string[] = [];
      for (let i = from; i < this.sp; i += 2) {
        const key = this.stack[i];
        if (typeof key !== "string") this.fail("BAD_VALUE", `object state must be a dict with str keys, not ${typeName(key)}`);
        seen.push(key);
      }
      shape.keys = seen;
      shape.template = makeTemplate(seen);
    }
    for (let i = from; i < this.sp; i += 2) {
      const key = this.stack[i] as string;
      const vm = this.meta[i + 1]!;
      const value = vm & Meta.TUPLE ? this.escape(this.stack[i + 1], vm) : this.stack[i + 1];
      if (same || key !== "__proto__") instance[key] = value;
      else setOwn(instance, key, value);
      if (vm & Meta.FLOAT) (floats ??= []).push(key);
      if (vm & Meta.DISTINCT) (distinct ??= []).push(key);
      if (vm >= Meta.DEPTH_ONE) m = this.deeper(m, vm);
    }
    if (floats || distinct) attachHints(instance, floats, distinct);
    return m;
  }

  private applyState(instance: Record<string, unknown>, state: unknown): void {
    if (state === null || state === undefined) return;
    if (!isPlainObject(state)) this.fail("BAD_VALUE", `object state must be a dict with str keys, not ${typeName(state)}`);
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
    throw new PickleDecodeError("TOO_LARGE", `pickle of ${bytes.length} bytes exceeds the limit of ${limits.maxBytes}`);
  }
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  // onGlobal may decode recursively: a busy shared decoder is never re-entered.
  const unpickler = shared.busy ? new Unpickler() : shared;
  return unpickler.decode(buf, mode === "request", limits, options.onGlobal);
}

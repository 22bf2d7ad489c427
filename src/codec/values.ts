/**
 * JS stand-ins for the Python values that have no native JS counterpart, and the hidden hints that let a
 * decoded value be pickled again exactly as Python sent it.
 */
import { ENGLISH_VALUES, ENUMS, enumMemberNames, type EnumName, type EnumValue } from "../kernel/index.js";

/** A Python tuple. An Array (index it, iterate it), but told apart from a list so `[name, args, kwargs]` round-trips. */
export class Tuple<T = unknown> extends Array<T> {
  // map/filter/slice of a tuple give plain arrays: Python's do not give tuples either.
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}

/** Builds a tuple (prefer it to `new Tuple(n)`, which, like `new Array(n)`, makes n holes). */
export function tuple<T>(...items: T[]): Tuple<T> {
  return asTuple(items);
}

/** Turns an array into a tuple in place (identity kept). Constructing an Array subclass is slow in V8; this is not. */
export function asTuple<T>(items: T[]): Tuple<T> {
  if (Object.getPrototypeOf(items) !== Tuple.prototype) Object.setPrototypeOf(items, Tuple.prototype);
  return items as Tuple<T>;
}

export const CONSTANT_MODULE = "vnpy.trader.constant";

/**
 * A member of a `vnpy.trader.constant` enum met outside a data-class field (in a list, a dict, an argument).
 * Inside a data-class field an enum is the plain kernel value (`order.direction === Direction.LONG`); elsewhere
 * the kernel value alone would lose which enum it belongs to. Members are singletons: compare with `===`.
 */
export class PyEnum {
  /** Per enum: member name -> member. */
  private static readonly members = new Map<EnumName, Map<string, PyEnum>>();
  /** Per enum: Chinese and English value -> member. */
  private static readonly byValue = new Map<EnumName, Map<string, PyEnum>>();

  private constructor(
    readonly enumName: EnumName,
    /** Member name, e.g. "LONG". */
    readonly name: string,
    /** The kernel's (untranslated, Chinese) value, e.g. Direction.LONG === "多". */
    readonly value: EnumValue,
  ) {
    Object.freeze(this);
  }

  /** The member `enumName.name`; throws RangeError when there is none. */
  static of(enumName: EnumName, name: string): PyEnum {
    const member = PyEnum.lookup(enumName, name);
    if (!member) throw new RangeError(`${enumName} has no member ${JSON.stringify(name)}`);
    return member;
  }

  /** The member `enumName.name`, or undefined. */
  static lookup(enumName: EnumName, name: string): PyEnum | undefined {
    const members = PyEnum.members.get(enumName);
    if (members) return members.get(name);
    PyEnum.ensure(enumName);
    return PyEnum.members.get(enumName)!.get(name);
  }

  /** The member holding `value` in the Chinese or the English locale, or undefined. */
  static fromValue(enumName: EnumName, value: string): PyEnum | undefined {
    return PyEnum.ensure(enumName).get(value);
  }

  /** "vnpy.trader.constant.Direction". */
  get qualifiedName(): string {
    return `${CONSTANT_MODULE}.${this.enumName}`;
  }

  toString(): string {
    return `${this.enumName}.${this.name}`;
  }

  toJSON(): EnumValue {
    return this.value;
  }

  private static ensure(enumName: EnumName): Map<string, PyEnum> {
    let table = PyEnum.byValue.get(enumName);
    if (table) return table;
    table = new Map();
    const members = new Map<string, PyEnum>();
    const values = ENUMS[enumName] as Record<string, EnumValue>;
    const english = ENGLISH_VALUES[enumName] ?? {};
    for (const name of enumMemberNames(enumName)) {
      const member = new PyEnum(enumName, name, values[name]!);
      members.set(name, member);
      if (!table.has(member.value)) table.set(member.value, member);
    }
    // English values second: a Chinese value always wins a clash.
    for (const name of enumMemberNames(enumName)) {
      const englishValue = english[name];
      if (englishValue !== undefined && !table.has(englishValue)) table.set(englishValue, members.get(name)!);
    }
    PyEnum.members.set(enumName, members);
    PyEnum.byValue.set(enumName, table);
    return table;
  }
}

/** A reference to a Python global (a class, a function, a nested attribute such as `Status.ACTIVE`), never resolved. */
export class PyGlobal {
  constructor(
    readonly module: string,
    /** Qualified name inside the module, e.g. "OrderedDict" or "RuleStatus.ACTIVE". */
    readonly name: string,
  ) {}

  toString(): string {
    return `${this.module}.${this.name}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * An inert placeholder for an object of a class outside the allow-list (lenient "event" mode only): risk
 * rules, strategy data and other app payloads keep flowing without any of their code running. Pickling a
 * placeholder again writes the same call, so events can be relayed to Python unchanged.
 */
export class PyObject {
  /** How the object is rebuilt: REDUCE calls `callable(*args)`, NEWOBJ calls `cls.__new__(cls, *args)`. */
  readonly via: "reduce" | "newobj";
  /** A global, or (for a call on a call's result, e.g. a bound method) another placeholder. */
  readonly callable: PyGlobal | PyObject;
  readonly args: Tuple;
  /** What BUILD would pass to `__setstate__` (usually the instance `__dict__`); undefined when none. */
  state: unknown = undefined;
  /** Items APPENDed to the object (list subclasses), if any. */
  listItems: unknown[] | undefined = undefined;
  /** Items SETITEMed on the object (dict subclasses), if any. */
  dictItems: Map<unknown, unknown> | undefined = undefined;

  constructor(callable: PyGlobal | PyObject, args: Tuple, via: "reduce" | "newobj" = "reduce") {
    this.callable = callable;
    this.args = args;
    this.via = via;
  }

  /** "module.Name" of the class (or callable) that would build the object. */
  get class(): string {
    return this.callable instanceof PyGlobal ? this.callable.toString() : `${this.callable.class}(...)`;
  }
}

/** `datetime.timedelta`, normalised like Python's: 0 <= seconds < 86400, 0 <= microseconds < 10**6. */
export class TimeDelta {
  readonly days: number;
  readonly seconds: number;
  readonly microseconds: number;

  constructor(days: number, seconds = 0, microseconds = 0) {
    if (![days, seconds, microseconds].every(Number.isSafeInteger)) throw new RangeError("timedelta parts must be integers");
    const total = (days * 86_400 + seconds) * 1_000_000 + microseconds;
    if (!Number.isSafeInteger(total)) throw new RangeError("timedelta out of range");
    this.days = Math.floor(total / 86_400_000_000);
    const rest = total - this.days * 86_400_000_000;
    this.seconds = Math.floor(rest / 1_000_000);
    this.microseconds = rest - this.seconds * 1_000_000;
    Object.freeze(this);
  }

  static fromMicros(micros: number): TimeDelta {
    return new TimeDelta(0, 0, micros);
  }

  totalMicros(): number {
    return (this.days * 86_400 + this.seconds) * 1_000_000 + this.microseconds;
  }
}

/** Forces a Python float for a number our code creates (an integral JS number is otherwise pickled as an int). */
export class PyFloat {
  constructor(readonly value: number) {}

  valueOf(): number {
    return this.value;
  }
}

/**
 * Hints on decoded containers, under one symbol key. JS has one number type and no string identity, so a
 * decoded container remembers:
 * - `floats`: which keys/indices held integral Python floats (`3512.0`; plain ints carry no hint),
 * - `distinct`: which strings were separate copies of a text already sent (Python pickles those again
 *   rather than referencing the first copy),
 * so that pickling it again reproduces Python's bytes. Data-class fields stay plain numbers and strings.
 * Each list holds slots in the container's own order (cheap to build, and read in one pass).
 *
 * A symbol key never shows in Object.keys, for...in, JSON.stringify or the pickled __dict__. It is an
 * ordinary (enumerable) property: defining a non-enumerable one turns a 40-field object into a slow
 * dictionary-mode object in V8 (measured: 3.4 µs per tick instead of 12 ns). So console.log shows it, and
 * `{ ...tick }` copies it (which keeps the copy's floats floats).
 */
export const HINTS: unique symbol = Symbol("pickle.hints");

/** Key of a plain object, index of an array or tuple, or key of a Map. */
export type Slot = unknown;

export interface PickleHints {
  floats?: Slot[];
  distinct?: Slot[];
}

/** @internal */
// `undefined` too: a template object reserves the slot before any hints exist (codec/shapes.ts).
export type Hinted = { [HINTS]?: PickleHints | undefined };

function hintsFor(container: object): PickleHints {
  const hinted = container as Hinted;
  let hints = hinted[HINTS];
  if (!hints) hinted[HINTS] = hints = {};
  return hints;
}

/** Declares that `container[slot]` is a Python float even when it holds an integral number. */
export function markFloat(container: object, slot: Slot): void {
  (hintsFor(container).floats ??= []).push(slot);
}

/** The slots of a container that hold integral Python floats, if any. */
export function floatSlots(container: object): readonly Slot[] | undefined {
  return (container as Hinted)[HINTS]?.floats;
}

/** True when `container[slot]` holding `value` is a Python float: non-integral, or hinted. */
export function isFloatSlot(container: object, slot: Slot, value: number): boolean {
  return !isPythonInt(value) || (container as Hinted)[HINTS]?.floats?.includes(slot) === true;
}

/** Would an unhinted number be pickled as a Python int? (Safe integers except -0.) */
export function isPythonInt(value: number): boolean {
  return Number.isSafeInteger(value) && !(value === 0 && 1 / value < 0);
}

/** @internal Decoder side: attach hints built while decoding (taking ownership of the arrays). */
export function attachHints(container: object, floats: Slot[] | undefined, distinct: Slot[] | undefined): void {
  const hints = hintsFor(container);
  if (floats) {
    if (hints.floats) hints.floats.push(...floats);
    else hints.floats = floats;
  }
  if (distinct) {
    if (hints.distinct) hints.distinct.push(...distinct);
    else hints.distinct = distinct;
  }
}

/** @internal Encoder side: answers "is this slot hinted?" for each slot in the container's order. */
export class SlotHints {
  private cursor = 0;
  private readonly set: Set<Slot> | undefined;

  private constructor(
    private readonly slots: readonly Slot[],
    inOrder: boolean,
  ) {
    this.set = inOrder ? undefined : new Set(slots);
  }

  /**
   * Hints for a container whose slots are `order` (keys), or 0..order-1 (indices). Decoded hints come in
   * slot order and are read with a cursor; hints out of order (a container changed since) fall back to a Set.
   */
  static of(slots: readonly Slot[] | undefined, order: readonly Slot[] | number): SlotHints | undefined {
    if (slots === undefined || slots.length === 0) return undefined;
    let c = 0;
    if (typeof order === "number") {
      for (let i = 0; i < order && c < slots.length; i++) if (slots[c] === i) c++;
    } else {
      for (let i = 0; i < order.length && c < slots.length; i++) if (slots[c] === order[i]) c++;
    }
    return new SlotHints(slots, c === slots.length);
  }

  /** Ask for every slot, in order. */
  has(slot: Slot): boolean {
    if (this.set) return this.set.has(slot);
    if (this.slots[this.cursor] === slot) {
      this.cursor++;
      return true;
    }
    return false;
  }
}

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
  const t = new Tuple<T>();
  for (let i = 0; i < items.length; i++) t.push(items[i]!);
  return t;
}

export const CONSTANT_MODULE = "vnpy.trader.constant";

/**
 * A member of a `vnpy.trader.constant` enum met outside a data-class field (in a list, a dict, an argument).
 * Inside a data-class field an enum is the plain kernel value (`order.direction === Direction.LONG`); elsewhere
 * the kernel value alone would lose which enum it belongs to. Members are singletons: compare with `===`.
 */
export class PyEnum {
  private static readonly members = new Map<string, PyEnum>();
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
    PyEnum.ensure(enumName);
    return PyEnum.members.get(`${enumName}.${name}`);
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
    const values = ENUMS[enumName] as Record<string, EnumValue>;
    const english = ENGLISH_VALUES[enumName] ?? {};
    for (const name of enumMemberNames(enumName)) {
      const member = new PyEnum(enumName, name, values[name]!);
      PyEnum.members.set(`${enumName}.${name}`, member);
      if (!table.has(member.value)) table.set(member.value, member);
    }
    // English values second: a Chinese value always wins a clash.
    for (const name of enumMemberNames(enumName)) {
      const englishValue = english[name];
      if (englishValue !== undefined && !table.has(englishValue)) table.set(englishValue, PyEnum.members.get(`${enumName}.${name}`)!);
    }
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
 * Hidden (non-enumerable, symbol-keyed) hints on decoded containers. JS has one number type and no string
 * identity, so a decoded container remembers:
 * - which keys/indices held integral Python floats (`3512.0`; plain ints carry no hint),
 * - which strings were separate copies of a value already sent (Python pickles those again rather than
 *   referencing the first copy),
 * so that pickling it again reproduces Python's bytes. Data-class fields stay plain numbers and strings.
 */
export const FLOAT_SLOTS: unique symbol = Symbol("pickle.floatSlots");
export const DISTINCT_STRINGS: unique symbol = Symbol("pickle.distinctStrings");

/** Key of a plain object, index of an array or tuple, or key of a Map. */
export type Slot = string | number | unknown;

type Hinted = { [FLOAT_SLOTS]?: Set<Slot>; [DISTINCT_STRINGS]?: Set<Slot> };

function hintSet(container: object, symbol: typeof FLOAT_SLOTS | typeof DISTINCT_STRINGS): Set<Slot> {
  const existing = (container as Hinted)[symbol];
  if (existing) return existing;
  const set = new Set<Slot>();
  Object.defineProperty(container, symbol, { value: set, writable: true, configurable: true, enumerable: false });
  return set;
}

/** Declares that `container[slot]` is a Python float even when it holds an integral number. */
export function markFloat(container: object, slot: Slot): void {
  hintSet(container, FLOAT_SLOTS).add(slot);
}

/** The slots of a container that hold integral Python floats, if any. */
export function floatSlots(container: object): ReadonlySet<Slot> | undefined {
  return (container as Hinted)[FLOAT_SLOTS];
}

/** True when `container[slot]` is a Python float: non-integral, or hinted. */
export function isFloatSlot(container: object, slot: Slot, value: number): boolean {
  return !isPythonInt(value) || (container as Hinted)[FLOAT_SLOTS]?.has(slot) === true;
}

/** Would an unhinted number be pickled as a Python int? (Safe integers except -0.) */
export function isPythonInt(value: number): boolean {
  return Number.isSafeInteger(value) && !(value === 0 && 1 / value < 0);
}

/** @internal Decoder side: attach a hint set built during decoding. */
export function attachHints(container: object, floats: Set<Slot> | undefined, distinct: Set<Slot> | undefined): void {
  if (floats) {
    const existing = (container as Hinted)[FLOAT_SLOTS];
    if (existing) for (const s of floats) existing.add(s);
    else Object.defineProperty(container, FLOAT_SLOTS, { value: floats, writable: true, configurable: true, enumerable: false });
  }
  if (distinct) {
    const existing = (container as Hinted)[DISTINCT_STRINGS];
    if (existing) for (const s of distinct) existing.add(s);
    else Object.defineProperty(container, DISTINCT_STRINGS, { value: distinct, writable: true, configurable: true, enumerable: false });
  }
}

/** @internal */
export function hintsOf(container: object): Hinted {
  return container as Hinted;
}

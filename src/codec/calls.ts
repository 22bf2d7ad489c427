/**
 * What the allow-listed globals mean: the decoder's own imitation of each call a pickle may ask for
 * (REDUCE, NEWOBJ, getattr). Nothing here imports or runs Python-named code; a call that is not imitated is
 * an error in strict mode and an inert PyObject otherwise.
 */
import { DateTime, Event, type TimeZone } from "../kernel/index.js";
import type { PickleDecodeErrorCode } from "./errors.js";
import { GETATTR, KnownGlobal, ZONEINFO, ZONEINFO_UNPICKLE, lookupGlobal } from "./globals.js";
import { shapeOf } from "./shapes.js";
import { PyEnum, PyGlobal, PyObject, TimeDelta, asTuple } from "./values.js";
import { fixedZone, isDecodedZone, zoneForKey } from "./zones.js";

/** The decoder, as the calls see it. */
export interface CallSite {
  /** Request mode: refuse rather than make placeholders. */
  readonly strict: boolean;
  readonly onGlobal: ((module: string, name: string, allowed: boolean) => void) | undefined;
  fail(code: PickleDecodeErrorCode, message: string): never;
  /** Throws the PickleSecurityError for `global`. */
  refuse(global: string): never;
}

export function typeName(value: unknown): string {
  if (value === null) return "None";
  if (typeof value !== "object") return typeof value;
  return (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? "object";
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Assigns an own property; a "__proto__" key is defined, never set (setting it would swap the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** What a global names: an allow-listed KnownGlobal (or enum member), else a refusal (strict) or an inert PyGlobal. */
export function resolveGlobal(site: CallSite, module: string, name: string): unknown {
  let known: KnownGlobal | PyEnum | undefined = lookupGlobal(module, name);
  if (!known) {
    // Protocol 4 may name a nested attribute directly, e.g. ("vnpy.trader.constant", "Direction.LONG").
    const dot = name.indexOf(".");
    if (dot > 0) {
      const outer = lookupGlobal(module, name.slice(0, dot));
      if (outer?.meaning.kind === "enum") known = PyEnum.lookup(outer.meaning.enumName, name.slice(dot + 1));
    }
  }
  site.onGlobal?.(module, name, known !== undefined);
  if (known) return known;
  if (site.strict) site.refuse(`${module}.${name}`);
  return new PyGlobal(module, name);
}

/** What a call the pickle asks for is not imitated: an error in strict mode, an inert placeholder otherwise. */
function placeholder(site: CallSite, callable: unknown, args: unknown[], via: "reduce" | "newobj", why: string): PyObject {
  if (site.strict) {
    if (callable instanceof PyGlobal && !(callable instanceof KnownGlobal)) site.refuse(callable.toString());
    site.fail("ERR_CODEC_UNSUPPORTED_CALL", why);
  }
  if (!(callable instanceof PyGlobal) && !(callable instanceof PyObject)) site.fail("ERR_CODEC_MALFORMED", `${typeName(callable)} is not callable`);
  return new PyObject(callable, asTuple(args), via);
}

/** REDUCE, `callable(*args)`, as the decoder imitates it for allow-listed callables. */
export function reduce(site: CallSite, callable: unknown, args: unknown[]): unknown {
  if (!(callable instanceof KnownGlobal)) return placeholder(site, callable, args, "reduce", "call of an unknown callable");
  const meaning = callable.meaning;
  switch (meaning.kind) {
    case "getattr":
      return getattr(site, args);
    case "enum": {
      const value = args[0];
      const member = args.length === 1 && typeof value === "string" ? PyEnum.fromValue(meaning.enumName, value) : undefined;
      if (member) return member;
      if (site.strict) site.fail("ERR_CODEC_BAD_VALUE", `${JSON.stringify(value)} is not a valid ${meaning.enumName}`);
      return placeholder(site, callable, args, "reduce", "");
    }
    case "datetime":
      return datetime(site, callable, args);
    case "timedelta": {
      if (args.length > 3 || !args.every((a) => Number.isSafeInteger(a))) return placeholder(site, callable, args, "reduce", "timedelta() with non-integer arguments");
      try {
        return new TimeDelta((args[0] as number | undefined) ?? 0, (args[1] as number | undefined) ?? 0, (args[2] as number | undefined) ?? 0);
      } catch {
        return site.fail("ERR_CODEC_BAD_VALUE", "timedelta out of range");
      }
    }
    case "timezone": {
      const [offset, name] = args;
      if (!(offset instanceof TimeDelta) || args.length > 2 || (args.length === 2 && typeof name !== "string")) {
        return placeholder(site, callable, args, "reduce", "timezone() arguments must be (timedelta[, str])");
      }
      const micros = offset.totalMicros();
      if (Math.abs(micros) >= 86_400_000_000) site.fail("ERR_CODEC_BAD_VALUE", "timezone offset must be strictly between -24h and 24h");
      return fixedZone(micros, name as string | undefined);
    }
    case "zoneinfo":
    case "zoneinfo_unpickle": {
      const key = args[0];
      const arity = meaning.kind === "zoneinfo" ? 1 : 2;
      if (typeof key !== "string" || args.length !== arity) return placeholder(site, callable, args, "reduce", "ZoneInfo needs a key");
      const zone = zoneForKey(key);
      if (!zone) site.fail("ERR_CODEC_BAD_VALUE", `unknown time zone ${JSON.stringify(key)}`);
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
      return placeholder(site, callable, args, "reduce", `${callable.name}() with these arguments`);
    }
    case "codecs_encode": {
      const [text, encoding] = args;
      if (typeof text === "string" && (encoding === "latin1" || encoding === "latin-1") && !/[^\u0000-\u00ff]/.test(text)) {
        return Buffer.from(text, "latin1");
      }
      return placeholder(site, callable, args, "reduce", "_codecs.encode() other than latin-1");
    }
    case "builtin":
      return builtinCall(site, callable, meaning.builtin, args);
    case "dataclass":
    case "event":
      return placeholder(site, callable, args, "reduce", `${callable} is only rebuilt through NEWOBJ + BUILD`);
  }
}

function getattr(site: CallSite, args: unknown[]): unknown {
  const [target, name] = args;
  if (args.length !== 2 || typeof name !== "string") return placeholder(site, GETATTR, args, "reduce", "getattr() needs (object, name)");
  if (target instanceof KnownGlobal) {
    if (target.meaning.kind === "enum") {
      const member = PyEnum.lookup(target.meaning.enumName, name);
      if (member) return member;
      if (site.strict) site.fail("ERR_CODEC_BAD_VALUE", `${target.meaning.enumName} has no member ${JSON.stringify(name)}`);
      return new PyGlobal(target.module, `${target.name}.${name}`);
    }
    if (target === ZONEINFO && name === "_unpickle") return ZONEINFO_UNPICKLE;
  }
  if (target instanceof PyGlobal) {
    site.onGlobal?.(target.module, `${target.name}.${name}`, false);
    if (site.strict) site.refuse(`${target}.${name}`);
    return new PyGlobal(target.module, `${target.name}.${name}`);
  }
  if (site.strict) site.refuse(`getattr(<${typeName(target)}>, ${JSON.stringify(name)})`);
  return new PyObject(GETATTR, asTuple(args));
}

function datetime(site: CallSite, callable: KnownGlobal, args: unknown[]): unknown {
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
    return placeholder(site, callable, args, "reduce", "datetime() with arguments of an unknown form");
  }
  if (tz !== null && !isDecodedZone(tz)) {
    if (site.strict) site.fail("ERR_CODEC_BAD_VALUE", `tzinfo must be a time zone, not ${typeName(tz)}`);
    return new PyObject(callable, asTuple(args)); // e.g. a pytz zone from vnpy 2.x: kept inert, whole
  }
  try {
    return new DateTime(fields, tz as TimeZone | null);
  } catch {
    return site.fail("ERR_CODEC_BAD_VALUE", "invalid datetime fields");
  }
}

function builtinCall(site: CallSite, callable: KnownGlobal, builtin: string, args: unknown[]): unknown {
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
  return placeholder(site, callable, args, "reduce", `${builtin}() with these arguments`);
}

/** NEWOBJ, `cls.__new__(cls, *args)`: a kernel data object or Event waiting for its state (BUILD). */
export function newObject(site: CallSite, cls: unknown, args: unknown[]): unknown {
  if (cls instanceof KnownGlobal && args.length === 0) {
    const meaning = cls.meaning;
    const prototype = meaning.kind === "dataclass" ? (meaning.cls.prototype as object) : meaning.kind === "event" ? (Event.prototype as object) : undefined;
    if (prototype) {
      const shape = shapeOf(prototype)!;
      // Its own keys exist from the start (null until BUILD), in the order the last state of this class had.
      if (shape.make) return new shape.make();
      if (!shape.template) return Object.create(prototype) as object;
      const instance = { ...shape.template };
      Object.setPrototypeOf(instance, prototype);
      return instance;
    }
  }
  return placeholder(site, cls, args, "newobj", `${String(cls)}.__new__ with these arguments`);
}

/**
 * The allow-list: the only Python globals the decoder gives a meaning to. Resolution is a lookup in this
 * fixed table; nothing is ever imported, and an allow-listed global is only ever "called" by the decoder's
 * own imitation of it (see decoder.ts), never by running Python code.
 */
import { DATA_CLASSES, ENUMS, Event, type DataClassName, type EnumName } from "../kernel/index.js";
import { CONSTANT_MODULE, PyGlobal } from "./values.js";

export const OBJECT_MODULE = "vnpy.trader.object";
export const EVENT_MODULE = "vnpy.event.engine";

/** Builtins a pickle may name: as defaultdict factories, or to rebuild bytes / sets in protocol 2. */
const BUILTIN_NAMES = ["list", "dict", "set", "frozenset", "tuple", "int", "float", "str", "bytes", "bytearray", "bool", "object"] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

type DataClass = (typeof DATA_CLASSES)[DataClassName];

export type GlobalKind =
  | { readonly kind: "dataclass"; readonly cls: DataClass; readonly className: DataClassName }
  | { readonly kind: "event" }
  | { readonly kind: "enum"; readonly enumName: EnumName }
  | { readonly kind: "builtin"; readonly builtin: BuiltinName }
  | {
      readonly kind:
        | "getattr"
        | "datetime"
        | "timedelta"
        | "timezone"
        | "zoneinfo"
        /** `getattr(zoneinfo.ZoneInfo, "_unpickle")`: not a global itself, but the result of an allowed getattr. */
        | "zoneinfo_unpickle"
        | "ordereddict"
        | "defaultdict"
        | "codecs_encode";
    };

/** A global the decoder knows. It is a PyGlobal, so one that leaks into a decoded value stays inert and re-pickles. */
export class KnownGlobal extends PyGlobal {
  constructor(
    module: string,
    name: string,
    readonly meaning: GlobalKind,
  ) {
    super(module, name);
    Object.freeze(this);
  }
}

const table = new Map<string, KnownGlobal>();

function allow(module: string, name: string, meaning: GlobalKind): KnownGlobal {
  const known = new KnownGlobal(module, name, meaning);
  table.set(`${module}\n${name}`, known);
  return known;
}

for (const className of Object.keys(DATA_CLASSES) as DataClassName[]) {
  allow(OBJECT_MODULE, className, { kind: "dataclass", cls: DATA_CLASSES[className], className });
}
for (const enumName of Object.keys(ENUMS) as EnumName[]) allow(CONSTANT_MODULE, enumName, { kind: "enum", enumName });
allow(EVENT_MODULE, "Event", { kind: "event" });
export const GETATTR = allow("builtins", "getattr", { kind: "getattr" });
allow("__builtin__", "getattr", { kind: "getattr" }); // protocol 2 pickles name Python 2 modules
export const DATETIME = allow("datetime", "datetime", { kind: "datetime" });
export const TIMEDELTA = allow("datetime", "timedelta", { kind: "timedelta" });
export const TIMEZONE = allow("datetime", "timezone", { kind: "timezone" });
export const ZONEINFO = allow("zoneinfo", "ZoneInfo", { kind: "zoneinfo" });
allow("collections", "OrderedDict", { kind: "ordereddict" });
allow("collections", "defaultdict", { kind: "defaultdict" });
allow("_codecs", "encode", { kind: "codecs_encode" });
for (const builtin of BUILTIN_NAMES) {
  allow("builtins", builtin, { kind: "builtin", builtin });
  allow("__builtin__", builtin, { kind: "builtin", builtin });
}

/** Not in the table: only reachable as the result of `getattr(zoneinfo.ZoneInfo, "_unpickle")`. */
export const ZONEINFO_UNPICKLE = new KnownGlobal("zoneinfo", "ZoneInfo._unpickle", { kind: "zoneinfo_unpickle" });

/** The allow-listed globals as "module.name", for documentation and audits. */
export const ALLOWED_GLOBALS: readonly string[] = Object.freeze([...table.values()].map((g) => g.toString()));

/** The allow-listed global `module.name`, or undefined. */
export function lookupGlobal(module: string, name: string): KnownGlobal | undefined {
  return table.get(`${module}\n${name}`);
}

/** The kernel class an allow-listed data-class or Event global stands for, by prototype (encoder side). */
export function knownClassGlobals(): ReadonlyMap<object, KnownGlobal> {
  const byPrototype = new Map<object, KnownGlobal>();
  for (const known of table.values()) {
    if (known.module === "__builtin__") continue;
    const meaning = known.meaning;
    if (meaning.kind === "dataclass") byPrototype.set(meaning.cls.prototype, known);
    else if (meaning.kind === "event") byPrototype.set(Event.prototype, known);
  }
  return byPrototype;
}

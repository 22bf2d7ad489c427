/**
 * Test helpers: the wire fixtures, and a converter from decoded values to the fixtures' typed JSON, so a
 * decoded value can be compared exactly (ints vs floats, tuples vs lists, enum identity, datetimes to the µs
 * with their zone).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { vnpyWireDir } from "../fixtures/paths.js";
import {
  AccountData,
  BarData,
  CHINA_TZ,
  ContractData,
  DATA_CLASSES,
  DateTime,
  Direction,
  Event,
  Exchange,
  Interval,
  LogData,
  Offset,
  OrderData,
  OrderType,
  PositionData,
  Product,
  Status,
  TickData,
  TradeData,
  PyEnum,
  PyFloat,
  PyGlobal,
  PyObject,
  TimeDelta,
  Tuple,
  dataClassName,
  floatSlots,
  isPythonInt,
  type DataClassName,
  type EnumName,
  type FieldKind,
  type Slot,
  type TimeZone,
} from "../../src/index.js";

export { repoRoot } from "../fixtures/paths.js";

/** The captured VeighNa frames, kept in the repository (test/fixtures/vnpy-wire). */
export const fixturesDir = vnpyWireDir;
export const py313Dir = join(fixturesDir, "py310-313");

export interface Fixture {
  readonly name: string;
  readonly dir: string;
  readonly bytes: Buffer;
  readonly meta: { value: unknown; repickle_protocol4_identical?: boolean; pickle_protocol?: number };
}

export function loadFixtures(dir = fixturesDir): Fixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".pkl"))
    .sort()
    .map((file) => {
      const name = file.slice(0, -4);
      return {
        name,
        dir,
        bytes: readFileSync(join(dir, file)),
        meta: JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as Fixture["meta"],
      };
    });
}

/** A moment with microseconds, in China's zone: the datetime of the data objects below. */
export const TEST_DATETIME = new DateTime({ year: 2026, month: 12, day: 5, hour: 9, minute: 30, second: 15, microsecond: 123456 }, CHINA_TZ);

/** A tick of `symbol` on SHFE at `price`, with `fields` assigned over it (any keys: tests give it odd ones). */
export function testTick(symbol: string, price: number, fields: object = {}): TickData {
  const tick = new TickData({ gateway_name: "SIM", symbol, exchange: Exchange.SHFE, datetime: TEST_DATETIME, last_price: price, volume: 12 });
  return Object.assign(tick, fields);
}

/**
 * One instance of each data class a server publishes or replies with, by label: enums, a datetime, fractional and
 * integral floats, non-ASCII text, a field left at its default.
 */
export function oneOfEachDataClass(): Record<string, object> {
  const dt = TEST_DATETIME;
  const at = { gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE };
  return {
    tick: testTick("rb2501", 3512.5),
    order: new OrderData({
      ...at, orderid: "7", type: OrderType.LIMIT, direction: Direction.LONG, offset: Offset.OPEN, price: 3500, volume: 2, traded: 1,
      status: Status.PARTTRADED, datetime: dt, reference: "ref",
    }),
    trade: new TradeData({ ...at, orderid: "7", tradeid: "9", direction: Direction.SHORT, price: 3501, volume: 1, datetime: dt }),
    position: new PositionData({ ...at, direction: Direction.NET, volume: 3, price: 3500.25 }),
    account: new AccountData({ gateway_name: "SIM", accountid: "A1", balance: 1_000_000.5, frozen: 2000 }),
    log: new LogData({ gateway_name: "RPC", msg: "连接成功", level: 20 }),
    contract: new ContractData({ ...at, name: "螺纹钢2501", product: Product.FUTURES, size: 10, pricetick: 1 }),
    bar: new BarData({ ...at, datetime: dt, interval: Interval.MINUTE, volume: 10, close_price: 3501 }),
  };
}

/** Seeded PRNG (mulberry32): fuzzing is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- typed JSON --------------------------------------------------------------------------------------------

function typedFloat(value: number): unknown {
  if (Number.isNaN(value)) return { $float: "nan" };
  if (value === Infinity) return { $float: "inf" };
  if (value === -Infinity) return { $float: "-inf" };
  if (value === 0 && 1 / value < 0) return { $float: "-0.0" };
  return { $float: value };
}

function zoneJson(zone: TimeZone): unknown {
  if (zone.kind === "zoneinfo") return { class: "zoneinfo.ZoneInfo", key: zone.key };
  const offset = zone.kind === "utc" ? 0 : zone.offsetMicros;
  return { class: "datetime.timezone", offset_seconds: offset / 1e6, name: pythonTzName(zone) };
}

function pythonTzName(zone: TimeZone): string {
  if (zone.kind === "utc") return "UTC";
  if (zone.kind === "zoneinfo") return zone.key;
  if (zone.name !== undefined) return zone.name;
  if (zone.offsetMicros === 0) return "UTC";
  const sign = zone.offsetMicros < 0 ? "-" : "+";
  const abs = Math.abs(zone.offsetMicros);
  const h = Math.floor(abs / 3.6e9);
  const m = Math.floor((abs % 3.6e9) / 6e7);
  const s = Math.floor((abs % 6e7) / 1e6);
  const us = abs % 1e6;
  let text = `UTC${sign}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
  if (s || us) text += `:${String(s).padStart(2, "0")}`;
  if (us) text += `.${String(us).padStart(6, "0")}`;
  return text;
}

function datetimeJson(dt: DateTime): unknown {
  if (!dt.tzinfo) return { $datetime: dt.toISOString(), tzinfo: null, fold: dt.fold };
  return {
    $datetime: dt.toISOString(),
    tzinfo: zoneJson(dt.tzinfo),
    fold: dt.fold,
    utcoffset_seconds: dt.utcOffsetMicros()! / 1e6,
    epoch_us: String(dt.epochMicros()),
  };
}

function objectClassName(value: object): string | undefined {
  const name = dataClassName(value);
  if (name) return `vnpy.trader.object.${name}`;
  if (value instanceof Event) return "vnpy.event.engine.Event";
  return undefined;
}

/**
 * A decoded value as typed JSON. `isFloat` and `kind` come from the container: its float hints, and (inside
 * a data object) the field's declared kind, which says an enum field's plain string is an enum member.
 */
export function toTyped(value: unknown, isFloat = false, kind?: FieldKind): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "boolean":
      return value;
    case "string":
      if (kind !== undefined && kind !== "datetime") {
        const member = PyEnum.fromValue(kind, value);
        if (!member) throw new Error(`${JSON.stringify(value)} is not a ${kind}`);
        return toTyped(member);
      }
      return value;
    case "number":
      return isFloat || !isPythonInt(value) ? typedFloat(value) : { $int: String(value) };
    case "bigint":
      return { $int: value.toString() };
    case "object":
      break;
    default:
      throw new Error(`unexpected ${typeof value}`);
  }
  const floats = new Set<Slot>(floatSlots(value) ?? []);
  if (value instanceof PyFloat) return typedFloat(value.value);
  if (value instanceof PyEnum) return { $enum: value.qualifiedName, name: value.name, value: value.value };
  if (value instanceof DateTime) return datetimeJson(value);
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  if (value instanceof Tuple) return { $tuple: value.map((item, i) => toTyped(item, floats.has(i))) };
  if (Array.isArray(value)) return value.map((item, i) => toTyped(item, floats.has(i)));
  if (value instanceof Map) return { $dict: [...value].map(([k, v]) => [toTyped(k), toTyped(v, floats.has(k))]) };
  if (value instanceof Set) return { $set: [...value].map((item) => toTyped(item)) };
  if (value instanceof TimeDelta) return { $timedelta: [value.days, value.seconds, value.microseconds] };
  if (value instanceof PyGlobal) return { $global: value.toString() };
  if (value instanceof PyObject) {
    return { $placeholder: value.class, args: toTyped(value.args), state: value.state === undefined ? null : toTyped(value.state) };
  }
  const className = objectClassName(value);
  if (className) {
    const record = value as Record<string, unknown>;
    const name = dataClassName(value);
    const kinds: Readonly<Record<string, FieldKind>> = name ? (DATA_CLASSES[name as DataClassName].fieldKinds as Readonly<Record<string, FieldKind>>) : {};
    const state: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      const fieldKind = Object.prototype.hasOwnProperty.call(kinds, key) ? kinds[key] : undefined;
      state[key] = toTyped(record[key], floats.has(key), fieldKind as EnumName | "datetime" | undefined);
    }
    return { $object: className, state };
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    return { $dict: Object.keys(record).map((k) => [k, toTyped(record[k], floats.has(k))]) };
  }
  throw new Error(`unexpected object ${String(value)}`);
}

// ---- hand-made pickles ---------------------------------------------------------------------------------------

/** Pickle opcodes used by hand-made test pickles. */
export const OP = {
  PROTO: 0x80, FRAME: 0x95, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, NEWTRUE: 0x88, BININT1: 0x4b, BININT: 0x4a, LONG1: 0x8a,
  LONG4: 0x8b, BINFLOAT: 0x47, SHORT_BINUNICODE: 0x8c, BINUNICODE: 0x58, BINUNICODE8: 0x8d, BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43, EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEM: 0x73,
  SETITEMS: 0x75, EMPTY_TUPLE: 0x29, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, TUPLE: 0x74, STACK_GLOBAL: 0x93,
  GLOBAL: 0x63, REDUCE: 0x52, NEWOBJ: 0x81, BUILD: 0x62, MEMOIZE: 0x94, BINGET: 0x68, LONG_BINGET: 0x6a,
  LONG_BINPUT: 0x72, BINPUT: 0x71, POP: 0x30, DUP: 0x32, PERSID: 0x50, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
} as const;

/** A str opcode for `text`. */
export function str(text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  if (body.length < 256) return Buffer.concat([Buffer.from([OP.SHORT_BINUNICODE, body.length]), body]);
  const header = Buffer.alloc(5);
  header[0] = OP.BINUNICODE;
  header.writeUInt32LE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** STACK_GLOBAL of module.name (protocol 4). */
export function global(module: string, name: string): Buffer {
  return Buffer.concat([str(module), str(name), Buffer.from([OP.STACK_GLOBAL])]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** Concatenates opcodes (numbers), strings (as str opcodes) and byte chunks; prefixes PROTO 4, ends with STOP. */
export function pickle(...parts: (number | string | Buffer | readonly number[])[]): Buffer {
  const chunks: Buffer[] = [Buffer.from([OP.PROTO, 4])];
  for (const part of parts) {
    if (typeof part === "number") chunks.push(Buffer.from([part]));
    else if (typeof part === "string") chunks.push(str(part));
    else chunks.push(Buffer.from(part));
  }
  chunks.push(Buffer.from([OP.STOP]));
  return Buffer.concat(chunks);
}

/**
 * An unmodified CPython loads what we write: our pickles of every class, enum and edge value are unpickled by
 * /usr/bin/python3 under stand-in classes at VeighNa's module paths (test/codec/python/check_unpickle.py) and
 * compared field by field. CPython's own re-pickle of what it loaded must then equal our bytes (same opcodes,
 * memo and frames) and decode back to the same value.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  AccountData,
  BarData,
  CHINA_TZ,
  CancelRequest,
  ContractData,
  DateTime,
  Direction,
  ENUMS,
  Event,
  Exchange,
  HistoryRequest,
  Interval,
  LogData,
  Offset,
  OptionType,
  OrderData,
  OrderRequest,
  OrderType,
  PositionData,
  Product,
  PyEnum,
  PyFloat,
  QuoteData,
  QuoteRequest,
  Status,
  SubscribeRequest,
  TickData,
  TimeDelta,
  TradeData,
  UTC,
  decodePickle,
  encodePickle,
  encodePublish,
  encodeReply,
  encodeRequest,
  enumMemberNames,
  fixedOffset,
  markFloat,
  tuple,
  zoneInfo,
  type EnumName,
} from "../../src/index.js";
import { fixturesDir, loadFixtures, repoRoot, toTyped } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(repoRoot, "test", "codec", "python", "check_unpickle.py");
const hasPython = existsSync(PYTHON);

interface PythonResult {
  ok: boolean;
  checked: number;
  failures: { case: string; error: string }[];
  python: string;
}

function runPython(args: string[]): PythonResult {
  const run = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: "utf8", timeout: 60_000 });
  assert.equal(run.error, undefined, String(run.error));
  const line = run.stdout.trim().split("\n").pop() ?? "";
  assert.ok(line.startsWith("{"), `no result from python: ${run.stderr}`);
  return JSON.parse(line) as PythonResult;
}

const at = (iso: string, zone: Parameters<typeof DateTime.parse>[1] = CHINA_TZ): DateTime => DateTime.parse(iso, zone);

/** One value per case: every class, every enum, and the edge values Python must read back exactly. */
function cases(): Record<string, unknown> {
  const dt = new DateTime({ year: 2024, month: 12, day: 31, hour: 9, minute: 30, second: 15, microsecond: 123456 }, CHINA_TZ);
  const naive = new DateTime({ year: 2024, month: 12, day: 31, hour: 9, minute: 30, second: 15, microsecond: 130001 });
  const tick = new TickData({
    gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, datetime: dt, name: "螺纹钢2501",
    volume: 123456, turnover: 4312345670.5, last_price: 3512, bid_price_1: 3511, bid_price_2: Number.MAX_VALUE,
    ask_price_1: 3512.5, bid_volume_1: 85, localtime: naive,
  });
  markFloat(tick, "volume"); // a float that happens to be integral, as a Python feed would send it
  const order = new OrderData({
    gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, orderid: "1_-1234567_3", type: OrderType.LIMIT,
    direction: Direction.LONG, offset: Offset.CLOSETODAY, price: 3500, volume: 2, traded: 1, status: Status.PARTTRADED,
    datetime: dt, reference: "测试/test",
  });
  const contract = new ContractData({
    gateway_name: "CTP", symbol: "IO2501-C-4000", exchange: Exchange.CFFEX, name: "沪深300 看涨 😀", product: Product.OPTION,
    size: 100, pricetick: 0.2, max_volume: Number.MAX_VALUE, option_strike: 4000, option_underlying: "IO2501.CFFEX",
    option_type: OptionType.CALL, option_listed: at("2024-01-02T09:30:00"), option_expiry: at("2025-01-17T15:00:00"),
    option_portfolio: "IO", option_index: "4000",
  });
  const withExtra = new TickData({ gateway_name: "SIM", symbol: "IF2501", exchange: Exchange.CFFEX, datetime: dt });
  withExtra.extra = { seq: 7, t_ns: 1735608615123456789n };
  const allEnums: Record<string, PyEnum[]> = {};
  for (const name of Object.keys(ENUMS) as EnumName[]) allEnums[name] = enumMemberNames(name).map((m) => PyEnum.of(name, m));
  const contracts = Array.from({ length: 1000 }, (_, i) =>
    new ContractData({
      gateway_name: "SIM", symbol: `c${String(i).padStart(4, "0")}`, exchange: Exchange.SHFE, name: `合约${i}`,
      product: Product.FUTURES, size: 10, pricetick: 1, min_volume: 1,
    }));
  return {
    tick_event: ["", new Event("eTick.", tick)],
    tick_with_extra: withExtra,
    bar: new BarData({ gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, datetime: dt, interval: Interval.MINUTE, volume: 10, open_price: 3500.5, close_price: 3501 }),
    order,
    trade: new TradeData({ gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, orderid: "1_-1234567_3", tradeid: "     195674", direction: Direction.SHORT, offset: Offset.OPEN, price: 3501, volume: 1, datetime: dt }),
    position: new PositionData({ gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.NET, volume: 3, frozen: 1, price: 3500.25, pnl: -12.5, yd_volume: 2 }),
    account: new AccountData({ gateway_name: "CTP", accountid: "0001234", balance: 1_000_000.5, frozen: 2000 }),
    log: new LogData({ gateway_name: "RPC", msg: "连接成功 connected", level: 20, time: naive }),
    contract,
    quote: new QuoteData({ gateway_name: "CTP", symbol: "rb2501", exchange: Exchange.SHFE, quoteid: "q1", bid_price: 3500, bid_volume: 1, ask_price: 3502, ask_volume: 2, bid_offset: Offset.OPEN, ask_offset: Offset.CLOSE, status: Status.NOTTRADED, datetime: dt }),
    subscribe: new SubscribeRequest({ symbol: "rb2501", exchange: Exchange.SHFE }),
    order_request: new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.FAK, volume: 2, price: 3500, offset: Offset.OPEN, reference: "ref" }),
    cancel_request: new CancelRequest({ orderid: "1_-1234567_3", symbol: "rb2501", exchange: Exchange.SHFE }),
    history_request: new HistoryRequest({ symbol: "rb2501", exchange: Exchange.SHFE, start: dt, end: at("2025-01-02T15:00:00.000001"), interval: Interval.HOUR }),
    quote_request: new QuoteRequest({ symbol: "rb2501", exchange: Exchange.SHFE, bid_price: 3500, bid_volume: 1, ask_price: 3502, ask_volume: 1 }),
    all_enums: [true, allEnums],
    datetimes: [
      dt, naive, at("2024-12-31T15:59:59.000001Z", UTC), at("2024-12-31T23:59:59", fixedOffset(8 * 60)),
      at("2024-06-30T12:00:00", fixedOffset(-(5 * 60 + 30), "IST-ish")),
      new DateTime({ year: 2024, month: 11, day: 3, hour: 1, minute: 30, fold: 1 }, zoneInfo("America/New_York")),
      new DateTime({ year: 1, month: 1, day: 1 }), new DateTime({ year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999999 }),
      new DateTime({ year: 1970, month: 1, day: 1, hour: 8 }, CHINA_TZ),
    ],
    ints: [0, 1, 255, 256, 65535, 65536, -1, -255, -256, -2147483648, 2147483647, 2147483648, -2147483649,
      Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2n ** 63n - 1n, 2n ** 64n + 1n, -(2n ** 70n), 10n ** 300n, -(10n ** 700n), 5n],
    floats: [0.5, -0.0, NaN, Infinity, -Infinity, 1e300, 5e-324, Number.MAX_VALUE, 3512.75, new PyFloat(3500), new PyFloat(0)],
    strings: ["", "a", "螺纹钢 Ω ü 😀 \u0000 end", "x".repeat(255), "长".repeat(86), "y".repeat(300), "z".repeat(70_000), "分".repeat(30_000), "'\"\\\n"],
    bytes: [Buffer.from([0, 1, 0xfe, 0xff]), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.alloc(70_000, 9)],
    containers: [tuple(), tuple(1), tuple<unknown>(1, "a", null), tuple(1, 2, 3, 4), [], [[1, [2, [3]]]], {}, { a: 1, b: [true, false] },
      new Map<unknown, unknown>([[1, "int key"], [tuple<unknown>(1, 2), "tuple key"], ["s", null]]), { ["__proto__"]: "own key", constructor: 1 },
      new Set([1, 2, 3]), Array.from({ length: 1001 }, (_, i) => i), Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i])),
      new Map(Array.from({ length: 2000 }, (_, i) => [i, `v${i}`]))],
    shared_references: ((): unknown => {
      const inner = ["shared"];
      let level: unknown = inner;
      for (let i = 0; i < 12; i++) level = [level, level]; // 4096 paths, 13 lists on the wire
      return level;
    })(),
    timedelta: [new TimeDelta(1, 2, 3), new TimeDelta(-1, 0, 1), new TimeDelta(0, 86_399, 999_999)],
    request: decodeBack(encodeRequest("send_order", [new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 2, price: 3500 }), "CTP"], { timeout_hint: 1 })),
    reply_ok: decodeBack(encodeReply(true, "CTP.1_-1234567_3")),
    reply_error: decodeBack(encodeReply(false, "Traceback (most recent call last):\nKeyError: 'no_such_function'\n")),
    publish: decodeBack(encodePublish("heartbeat", 1735608615.25)),
    contracts_1000: [true, contracts],
  };
}

function decodeBack(bytes: Buffer): unknown {
  return decodePickle(bytes, { mode: "event" });
}

/**
 * Where CPython's re-pickle may legitimately differ from our bytes: a str
 * equal to a class name (the "Direction" keys of all_enums) is one memo entry for us, while in the loading
 * process the loaded key and the class's own __qualname__ are two str objects. Everything else must match.
 */
const EXPECTED_DIFFERENCES = new Set(["all_enums"]);

describe("CPython reads what we write", { skip: hasPython ? false : `${PYTHON} not found` }, () => {
  let dir = "";
  let values: Record<string, unknown> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "codec-python-"));
    values = cases();
    for (const [name, value] of Object.entries(values)) {
      writeFileSync(join(dir, `${name}.pkl`), encodePickle(value));
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(toTyped(value)));
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("unpickles every class, enum and edge value to exactly what we meant (Chinese locale)", () => {
    const result = runPython(["check", dir]);
    assert.deepEqual(result.failures, []);
    assert.equal(result.checked, Object.keys(values).length);
    assert.ok(result.ok);
  });

  it("unpickles our enums in an English-locale VeighNa too (we write them by name)", () => {
    const result = runPython(["check", dir, "--english"]);
    assert.deepEqual(result.failures, []);
    assert.ok(result.ok);
  });

  it("re-pickles what it loaded to our bytes exactly, and we decode its bytes back to the same value", () => {
    runPython(["check", dir]);
    const differing: string[] = [];
    for (const name of Object.keys(values)) {
      const ours = readFileSync(join(dir, `${name}.pkl`));
      const theirs = readFileSync(join(dir, `${name}.cpython.pkl`));
      if (!theirs.equals(ours)) differing.push(name);
      const expected = JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as unknown;
      assert.deepEqual(sortSets(toTyped(decodePickle(theirs, { mode: "event" }))), sortSets(expected), name);
    }
    assert.deepEqual(differing, [...EXPECTED_DIFFERENCES].sort());
  });

  it("decodes every captured fixture re-pickled by CPython with protocols 2 and 3", () => {
    for (const protocol of [2, 3]) {
      const out = join(dir, `p${protocol}`);
      mkdirSync(out);
      const result = runPython(["repickle", fixturesDir, out, String(protocol)]);
      assert.deepEqual(result.failures, []);
      const byName = new Map(loadFixtures().map((f) => [f.name, f.meta.value]));
      assert.equal(readdirSync(out).length, byName.size);
      for (const file of readdirSync(out)) {
        const bytes = readFileSync(join(out, file));
        assert.equal(bytes[1], protocol);
        const value = decodePickle(bytes, { mode: file.startsWith("req_") ? "request" : "event" });
        assert.deepEqual(toTyped(value), byName.get(file.slice(0, -4)), `protocol ${protocol}: ${file}`);
      }
    }
  });
});

describe("CPython's protocol 0 and 1 pickles (old peers, Python 2 era) decode too", { skip: hasPython ? false : `${PYTHON} not found` }, () => {
  it("decodes plain values, datetimes and enums re-pickled with the text protocols", () => {
    const dir = mkdtempSync(join(tmpdir(), "codec-protocol01-"));
    try {
      const all = cases();
      // CPython writes a datetime's fold only with protocol 4 and up: leave the fold=1 one out here.
      all.datetimes = (all.datetimes as DateTime[]).filter((dt) => dt.fold === 0);
      // Data objects pickle through copyreg._reconstructor below protocol 2, which is (rightly) not allowed.
      const plain = ["datetimes", "ints", "floats", "strings", "bytes", "containers", "shared_references", "timedelta", "all_enums"];
      mkdirSync(join(dir, "src"));
      for (const name of plain) writeFileSync(join(dir, "src", `${name}.pkl`), encodePickle(all[name]));
      for (const protocol of [0, 1]) {
        const out = join(dir, `p${protocol}`);
        mkdirSync(out);
        const result = runPython(["repickle", join(dir, "src"), out, String(protocol)]);
        assert.deepEqual(result.failures, []);
        for (const name of plain) {
          const value = decodePickle(readFileSync(join(out, `${name}.pkl`)), { mode: "request" });
          assert.deepEqual(sortSets(toTyped(value)), sortSets(toTyped(all[name])), `protocol ${protocol}: ${name}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Set order is Python's hash order: compare sets as sorted lists. */
function sortSets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortSets);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (Array.isArray(record.$set)) return { $set: record.$set.map(sortSets).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)) };
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, sortSets(v)]));
  }
  return value;
}

/**
 * The encoder writes a data class instance's fields through a layout it keeps per class (each field name's memo
 * entry and bytes cached, values read in a for-in). That path must write exactly the bytes of the generic one
 * (saveItems, a lookup per name), which an instance carrying hints from a decode still takes. CPython itself checks
 * the generic path's bytes (python.test.ts, fixtures.test.ts); here the two paths are held to each other, on the
 * cases where a cached memo entry could go stale: names shared across instances and classes, values equal to field
 * names, repeated objects, frames closing mid-instance, successive encodes, and a string memo cleared between them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BarSeries,
  CHINA_TZ,
  ContractData,
  DateTime,
  Direction,
  Event,
  Exchange,
  Interval,
  OrderData,
  Product,
  Status,
  TickData,
  encodePickle,
  encodeReplySliced,
} from "../../src/index.js";
import { attachHints } from "../../src/codec/values.js";
import { oneOfEachDataClass, testTick as tick } from "./helpers.js";

/** Every data class instance reachable from `value` (own enumerable properties, arrays, maps). */
function instances(value: unknown, seen = new Set<object>()): object[] {
  if (value === null || typeof value !== "object" || seen.has(value) || value instanceof DateTime) return [];
  seen.add(value);
  const found: object[] = [];
  if (Object.getPrototypeOf(value) !== Object.prototype && !Array.isArray(value) && !(value instanceof Map)) found.push(value);
  const children = value instanceof Map ? [...value.values()] : Object.values(value);
  for (const child of children) found.push(...instances(child, seen));
  return found;
}

/**
 * `value`'s bytes through the generic path: each instance carries empty hints for the encode (which change nothing
 * written, but keep it off the cached layout), removed afterwards.
 */
function encodeGeneric(value: unknown): Buffer {
  const hinted = instances(value);
  for (const instance of hinted) attachHints(instance, undefined, undefined);
  try {
    return encodePickle(value);
  } finally {
    for (const instance of hinted) for (const symbol of Object.getOwnPropertySymbols(instance)) delete (instance as Record<symbol, unknown>)[symbol];
  }
}

function assertSameBytes(value: unknown, label: string): void {
  const viaLayout = encodePickle(value);
  const generic = encodeGeneric(value);
  assert.ok(viaLayout.equals(generic), `${label}: the layout path wrote ${viaLayout.length} bytes, the generic path ${generic.length}, differing at ${firstDifference(viaLayout, generic)}`);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

describe("data class fields through the encoder's cached layout", () => {
  it("write the generic path's bytes for every kernel class", () => {
    const { tick: oneTick, ...others } = oneOfEachDataClass();
    const cases: Record<string, unknown> = { tick_event: ["", new Event("eTick.", oneTick)], ...others };
    for (const [label, value] of Object.entries(cases)) assertSameBytes(value, label);
  });

  it("refer back to names, values and objects already written, whichever path wrote them first", () => {
    // Field names that are also values, module names and enum member names earlier or later in the same encode.
    const named = tick("volume", 1, { name: "datetime", gateway_name: "symbol" });
    const shared = tick("rb2501", 3512);
    const order = new OrderData({ gateway_name: "volume", symbol: "price", exchange: Exchange.SHFE, orderid: "status", direction: Direction.LONG, price: 1, volume: 1, status: Status.ALLTRADED });
    assertSameBytes([named, shared, order, shared, tick("SHFE", 2), ["last_price", "datetime", "exchange"], { symbol: named }], "mixed");
    // A dict written by the generic path first, then an instance whose names it shares.
    assertSameBytes([{ volume: 1, symbol: "x", gateway_name: "g" }, tick("x", 1)], "dict first");
  });

  it("stay exact across encodes, instances with extra fields, and a string memo cleared between them", () => {
    const plain = tick("rb2501", 3512);
    const withExtra = tick("rb2501", 3513);
    withExtra.extra = { seq: 7, symbol: "rb2501" };
    for (let round = 0; round < 3; round++) {
      assertSameBytes(["", new Event("eTick.", plain)], `plain, round ${round}`);
      assertSameBytes(["", new Event("eTick.", withExtra)], `extra, round ${round}`);
      assertSameBytes([plain, withExtra, plain], `both, round ${round}`);
    }
    // Past 50,000 remembered strings the encoder clears its string memo: layouts made before must not be reused.
    encodePickle(Array.from({ length: 60_000 }, (_, i) => `s${i}`));
    assertSameBytes(["", new Event("eTick.", plain)], "after the memo was cleared");
    assertSameBytes([withExtra, plain], "after the memo was cleared, both");
  });

  it("close frames at the same bytes in a reply larger than a frame", () => {
    const contracts = Array.from({ length: 1500 }, (_, i) =>
      new ContractData({ gateway_name: "SIM", symbol: `c${i}`, exchange: Exchange.SHFE, name: `合约${i}`, product: Product.FUTURES, size: 10, pricetick: 1 }));
    assertSameBytes([true, contracts], "1,500 contracts");
    const ticks = Array.from({ length: 800 }, (_, i) => tick(`t${i % 7}`, 3500 + i, { name: "x".repeat(i % 200) }));
    assertSameBytes(ticks, "800 ticks of varied sizes");
  });

  it("keep a name's bytes without the header of a frame that opened for it", () => {
    // A string just short of a frame's 64 KiB, then a tick of a key set not seen before: for some padding the frame
    // closes right before one of the tick's names, whose first write (the one kept) then opens the next frame.
    for (let padding = 65_536 - 200; padding < 65_536 - 16; padding++) {
      const fresh = tick("rb2501", 3512, { [`k${padding}`]: padding });
      encodePickle(["x".repeat(padding), fresh]); // the layout's first writes, kept
      assertSameBytes(["x".repeat(padding), fresh], `padding ${padding}, again`);
      assertSameBytes(fresh, `padding ${padding}, the tick alone`);
    }
  });

  it("write only own fields when the class's prototype has an enumerable property, as the generic path does", () => {
    Object.defineProperty(TickData.prototype, "inherited", { value: 1, enumerable: true, configurable: true, writable: true });
    try {
      const value = ["", new Event("eTick.", tick("rb2501", 3512))];
      assertSameBytes(value, "enumerable inherited property");
      assert.ok(!encodePickle(value).includes(Buffer.from("inherited")));
    } finally {
      delete (TickData.prototype as unknown as Record<string, unknown>)["inherited"];
    }
  });

  it("write a BarSeries (one reused BarData) as the generic path writes the list of its bars, plain and sliced", async () => {
    const series = new BarSeries({ gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE, interval: Interval.MINUTE, zone: CHINA_TZ });
    const start = Date.UTC(2026, 11, 4, 1, 0) + 8 * 3_600_000;
    for (let i = 0; i < 1200; i++) series.push((start + i * 60_000) * 1000, 3500, 3510 + i, 3490, 3500 + i / 2, i, i * 35_000, 1000);
    const generic = encodeGeneric([true, series.toArray()]);
    assert.ok(encodePickle([true, series]).equals(generic), "BarSeries, one go");
    assert.ok((await encodeReplySliced(true, series)).equals(generic), "BarSeries, sliced");
  });
});

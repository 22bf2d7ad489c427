/**
 * The sliced encoder (codec/sliced.ts) writes encodePickle's bytes exactly, whatever the slices, and lets other
 * work run between slices.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BarData,
  BarSeries,
  DateTime,
  Exchange,
  Interval,
  PyFloat,
  SliceScheduler,
  TickData,
  Tuple,
  decodeReply,
  encodePickle,
  encodePickleSliced,
  encodeReply,
  encodeReplySliced,
  CHINA_TZ,
  fixedOffset,
  worthSlicing,
} from "../../src/index.js";
import { fixturesDir, loadFixtures, py313Dir } from "./helpers.js";

/** One step (a list item) a turn: the most slices an encode can be cut into. */
const stepATurn = new SliceScheduler(0);

function bars(count: number, symbol = "rb2701"): BarData[] {
  const start = Date.UTC(2026, 0, 5, 1, 0);
  return Array.from({ length: count }, (_, i) => {
    const price = 3500 + (i % 97) - (i % 13) * 0.5;
    return new BarData({
      gateway_name: "SIM",
      symbol,
      exchange: Exchange.SHFE,
      datetime: DateTime.fromDate(new Date(start + i * 60_000)),
      interval: Interval.MINUTE,
      volume: i % 50,
      turnover: price * (i % 50) * 10,
      open_interest: 1000 + i,
      open_price: price,
      high_price: price + 2,
      low_price: price - 1.5,
      close_price: price + 1,
    });
  });
}

/** bars(count) as columns: the same values, bar for bar. */
function series(count: number, capacity = 4): BarSeries {
  const out = new BarSeries({ gateway_name: "SIM", symbol: "rb2701", exchange: Exchange.SHFE, interval: Interval.MINUTE, zone: CHINA_TZ }, capacity);
  const start = Date.UTC(2026, 0, 5, 1, 0);
  for (const [i, bar] of bars(count).entries()) {
    const wallMicros = (start + i * 60_000 + 8 * 3_600_000) * 1000;
    out.push(wallMicros, bar.open_price, bar.high_price, bar.low_price, bar.close_price, bar.volume, bar.turnover, bar.open_interest);
  }
  return out;
}

describe("encodePickleSliced", () => {
  it("writes the same bytes as encodePickle for bar lists around every batch and frame boundary", async () => {
    for (const count of [0, 1, 2, 63, 64, 999, 1000, 1001, 1439, 2000, 2001, 5000]) {
      const value = bars(count);
      assert.deepEqual(await encodePickleSliced(value, { slices: stepATurn }), encodePickle(value), `${count} bars`);
      assert.deepEqual(await encodeReplySliced(true, value, { slices: stepATurn }), encodeReply(true, value), `reply of ${count} bars`);
    }
  });

  it("leaves zeroed headroom for a caller's header before the same bytes, in one go and in slices", async () => {
    const value = bars(1001);
    const plain = encodePickle(value);
    const expected = Buffer.concat([Buffer.alloc(36), plain]);
    assert.deepEqual(encodePickle(value, { headroom: 36 }), expected);
    assert.deepEqual(await encodePickleSliced(value, { slices: stepATurn, headroom: 36 }), expected);
    assert.deepEqual(encodeReply(true, value, 36), Buffer.concat([Buffer.alloc(36), encodeReply(true, value)]));
    assert.deepEqual(await encodeReplySliced(true, value, { slices: stepATurn, headroom: 36 }), Buffer.concat([Buffer.alloc(36), encodeReply(true, value)]));
    assert.throws(() => encodePickle(1, { headroom: -1 }), RangeError);
    assert.throws(() => encodePickle(1, { headroom: 1.5 }), RangeError);
  });

  it("writes a BarSeries as the list of its bars, byte for byte, in one go or a bar a step", async () => {
    for (const count of [0, 1, 2, 63, 64, 999, 1000, 1001, 1439, 2001]) {
      const list = bars(count);
      const columns = series(count);
      assert.deepEqual(columns.toArray(), list, `${count} bars built back from the columns`);
      assert.deepEqual(encodePickle(columns), encodePickle(list), `${count} bars, one go`);
      assert.deepEqual(await encodePickleSliced(columns, { slices: stepATurn }), encodePickle(list), `${count} bars, sliced`);
      assert.deepEqual(await encodeReplySliced(true, columns, { slices: stepATurn }), encodeReply(true, list), `reply of ${count} bars`);
    }
    // The same series twice is one list referenced twice, as the same list would be.
    const list = bars(100);
    const columns = series(100);
    assert.deepEqual(encodePickle([columns, columns]), encodePickle([list, list]));
    assert.deepEqual(await encodePickleSliced([columns, columns], { slices: stepATurn }), encodePickle([list, list]));
    assert.equal(worthSlicing(series(64)), true);
    assert.equal(worthSlicing([true, series(100)]), true);
    assert.equal(worthSlicing(series(10)), false);
  });

  it("writes the same bytes for nested, shared and mixed values (memo references across slices)", async () => {
    const shared = bars(3);
    const list = bars(1500);
    const tick = new TickData({ gateway_name: "SIM", symbol: "rb2701", exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: 3501 });
    const values: unknown[] = [
      [list, list, shared, [shared, shared[0]]], // the same list twice: a reference, written once
      [Tuple.from([1, "a", list]), { bars: list, n: 3 }, new PyFloat(2), ["x", "x", "y"], tick, null, true],
      Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `s${i % 40}` : i % 3 === 1 ? [i, `s${i % 40}`] : shared[i % 3])),
      [[bars(70, "a"), bars(70, "b")], bars(1, "c"), [], [list[5]]],
      Array.from({ length: 200 }, (_, i) => DateTime.fromDate(new Date(Date.UTC(2026, 0, 1) + i * 1000), i % 2 ? CHINA_TZ : fixedOffset(480, "CST"))),
    ];
    for (const [i, value] of values.entries()) {
      assert.deepEqual(await encodePickleSliced(value, { slices: stepATurn }), encodePickle(value), `value ${i}`);
      assert.deepEqual(await encodePickleSliced(value), encodePickle(value), `value ${i}, default slices`);
    }
  });

  it("writes the same bytes as encodePickle for every captured VeighNa reply", async () => {
    const replies = [...loadFixtures(fixturesDir), ...loadFixtures(py313Dir)].filter((f) => f.name.startsWith("rep_"));
    assert.ok(replies.length > 0, "reply fixtures");
    for (const fixture of replies) {
      const reply = decodeReply(fixture.bytes);
      const value = reply.ok ? reply.result : reply.traceback;
      assert.deepEqual(await encodeReplySliced(reply.ok, value, { slices: stepATurn }), encodeReply(reply.ok, value), fixture.name);
    }
  });

  it("fails like encodePickle on what cannot be pickled, and the next encode is unharmed", async () => {
    const value = [...bars(100), () => 1];
    assert.throws(() => encodePickle(value), /cannot pickle a function/);
    await assert.rejects(encodePickleSliced(value, { slices: stepATurn }), /cannot pickle a function/);
    assert.deepEqual(await encodePickleSliced(bars(100), { slices: stepATurn }), encodePickle(bars(100)));
  });

  it("lets other work run between slices, while other encodes in between keep their own bytes", async () => {
    const value = bars(2000);
    const expected = encodePickle(value);
    let turns = 0;
    let stop = false;
    const others: Buffer[] = [];
    const spin = (): void => {
      if (stop) return;
      turns++;
      others.push(encodePickle([turns, "other", bars(2)])); // the shared encoder, used between slices
      setImmediate(spin);
    };
    setImmediate(spin);
    const bytes = await encodePickleSliced(value, { slices: stepATurn });
    stop = true;
    assert.deepEqual(bytes, expected);
    assert.ok(turns >= 100, `other work ran ${turns} times during the encode`);
    for (const [i, other] of others.entries()) assert.deepEqual(other, encodePickle([i + 1, "other", bars(2)]));
  });

  it("is worth it for a long list or a short list holding one, not for short values", () => {
    assert.equal(worthSlicing(bars(64)), true);
    assert.equal(worthSlicing([true, bars(100)]), true);
    assert.equal(worthSlicing(bars(10)), false);
    assert.equal(worthSlicing(Tuple.from(bars(100))), false);
    assert.equal(worthSlicing({ bars: bars(100) }), false);
    assert.equal(worthSlicing("text"), false);
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BarData, BarSeries, CHINA_TZ, DateTime, Exchange, Interval, barList } from "../../src/kernel/index.js";

function minuteSeries(count: number, capacity: number): BarSeries {
  const series = new BarSeries({ gateway_name: "SIM", symbol: "rb2701", exchange: Exchange.SHFE, interval: Interval.MINUTE, zone: CHINA_TZ }, capacity);
  const nineAm = Date.UTC(2026, 0, 5, 9, 0) * 1000; // wall clock, Shanghai
  for (let i = 0; i < count; i++) series.push(nineAm + i * 60_000_000, 3500 + i, 3502 + i, 3499 + i, 3501 + i, 10 * i, 3500 * 10 * i, 1000 + i);
  return series;
}

describe("BarSeries", () => {
  test("grows past its capacity and builds each bar back as the BarData it stands for", () => {
    const series = minuteSeries(37, 2);
    assert.equal(series.length, 37);
    const bar = series.at(36);
    assert.ok(bar instanceof BarData);
    assert.deepEqual(
      bar,
      new BarData({
        gateway_name: "SIM",
        symbol: "rb2701",
        exchange: Exchange.SHFE,
        datetime: DateTime.parse("2026-01-05T09:36:00+08:00", CHINA_TZ),
        interval: Interval.MINUTE,
        volume: 360,
        turnover: 3500 * 360,
        open_interest: 1036,
        open_price: 3536,
        high_price: 3538,
        low_price: 3535,
        close_price: 3537,
      }),
    );
    assert.equal(bar.vt_symbol, "rb2701.SHFE");
    // fill() walks the series with one object: each step reads as at(i) would.
    const reused = series.at(0);
    for (const i of [5, 36, 0]) assert.deepEqual(series.fill(reused, i), series.at(i));
    assert.throws(() => series.fill(reused, 37), RangeError);
    assert.notEqual(series.at(0), series.at(0), "a fresh object each time: nothing holds it but its reader");
  });

  test("iterates, lists and serialises as its bars; at() outside the series is a RangeError", () => {
    const series = minuteSeries(5, 16);
    const list = series.toArray();
    assert.deepEqual([...series], list);
    assert.deepEqual(barList(series), list);
    assert.equal(barList(list), list, "a list is passed through, not copied");
    assert.equal(JSON.stringify(series), JSON.stringify(list));
    assert.throws(() => series.at(5), RangeError);
    assert.throws(() => series.at(-1), RangeError);
    assert.equal(minuteSeries(0, 0).toArray().length, 0);
  });
});

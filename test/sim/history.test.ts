import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BarData, CHINA_TZ, DateTime, Exchange, HistoryRequest, Interval, sameZone } from "../../src/kernel/index.js";
import { openVenue, T0 } from "./helpers.js";

const RB = { symbol: "rb2505", exchange: Exchange.SHFE };
const MINUTE = 60_000;
const HOUR = 3_600_000;

function at(text: string): DateTime {
  return DateTime.parse(text, CHINA_TZ);
}

function instant(bar: BarData): number {
  return bar.datetime.epochMicros() / 1000;
}

/** What a group of consecutive bars adds up to. */
function combine(bars: BarData[]) {
  return {
    open: bars[0]!.open_price,
    high: Math.max(...bars.map((b) => b.high_price)),
    low: Math.min(...bars.map((b) => b.low_price)),
    close: bars.at(-1)!.close_price,
    volume: bars.reduce((sum, b) => sum + b.volume, 0),
  };
}

function values(bar: BarData) {
  return { open: bar.open_price, high: bar.high_price, low: bar.low_price, close: bar.close_price, volume: bar.volume };
}

describe("history bars", () => {
  test("minute bars are one continuous path: each opens where the last closed", async () => {
    const v = openVenue();
    const bars = await v.venue.queryHistory(new HistoryRequest({ ...RB, start: at("2025-03-03 00:00"), interval: Interval.MINUTE }));
    assert.equal(bars.length, 600, "00:00 to 10:00, complete minutes only");
    for (let i = 0; i < bars.length; i++) {
      const bar = bars[i]!;
      assert.ok(sameZone(bar.datetime.tzinfo, CHINA_TZ));
      assert.equal(instant(bar), Date.UTC(2025, 2, 2, 16) + i * MINUTE);
      assert.ok(bar.high_price >= Math.max(bar.open_price, bar.close_price) && bar.low_price <= Math.min(bar.open_price, bar.close_price));
      assert.ok(bar.volume > 0 && bar.turnover > 0);
      assert.equal(bar.interval, Interval.MINUTE);
      if (i > 0) assert.equal(bar.open_price, bars[i - 1]!.close_price);
    }
    assert.ok(instant(bars.at(-1)!) + MINUTE <= T0);
    v.venue.close();
  });

  test("hour and day bars are exactly their minute bars combined", async () => {
    const v = openVenue();
    v.clock.set(Date.UTC(2025, 2, 5, 4)); // 2025-03-05 12:00 Shanghai
    const request = (interval: Interval, start: string, end?: string) =>
      v.venue.queryHistory(new HistoryRequest({ ...RB, start: at(start), end: end ? at(end) : null, interval }));
    const minutes = await request(Interval.MINUTE, "2025-03-03 00:00", "2025-03-04 23:59");
    const hours = await request(Interval.HOUR, "2025-03-03 00:00", "2025-03-04 23:00");
    const days = await request(Interval.DAILY, "2025-03-03", "2025-03-04");
    assert.deepEqual([minutes.length, hours.length, days.length], [2880, 48, 2]);
    hours.forEach((hour, i) => {
      assert.deepEqual(values(hour), combine(minutes.slice(i * 60, i * 60 + 60)));
      assert.equal(instant(hour), instant(minutes[i * 60]!));
    });
    days.forEach((day, i) => {
      assert.deepEqual(values(day), combine(minutes.slice(i * 1440, i * 1440 + 1440)));
      assert.equal(day.datetime.toString(), `2025-03-0${3 + i} 00:00:00+08:00`);
    });
    // A second query of the same days answers from the cache with the same bars.
    assert.deepEqual(await request(Interval.DAILY, "2025-03-03", "2025-03-04"), days);
    v.venue.close();
  });

  test("the unfinished bar is left out, and a week starts on Monday", async () => {
    const v = openVenue();
    v.clock.set(Date.UTC(2025, 2, 12, 2, 30)); // Wednesday 2025-03-12 10:30
    const hours = await v.venue.queryHistory(new HistoryRequest({ ...RB, start: at("2025-03-12 08:00"), interval: Interval.HOUR }));
    assert.deepEqual(hours.map((b) => b.datetime.hour), [8, 9]);
    const weeks = await v.venue.queryHistory(new HistoryRequest({ ...RB, start: at("2025-02-24"), interval: Interval.WEEKLY }));
    assert.deepEqual(weeks.map((b) => b.datetime.toString()), ["2025-02-24 00:00:00+08:00", "2025-03-03 00:00:00+08:00"]);
    v.venue.close();
  });

  test("bars depend on the seed and the bar time only, not on when or how often they are asked", async () => {
    const a = openVenue();
    const b = openVenue();
    b.clock.set(T0 + 5 * HOUR);
    const req = new HistoryRequest({ ...RB, start: at("2025-03-03 08:00"), end: at("2025-03-03 09:00"), interval: Interval.MINUTE });
    assert.deepEqual(await a.venue.queryHistory(req), await b.venue.queryHistory(req));
    a.venue.close();
    b.venue.close();
  });

  test("a live tick at a minute's start quotes around that minute bar's open", async () => {
    const v = openVenue();
    v.venue.subscribe(`${RB.symbol}.${RB.exchange}`);
    const tick = v.sink.ticks[0]!;
    assert.equal(tick.datetime.epochMicros() / 1000, T0);
    v.clock.advance(MINUTE);
    const [bar] = await v.venue.queryHistory(new HistoryRequest({ ...RB, start: at("2025-03-03 10:00"), interval: Interval.MINUTE }));
    assert.ok(bar);
    assert.ok(tick.bid_price_1 <= bar.open_price && bar.open_price <= tick.ask_price_1, `${tick.bid_price_1} ≤ ${bar.open_price} ≤ ${tick.ask_price_1}`);
    assert.ok(tick.low_price <= bar.open_price && tick.high_price >= bar.open_price);
    v.venue.close();
  });

  test("unknown contracts and tick intervals give no bars", async () => {
    const v = openVenue();
    assert.deepEqual(await v.venue.queryHistory(new HistoryRequest({ symbol: "zz", exchange: Exchange.SHFE, start: at("2025-03-01") })), []);
    assert.deepEqual(await v.venue.queryHistory(new HistoryRequest({ ...RB, start: at("2025-03-01"), interval: Interval.TICK })), []);
    v.venue.close();
  });
});

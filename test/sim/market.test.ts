import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CHINA_TZ, Direction, OrderType, sameZone, Status } from "../../src/kernel/index.js";
import { LogPath } from "../../src/sim/path.js";
import { black76 } from "../../src/sim/model.js";
import { modelOf, openVenue, orderRequest, T0 } from "./helpers.js";

const RB = "rb2505.SHFE";
const IF = "IF2503.CFFEX";
const IO = "IO2503-C-3900.CFFEX";

describe("the simulated market", () => {
  test("subscribing pushes the current tick at once, then one tick per interval", () => {
    const v = openVenue({ ticksPerSecond: 2 });
    v.venue.subscribe(RB);
    assert.equal(v.sink.ticks.length, 1);
    for (let i = 0; i < 10; i++) {
      v.clock.advance(500);
      v.venue.advance();
    }
    assert.equal(v.sink.ticks.length, 11);
    const times = v.sink.ticks.map((tick) => tick.datetime.epochMicros() / 1000);
    assert.deepEqual(times, Array.from({ length: 11 }, (_, i) => T0 + i * 500));
    v.venue.close();
  });

  test("at high rates one step emits every tick due, microseconds apart in time order", () => {
    const v = openVenue({ ticksPerSecond: 5000 });
    v.venue.subscribe(RB);
    v.sink.clear();
    v.clock.advance(20);
    v.venue.advance();
    assert.equal(v.sink.ticks.length, 100);
    const micros = v.sink.ticks.map((tick) => tick.datetime.epochMicros());
    for (let i = 1; i < micros.length; i++) assert.equal(micros[i]! - micros[i - 1]!, 200);
    v.venue.close();
  });

  test("a stalled loop skips ahead instead of flooding: at most one second of ticks per step", () => {
    const v = openVenue({ ticksPerSecond: 100 });
    v.venue.subscribe(RB);
    v.sink.clear();
    v.clock.advance(60_000);
    v.venue.advance();
    assert.equal(v.sink.ticks.length, 100);
    assert.equal(v.sink.ticks.at(-1)!.datetime.epochMicros() / 1000, T0 + 60_000);
    v.venue.close();
  });

  test("ticks carry a sane 5-level book within the day's limits, and day statistics that only grow", () => {
    const v = openVenue({ ticksPerSecond: 10 });
    v.venue.subscribe(RB);
    v.venue.subscribe(IO);
    for (let i = 0; i < 200; i++) {
      v.clock.advance(100);
      v.venue.advance();
    }
    let previousVolume = 0;
    for (const tick of v.sink.ticks.filter((t) => t.vt_symbol === RB)) {
      assert.ok(sameZone(tick.datetime.tzinfo, CHINA_TZ));
      const bids = [tick.bid_price_1, tick.bid_price_2, tick.bid_price_3, tick.bid_price_4, tick.bid_price_5];
      const asks = [tick.ask_price_1, tick.ask_price_2, tick.ask_price_3, tick.ask_price_4, tick.ask_price_5];
      assert.ok(tick.bid_price_1 < tick.ask_price_1);
      for (let i = 1; i < 5; i++) assert.ok(bids[i]! < bids[i - 1]! && asks[i]! > asks[i - 1]!);
      for (const price of [...bids, ...asks, tick.last_price]) {
        assert.ok(price >= tick.limit_down && price <= tick.limit_up);
        assert.equal(price, Math.round(price)); // rb's tick is 1
      }
      assert.ok(tick.bid_volume_1 > 0 && tick.ask_volume_5 > 0);
      assert.ok(tick.volume >= previousVolume);
      assert.ok(tick.high_price >= tick.last_price && tick.low_price <= tick.last_price);
      assert.ok(tick.open_interest > 0);
      previousVolume = tick.volume;
    }
    // Far out of the money (IF is near 3400 under this seed), the call still quotes an ask at or above one tick.
    const option = v.sink.ticks.filter((t) => t.vt_symbol === IO).at(-1)!;
    assert.ok(option.ask_price_1 >= 0.2 && option.ask_price_1 > option.bid_price_1);
    assert.ok(option.last_price >= option.limit_down);
    v.venue.close();
  });

  test("the market is a function of seed and time: two venues see the same ticks", () => {
    const a = openVenue();
    const b = openVenue();
    for (const v of [a, b]) {
      v.venue.subscribe(RB);
      for (let i = 0; i < 20; i++) {
        v.clock.advance(500);
        v.venue.advance();
      }
    }
    assert.deepEqual(a.sink.ticks, b.sink.ticks);
    a.venue.close();
    b.venue.close();
  });

  test("a resting order is filled by the random walk when the market reaches it, at its own price", () => {
    const v = openVenue({ ticksPerSecond: 2 });
    v.venue.subscribe(RB);
    const now = v.sink.ticks[0]!;
    // Look ahead along the same path for the lowest ask of the next 10 minutes, and bid exactly that.
    const model = modelOf(RB);
    const k0 = Math.floor((T0 * 2) / 1000);
    let target = Number.POSITIVE_INFINITY;
    let reachedAt = 0;
    for (let k = k0 + 1; k <= k0 + 1200; k++) {
      const ask = model.bookAt(k * 500, k).asks[0]?.price ?? Number.POSITIVE_INFINITY;
      if (ask < target) [target, reachedAt] = [ask, k * 500];
    }
    assert.ok(target < now.bid_price_1, "the walk goes below today's bid within ten minutes");
    const vt_orderid = v.venue.sendOrder(orderRequest(RB, Direction.LONG, OrderType.LIMIT, 1, target));
    assert.equal(v.sink.lastOrder(vt_orderid).status, Status.NOTTRADED);
    for (let step = 0; step < 1200 && v.sink.lastOrder(vt_orderid).status !== Status.ALLTRADED; step++) {
      v.clock.advance(500);
      v.venue.advance();
    }
    const [trade] = v.sink.trades;
    assert.ok(trade);
    assert.equal(trade.price, target);
    const filledAt = trade.datetime!.epochMicros() / 1000;
    assert.ok(filledAt <= reachedAt);
    const tickThen = v.sink.ticks.find((tick) => tick.datetime.epochMicros() / 1000 === filledAt)!;
    assert.ok(tickThen.ask_price_1 <= target, "the tick of the fill shows the ask at or through the bid");
    v.venue.close();
  });
});

describe("the price path", () => {
  test("one-day log returns have the contract's daily volatility (σ/√252)", () => {
    const sigma = 0.25;
    let sumSquares = 0;
    const samples = 4000;
    for (let i = 0; i < samples; i++) {
      const path = new LogPath(0x9e3779b1 * (i + 1), sigma);
      const t = T0 - i * 7_919_000;
      const r = path.at(t + 86_400_000) - path.at(t);
      sumSquares += r * r;
    }
    const measured = Math.sqrt(sumSquares / samples);
    const expected = sigma / Math.sqrt(252);
    assert.ok(Math.abs(measured / expected - 1) < 0.08, `daily σ ${measured} vs ${expected}`);
  });

  test("options are priced from their underlying with Black-76 (zero rate)", () => {
    const specsModel = modelOf(IF);
    const option = modelOf(IO);
    const t = T0 + 3_600_000;
    const years = (Date.parse("2025-03-21T07:00:00Z") - t) / (365 * 86_400_000);
    assert.ok(Math.abs(option.rawPrice(t) - black76(specsModel.price(t), 3900, years, 0.2, true)) < 1e-9);
    // Put-call parity of the model itself: C − P = F − K.
    const call = black76(4000, 3900, 0.1, 0.2, true);
    const put = black76(4000, 3900, 0.1, 0.2, false);
    assert.ok(Math.abs(call - put - 100) < 1e-6);
  });
});

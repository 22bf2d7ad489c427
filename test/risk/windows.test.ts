/** Time windows with the injected clock: order flow, duplicates, and the daily counters' trading-day reset. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DailyLimitRule, DuplicateOrderRule, OrderFlowRule, TradingDayBoundary } from "../../src/risk/index.js";
import { order, send, withServer } from "./helpers.js";

/** Epoch ms of a wall-clock time in Asia/Shanghai (UTC+8, no daylight saving). */
const shanghai = (iso: string) => Date.parse(`${iso}+08:00`);

test(
  "order flow is a sliding window: the limit holds across any span of the window's length",
  withServer({ rules: () => [new OrderFlowRule()] }, async (server) => {
    server.risk.updateRule("order_flow", { order_flow_limit: 3, order_flow_clear: 1 });
    const at = async (ms: number) => {
      server.clock.time = shanghai("2025-01-06T10:00:00") + ms;
      return send(server);
    };
    // [time offset ms, allowed?]: three at 0/300/600 fill the window; 1000 still sees the one at 0 (inclusive);
    // 1001 is clear of it; 1100 sees 300, 600, 1001 again: a fixed 1 s reset would have let it through.
    const steps: [number, boolean][] = [[0, true], [300, true], [600, true], [900, false], [1000, false], [1001, true], [1100, false], [1301, true]];
    for (const [ms, allowed] of steps) assert.equal((await at(ms)) !== "", allowed, `at +${ms} ms`);
    assert.equal(server.risk.getRule("order_flow").variables["order_flow_count"], 3);
    server.clock.advance(5_000);
    assert.equal(server.risk.getRule("order_flow").variables["order_flow_count"], 0);
  }),
);

test(
  "blocked orders do not use up the flow window; a larger limit applies at once",
  withServer({ rules: () => [new OrderFlowRule()] }, async (server) => {
    server.risk.updateRule("order_flow", { order_flow_limit: 2 });
    assert.notEqual(await send(server), "");
    assert.notEqual(await send(server), "");
    for (let i = 0; i < 5; i++) assert.equal(await send(server), "");
    server.risk.updateRule("order_flow", { order_flow_limit: 4 });
    assert.notEqual(await send(server), "");
    assert.notEqual(await send(server), "");
    assert.equal(await send(server), "");
    server.risk.updateRule("order_flow", { order_flow_limit: 1 });
    server.clock.advance(1_001);
    assert.notEqual(await send(server), "", "the shrunk window kept only the newest time, now outside it");
  }),
);

test(
  "duplicates count within their window; VeighNa's key names the counters; expired kinds are dropped",
  withServer({ rules: () => [new DuplicateOrderRule()] }, async (server) => {
    server.risk.updateRule("duplicate_order", { duplicate_order_limit: 2, duplicate_order_window: 10 });
    assert.notEqual(await send(server), "");
    server.clock.advance(1_000);
    assert.notEqual(await send(server), "");
    server.clock.advance(4_000);
    assert.equal(await send(server), "");
    assert.deepEqual(server.blocks.map((block) => [block.code, block.params]), [["DUPLICATE_ORDER_LIMIT", { count: 2, limit: 2 }]]);
    assert.deepEqual(server.risk.getRule("duplicate_order").variables["duplicate_order_count"], { "rb2501.SHFE|限价|多|开|1@3500": 2 });

    server.clock.advance(5_001); // 10.001 s after the first: it left the window
    assert.notEqual(await send(server), "");
    server.clock.advance(60_000);
    server.tick();
    assert.deepEqual(server.risk.getRule("duplicate_order").variables["duplicate_order_count"], {});
  }),
);

test(
  "a duplicate window of 0 counts for the life of the process, as VeighNa 2.0",
  withServer({ rules: () => [new DuplicateOrderRule()] }, async (server) => {
    server.risk.updateRule("duplicate_order", { duplicate_order_limit: 1, duplicate_order_window: 0 });
    assert.notEqual(await send(server), "");
    server.clock.advance(3 * 86_400_000);
    server.tick();
    assert.equal(await send(server), "");
  }),
);

test(
  "daily counters reset at the trading-day start (20:00 Shanghai by default), exactly, not at restart",
  withServer({ rules: () => [new DailyLimitRule()] }, async (server) => {
    server.risk.updateRule("daily_limit", { total_order_limit: 2 });
    assert.equal(server.risk.getRule("daily_limit").variables["trading_day"], "2025-01-06");
    await send(server, order({ price: 3400 })); // stays working overnight
    await send(server);
    assert.equal(await send(server), "");

    server.clock.time = shanghai("2025-01-06T19:59:59.999");
    assert.equal(await send(server), "", "one millisecond before the boundary");
    server.clock.time = shanghai("2025-01-06T20:00:00");
    assert.notEqual(await send(server), "", "at the boundary, before any timer event");
    assert.ok(server.logs.some((log) => log.msg === "Daily risk counters reset for trading day 2025-01-07"));
    const variables = server.risk.getRule("daily_limit").variables;
    assert.equal(variables["trading_day"], "2025-01-07");
    assert.equal(variables["total_order_count"], 1);

    // Yesterday's working order is cancelled tonight: a cancel of today, not another order of today.
    const overnight = server.mainEngine.getAllActiveOrders().find((o) => o.price === 3400)!;
    await server.mainEngine.cancelOrder(overnight.createCancelRequest(), "TEST");
    server.flush();
    const after = server.risk.getRule("daily_limit").variables;
    assert.equal(after["total_order_count"], 1);
    assert.equal(after["total_cancel_count"], 1);
  }),
);

test(
  "the timer resets the counters when no order comes, and tells clients through eRiskRule",
  withServer({ rules: () => [new DailyLimitRule()] }, async (server) => {
    await send(server);
    server.tick();
    server.ruleEvents.length = 0;
    server.clock.time = shanghai("2025-01-06T20:00:00.500");
    server.tick();
    const event = server.ruleEvents.find((rule) => rule.name === "daily_limit");
    assert.ok(event, "an eRiskRule event after the reset");
    assert.equal(event.variables["total_order_count"], 0);
    assert.equal(event.variables["trading_day"], "2025-01-07");
  }),
);

test(
  "the boundary is configurable: with 21:00, 20:30 is still the old day",
  withServer({ rules: () => [new DailyLimitRule()] }, async (server) => {
    server.risk.updateRule("daily_limit", { total_order_limit: 1, trading_day_start: "21:00" });
    await send(server);
    server.clock.time = shanghai("2025-01-06T20:30:00");
    assert.equal(await send(server), "");
    server.clock.time = shanghai("2025-01-06T21:00:00");
    assert.notEqual(await send(server), "");
  }),
);

test(
  "a Friday night session trades for Monday",
  withServer({ rules: () => [new DailyLimitRule()] }, async (server) => {
    server.clock.time = shanghai("2025-01-10T21:05:00");
    server.tick();
    assert.equal(server.risk.getRule("daily_limit").variables["trading_day"], "2025-01-13");
  }),
);

test("TradingDayBoundary: next start and trading day, across days, weekends and zones", () => {
  const evening = new TradingDayBoundary("20:00", "Asia/Shanghai");
  const cases: [string, string, string][] = [
    // now (Shanghai), next start (Shanghai), trading day
    ["2025-01-06T10:00:00", "2025-01-06T20:00:00", "2025-01-06"],
    ["2025-01-06T20:00:00", "2025-01-07T20:00:00", "2025-01-07"],
    ["2025-01-07T01:30:00", "2025-01-07T20:00:00", "2025-01-07"],
    ["2025-01-10T20:59:00", "2025-01-11T20:00:00", "2025-01-13"],
    ["2025-01-11T02:00:00", "2025-01-11T20:00:00", "2025-01-13"],
    ["2025-01-31T22:00:00", "2025-02-01T20:00:00", "2025-02-03"],
    ["2024-12-31T20:30:00", "2025-01-01T20:00:00", "2025-01-01"],
  ];
  for (const [now, next, day] of cases) {
    assert.equal(evening.nextStart(shanghai(now)), shanghai(next), `next start after ${now}`);
    assert.equal(evening.tradingDay(shanghai(now)), day, `trading day of ${now}`);
  }
  const morning = new TradingDayBoundary("00:00", "UTC");
  assert.equal(morning.tradingDay(Date.parse("2025-01-07T23:59:00Z")), "2025-01-07");
  assert.equal(morning.nextStart(Date.parse("2025-01-07T23:59:00Z")), Date.parse("2025-01-08T00:00:00Z"));
  // A zone with daylight saving: 17:00 New York is 21:00Z in summer, 22:00Z in winter.
  const newYork = new TradingDayBoundary("17:00", "America/New_York");
  assert.equal(newYork.nextStart(Date.parse("2025-07-01T12:00:00Z")), Date.parse("2025-07-01T21:00:00Z"));
  assert.equal(newYork.nextStart(Date.parse("2025-12-01T12:00:00Z")), Date.parse("2025-12-01T22:00:00Z"));
  assert.throws(() => new TradingDayBoundary("24:00", "UTC"), RangeError);
  assert.throws(() => new TradingDayBoundary("20:00", "Mars/Olympus"), RangeError);
});

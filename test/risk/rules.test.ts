/**
 * Each built-in rule alone, case by case: what it lets through, what it blocks and with which message. Every case
 * runs on a fresh server with only that rule loaded; `setup` builds the state (positions, resting orders).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Direction, Offset, OrderType, Exchange } from "../../src/kernel/index.js";
import {
  ActiveOrderRule,
  DailyLimitRule,
  DuplicateOrderRule,
  OrderFlowRule,
  OrderSizeRule,
  OrderValidityRule,
  SelfTradeRule,
  TradingStateRule,
  type RiskRule,
} from "../../src/risk/index.js";
import { order, send, withServer, type TestServer } from "./helpers.js";
import type { RiskBlockCode } from "../../src/risk/index.js";
import type { OrderRequest } from "../../src/kernel/index.js";

interface RuleCase {
  readonly title: string;
  readonly rule: () => RiskRule;
  /** Parameters set through updateRule before the order. */
  readonly settings?: Record<string, unknown>;
  readonly setup?: (server: TestServer) => Promise<void> | void;
  readonly req: OrderRequest;
  /** The reason's pattern, or false when the order must go through. */
  /** The block's code and (some of) its params, or false when the order passes. */
  readonly blocked: { readonly code: RiskBlockCode; readonly params: Readonly<Record<string, string | number | boolean>> } | false;
}

const sellAt = (price: number) => order({ direction: Direction.SHORT, price });
const restingSell = (price: number) => async (s: TestServer) => void (await send(s, sellAt(price)));
const restingBuy = (price: number) => async (s: TestServer) => void (await send(s, order({ price })));

const cases: RuleCase[] = [
  // trading_state: the kill switch
  { title: "ACTIVE lets orders through", rule: () => new TradingStateRule(), req: order(), blocked: false },
  { title: "HALTED blocks every order", rule: () => new TradingStateRule(), settings: { state: "HALTED" }, req: order({ offset: Offset.CLOSE }), blocked: { code: "HALTED", params: {} } },
  { title: "an inactive kill switch blocks nothing, even HALTED", rule: () => new TradingStateRule(), settings: { state: "HALTED", active: false }, req: order(), blocked: false },
  { title: "REDUCING blocks an opening order", rule: () => new TradingStateRule(), settings: { state: "REDUCING" }, req: order(), blocked: { code: "NOT_REDUCING", params: { volume: 1, closable: 0 } } },
  {
    title: "REDUCING lets a buy close a short position",
    rule: () => new TradingStateRule(),
    settings: { state: "REDUCING" },
    setup: (s) => s.gateway.pushPosition(Direction.SHORT, 3),
    req: order({ offset: Offset.CLOSE, volume: 3 }),
    blocked: false,
  },
  {
    title: "REDUCING blocks a close larger than the position",
    rule: () => new TradingStateRule(),
    settings: { state: "REDUCING" },
    setup: (s) => s.gateway.pushPosition(Direction.SHORT, 3),
    req: order({ offset: Offset.CLOSE, volume: 4 }),
    blocked: { code: "NOT_REDUCING", params: { volume: 4, closable: 3 } },
  },
  {
    title: "REDUCING counts volume frozen by pending closes as not closable",
    rule: () => new TradingStateRule(),
    settings: { state: "REDUCING" },
    setup: (s) => s.gateway.pushPosition(Direction.LONG, 3, 2),
    req: order({ direction: Direction.SHORT, offset: Offset.CLOSETODAY, volume: 2 }),
    blocked: { code: "NOT_REDUCING", params: { volume: 2, closable: 1 } },
  },
  {
    title: "REDUCING lets a sell reduce a long net position",
    rule: () => new TradingStateRule(),
    settings: { state: "REDUCING" },
    setup: (s) => s.gateway.pushPosition(Direction.NET, 2),
    req: order({ direction: Direction.SHORT, offset: Offset.NONE, volume: 2 }),
    blocked: false,
  },
  {
    title: "REDUCING blocks a buy that would add to a long net position",
    rule: () => new TradingStateRule(),
    settings: { state: "REDUCING" },
    setup: (s) => s.gateway.pushPosition(Direction.NET, 2),
    req: order({ offset: Offset.NONE }),
    blocked: { code: "NOT_REDUCING", params: { closable: 0 } },
  },

  // order_validity
  { title: "a well-formed order passes validity", rule: () => new OrderValidityRule(), req: order(), blocked: false },
  { title: "zero volume is invalid", rule: () => new OrderValidityRule(), req: order({ volume: 0 }), blocked: { code: "VOLUME_NOT_POSITIVE", params: { volume: 0 } } },
  { title: "a NaN price is invalid", rule: () => new OrderValidityRule(), req: order({ price: Number.NaN }), blocked: { code: "PRICE_NOT_FINITE", params: { price: Number.NaN } } },
  { title: "an unknown contract is invalid", rule: () => new OrderValidityRule(), req: order({ symbol: "ag2506" }), blocked: { code: "UNKNOWN_CONTRACT", params: { vt_symbol: "ag2506.SHFE" } } },
  { title: "a price off the tick is invalid", rule: () => new OrderValidityRule(), req: order({ price: 3500.5 }), blocked: { code: "PRICE_OFF_TICK", params: { price: 3500.5, pricetick: 1 } } },
  {
    title: "a binary-inexact multiple of a fractional tick is on the tick",
    rule: () => new OrderValidityRule(),
    setup: (s) => s.gateway.pushContract({ symbol: "au2506", pricetick: 0.02 }),
    req: order({ symbol: "au2506", price: 612.14 }),
    blocked: false,
  },
  { title: "a price above limit-up is invalid", rule: () => new OrderValidityRule(), req: order({ price: 3701 }), blocked: { code: "ABOVE_LIMIT_UP", params: { price: 3701, limit: 3700 } } },
  { title: "a price below limit-down is invalid", rule: () => new OrderValidityRule(), req: sellAt(3299), blocked: { code: "BELOW_LIMIT_DOWN", params: { price: 3299, limit: 3300 } } },
  { title: "a market order at price 0 is not held to the band", rule: () => new OrderValidityRule(), req: order({ type: OrderType.MARKET, price: 0 }), blocked: false },
  {
    title: "volume above the contract's maximum is invalid",
    rule: () => new OrderValidityRule(),
    setup: (s) => s.gateway.pushContract({ max_volume: 5 }),
    req: order({ volume: 6 }),
    blocked: { code: "ABOVE_MAX_VOLUME", params: { volume: 6, max: 5 } },
  },
  {
    title: "volume below the contract's minimum is invalid",
    rule: () => new OrderValidityRule(),
    setup: (s) => s.gateway.pushContract({ min_volume: 2 }),
    req: order({ volume: 1 }),
    blocked: { code: "BELOW_MIN_VOLUME", params: { volume: 1, min: 2 } },
  },

  // order_size (defaults 500 lots, 1 000 000 notional)
  { title: "volume at the limit passes", rule: () => new OrderSizeRule(), settings: { order_value_limit: 1e12 }, req: order({ volume: 500 }), blocked: false },
  { title: "volume over the limit is blocked", rule: () => new OrderSizeRule(), req: order({ volume: 501 }), blocked: { code: "VOLUME_LIMIT", params: { volume: 501, limit: 500 } } },
  { title: "notional under the limit passes (28 × 3500 × 10)", rule: () => new OrderSizeRule(), req: order({ volume: 28 }), blocked: false },
  { title: "notional over the limit is blocked (29 × 3500 × 10)", rule: () => new OrderSizeRule(), req: order({ volume: 29 }), blocked: { code: "VALUE_LIMIT", params: { value: 1015000, limit: 1000000 } } },
  { title: "a changed volume limit applies", rule: () => new OrderSizeRule(), settings: { order_volume_limit: 5 }, req: order({ volume: 6 }), blocked: { code: "VOLUME_LIMIT", params: { volume: 6, limit: 5 } } },
  { title: "a market order has no notional value", rule: () => new OrderSizeRule(), req: order({ volume: 400, price: 0, type: OrderType.MARKET }), blocked: false },

  // self_trade
  { title: "a buy below our own resting ask passes", rule: () => new SelfTradeRule(), setup: restingSell(3510), req: order({ price: 3509 }), blocked: false },
  { title: "a buy at our own resting ask is blocked", rule: () => new SelfTradeRule(), setup: restingSell(3510), req: order({ price: 3510 }), blocked: { code: "SELF_TRADE_BUY", params: { price: 3510, ask: 3510 } } },
  { title: "a sell at our own resting bid is blocked", rule: () => new SelfTradeRule(), setup: restingBuy(3490), req: sellAt(3490), blocked: { code: "SELF_TRADE_SELL", params: { price: 3490, bid: 3490 } } },
  { title: "a sell above our own resting bid passes", rule: () => new SelfTradeRule(), setup: restingBuy(3490), req: sellAt(3491), blocked: false },
  { title: "a market buy crosses any resting ask", rule: () => new SelfTradeRule(), setup: restingSell(3600), req: order({ type: OrderType.MARKET, price: 0 }), blocked: { code: "SELF_TRADE_BUY", params: { price: 0, ask: 3600 } } },
  {
    title: "orders on another contract do not count",
    rule: () => new SelfTradeRule(),
    setup: restingSell(3510),
    req: order({ symbol: "rb2505", price: 3600 }),
    blocked: false,
  },
  {
    title: "a cancelled resting order no longer counts",
    rule: () => new SelfTradeRule(),
    setup: async (s) => {
      const id = await send(s, sellAt(3510));
      await s.mainEngine.cancelOrder(s.mainEngine.getOrder(id)!.createCancelRequest(), "TEST");
      s.flush();
    },
    req: order({ price: 3510 }),
    blocked: false,
  },

  // active_order
  {
    title: "orders under the active limit pass",
    rule: () => new ActiveOrderRule(),
    settings: { active_order_limit: 2 },
    setup: async (s) => void (await send(s)),
    req: order(),
    blocked: false,
  },
  {
    title: "an order at the active limit is blocked",
    rule: () => new ActiveOrderRule(),
    settings: { active_order_limit: 2 },
    setup: async (s) => {
      await send(s);
      await send(s);
    },
    req: order(),
    blocked: { code: "ACTIVE_ORDER_LIMIT", params: { count: 2, limit: 2 } },
  },
  {
    title: "filled orders are no longer active",
    rule: () => new ActiveOrderRule(),
    settings: { active_order_limit: 2 },
    setup: async (s) => {
      s.gateway.fill(await send(s));
      await send(s);
      s.flush();
    },
    req: order(),
    blocked: false,
  },

  // order_flow (50 per second by default)
  {
    title: "orders up to the flow limit pass",
    rule: () => new OrderFlowRule(),
    settings: { order_flow_limit: 3 },
    setup: async (s) => {
      await send(s);
      await send(s);
    },
    req: order(),
    blocked: false,
  },
  {
    title: "an order over the flow limit within the window is blocked",
    rule: () => new OrderFlowRule(),
    settings: { order_flow_limit: 3, order_flow_clear: 2 },
    setup: async (s) => {
      for (let i = 0; i < 3; i++) await send(s);
    },
    req: order(),
    blocked: { code: "ORDER_FLOW_LIMIT", params: { count: 3, limit: 3, clear: 2 } },
  },

  // duplicate_order (10 identical in 60 s)
  {
    title: "identical orders up to the limit pass",
    rule: () => new DuplicateOrderRule(),
    settings: { duplicate_order_limit: 2 },
    setup: async (s) => void (await send(s)),
    req: order(),
    blocked: false,
  },
  {
    title: "an identical order over the limit is blocked",
    rule: () => new DuplicateOrderRule(),
    settings: { duplicate_order_limit: 2 },
    setup: async (s) => {
      await send(s);
      await send(s);
    },
    req: order(),
    blocked: { code: "DUPLICATE_ORDER_LIMIT", params: { count: 2, limit: 2 } },
  },
  {
    title: "a different volume is not a duplicate",
    rule: () => new DuplicateOrderRule(),
    settings: { duplicate_order_limit: 2 },
    setup: async (s) => {
      await send(s);
      await send(s);
    },
    req: order({ volume: 2 }),
    blocked: false,
  },
  {
    title: "a different direction is not a duplicate",
    rule: () => new DuplicateOrderRule(),
    settings: { duplicate_order_limit: 1 },
    setup: async (s) => void (await send(s)),
    req: sellAt(3500),
    blocked: false,
  },

  // daily_limit
  {
    title: "orders under the contract order limit pass",
    rule: () => new DailyLimitRule(),
    settings: { contract_order_limit: 2 },
    setup: async (s) => void (await send(s)),
    req: order(),
    blocked: false,
  },
  {
    title: "the contract order limit blocks",
    rule: () => new DailyLimitRule(),
    settings: { contract_order_limit: 2 },
    setup: async (s) => {
      await send(s);
      await send(s);
    },
    req: order(),
    blocked: { code: "CONTRACT_ORDER_LIMIT", params: { count: 2, limit: 2 } },
  },
  {
    title: "the contract order limit is per contract",
    rule: () => new DailyLimitRule(),
    settings: { contract_order_limit: 2 },
    setup: async (s) => {
      s.gateway.pushContract({ symbol: "rb2505" });
      await send(s);
      await send(s);
    },
    req: order({ symbol: "rb2505" }),
    blocked: false,
  },
  {
    title: "the contract cancel limit blocks",
    rule: () => new DailyLimitRule(),
    settings: { contract_cancel_limit: 1 },
    setup: async (s) => {
      const id = await send(s);
      await s.mainEngine.cancelOrder(s.mainEngine.getOrder(id)!.createCancelRequest(), "TEST");
      s.flush();
    },
    req: order(),
    blocked: { code: "CONTRACT_CANCEL_LIMIT", params: { count: 1, limit: 1 } },
  },
  {
    title: "the contract trade limit counts fills",
    rule: () => new DailyLimitRule(),
    settings: { contract_trade_limit: 2 },
    setup: async (s) => {
      const id = await send(s, order({ volume: 5 }));
      s.gateway.fill(id, 1);
      s.gateway.fill(id, 1);
      s.flush();
    },
    req: order(),
    blocked: { code: "CONTRACT_TRADE_LIMIT", params: { count: 2, limit: 2 } },
  },
  {
    title: "the total order limit spans contracts",
    rule: () => new DailyLimitRule(),
    settings: { total_order_limit: 2 },
    setup: async (s) => {
      s.gateway.pushContract({ symbol: "rb2505" });
      await send(s);
      await send(s, order({ symbol: "rb2505" }));
    },
    req: order({ symbol: "rb2509", exchange: Exchange.SHFE }),
    blocked: { code: "TOTAL_ORDER_LIMIT", params: { count: 2, limit: 2 } },
  },
  {
    title: "the total cancel limit blocks",
    rule: () => new DailyLimitRule(),
    settings: { total_cancel_limit: 1 },
    setup: async (s) => {
      const id = await send(s);
      await s.mainEngine.cancelOrder(s.mainEngine.getOrder(id)!.createCancelRequest(), "TEST");
      s.flush();
    },
    req: order({ symbol: "rb2509" }),
    blocked: { code: "TOTAL_CANCEL_LIMIT", params: { count: 1, limit: 1 } },
  },
  {
    title: "the total trade limit blocks",
    rule: () => new DailyLimitRule(),
    settings: { total_trade_limit: 1 },
    setup: async (s) => {
      s.gateway.fill(await send(s));
      s.flush();
    },
    req: order({ symbol: "rb2509" }),
    blocked: { code: "TOTAL_TRADE_LIMIT", params: { count: 1, limit: 1 } },
  },
];

for (const c of cases) {
  test(
    `${c.rule().name}: ${c.title}`,
    withServer({ rules: () => [c.rule()] }, async (server) => {
      const rule = c.rule().name;
      if (c.settings) server.risk.updateRule(rule, c.settings);
      await c.setup?.(server);
      server.flush();
      const blockedBefore = server.blockedLines().length;
      assert.equal(blockedBefore, 0, `setup was blocked: ${server.blockedLines().join("\n")}`);

      const vt_orderid = await send(server, c.req);
      const lines = server.blockedLines();
      if (c.blocked === false) {
        assert.match(vt_orderid, /^TEST\.\d+$/, `blocked: ${lines.join("\n")}`);
        assert.deepEqual(lines, []);
        assert.deepEqual(server.notices, []);
      } else {
        assert.equal(vt_orderid, "");
        assert.equal(lines.length, 1);
        assert.equal(server.blocks.length, 1, JSON.stringify(server.blocks));
        const block = server.blocks[0]!;
        assert.equal(block.code, c.blocked.code);
        assert.equal(block.rule, rule);
        assert.equal(block.check, "RiskManager");
        for (const [key, value] of Object.entries(c.blocked.params)) assert.deepStrictEqual(block.params[key], value, key);
        assert.deepEqual(server.notices, [block.msg], "eRiskNotify carries the text");
        assert.equal(lines[0], `Order blocked: ${block.msg}`);
      }
    }),
  );
}

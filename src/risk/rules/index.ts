/** The built-in rules, in the order they run (priority 0 to 70); user rules default to priority 100. */
import type { RiskRule } from "../rule.js";
import { ActiveOrderRule } from "./active-order.js";
import { DailyLimitRule } from "./daily-limit.js";
import { DuplicateOrderRule } from "./duplicate-order.js";
import { OrderFlowRule } from "./order-flow.js";
import { OrderSizeRule } from "./order-size.js";
import { OrderValidityRule } from "./order-validity.js";
import { SelfTradeRule } from "./self-trade.js";
import { TradingStateRule } from "./trading-state.js";

export { ActiveOrderRule, DailyLimitRule, DuplicateOrderRule, OrderFlowRule, OrderSizeRule, OrderValidityRule, SelfTradeRule, TradingStateRule };
export { TRADING_STATES, closableVolume, type TradingState } from "./trading-state.js";
export { isMultiple } from "./order-validity.js";

/** A fresh instance of every built-in rule, active, with the spec's defaults. */
export function builtinRules(): RiskRule[] {
  return [
    new TradingStateRule(),
    new OrderValidityRule(),
    new OrderSizeRule(),
    new SelfTradeRule(),
    new ActiveOrderRule(),
    new OrderFlowRule(),
    new DuplicateOrderRule(),
    new DailyLimitRule(),
  ];
}

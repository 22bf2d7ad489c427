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

/**
 * The codes of the built-in rules' blocks and the engine's own (OrderBlock.code when OrderBlock.check is
 * "RiskManager"); user rules add their own. docs/errors.md lists them with their rule.
 */
export type RiskBlockCode =
  | "RULES_LOADING"
  | "RULE_FAILED"
  | "RULE_REJECTED"
  | "HALTED"
  | "NOT_REDUCING"
  | "VOLUME_NOT_POSITIVE"
  | "PRICE_NOT_FINITE"
  | "UNKNOWN_CONTRACT"
  | "PRICE_OFF_TICK"
  | "ABOVE_LIMIT_UP"
  | "BELOW_LIMIT_DOWN"
  | "ABOVE_MAX_VOLUME"
  | "BELOW_MIN_VOLUME"
  | "VOLUME_LIMIT"
  | "VALUE_LIMIT"
  | "SELF_TRADE_BUY"
  | "SELF_TRADE_SELL"
  | "ACTIVE_ORDER_LIMIT"
  | "ORDER_FLOW_LIMIT"
  | "DUPLICATE_ORDER_LIMIT"
  | "CONTRACT_ORDER_LIMIT"
  | "CONTRACT_CANCEL_LIMIT"
  | "CONTRACT_TRADE_LIMIT"
  | "TOTAL_ORDER_LIMIT"
  | "TOTAL_CANCEL_LIMIT"
  | "TOTAL_TRADE_LIMIT";

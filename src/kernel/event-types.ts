/** VeighNa's event type names (vnpy/trader/event.py). The trailing dot lets `type + id` name the specific event. */
import { EVENT_TIMER } from "./event.js";
import type { OrderBlock } from "./engine.js";
import type { AccountData, ContractData, LogData, OrderData, PositionData, QuoteData, TickData, TradeData } from "./objects.js";
export { EVENT_TIMER };
export const EVENT_TICK = "eTick.";
export const EVENT_TRADE = "eTrade.";
export const EVENT_ORDER = "eOrder.";
export const EVENT_POSITION = "ePosition.";
export const EVENT_ACCOUNT = "eAccount.";
export const EVENT_QUOTE = "eQuote.";
export const EVENT_CONTRACT = "eContract.";
export const EVENT_LOG = "eLog";
/** Ours: a managed gateway's connection state changed (connecting, connected, stale, disconnected + reason). */
export const EVENT_GATEWAY_STATE = "eGatewayState";
/**
 * Ours: an order-entry check blocked an order; the data is its OrderBlock (rule, code, params, text). It stays in
 * the process (isLocalEvent): VeighNa's clients get the text as eRiskNotify, and the console forwards it as JSON.
 */
export const EVENT_ORDER_BLOCKED = "eOrderBlocked";
/** Whether the RPC service keeps an event type to the process: the timer, and what the VeighNa wire has no place for. */
export function isLocalEvent(type: string): boolean {
  return type === EVENT_TIMER || type === EVENT_ORDER_BLOCKED; // two compares: it runs for every published event
}

/**
 * Event type -> the class of its data, for the types whose data is always the same: `register` hands the handler
 * typed data. The wire keeps VeighNa's string names. Layers above add their own types by declaration merging
 * (`declare module "../kernel/event-types.js" { interface EventMap { eRiskRule: RiskRuleData } }`).
 */
export interface EventMap {
  eTimer: null;
  "eTick.": TickData;
  "eTrade.": TradeData;
  "eOrder.": OrderData;
  "ePosition.": PositionData;
  "eAccount.": AccountData;
  "eQuote.": QuoteData;
  "eContract.": ContractData;
  eLog: LogData;
  eOrderBlocked: OrderBlock;
}

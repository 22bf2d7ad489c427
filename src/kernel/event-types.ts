/** VeighNa's event type names (vnpy/trader/event.py). The trailing dot lets `type + id` name the specific event. */
export { EVENT_TIMER } from "./event.js";
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

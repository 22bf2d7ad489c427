/**
 * The ccxt gateway: crypto exchanges (spot and linear perpetual swaps) through ccxt, REST and WebSocket.
 * ccxt itself is loaded when a gateway connects, so servers that do not use it do not pay for it.
 */
export { CcxtGateway, isPostOnly } from "./gateway.js";
export { CcxtError, type CcxtErrorCode } from "./errors.js";
export { CCXT_DEFAULT_SETTING, CCXT_SECRETS, CcxtSettingSchema, parseCcxtSetting, MARKET_TYPES, type CcxtMarketType, type CcxtSettings } from "./settings.js";
export { CCXT_EXCHANGE, contractFromMarket, statusOf } from "./convert.js";
export { classify, type Classified, type RejectCode } from "./rejections.js";
export { rewriteUrl } from "./urls.js";

/**
 * What the venue says: rejection reasons and log lines, in English or VeighNa's Chinese. English lines name
 * enums by member (`{type_name}`: MARKET), Chinese ones by value (`{type}`: 市价).
 */
import { defineMessages, enumMemberByValue, type EnumName, type TranslatorOf } from "../kernel/index.js";

export const simMessages = defineMessages({
  en: {
    unknownContract: "unknown contract {vt_symbol}",
    unsupportedType: "order type {type_name} is not supported (LIMIT, MARKET, FAK and FOK are)",
    badDirection: "direction {direction_name} is not supported (LONG or SHORT)",
    badVolume: "volume {volume} must be a positive multiple of min_volume {min_volume}",
    volumeAboveMax: "volume {volume} exceeds max_volume {max_volume}",
    badPrice: "price {price} is not a finite number",
    priceOffTick: "price {price} is not a multiple of pricetick {pricetick}",
    priceOutsideLimits: "price {price} is outside today's limits [{limit_down}, {limit_up}]",
    shortSelling: "short selling {vt_symbol} is not supported; sell what you hold",
    closeExceeds: "closing {volume} exceeds the closable {closable} of the {direction_name} position ({detail})",
    closeDetailToday: "CLOSETODAY takes today's volume on {exchange}",
    closeDetailYesterday: "{offset_name} takes yesterday's volume on {exchange}",
    closeDetailTPlusOne: "shares bought today can be sold from tomorrow (T+1)",
    closeDetailAny: "held {volume}, frozen by pending closes {frozen}",
    insufficientFunds: "insufficient funds: needs {required} (margin {margin} + fee {fee}), available {available}",
    noLiquidity: "{type_name} order: the remaining {remaining} found no liquidity at its price and was cancelled",
    cancelledByUser: "cancelled on request",
    rejected: "order {vt_orderid} rejected: {reason}",
    cancelUnknown: "cancel ignored: no order {orderid}",
    cancelInactive: "cancel ignored: order {vt_orderid} is {status}",
    subscribeUnknown: "subscribe ignored: unknown contract {vt_symbol}",
    historyUnknown: "history ignored: unknown contract {vt_symbol}",
    historyTruncated: "history of {vt_symbol} limited to the last {count} bars",
    connected: "SIM venue ready: {contracts} contracts, {orders} orders ({active} active), {trades} trades restored from {path}",
    dayRolled: "new trading day {day}: today's positions became yesterday's",
    notConnected: "{action} ignored: the SIM gateway is not connected",
    storeFailed: "venue database write failed, the change was not published: {error}",
  },
  zh: {
    unknownContract: "找不到合约 {vt_symbol}",
    unsupportedType: "不支持的委托类型 {type}（支持限价、市价、FAK、FOK）",
    badDirection: "不支持的委托方向 {direction}（支持多、空）",
    badVolume: "委托数量 {volume} 必须是最小下单量 {min_volume} 的正整数倍",
    volumeAboveMax: "委托数量 {volume} 超过最大下单量 {max_volume}",
    badPrice: "委托价格 {price} 不是有效数字",
    priceOffTick: "委托价格 {price} 不是最小价格变动 {pricetick} 的整数倍",
    priceOutsideLimits: "委托价格 {price} 超出今日涨跌停范围 [{limit_down}, {limit_up}]",
    shortSelling: "不支持融券卖出 {vt_symbol}",
    closeExceeds: "平仓数量 {volume} 超过{direction}仓可平数量 {closable}（{detail}）",
    closeDetailToday: "{exchange} 平今只能平今仓",
    closeDetailYesterday: "{exchange} {offset}只能平昨仓",
    closeDetailTPlusOne: "当日买入的股票下一交易日才能卖出（T+1）",
    closeDetailAny: "持仓 {volume}，平仓冻结 {frozen}",
    insufficientFunds: "资金不足：需要 {required}（保证金 {margin} + 手续费 {fee}），可用 {available}",
    noLiquidity: "{type} 委托剩余 {remaining} 在其价格上无可成交量，已撤销",
    cancelledByUser: "用户撤单",
    rejected: "委托 {vt_orderid} 被拒绝：{reason}",
    cancelUnknown: "撤单忽略：找不到委托 {orderid}",
    cancelInactive: "撤单忽略：委托 {vt_orderid} 状态为 {status}",
    subscribeUnknown: "订阅忽略：找不到合约 {vt_symbol}",
    historyUnknown: "历史数据查询忽略：找不到合约 {vt_symbol}",
    historyTruncated: "{vt_symbol} 历史数据仅返回最近 {count} 根K线",
    connected: "模拟交易所就绪：合约 {contracts} 个，委托 {orders} 笔（活动 {active} 笔），成交 {trades} 笔，数据来自 {path}",
    dayRolled: "新交易日 {day}：今仓转为昨仓",
    notConnected: "{action} 忽略：SIM 接口未连接",
    storeFailed: "交易所数据库写入失败，变更未推送：{error}",
  },
});

/** The venue's texts in one language: the gateway binds it to its engine's language and hands it down. */
export type SimTranslator = TranslatorOf<typeof simMessages>;

/** An enum value's member name in lower or upper case, for English messages ("多" → "long"). */
export function memberName(enumName: EnumName, value: string | null, lower = false): string {
  const name = value === null ? "None" : (enumMemberByValue(enumName, value) ?? value);
  return lower ? name.toLowerCase() : name;
}

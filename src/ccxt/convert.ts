/**
 * ccxt's unified structures to VeighNa's data model and back.
 *
 * The vt_symbol scheme: `symbol` is ccxt's unified symbol verbatim (`BTC/USDT`, `BTC/USDT:USDT`) and `exchange`
 * is `Exchange.GLOBAL` (VeighNa's own crypto gateways use GLOBAL too), so the vt_symbol is
 * `BTC/USDT:USDT.GLOBAL`. The exchange value holds no dot, so splitting at the last dot gives the ccxt symbol
 * back exactly, whatever characters the symbol has; both fields travel the VeighNa wire as plain strings.
 * Two ccxt gateways on one server keep their contracts apart by gateway name, as VeighNa does.
 */
import type { MarketInterface as Market, OHLCV, Order, OrderBook, Position, Ticker, Trade } from "ccxt";
import {
  BarData,
  ContractData,
  DateTime,
  Direction,
  Exchange,
  Interval,
  OrderType,
  PositionData,
  Product,
  Status,
  TickData,
  UTC,
} from "../kernel/index.js";
import type { CcxtMarketType } from "./settings.js";

export const CCXT_EXCHANGE = Exchange.GLOBAL;

/** ccxt's precisionMode values (base/functions/number.js): what a market's `precision` numbers mean. */
export const DECIMAL_PLACES = 2;
export const SIGNIFICANT_DIGITS = 3;
export const TICK_SIZE = 4;

/** The market type the gateway gives a ccxt market, or undefined for markets it does not trade. */
export function marketTypeOf(market: Market): CcxtMarketType | undefined {
  if (market.spot) return "spot";
  if (market.swap && market.linear) return "swap";
  return undefined;
}

/** A step from a market's `precision` entry, whatever the exchange's precision mode. */
export function precisionStep(value: number | undefined, precisionMode: number): number | undefined {
  if (value === undefined || value === null || !Number.isFinite(value)) return undefined;
  if (precisionMode === TICK_SIZE) return value;
  // DECIMAL_PLACES (and, as the nearest step, SIGNIFICANT_DIGITS): a count of decimals.
  return Number((10 ** -value).toPrecision(12));
}

export function contractFromMarket(market: Market, precisionMode: number, gateway_name: string): ContractData {
  const pricetick = precisionStep(market.precision.price, precisionMode) ?? 0;
  const amountStep = precisionStep(market.precision.amount, precisionMode);
  const minAmount = market.limits.amount?.min;
  const maxAmount = market.limits.amount?.max;
  return new ContractData({
    gateway_name,
    symbol: market.symbol,
    exchange: CCXT_EXCHANGE,
    name: market.symbol,
    product: market.spot ? Product.SPOT : Product.SWAP,
    size: market.contractSize ?? 1,
    pricetick,
    min_volume: Math.max(minAmount ?? 0, amountStep ?? 0) || 1,
    max_volume: maxAmount ?? null,
    stop_supported: false,
    net_position: true,
    history_data: true,
  });
}

export function datetimeOf(ms: number | undefined): DateTime {
  return ms === undefined || ms === null ? DateTime.now(UTC) : DateTime.fromEpochMicros(ms * 1000, UTC);
}

/**
 * A tick from the latest ticker and book of one symbol; either may be missing yet. Five levels of the book,
 * zero where the book is thinner.
 */
export function tickFrom(symbol: string, ticker: Ticker | undefined, book: OrderBook | undefined, gateway_name: string): TickData {
  const timestamp = Math.max(ticker?.timestamp ?? 0, book?.timestamp ?? 0) || undefined;
  const tick = new TickData({
    gateway_name,
    symbol,
    exchange: CCXT_EXCHANGE,
    datetime: datetimeOf(timestamp),
    name: symbol,
    volume: ticker?.baseVolume ?? 0,
    turnover: ticker?.quoteVolume ?? 0,
    last_price: ticker?.last ?? 0,
    open_price: ticker?.open ?? 0,
    high_price: ticker?.high ?? 0,
    low_price: ticker?.low ?? 0,
    pre_close: ticker?.previousClose ?? 0,
    localtime: DateTime.now(UTC),
  });
  const record = tick as unknown as Record<string, number>;
  const bids = book?.bids ?? (ticker?.bid ? [[ticker.bid, ticker.bidVolume ?? 0]] : []);
  const asks = book?.asks ?? (ticker?.ask ? [[ticker.ask, ticker.askVolume ?? 0]] : []);
  for (let level = 1; level <= 5; level++) {
    const bid = bids[level - 1];
    const ask = asks[level - 1];
    record[`bid_price_${level}`] = Number(bid?.[0] ?? 0);
    record[`bid_volume_${level}`] = Number(bid?.[1] ?? 0);
    record[`ask_price_${level}`] = Number(ask?.[0] ?? 0);
    record[`ask_volume_${level}`] = Number(ask?.[1] ?? 0);
  }
  if (!tick.last_price && tick.bid_price_1 && tick.ask_price_1) tick.last_price = (tick.bid_price_1 + tick.ask_price_1) / 2;
  return tick;
}

/**
 * ccxt's unified order status to ours. ccxt has open/closed/canceled/expired/rejected; "open" with a fill is
 * PARTTRADED; "canceled" or "expired" (IOC/FOK remainders) are CANCELLED.
 */
export function statusOf(order: Pick<Order, "status" | "filled" | "amount">): Status {
  switch (order.status) {
    case "open":
      return (order.filled ?? 0) > 0 ? Status.PARTTRADED : Status.NOTTRADED;
    case "closed":
      return (order.filled ?? 0) > 0 && (order.amount === undefined || order.filled! + 1e-12 >= order.amount) ? Status.ALLTRADED : Status.CANCELLED;
    case "canceled":
    case "expired":
      return Status.CANCELLED;
    case "rejected":
      return Status.REJECTED;
    default:
      return (order.filled ?? 0) > 0 ? Status.PARTTRADED : Status.SUBMITTING;
  }
}

/** The exchange's own status string behind a ccxt order, for the log. */
export function rawStatusOf(order: Order): string {
  const info = order.info as Record<string, unknown> | undefined;
  const inner = info?.["o"] as Record<string, unknown> | undefined;
  const raw = info?.["status"] ?? info?.["X"] ?? inner?.["X"] ?? info?.["state"];
  return typeof raw === "string" ? raw : String(order.status);
}

export function orderTypeOf(order: Order): OrderType {
  if (order.type === "market") return OrderType.MARKET;
  if (order.timeInForce === "IOC") return OrderType.FAK;
  if (order.timeInForce === "FOK") return OrderType.FOK;
  return OrderType.LIMIT;
}

export function directionOf(side: string | undefined): Direction | null {
  return side === "buy" ? Direction.LONG : side === "sell" ? Direction.SHORT : null;
}

/** Our order type to ccxt's `createOrder(type, ..., params)`; post-only is a LIMIT with the gateway's flag. */
export function ccxtOrderArgs(type: OrderType, postOnly: boolean): { type: "limit" | "market"; params: Record<string, unknown> } | string {
  switch (type) {
    case OrderType.LIMIT:
      return { type: "limit", params: postOnly ? { postOnly: true } : {} };
    case OrderType.MARKET:
      return { type: "market", params: {} };
    case OrderType.FAK:
      return { type: "limit", params: { timeInForce: "IOC" } };
    case OrderType.FOK:
      return { type: "limit", params: { timeInForce: "FOK" } };
    default:
      return `order type ${type} is not supported by the ccxt gateway (LIMIT, MARKET, FAK, FOK)`;
  }
}

const TIMEFRAMES: Partial<Record<Interval, string>> = {
  [Interval.MINUTE]: "1m",
  [Interval.HOUR]: "1h",
  [Interval.DAILY]: "1d",
  [Interval.WEEKLY]: "1w",
};

export function timeframeOf(interval: Interval | null): string | undefined {
  return TIMEFRAMES[interval ?? Interval.MINUTE];
}

export function barFrom(symbol: string, interval: Interval, candle: OHLCV, gateway_name: string): BarData {
  const [time, open, high, low, close, volume] = candle;
  return new BarData({
    gateway_name,
    symbol,
    exchange: CCXT_EXCHANGE,
    datetime: datetimeOf(time),
    interval,
    volume: volume ?? 0,
    open_price: open ?? 0,
    high_price: high ?? 0,
    low_price: low ?? 0,
    close_price: close ?? 0,
  });
}

/** A swap position as VeighNa's net position: signed volume, entry price, unrealised P&L. */
export function positionFrom(position: Position, gateway_name: string): PositionData {
  const contracts = position.contracts ?? 0;
  return new PositionData({
    gateway_name,
    symbol: position.symbol ?? "",
    exchange: CCXT_EXCHANGE,
    direction: Direction.NET,
    volume: position.side === "short" ? -contracts : contracts,
    price: position.entryPrice ?? 0,
    pnl: position.unrealizedPnl ?? 0,
  });
}

/** The fee of a trade in the log line's words ("0.01 USDT"), or "". */
export function feeText(trade: Trade): string {
  return trade.fee?.cost ? `${trade.fee.cost} ${trade.fee.currency ?? ""}`.trim() : "";
}

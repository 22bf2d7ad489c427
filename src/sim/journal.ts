/**
 * The bridge between the venue's objects and the store's rows, and the batch that collects one action's changes
 * so they are written together and only then published.
 */
import {
  CHINA_TZ,
  DateTime,
  OrderData,
  TradeData,
  type Direction,
  type Exchange,
  type Offset,
  type OrderType,
  type Status,
} from "../kernel/index.js";
import type { LegEntry } from "./ledger.js";
import type { SimContractSpec } from "./spec.js";
import type { OrderRow, PositionRow, TradeRow } from "./store.js";
import { isoString } from "./time.js";

/** The part of `order.extra` the journal keeps: why the venue rejected or cancelled the order. */
interface Outcome {
  readonly reason?: string;
  readonly code?: string;
}

/** Changes of one action: rows to write in one transaction, then events to publish in the order they happened. */
export class Batch {
  /** Latest row of each order touched, by sequence number. */
  readonly orders = new Map<number, OrderRow>();
  readonly trades: TradeRow[] = [];
  readonly legs = new Set<LegEntry>();
  readonly contracts: SimContractSpec[] = [];
  account = false;
  readonly events: Array<() => void> = [];

  get isEmpty(): boolean {
    return this.events.length === 0 && this.orders.size === 0 && this.legs.size === 0 && !this.account;
  }
}

/** A copy to publish: pushed data must not change afterwards (BaseGateway's contract), the venue's copy does. */
export function snapshotOrder(order: OrderData): OrderData {
  const copy = new OrderData({
    gateway_name: order.gateway_name,
    symbol: order.symbol,
    exchange: order.exchange,
    orderid: order.orderid,
    type: order.type,
    direction: order.direction,
    offset: order.offset,
    price: order.price,
    volume: order.volume,
    traded: order.traded,
    status: order.status,
    datetime: order.datetime,
    reference: order.reference,
  });
  if (order.extra !== undefined) copy.extra = order.extra === null ? null : { ...order.extra };
  return copy;
}

export function orderRow(seq: number, order: OrderData): OrderRow {
  const outcome = order.extra as Outcome | null | undefined;
  return {
    seq,
    orderid: order.orderid,
    symbol: order.symbol,
    exchange: order.exchange,
    type: order.type,
    direction: order.direction ?? "",
    offset: order.offset,
    // A rejected order may hold what a client sent: SQLite has no NaN.
    price: Number.isFinite(order.price) ? order.price : null,
    volume: Number.isFinite(order.volume) ? order.volume : null,
    traded: order.traded,
    status: order.status,
    datetime: isoString(order.datetime!),
    reference: order.reference,
    reason: outcome?.reason ?? null,
    reason_code: outcome?.code ?? null,
  };
}

export function orderFromRow(row: OrderRow, gatewayName: string): OrderData {
  const order = new OrderData({
    gateway_name: gatewayName,
    symbol: row.symbol,
    exchange: row.exchange as Exchange,
    orderid: row.orderid,
    type: row.type as OrderType,
    direction: (row.direction || null) as Direction | null,
    offset: row.offset as Offset,
    price: row.price ?? Number.NaN,
    volume: row.volume ?? Number.NaN,
    traded: row.traded,
    status: row.status as Status,
    datetime: DateTime.parse(row.datetime, CHINA_TZ),
    reference: row.reference,
  });
  if (row.reason !== null) order.extra = { reason: row.reason, code: row.reason_code };
  return order;
}

export function tradeRow(seq: number, trade: TradeData, commission: number): TradeRow {
  return {
    seq,
    tradeid: trade.tradeid,
    orderid: trade.orderid,
    symbol: trade.symbol,
    exchange: trade.exchange,
    direction: trade.direction ?? "",
    offset: trade.offset,
    price: trade.price,
    volume: trade.volume,
    datetime: isoString(trade.datetime!),
    commission,
  };
}

export function tradeFromRow(row: TradeRow, gatewayName: string): TradeData {
  const trade = new TradeData({
    gateway_name: gatewayName,
    symbol: row.symbol,
    exchange: row.exchange as Exchange,
    orderid: row.orderid,
    tradeid: row.tradeid,
    direction: (row.direction || null) as Direction | null,
    offset: row.offset as Offset,
    price: row.price,
    volume: row.volume,
    datetime: DateTime.parse(row.datetime, CHINA_TZ),
  });
  trade.extra = { commission: row.commission };
  return trade;
}

export function positionRow(entry: LegEntry): PositionRow {
  const { leg } = entry;
  return { vt_symbol: entry.vt_symbol, direction: entry.direction, volume: leg.volume, yd_volume: leg.yd_volume, price: leg.price };
}

/**
 * The gateway's memory of orders and fills: our ids against the exchange's, the latest state pushed for each
 * order, the trades already pushed (REST and WebSocket report the same fill; a fill is pushed once), and the
 * orders whose fate a network error left unknown. No I/O: the gateway feeds it ccxt structures and pushes what
 * it returns.
 */
import type { Order, Trade } from "ccxt";
import { ACTIVE_STATUSES, DateTime, OrderData, Status, TradeData, UTC, type OrderRequest } from "../kernel/index.js";
import { CCXT_EXCHANGE, datetimeOf, directionOf, orderTypeOf, rawStatusOf, statusOf } from "./convert.js";

/** What an applied ccxt order changed: the order to push, and the raw exchange status for the log. */
export interface OrderChange {
  readonly order: OrderData;
  readonly rawStatus: string;
  readonly statusChanged: boolean;
}

const FINAL: ReadonlySet<Status> = new Set([Status.ALLTRADED, Status.CANCELLED, Status.REJECTED]);

export class OrderMemory {
  private readonly orders = new Map<string, OrderData>();
  /** exchange order id -> our orderid. */
  private readonly byExchangeId = new Map<string, string>();
  /** our orderid -> exchange order id. */
  private readonly exchangeIds = new Map<string, string>();
  private readonly tradeIds = new Set<string>();
  /** Fills whose order we do not know yet, by exchange order id (a fill may overtake its order). */
  private readonly pendingTrades = new Map<string, Trade[]>();
  /** Orders a network error left unknown: sent, but neither confirmed nor refused. */
  private readonly unknown = new Set<string>();
  private sequence = 0;
  private readonly prefix: string;

  constructor(
    private readonly gatewayName: string,
    /** Unique per connection, so client order ids never repeat across restarts (exchanges refuse duplicates). */
    sessionTag: string = Date.now().toString(36),
  ) {
    this.prefix = `rpc${sessionTag}n`;
  }

  /** A new client order id: letters and digits only, within every exchange's limit (Binance: 36 characters). */
  nextOrderid(): string {
    this.sequence += 1;
    return `${this.prefix}${this.sequence}`;
  }

  /** Records an order about to be sent, in SUBMITTING. */
  add(req: OrderRequest, orderid: string): OrderData {
    const order = req.createOrderData(orderid, this.gatewayName);
    order.datetime = DateTime.now(UTC);
    this.orders.set(orderid, order);
    return order;
  }

  get(orderid: string): OrderData | undefined {
    return this.orders.get(orderid);
  }

  exchangeIdOf(orderid: string): string | undefined {
    return this.exchangeIds.get(orderid);
  }

  /** Our orders still working (or unknown), by symbol. */
  activeOrders(): OrderData[] {
    return [...this.orders.values()].filter((order) => ACTIVE_STATUSES.has(order.status));
  }

  markUnknown(orderid: string): void {
    this.unknown.add(orderid);
  }

  settled(orderid: string): void {
    this.unknown.delete(orderid);
  }

  unknownOrders(): OrderData[] {
    return [...this.unknown].map((id) => this.orders.get(id)).filter((order): order is OrderData => order !== undefined);
  }

  /** Ends an order as REJECTED with a reason (`extra = { reason, code }`), unless it already ended. */
  reject(orderid: string, reason: string, code: string): OrderData | undefined {
    const order = this.orders.get(orderid);
    if (!order || FINAL.has(order.status)) return undefined;
    this.unknown.delete(orderid);
    order.status = Status.REJECTED;
    order.extra = { reason, code };
    return order;
  }

  /**
   * Folds a ccxt order into ours. Returns the change to push, or undefined when it tells nothing new or is older
   * than what we have (REST answers and WebSocket updates arrive in any order: an order never goes back from a
   * final status, and its traded volume never falls).
   */
  applyOrder(update: Order): OrderChange | undefined {
    const orderid = this.resolveOrderid(update);
    let order = this.orders.get(orderid);
    const status = statusOf(update);
    const traded = update.filled ?? 0;
    if (!order) {
      order = new OrderData({
        gateway_name: this.gatewayName,
        symbol: update.symbol ?? "",
        exchange: CCXT_EXCHANGE,
        orderid,
        type: orderTypeOf(update),
        direction: directionOf(update.side),
        price: update.price ?? 0,
        volume: update.amount ?? 0,
        datetime: datetimeOf(update.timestamp),
      });
      this.orders.set(orderid, order);
    } else {
      if (FINAL.has(order.status) && (ACTIVE_STATUSES.has(status) || status === order.status)) return undefined;
      if (traded < order.traded) return undefined;
      if (status === order.status && traded === order.traded) return undefined;
    }
    if (update.id) {
      this.byExchangeId.set(update.id, orderid);
      this.exchangeIds.set(orderid, update.id);
    }
    const statusChanged = order.status !== status;
    order.status = status;
    order.traded = traded;
    if (update.price) order.price = update.price;
    if (status !== Status.SUBMITTING) this.unknown.delete(orderid);
    return { order, rawStatus: rawStatusOf(update), statusChanged };
  }

  /**
   * Folds a ccxt trade into ours: the trade to push once, or undefined when it was pushed already or its order is
   * not known yet (it is then kept, and `releaseTrades` hands it out once the order is known).
   */
  applyTrade(trade: Trade): TradeData | undefined {
    const key = `${trade.symbol}|${trade.id}`;
    if (this.tradeIds.has(key)) return undefined;
    const orderid = trade.order ? this.byExchangeId.get(trade.order) ?? clientIdOf(trade) : clientIdOf(trade);
    if (orderid === undefined || !this.orders.has(orderid)) {
      if (trade.order) {
        const list = this.pendingTrades.get(trade.order) ?? [];
        if (!list.some((t) => t.id === trade.id)) list.push(trade);
        this.pendingTrades.set(trade.order, list);
      }
      return undefined;
    }
    this.tradeIds.add(key);
    const data = new TradeData({
      gateway_name: this.gatewayName,
      symbol: trade.symbol ?? this.orders.get(orderid)!.symbol,
      exchange: CCXT_EXCHANGE,
      orderid,
      tradeid: String(trade.id),
      direction: directionOf(trade.side),
      price: trade.price ?? 0,
      volume: trade.amount ?? 0,
      datetime: datetimeOf(trade.timestamp),
    });
    // The fee in the market's money, where it can be told (the console's account summary sums the day's fees).
    const commission = commissionOf(trade);
    if (commission !== undefined) data.extra = { commission };
    return data;
  }

  /** Fills kept back for orders that are now known. */
  releaseTrades(): Trade[] {
    const ready: Trade[] = [];
    for (const [exchangeId, trades] of this.pendingTrades) {
      if (this.byExchangeId.has(exchangeId)) {
        ready.push(...trades);
        this.pendingTrades.delete(exchangeId);
      }
    }
    return ready;
  }

  /** Exchange order ids of fills whose order is still unknown (the gateway asks the exchange for them). */
  orphanOrderIds(): Array<{ exchangeId: string; symbol: string }> {
    return [...this.pendingTrades].map(([exchangeId, trades]) => ({ exchangeId, symbol: trades[0]!.symbol! }));
  }

  private resolveOrderid(update: Order): string {
    const known = update.id ? this.byExchangeId.get(update.id) : undefined;
    if (known) return known;
    if (update.clientOrderId && this.orders.has(update.clientOrderId)) return update.clientOrderId;
    // Another client's order on the same account: its client id if it is a usable id (a dot would break the
    // vt_orderid split, so it becomes "_"), else the exchange's.
    const candidate = update.clientOrderId && /^[A-Za-z0-9_.:/-]+$/.test(update.clientOrderId) ? update.clientOrderId : update.id;
    return (candidate ?? `unknown${Date.now()}`).replace(/\./g, "_");
  }
}

/** The client order id some exchanges put in a fill's raw payload (Binance user stream: `c`). */
function clientIdOf(trade: Trade): string | undefined {
  const info = trade.info as Record<string, unknown> | undefined;
  const inner = info?.["o"] as Record<string, unknown> | undefined;
  const id = info?.["c"] ?? inner?.["c"];
  return typeof id === "string" ? id : undefined;
}

/**
 * A fill's fee in the money P&L is counted in (a swap's settle currency, else the quote): as charged when it is in
 * that currency, times the fill price when it is in the base; undefined when it is in anything else (BNB...) or unknown.
 */
export function commissionOf(trade: Pick<Trade, "symbol" | "price" | "fee">): number | undefined {
  const fee = trade.fee;
  if (!fee || typeof fee.cost !== "number" || !Number.isFinite(fee.cost) || !trade.symbol) return undefined;
  const [base, rest = ""] = trade.symbol.split("/");
  const [quote, settle] = rest.split(":");
  if (fee.currency === (settle ?? quote)) return fee.cost;
  if (fee.currency === base && typeof trade.price === "number" && Number.isFinite(trade.price)) return fee.cost * trade.price;
  return undefined;
}

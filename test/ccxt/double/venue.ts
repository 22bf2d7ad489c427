/**
 * The state of the exchange double: markets, an outside order book per market that the test sets, our orders
 * matched against it, spot balances, a futures wallet with net positions, trades and candles.
 *
 * Deliberately simple: no fees (balances stay exact in tests), one futures leverage, fills at the book's
 * prices for takers and at the order's price for makers. Errors carry Binance's documented codes and messages,
 * which ccxt turns into its error classes.
 */

export type Kind = "spot" | "futures";
export type Side = "BUY" | "SELL";
export type OrderStatus = "NEW" | "PARTIALLY_FILLED" | "FILLED" | "CANCELED" | "EXPIRED" | "REJECTED";
export type ExecType = "NEW" | "TRADE" | "CANCELED" | "EXPIRED";
/** [price, quantity] */
export type Level = [number, number];

export interface MarketSpec {
  readonly id: string;
  readonly base: string;
  readonly quote: string;
  readonly tickSize: number;
  readonly stepSize: number;
  readonly minQty: number;
  /** Where the candles' random walk centres. */
  readonly refPrice: number;
}

export interface DoubleOrder {
  readonly kind: Kind;
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: "LIMIT" | "MARKET" | "LIMIT_MAKER";
  readonly timeInForce: "GTC" | "IOC" | "FOK" | "GTX";
  readonly price: number;
  readonly origQty: number;
  executedQty: number;
  cumQuote: number;
  status: OrderStatus;
  readonly time: number;
  updateTime: number;
}

export interface DoubleTrade {
  readonly kind: Kind;
  readonly id: number;
  readonly orderId: number;
  readonly symbol: string;
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
  readonly time: number;
  readonly maker: boolean;
  readonly realizedPnl: number;
}

export interface OrderEvent {
  readonly order: DoubleOrder;
  readonly execType: ExecType;
  readonly trade?: DoubleTrade;
}

/** A refusal, as Binance words it ({ code, msg } with an HTTP status). */
export class VenueError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly httpStatus = 400,
  ) {
    super(msg);
  }
}

export interface VenueListener {
  order(event: OrderEvent): void;
  book(kind: Kind, symbol: string): void;
}

export interface Position {
  amt: number;
  entryPrice: number;
}

const EPS = 1e-9;
export const LEVERAGE = 10;

function onStep(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-6;
}

function round(value: number): number {
  return Number(value.toFixed(10));
}

export class Venue {
  readonly markets: Record<Kind, Map<string, MarketSpec>> = { spot: new Map(), futures: new Map() };
  private readonly books = new Map<string, { bids: Level[]; asks: Level[] }>();
  readonly lastPrice = new Map<string, number>();
  readonly orders = new Map<number, DoubleOrder>();
  readonly trades: DoubleTrade[] = [];
  /** Spot balances by asset. */
  readonly balances = new Map<string, { free: number; locked: number }>();
  /** The futures wallet (USDT) and net positions by symbol. */
  futuresWallet = 0;
  readonly positions = new Map<string, Position>();
  private nextOrderId = 1000;
  private nextTradeId = 5000;
  private readonly listeners = new Set<VenueListener>();

  constructor(specs: { spot: MarketSpec[]; futures: MarketSpec[] }) {
    for (const kind of ["spot", "futures"] as const) {
      for (const spec of specs[kind]) {
        this.markets[kind].set(spec.id, spec);
        this.books.set(`${kind}:${spec.id}`, { bids: [], asks: [] });
        this.lastPrice.set(`${kind}:${spec.id}`, spec.refPrice);
      }
    }
  }

  listen(listener: VenueListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  market(kind: Kind, symbol: string): MarketSpec {
    const spec = this.markets[kind].get(symbol);
    if (!spec) throw new VenueError(-1121, "Invalid symbol.");
    return spec;
  }

  balance(asset: string): { free: number; locked: number } {
    let entry = this.balances.get(asset);
    if (!entry) this.balances.set(asset, (entry = { free: 0, locked: 0 }));
    return entry;
  }

  deposit(asset: string, amount: number): void {
    this.balance(asset).free = round(this.balance(asset).free + amount);
  }

  /** Replaces the outside liquidity of a market; our resting orders that it crosses trade against it. */
  setBook(kind: Kind, symbol: string, book: { bids: Level[]; asks: Level[] }): void {
    this.market(kind, symbol);
    this.books.set(`${kind}:${symbol}`, {
      bids: book.bids.map(([p, q]) => [p, q] as Level).sort((a, b) => b[0] - a[0]),
      asks: book.asks.map(([p, q]) => [p, q] as Level).sort((a, b) => a[0] - b[0]),
    });
    this.matchResting(kind, symbol);
    this.emitBook(kind, symbol);
  }

  /** Outside liquidity plus our resting orders, best first, `limit` levels a side. */
  depth(kind: Kind, symbol: string, limit = 100): { bids: Level[]; asks: Level[] } {
    this.market(kind, symbol);
    const book = this.books.get(`${kind}:${symbol}`)!;
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (const [p, q] of book.bids) bids.set(p, (bids.get(p) ?? 0) + q);
    for (const [p, q] of book.asks) asks.set(p, (asks.get(p) ?? 0) + q);
    for (const order of this.resting(kind, symbol)) {
      const side = order.side === "BUY" ? bids : asks;
      side.set(order.price, round((side.get(order.price) ?? 0) + order.origQty - order.executedQty));
    }
    return {
      bids: [...bids].filter(([, q]) => q > EPS).sort((a, b) => b[0] - a[0]).slice(0, limit),
      asks: [...asks].filter(([, q]) => q > EPS).sort((a, b) => a[0] - b[0]).slice(0, limit),
    };
  }

  last(kind: Kind, symbol: string): number {
    return this.lastPrice.get(`${kind}:${symbol}`) ?? this.market(kind, symbol).refPrice;
  }

  placeOrder(
    kind: Kind,
    req: { symbol: string; side: Side; type: string; timeInForce?: string; price?: number; quantity: number; clientOrderId: string },
  ): DoubleOrder {
    const spec = this.market(kind, req.symbol);
    if (req.side !== "BUY" && req.side !== "SELL") throw new VenueError(-1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
    if (!(req.quantity > 0) || req.quantity + EPS < spec.minQty || !onStep(req.quantity, spec.stepSize)) throw new VenueError(-1013, "Filter failure: LOT_SIZE");
    const type = req.type === "MARKET" ? "MARKET" : req.type === "LIMIT_MAKER" ? "LIMIT_MAKER" : req.type === "LIMIT" ? "LIMIT" : undefined;
    if (!type) throw new VenueError(-1116, "Invalid orderType.");
    const price = type === "MARKET" ? 0 : (req.price ?? 0);
    if (type !== "MARKET" && (!(price > 0) || !onStep(price, spec.tickSize))) throw new VenueError(-1013, "Filter failure: PRICE_FILTER");
    const tif = type === "MARKET" ? "IOC" : ((req.timeInForce ?? "GTC") as DoubleOrder["timeInForce"]);
    if (![...this.orders.values()].every((o) => o.kind !== kind || o.clientOrderId !== req.clientOrderId || !this.isOpen(o))) {
      throw new VenueError(-2010, "Duplicate order sent.");
    }
    const postOnly = type === "LIMIT_MAKER" || tif === "GTX";
    const crossing = this.crossingQty(kind, req.symbol, req.side, type === "MARKET" ? undefined : price);
    if (postOnly && crossing > EPS) {
      if (kind === "spot") throw new VenueError(-2010, "Order would immediately match and take.");
      throw new VenueError(-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history");
    }
    this.checkFunds(kind, spec, req.side, type === "MARKET" ? this.estimateCost(kind, req.symbol, req.side, req.quantity) : price * req.quantity, req.quantity);
    const now = Date.now();
    const order: DoubleOrder = {
      kind,
      orderId: this.nextOrderId++,
      clientOrderId: req.clientOrderId || `double${this.nextOrderId}`,
      symbol: req.symbol,
      side: req.side,
      type,
      timeInForce: tif,
      price,
      origQty: req.quantity,
      executedQty: 0,
      cumQuote: 0,
      status: "NEW",
      time: now,
      updateTime: now,
    };
    this.orders.set(order.orderId, order);
    this.emitOrder({ order, execType: "NEW" });
    if (tif === "FOK" && crossing + EPS < req.quantity) {
      this.finish(order, "EXPIRED");
      return order;
    }
    this.take(order, spec);
    if (this.isOpen(order)) {
      if (tif === "IOC" || tif === "FOK") this.finish(order, "EXPIRED");
      else this.lock(order, spec, +1);
    }
    this.emitBook(kind, req.symbol);
    return order;
  }

  cancelOrder(kind: Kind, symbol: string, ref: { orderId?: number; clientOrderId?: string }): DoubleOrder {
    const order = this.findOrder(kind, symbol, ref);
    if (!order || !this.isOpen(order)) throw new VenueError(-2011, "Unknown order sent.");
    this.lock(order, this.market(kind, symbol), -1);
    this.finish(order, "CANCELED");
    this.emitBook(kind, symbol);
    return order;
  }

  findOrder(kind: Kind, symbol: string, ref: { orderId?: number; clientOrderId?: string }): DoubleOrder | undefined {
    for (const order of this.orders.values()) {
      if (order.kind !== kind || order.symbol !== symbol) continue;
      if (ref.orderId !== undefined ? order.orderId === ref.orderId : order.clientOrderId === ref.clientOrderId) return order;
    }
    return undefined;
  }

  openOrders(kind: Kind, symbol?: string): DoubleOrder[] {
    return [...this.orders.values()].filter((o) => o.kind === kind && this.isOpen(o) && (symbol === undefined || o.symbol === symbol));
  }

  isOpen(order: DoubleOrder): boolean {
    return order.status === "NEW" || order.status === "PARTIALLY_FILLED";
  }

  /** Used futures margin: positions at entry plus open orders, over the leverage. */
  futuresUsedMargin(): number {
    let notional = 0;
    for (const position of this.positions.values()) notional += Math.abs(position.amt) * position.entryPrice;
    for (const order of this.openOrders("futures")) notional += (order.origQty - order.executedQty) * order.price;
    return round(notional / LEVERAGE);
  }

  futuresUnrealized(): number {
    let pnl = 0;
    for (const [symbol, position] of this.positions) pnl += position.amt * (this.last("futures", symbol) - position.entryPrice);
    return round(pnl);
  }

  /** Candles of a deterministic walk around the market's reference price, [start, end], at most `limit`. */
  klines(kind: Kind, symbol: string, intervalMs: number, start: number, end: number, limit: number): Array<[number, number, number, number, number, number]> {
    const spec = this.market(kind, symbol);
    const out: Array<[number, number, number, number, number, number]> = [];
    const now = Date.now();
    for (let t = Math.ceil(start / intervalMs) * intervalMs; t <= Math.min(end, now) && out.length < limit; t += intervalMs) {
      const wave = (x: number): number => spec.refPrice * (1 + 0.01 * Math.sin(x / 3_600_000) + 0.002 * Math.sin(x / 60_000));
      const round2 = (v: number): number => Math.round(v / spec.tickSize) * spec.tickSize;
      const open = round2(wave(t));
      const close = round2(wave(t + intervalMs));
      out.push([t, open, Math.max(open, close) + spec.tickSize, Math.min(open, close) - spec.tickSize, close, 1 + ((t / intervalMs) % 7)]);
    }
    return out;
  }

  private resting(kind: Kind, symbol: string): DoubleOrder[] {
    return this.openOrders(kind, symbol).sort((a, b) => a.orderId - b.orderId);
  }

  private crossingQty(kind: Kind, symbol: string, side: Side, limit: number | undefined): number {
    const book = this.books.get(`${kind}:${symbol}`)!;
    const levels = side === "BUY" ? book.asks : book.bids;
    let qty = 0;
    for (const [p, q] of levels) {
      if (limit !== undefined && (side === "BUY" ? p > limit + EPS : p < limit - EPS)) break;
      qty += q;
    }
    return qty;
  }

  private estimateCost(kind: Kind, symbol: string, side: Side, quantity: number): number {
    const book = this.books.get(`${kind}:${symbol}`)!;
    let left = quantity;
    let cost = 0;
    for (const [p, q] of side === "BUY" ? book.asks : book.bids) {
      const take = Math.min(left, q);
      cost += take * p;
      left -= take;
      if (left <= EPS) break;
    }
    return cost + left * this.last(kind, symbol);
  }

  private checkFunds(kind: Kind, spec: MarketSpec, side: Side, cost: number, quantity: number): void {
    if (kind === "spot") {
      const have = side === "BUY" ? this.balance(spec.quote).free : this.balance(spec.base).free;
      if ((side === "BUY" ? cost : quantity) > have + EPS) throw new VenueError(-2010, "Account has insufficient balance for requested action.");
      return;
    }
    const position = this.positions.get(spec.id);
    const reducing = position && (side === "BUY" ? position.amt < 0 : position.amt > 0) ? Math.min(quantity, Math.abs(position.amt)) : 0;
    const margin = ((quantity - reducing) * (cost / quantity || this.last(kind, spec.id))) / LEVERAGE;
    const available = this.futuresWallet + this.futuresUnrealized() - this.futuresUsedMargin();
    if (margin > available + EPS) throw new VenueError(-2019, "Margin is insufficient.");
  }

  /** Our taker order against the outside book. */
  private take(order: DoubleOrder, spec: MarketSpec): void {
    const book = this.books.get(`${order.kind}:${order.symbol}`)!;
    const levels = order.side === "BUY" ? book.asks : book.bids;
    while (levels.length > 0 && order.origQty - order.executedQty > EPS) {
      const level = levels[0]!;
      const [p, q] = level;
      if (order.type !== "MARKET" && (order.side === "BUY" ? p > order.price + EPS : p < order.price - EPS)) break;
      const qty = round(Math.min(q, order.origQty - order.executedQty));
      level[1] = round(q - qty);
      if (level[1] <= EPS) levels.shift();
      this.fill(order, spec, p, qty, false);
    }
  }

  /** Our resting orders that the outside book now crosses trade as makers, at their own price. */
  private matchResting(kind: Kind, symbol: string): void {
    const spec = this.market(kind, symbol);
    const book = this.books.get(`${kind}:${symbol}`)!;
    for (const order of this.resting(kind, symbol)) {
      const levels = order.side === "BUY" ? book.asks : book.bids;
      while (levels.length > 0 && this.isOpen(order)) {
        const level = levels[0]!;
        if (order.side === "BUY" ? level[0] > order.price + EPS : level[0] < order.price - EPS) break;
        const qty = round(Math.min(level[1], order.origQty - order.executedQty));
        level[1] = round(level[1] - qty);
        if (level[1] <= EPS) levels.shift();
        this.lockPart(order, spec, qty);
        this.fill(order, spec, order.price, qty, true);
      }
    }
  }

  private fill(order: DoubleOrder, spec: MarketSpec, price: number, qty: number, maker: boolean): void {
    const now = Date.now();
    order.executedQty = round(order.executedQty + qty);
    order.cumQuote = round(order.cumQuote + price * qty);
    order.status = order.origQty - order.executedQty <= EPS ? "FILLED" : "PARTIALLY_FILLED";
    order.updateTime = now;
    let realizedPnl = 0;
    if (order.kind === "spot") {
      const signedBase = order.side === "BUY" ? qty : -qty;
      if (!maker) {
        this.balance(spec.base).free = round(this.balance(spec.base).free + signedBase);
        this.balance(spec.quote).free = round(this.balance(spec.quote).free - signedBase * price);
      } else if (order.side === "BUY") {
        this.balance(spec.base).free = round(this.balance(spec.base).free + qty);
      } else {
        this.balance(spec.quote).free = round(this.balance(spec.quote).free + qty * price);
      }
    } else {
      realizedPnl = this.applyPosition(spec.id, order.side === "BUY" ? qty : -qty, price);
      this.futuresWallet = round(this.futuresWallet + realizedPnl);
    }
    this.lastPrice.set(`${order.kind}:${order.symbol}`, price);
    const trade: DoubleTrade = { kind: order.kind, id: this.nextTradeId++, orderId: order.orderId, symbol: order.symbol, side: order.side, price, qty, time: now, maker, realizedPnl };
    this.trades.push(trade);
    this.emitOrder({ order, execType: "TRADE", trade });
  }

  private applyPosition(symbol: string, delta: number, price: number): number {
    const position = this.positions.get(symbol) ?? { amt: 0, entryPrice: 0 };
    let realized = 0;
    if (position.amt === 0 || Math.sign(position.amt) === Math.sign(delta)) {
      const amt = position.amt + delta;
      position.entryPrice = (position.entryPrice * Math.abs(position.amt) + price * Math.abs(delta)) / Math.abs(amt);
      position.amt = round(amt);
    } else {
      const closing = Math.min(Math.abs(delta), Math.abs(position.amt));
      realized = closing * (price - position.entryPrice) * Math.sign(position.amt);
      const amt = round(position.amt + delta);
      if (Math.abs(amt) <= EPS) {
        position.amt = 0;
        position.entryPrice = 0;
      } else if (Math.sign(amt) !== Math.sign(position.amt)) {
        position.amt = amt;
        position.entryPrice = price;
      } else position.amt = amt;
    }
    this.positions.set(symbol, position);
    return round(realized);
  }

  /** Moves a resting spot order's remaining funds into (+1) or out of (-1) `locked`. */
  private lock(order: DoubleOrder, spec: MarketSpec, sign: 1 | -1): void {
    if (order.kind !== "spot") return;
    const remaining = order.origQty - order.executedQty;
    const asset = order.side === "BUY" ? spec.quote : spec.base;
    const amount = order.side === "BUY" ? remaining * order.price : remaining;
    const entry = this.balance(asset);
    entry.free = round(entry.free - sign * amount);
    entry.locked = round(entry.locked + sign * amount);
  }

  /** Releases the locked funds of `qty` of a resting spot order that is about to trade (they are spent). */
  private lockPart(order: DoubleOrder, spec: MarketSpec, qty: number): void {
    if (order.kind !== "spot") return;
    const asset = order.side === "BUY" ? spec.quote : spec.base;
    const amount = order.side === "BUY" ? qty * order.price : qty;
    this.balance(asset).locked = round(this.balance(asset).locked - amount);
  }

  private finish(order: DoubleOrder, status: "CANCELED" | "EXPIRED"): void {
    order.status = status;
    order.updateTime = Date.now();
    this.emitOrder({ order, execType: status });
  }

  private emitOrder(event: OrderEvent): void {
    for (const listener of this.listeners) listener.order(event);
  }

  private emitBook(kind: Kind, symbol: string): void {
    for (const listener of this.listeners) listener.book(kind, symbol);
  }
}

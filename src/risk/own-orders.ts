/**
 * The server's own working orders, per vt_symbol: what the OMS knows as active, plus the orders the risk engine
 * let through that the OMS cannot know yet.
 *
 * Why not read the OMS alone: an order reaches the OMS only when the gateway's eOrder event is processed, on a
 * later turn of the event loop. A burst of orders sent in one turn (a strategy's loop, several RPC requests read
 * from one socket) would all be checked against the same stale picture and could all pass an active-order limit
 * or cross each other. So an accepted order counts from the moment it is accepted: as a pending request until
 * the gateway answers (MainEngine's `settled` call), then under its vt_orderid until its first eOrder event, then
 * as the events report it until it is no longer active.
 *
 * Accepting and settling an order allocate nothing (the request itself stands for it while pending); an entry is
 * created only for an order that actually went out.
 */
import { Direction, OrderType, type OmsEngine, type OrderData, type OrderRequest } from "../kernel/index.js";

/** An order with a vt_orderid that is, or is about to be, working at its venue. */
class WorkingOrder {
  constructor(
    readonly vt_orderid: string,
    readonly book: SymbolBook,
    readonly buy: boolean,
    public price: number,
    /** A market order crosses whatever rests on the other side. */
    readonly market: boolean,
    /** False until an eOrder event has reported it. */
    public confirmed: boolean,
    /** When the gateway answered or the event first showed it, epoch ms. */
    readonly since: number,
  ) {}
}

/** One vt_symbol's orders. Books are kept once created: their number is bounded by the contracts traded. */
class SymbolBook {
  readonly working: WorkingOrder[] = [];
  readonly pending: OrderRequest[] = [];
  /** Working entries not confirmed by an event yet. */
  unconfirmed = 0;
}

export class OwnOrders {
  private readonly books = new Map<string, SymbolBook>();
  /** Every order with a vt_orderid, confirmed or not. */
  private readonly byId = new Map<string, WorkingOrder>();
  /** Answered by the gateway, no event yet. */
  private readonly awaitingEvent = new Map<string, WorkingOrder>();
  /** Accepted, the gateway has not answered yet; with when each was accepted (parallel arrays: no entry objects). */
  private readonly pendingReqs: OrderRequest[] = [];
  private readonly pendingTimes: number[] = [];

  constructor(private readonly oms: OmsEngine) {
    for (const order of oms.activeOrders.values()) this.onOrder(order, 0);
  }

  /** Every working order: active at its venue or on its way there. */
  get activeCount(): number {
    return this.byId.size + this.pendingReqs.length;
  }

  /** Orders accepted that no event has reported yet. */
  get inFlightCount(): number {
    return this.pendingReqs.length + this.awaitingEvent.size;
  }

  inFlightFor(vt_symbol: string): number {
    const book = this.books.get(vt_symbol);
    return book ? book.pending.length + book.unconfirmed : 0;
  }

  /** The highest price among our own working buy orders on `vt_symbol`: +Infinity if one is a market order, -Infinity if none. */
  bestBid(vt_symbol: string): number {
    let best = Number.NEGATIVE_INFINITY;
    const book = this.books.get(vt_symbol);
    if (!book) return best;
    const working = book.working;
    for (let i = 0; i < working.length; i++) {
      const order = working[i]!;
      if (!order.buy) continue;
      const price = order.market ? Number.POSITIVE_INFINITY : order.price;
      if (price > best) best = price;
    }
    const pending = book.pending;
    for (let i = 0; i < pending.length; i++) {
      const req = pending[i]!;
      if (req.direction !== Direction.LONG) continue;
      const price = req.type === OrderType.MARKET ? Number.POSITIVE_INFINITY : req.price;
      if (price > best) best = price;
    }
    return best;
  }

  /** The lowest price among our own working sell orders on `vt_symbol`: -Infinity if one is a market order, +Infinity if none. */
  bestAsk(vt_symbol: string): number {
    let best = Number.POSITIVE_INFINITY;
    const book = this.books.get(vt_symbol);
    if (!book) return best;
    const working = book.working;
    for (let i = 0; i < working.length; i++) {
      const order = working[i]!;
      if (order.buy) continue;
      const price = order.market ? Number.NEGATIVE_INFINITY : order.price;
      if (price < best) best = price;
    }
    const pending = book.pending;
    for (let i = 0; i < pending.length; i++) {
      const req = pending[i]!;
      if (req.direction === Direction.LONG) continue;
      const price = req.type === OrderType.MARKET ? Number.NEGATIVE_INFINITY : req.price;
      if (price < best) best = price;
    }
    return best;
  }

  /** vt_orderids of the working orders that have one. */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** The risk engine let `req` through. */
  accept(req: OrderRequest, now: number): void {
    this.pendingReqs.push(req);
    this.pendingTimes.push(now);
    this.bookFor(req.vt_symbol).pending.push(req);
  }

  /** MainEngine's answer for an accepted order: its vt_orderid, or "" when it did not go out. */
  settle(req: OrderRequest, vt_orderid: string, now: number): void {
    const index = this.pendingReqs.lastIndexOf(req); // usually the last one accepted
    if (index < 0) return; // pruned as stale meanwhile
    this.removePending(index);
    // An event may have reported it already (a remote gateway can push before it answers): that entry stands for it.
    if (vt_orderid === "" || this.byId.has(vt_orderid) || this.oms.orders.has(vt_orderid)) return;
    const book = this.bookFor(req.vt_symbol);
    const order = new WorkingOrder(vt_orderid, book, req.direction === Direction.LONG, req.price, req.type === OrderType.MARKET, false, now);
    book.working.push(order);
    book.unconfirmed++;
    this.byId.set(vt_orderid, order);
    this.awaitingEvent.set(vt_orderid, order);
  }

  /** Every eOrder event. */
  onOrder(order: OrderData, now: number): void {
    const known = this.byId.get(order.vt_orderid);
    if (order.isActive()) {
      if (!known) {
        const book = this.bookFor(order.vt_symbol);
        const entry = new WorkingOrder(order.vt_orderid, book, order.direction === Direction.LONG, order.price, order.type === OrderType.MARKET, true, now);
        book.working.push(entry);
        this.byId.set(order.vt_orderid, entry);
        return;
      }
      known.price = order.price;
      if (!known.confirmed) this.confirm(known);
    } else if (known) {
      if (!known.confirmed) this.confirm(known);
      this.byId.delete(order.vt_orderid);
      removeItem(known.book.working, known);
    }
  }

  /**
   * Forgets orders on their way for longer than `maxAgeMs`: accepted but never settled (checks run through
   * `blockedReason` alone) or answered but never reported by their gateway. Returns how many it dropped.
   */
  prune(now: number, maxAgeMs: number): number {
    let dropped = 0;
    for (let i = this.pendingTimes.length - 1; i >= 0; i--) {
      if (now - this.pendingTimes[i]! <= maxAgeMs) continue;
      this.removePending(i);
      dropped++;
    }
    for (const [vt_orderid, order] of this.awaitingEvent) {
      if (now - order.since <= maxAgeMs) continue;
      this.confirm(order);
      this.byId.delete(vt_orderid);
      removeItem(order.book.working, order);
      dropped++;
    }
    return dropped;
  }

  private confirm(order: WorkingOrder): void {
    order.confirmed = true;
    order.book.unconfirmed--;
    this.awaitingEvent.delete(order.vt_orderid);
  }

  private removePending(index: number): void {
    const req = this.pendingReqs[index]!;
    swapRemove(this.pendingReqs, index);
    swapRemove(this.pendingTimes, index);
    removeItem(this.bookFor(req.vt_symbol).pending, req);
  }

  private bookFor(vt_symbol: string): SymbolBook {
    let book = this.books.get(vt_symbol);
    if (!book) {
      book = new SymbolBook();
      this.books.set(vt_symbol, book);
    }
    return book;
  }
}

/** Order within these lists does not matter: move the last item into the hole, no shifting. */
function swapRemove<T>(list: T[], index: number): void {
  const last = list.pop()!;
  if (index < list.length) list[index] = last;
}

function removeItem<T>(list: T[], item: T): void {
  const index = list.lastIndexOf(item);
  if (index >= 0) swapRemove(list, index);
}

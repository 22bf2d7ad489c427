/**
 * The server's own working orders, per vt_symbol: what the OMS knows as active, plus the orders the risk engine
 * let through that the OMS cannot know yet.
 *
 * Why not read the OMS alone: an order reaches the OMS only when the gateway's eOrder event is processed, on a
 * later turn of the event loop. A burst of orders sent in one turn (a strategy's loop, several RPC requests read
 * from one socket) would all be checked against the same stale picture and could all pass an active-order limit
 * or cross each other. So an accepted order counts from the moment it is accepted: as "pending" until the gateway
 * answers (MainEngine's `settled` call), then under its vt_orderid until its first eOrder event, then as the OMS
 * reports it until it is no longer active.
 */
import { Direction, OrderType, type OmsEngine, type OrderData, type OrderRequest } from "../kernel/index.js";

/** One working order. Fields are mutable so that the entry follows the order from acceptance to its end. */
class WorkingOrder {
  /** "" until the gateway has answered. */
  vt_orderid = "";
  /** True once an eOrder event has reported it (it is in the OMS). */
  confirmed = false;
  constructor(
    readonly vt_symbol: string,
    public buy: boolean,
    public price: number,
    /** A market order crosses whatever rests on the other side. */
    public market: boolean,
    /** The request it was accepted for (null for orders first seen in events). */
    readonly req: OrderRequest | null,
    /** When it was accepted or first seen, epoch ms. */
    readonly since: number,
  ) {}
}

export class OwnOrders {
  private readonly bySymbol = new Map<string, WorkingOrder[]>();
  /** Orders with a vt_orderid: confirmed by an event, or answered by the gateway and awaiting their event. */
  private readonly byId = new Map<string, WorkingOrder>();
  /** Accepted, the gateway has not answered yet. */
  private pending: WorkingOrder[] = [];
  /** Answered by the gateway, no event yet. */
  private readonly awaitingEvent = new Map<string, WorkingOrder>();

  constructor(private readonly oms: OmsEngine) {
    for (const order of oms.activeOrders.values()) this.onOrder(order, 0);
  }

  /** Every working order: active in the OMS or on its way. */
  get activeCount(): number {
    return this.byId.size + this.pending.length;
  }

  /** Orders accepted that no event has reported yet. */
  get inFlightCount(): number {
    return this.pending.length + this.awaitingEvent.size;
  }

  inFlightFor(vt_symbol: string): number {
    const list = this.bySymbol.get(vt_symbol);
    if (!list) return 0;
    let count = 0;
    for (let i = 0; i < list.length; i++) if (!list[i]!.confirmed) count++;
    return count;
  }

  /** The highest price among our own working buy orders on `vt_symbol`, +Infinity if one is a market order, -Infinity if none. */
  bestBid(vt_symbol: string): number {
    const list = this.bySymbol.get(vt_symbol);
    let best = Number.NEGATIVE_INFINITY;
    if (!list) return best;
    for (let i = 0; i < list.length; i++) {
      const order = list[i]!;
      if (!order.buy) continue;
      const price = order.market ? Number.POSITIVE_INFINITY : order.price;
      if (price > best) best = price;
    }
    return best;
  }

  /** The lowest price among our own working sell orders on `vt_symbol`, -Infinity if one is a market order, +Infinity if none. */
  bestAsk(vt_symbol: string): number {
    const list = this.bySymbol.get(vt_symbol);
    let best = Number.POSITIVE_INFINITY;
    if (!list) return best;
    for (let i = 0; i < list.length; i++) {
      const order = list[i]!;
      if (order.buy) continue;
      const price = order.market ? Number.NEGATIVE_INFINITY : order.price;
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
    const order = new WorkingOrder(req.vt_symbol, req.direction === Direction.LONG, req.price, req.type === OrderType.MARKET, req, now);
    this.pending.push(order);
    this.listFor(req.vt_symbol).push(order);
  }

  /** MainEngine's answer for an accepted order: its vt_orderid, or "" when it did not go out. */
  settle(req: OrderRequest, vt_orderid: string): void {
    let index = 0;
    while (index < this.pending.length && this.pending[index]!.req !== req) index++;
    if (index === this.pending.length) return; // pruned as stale meanwhile
    const order = this.pending[index]!;
    this.pending.splice(index, 1);
    // Already reported by an event (a remote gateway may push before it answers): that entry stands for it.
    if (vt_orderid === "" || this.byId.has(vt_orderid) || this.oms.orders.has(vt_orderid)) {
      this.removeFromSymbol(order);
      return;
    }
    order.vt_orderid = vt_orderid;
    this.byId.set(vt_orderid, order);
    this.awaitingEvent.set(vt_orderid, order);
  }

  /** Every eOrder event. */
  onOrder(order: OrderData, now: number): void {
    const known = this.byId.get(order.vt_orderid);
    if (order.isActive()) {
      if (known) {
        known.confirmed = true;
        known.price = order.price;
        this.awaitingEvent.delete(order.vt_orderid);
        return;
      }
      const entry = new WorkingOrder(order.vt_symbol, order.direction === Direction.LONG, order.price, order.type === OrderType.MARKET, null, now);
      entry.vt_orderid = order.vt_orderid;
      entry.confirmed = true;
      this.byId.set(order.vt_orderid, entry);
      this.listFor(order.vt_symbol).push(entry);
    } else if (known) {
      this.byId.delete(order.vt_orderid);
      this.awaitingEvent.delete(order.vt_orderid);
      this.removeFromSymbol(known);
    }
  }

  /**
   * Forgets orders on their way for longer than `maxAgeMs`: accepted but never settled (checks run through
   * `blockedReason` alone) or answered but never reported by their gateway. Returns how many it dropped.
   */
  prune(now: number, maxAgeMs: number): number {
    let dropped = 0;
    if (this.pending.length > 0 && now - this.pending[0]!.since > maxAgeMs) {
      const keep: WorkingOrder[] = [];
      for (const order of this.pending) {
        if (now - order.since > maxAgeMs) {
          this.removeFromSymbol(order);
          dropped++;
        } else keep.push(order);
      }
      this.pending = keep;
    }
    for (const [vt_orderid, order] of this.awaitingEvent) {
      if (now - order.since <= maxAgeMs) continue;
      this.awaitingEvent.delete(vt_orderid);
      this.byId.delete(vt_orderid);
      this.removeFromSymbol(order);
      dropped++;
    }
    return dropped;
  }

  private listFor(vt_symbol: string): WorkingOrder[] {
    let list = this.bySymbol.get(vt_symbol);
    if (!list) {
      list = [];
      this.bySymbol.set(vt_symbol, list);
    }
    return list;
  }

  private removeFromSymbol(order: WorkingOrder): void {
    const list = this.bySymbol.get(order.vt_symbol);
    if (!list) return;
    const index = list.indexOf(order);
    if (index < 0) return;
    // Order within a symbol does not matter: swap with the last, no shifting.
    list[index] = list[list.length - 1]!;
    list.pop();
    if (list.length === 0) this.bySymbol.delete(order.vt_symbol);
  }
}

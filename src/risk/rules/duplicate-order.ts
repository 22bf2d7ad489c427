/**
 * Duplicate orders: at most `duplicate_order_limit` identical orders (same vt_symbol, type, direction, offset,
 * volume and price) within `duplicate_order_window` seconds; a window of 0 counts for the life of the process, as
 * VeighNa 2.0 does. A strategy stuck in a resend loop is the case this catches.
 *
 * Identical orders are found by vt_symbol, then price, then a short scan, so checking allocates nothing; only
 * the first order of a new kind creates its entry, and entries that left the window are dropped on the timer.
 */
import { type Direction, type Offset, type Language, type OrderRequest, type OrderType } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";
import { TimeRing } from "../time-ring.js";

const text = blockMessages({
  en: { DUPLICATE_ORDER_LIMIT: "{count} duplicate orders reached the limit {limit}: {req}" },
  zh: { DUPLICATE_ORDER_LIMIT: "重复报单笔数{count}达到上限{limit}：{req}" },
});

class OrderKind {
  readonly times: TimeRing;
  constructor(
    readonly type: OrderType,
    readonly direction: Direction,
    readonly offset: Offset,
    readonly volume: number,
    capacity: number,
  ) {
    this.times = new TimeRing(capacity);
  }

  matches(req: OrderRequest): boolean {
    return req.volume === this.volume && req.direction === this.direction && req.offset === this.offset && req.type === this.type;
  }
}

export class DuplicateOrderRule extends RiskRule {
  readonly name = "duplicate_order";
  override readonly displayName = { en: "Duplicate orders", zh: "重复报单检查" };
  override readonly priority = 60;
  override readonly parameters = {
    duplicate_order_limit: { kind: "integer", label: { en: "Duplicate order limit", zh: "重复报单上限" }, min: 1, max: 100_000 },
    duplicate_order_window: { kind: "number", label: { en: "Window (seconds, 0 = no window)", zh: "统计窗口（秒，0为不限）" }, min: 0 },
  } as const;
  override readonly variables = { duplicate_order_count: { en: "Duplicate orders", zh: "重复报单笔数" } };

  duplicate_order_limit = 10;
  duplicate_order_window = 60;
  /** vt_symbol → price → kinds of orders sent at that price. */
  private readonly kinds = new Map<string, Map<number, OrderKind[]>>();

  /** Counts within the window, keyed as VeighNa 2.0 keys them: "vt_symbol|type|direction|offset|volume@price". */
  get duplicate_order_count(): Record<string, number> {
    const since = this.windowStart();
    const counts: Record<string, number> = {};
    for (const [vt_symbol, byPrice] of this.kinds) {
      for (const [price, list] of byPrice) {
        for (const kind of list) {
          const count = kind.times.countSince(since);
          if (count > 0) counts[`${vt_symbol}|${kind.type}|${kind.direction}|${kind.offset}|${kind.volume}@${price}`] = count;
        }
      }
    }
    return counts;
  }

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(req: OrderRequest): RuleVerdict {
    const kind = this.find(req);
    if (!kind || !kind.times.isFullSince(this.windowStart())) return true;
    return this.block("DUPLICATE_ORDER_LIMIT", { count: kind.times.countSince(this.windowStart()), limit: this.duplicate_order_limit });
  }

  override onAccepted(req: OrderRequest): void {
    let kind = this.find(req);
    if (!kind) {
      kind = new OrderKind(req.type, req.direction, req.offset, req.volume, this.duplicate_order_limit);
      let byPrice = this.kinds.get(req.vt_symbol);
      if (!byPrice) this.kinds.set(req.vt_symbol, (byPrice = new Map()));
      const list = byPrice.get(req.price);
      if (list) list.push(kind);
      else byPrice.set(req.price, [kind]);
    }
    kind.times.push(this.now());
    this.changed();
  }

  override onParametersChanged(names: readonly string[]): void {
    if (!names.includes("duplicate_order_limit")) return;
    for (const byPrice of this.kinds.values()) {
      for (const list of byPrice.values()) for (const kind of list) kind.times.resize(this.duplicate_order_limit);
    }
  }

  /** Drops the kinds of orders not seen within the window, so memory follows the window, not the day. */
  override onTimer(): void {
    if (this.duplicate_order_window === 0) return;
    const since = this.windowStart();
    for (const [vt_symbol, byPrice] of this.kinds) {
      for (const [price, list] of byPrice) {
        const live = list.filter((kind) => kind.times.newest() >= since);
        if (live.length === list.length) continue;
        if (live.length === 0) byPrice.delete(price);
        else byPrice.set(price, live);
        this.changed();
      }
      if (byPrice.size === 0) this.kinds.delete(vt_symbol);
    }
  }

  private windowStart(): number {
    return this.duplicate_order_window === 0 ? Number.NEGATIVE_INFINITY : this.now() - this.duplicate_order_window * 1000;
  }

  private find(req: OrderRequest): OrderKind | undefined {
    const list = this.kinds.get(req.vt_symbol)?.get(req.price);
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) if (list[i]!.matches(req)) return list[i];
    return undefined;
  }
}

/**
 * Order flow: at most `order_flow_limit` orders in any `order_flow_clear` seconds, as a sliding window (VeighNa
 * 1.x defaults; 1.x cleared a counter every N timer ticks, which lets twice the limit through across a clear).
 * Only orders that passed every rule count.
 */
import { type Language, type OrderRequest } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";
import { TimeRing } from "../time-ring.js";

const text = blockMessages({
  en: { ORDER_FLOW_LIMIT: "order flow {count} reached the limit of {limit} orders per {clear} s: {req}" },
  zh: { ORDER_FLOW_LIMIT: "委托流数量{count}，超过限制每{clear}秒{limit}次：{req}" },
});

export class OrderFlowRule extends RiskRule {
  readonly name = "order_flow";
  override readonly displayName = { en: "Order flow", zh: "委托流控检查" };
  override readonly priority = 50;
  override readonly parameters = {
    order_flow_limit: { kind: "integer", label: { en: "Orders per window", zh: "委托流控上限（笔）" }, min: 1, max: 1_000_000 },
    order_flow_clear: { kind: "number", label: { en: "Window (seconds)", zh: "委托流控清空（秒）" }, min: 0.001 },
  } as const;
  override readonly variables = { order_flow_count: { en: "Orders in the window", zh: "窗口内委托笔数" } };

  order_flow_limit = 50;
  order_flow_clear = 1;
  private ring = new TimeRing(this.order_flow_limit);

  get order_flow_count(): number {
    return this.ring.countSince(this.now() - this.order_flow_clear * 1000);
  }

  override onInit(): void {
    this.ring.resize(this.order_flow_limit);
  }

  override onParametersChanged(): void {
    this.ring.resize(this.order_flow_limit);
  }

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(_req: OrderRequest): RuleVerdict {
    if (!this.ring.isFullSince(this.now() - this.order_flow_clear * 1000)) return true;
    return this.block("ORDER_FLOW_LIMIT", { count: this.ring.capacity, limit: this.order_flow_limit, clear: this.order_flow_clear });
  }

  override onAccepted(): void {
    this.ring.push(this.now());
    this.changed();
  }
}

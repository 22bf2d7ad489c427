/** A cap on working orders across the server (VeighNa 2.0), counting orders still on their way to the gateway. */
import { type Language, type OrderRequest } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";

const text = blockMessages({
  en: { ACTIVE_ORDER_LIMIT: "{count} active orders reached the limit {limit}: {req}" },
  zh: { ACTIVE_ORDER_LIMIT: "活动委托数量{count}达到上限{limit}：{req}" },
});

export class ActiveOrderRule extends RiskRule {
  readonly name = "active_order";
  override readonly displayName = { en: "Active orders", zh: "活动委托检查" };
  override readonly priority = 40;
  override readonly parameters = {
    active_order_limit: { kind: "integer", label: { en: "Active order limit", zh: "活动委托上限" }, min: 0 },
  } as const;
  override readonly variables = { active_order_count: { en: "Active orders", zh: "活动委托数量" } };

  active_order_limit = 50;

  get active_order_count(): number {
    return this.host.ownOrders.activeCount;
  }

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(_req: OrderRequest): RuleVerdict {
    const count = this.host.ownOrders.activeCount;
    return count < this.active_order_limit ? true : this.block("ACTIVE_ORDER_LIMIT", { count, limit: this.active_order_limit });
  }

  override onOrder(): void {
    this.changed();
  }
}

/** One order's volume, and its notional value (volume × price × contract size), within limits (VeighNa 2.0). */
import { type Language, type OrderRequest } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";

const text = blockMessages({
  en: {
    VOLUME_LIMIT: "order volume {volume} exceeds the limit {limit}: {req}",
    VALUE_LIMIT: "order value {value} exceeds the limit {limit}: {req}",
  },
  zh: {
    VOLUME_LIMIT: "委托数量{volume}超过上限{limit}：{req}",
    VALUE_LIMIT: "委托价值{value}超过上限{limit}：{req}",
  },
});

export class OrderSizeRule extends RiskRule {
  readonly name = "order_size";
  override readonly displayName = { en: "Order size", zh: "委托规模检查" };
  override readonly priority = 20;
  override readonly parameters = {
    order_volume_limit: { kind: "number", label: { en: "Order volume limit", zh: "委托数量上限" }, min: 0 },
    order_value_limit: { kind: "number", label: { en: "Order value limit", zh: "委托价值上限" }, min: 0 },
  } as const;

  order_volume_limit = 500;
  order_value_limit = 1_000_000;

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(req: OrderRequest): RuleVerdict {
    if (req.volume > this.order_volume_limit) return this.block("VOLUME_LIMIT", { volume: req.volume, limit: this.order_volume_limit });
    if (req.price === 0) return true; // a market order has no price to value it at
    const contract = this.getContract(req.vt_symbol);
    if (!contract) return true; // order_validity reports a missing contract
    const value = req.volume * Math.abs(req.price) * contract.size;
    if (value > this.order_value_limit) return this.block("VALUE_LIMIT", { value, limit: this.order_value_limit });
    return true;
  }
}

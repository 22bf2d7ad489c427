/**
 * Is the order well-formed for its contract? Volume positive and within the contract's bounds, the contract
 * known, the price a finite multiple of the tick and, for priced orders, inside the last tick's limit-up /
 * limit-down band (VeighNa 2.0's OrderValidityRule plus the price band).
 */
import { OrderType, type Language, type OrderRequest } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";

const text = blockMessages({
  en: {
    VOLUME_NOT_POSITIVE: "order volume {volume} must be greater than 0: {req}",
    PRICE_NOT_FINITE: "order price {price} is not a number: {req}",
    UNKNOWN_CONTRACT: "contract {vt_symbol} does not exist: {req}",
    PRICE_OFF_TICK: "price {price} is not a multiple of the price tick {pricetick}: {req}",
    ABOVE_LIMIT_UP: "price {price} is above the limit-up price {limit}: {req}",
    BELOW_LIMIT_DOWN: "price {price} is below the limit-down price {limit}: {req}",
    ABOVE_MAX_VOLUME: "order volume {volume} is above the contract's maximum {max}: {req}",
    BELOW_MIN_VOLUME: "order volume {volume} is below the contract's minimum {min}: {req}",
  },
  zh: {
    VOLUME_NOT_POSITIVE: "委托数量{volume}必须大于0：{req}",
    PRICE_NOT_FINITE: "委托价格{price}不是有效数字：{req}",
    UNKNOWN_CONTRACT: "合约代码{vt_symbol}不存在：{req}",
    PRICE_OFF_TICK: "价格{price}不是合约最小变动价位{pricetick}的整数倍：{req}",
    ABOVE_LIMIT_UP: "价格{price}高于涨停价{limit}：{req}",
    BELOW_LIMIT_DOWN: "价格{price}低于跌停价{limit}：{req}",
    ABOVE_MAX_VOLUME: "委托数量{volume}大于合约委托数量上限{max}：{req}",
    BELOW_MIN_VOLUME: "委托数量{volume}小于合约委托数量下限{min}：{req}",
  },
});

export class OrderValidityRule extends RiskRule {
  readonly name = "order_validity";
  override readonly displayName = { en: "Order validity", zh: "委托指令检查" };
  override readonly priority = 10;

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(req: OrderRequest): RuleVerdict {
    if (!(req.volume > 0)) return this.block("VOLUME_NOT_POSITIVE", { volume: req.volume });
    if (!Number.isFinite(req.price)) return this.block("PRICE_NOT_FINITE", { price: req.price });
    const oms = this.host.mainEngine.oms;
    const contract = oms.contracts.get(req.vt_symbol);
    if (!contract) return this.block("UNKNOWN_CONTRACT", { vt_symbol: req.vt_symbol });
    if (contract.pricetick > 0 && !isMultiple(req.price, contract.pricetick)) {
      return this.block("PRICE_OFF_TICK", { price: req.price, pricetick: contract.pricetick });
    }
    if (req.price !== 0 && req.type !== OrderType.MARKET) {
      const tick = oms.ticks.get(req.vt_symbol);
      if (tick) {
        if (tick.limit_up > 0 && req.price > tick.limit_up) return this.block("ABOVE_LIMIT_UP", { price: req.price, limit: tick.limit_up });
        if (tick.limit_down > 0 && req.price < tick.limit_down) return this.block("BELOW_LIMIT_DOWN", { price: req.price, limit: tick.limit_down });
      }
    }
    if (contract.max_volume && req.volume > contract.max_volume) return this.block("ABOVE_MAX_VOLUME", { volume: req.volume, max: contract.max_volume });
    if (req.volume < contract.min_volume) return this.block("BELOW_MIN_VOLUME", { volume: req.volume, min: contract.min_volume });
    return true;
  }
}

/**
 * Whether `price` is a whole number of ticks. Compared in tick units with a tolerance for binary fractions
 * (3500.2 / 0.2 is not exactly 17501); the tolerance grows with the magnitude, where doubles get coarser.
 */
export function isMultiple(price: number, tick: number): boolean {
  const ticks = price / tick;
  return Math.abs(ticks - Math.round(ticks)) <= Math.max(1e-6, Math.abs(ticks) * 1e-12);
}

/**
 * Is the order well-formed for its contract? Volume positive and within the contract's bounds, the contract
 * known, the price a finite multiple of the tick and, for priced orders, inside the last tick's limit-up /
 * limit-down band (VeighNa 2.0's OrderValidityRule plus the price band).
 */
import { OrderType, defineMessages, type OrderRequest } from "../../kernel/index.js";
import { RiskRule, type RuleVerdict } from "../rule.js";

const t = defineMessages({
  en: {
    volumeNotPositive: "order volume {volume} must be greater than 0: {req}",
    priceNotFinite: "order price {price} is not a number: {req}",
    contractMissing: "contract {vt_symbol} does not exist: {req}",
    priceNotOnTick: "price {price} is not a multiple of the price tick {pricetick}: {req}",
    aboveLimitUp: "price {price} is above the limit-up price {limit}: {req}",
    belowLimitDown: "price {price} is below the limit-down price {limit}: {req}",
    aboveMaxVolume: "order volume {volume} is above the contract's maximum {max}: {req}",
    belowMinVolume: "order volume {volume} is below the contract's minimum {min}: {req}",
  },
  zh: {
    volumeNotPositive: "委托数量{volume}必须大于0：{req}",
    priceNotFinite: "委托价格{price}不是有效数字：{req}",
    contractMissing: "合约代码{vt_symbol}不存在：{req}",
    priceNotOnTick: "价格{price}不是合约最小变动价位{pricetick}的整数倍：{req}",
    aboveLimitUp: "价格{price}高于涨停价{limit}：{req}",
    belowLimitDown: "价格{price}低于跌停价{limit}：{req}",
    aboveMaxVolume: "委托数量{volume}大于合约委托数量上限{max}：{req}",
    belowMinVolume: "委托数量{volume}小于合约委托数量下限{min}：{req}",
  },
});

export class OrderValidityRule extends RiskRule {
  readonly name = "order_validity";
  override readonly displayName = { en: "Order validity", zh: "委托指令检查" };
  override readonly priority = 10;

  checkAllowed(req: OrderRequest): RuleVerdict {
    if (!(req.volume > 0)) return t("volumeNotPositive", { volume: req.volume, req });
    if (!Number.isFinite(req.price)) return t("priceNotFinite", { price: req.price, req });
    const oms = this.host.mainEngine.oms;
    const contract = oms.contracts.get(req.vt_symbol);
    if (!contract) return t("contractMissing", { vt_symbol: req.vt_symbol, req });
    if (contract.pricetick > 0 && !isMultiple(req.price, contract.pricetick)) {
      return t("priceNotOnTick", { price: req.price, pricetick: contract.pricetick, req });
    }
    if (req.price !== 0 && req.type !== OrderType.MARKET) {
      const tick = oms.ticks.get(req.vt_symbol);
      if (tick) {
        if (tick.limit_up > 0 && req.price > tick.limit_up) return t("aboveLimitUp", { price: req.price, limit: tick.limit_up, req });
        if (tick.limit_down > 0 && req.price < tick.limit_down) return t("belowLimitDown", { price: req.price, limit: tick.limit_down, req });
      }
    }
    if (contract.max_volume && req.volume > contract.max_volume) return t("aboveMaxVolume", { volume: req.volume, max: contract.max_volume, req });
    if (req.volume < contract.min_volume) return t("belowMinVolume", { volume: req.volume, min: contract.min_volume, req });
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

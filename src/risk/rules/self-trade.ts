/**
 * Self-trade prevention (VeighNa 1.x): a buy at or above our own best resting ask, or a sell at or below our own
 * best resting bid, on the same vt_symbol, would trade with ourselves (wash trading, which exchanges police).
 * "Our own" is every working order of the server, whichever client sent it, including orders still on their way
 * to the gateway. A market order crosses anything resting on the other side.
 */
import { Direction, OrderType, type Language, type OrderRequest } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";

const text = blockMessages({
  en: {
    SELF_TRADE_BUY: "buy price {price} is at or above our own resting ask {ask}, a possible self-trade: {req}",
    SELF_TRADE_SELL: "sell price {price} is at or below our own resting bid {bid}, a possible self-trade: {req}",
  },
  zh: {
    SELF_TRADE_BUY: "买入价格{price}大于等于已挂最低卖价{ask}，可能导致自成交：{req}",
    SELF_TRADE_SELL: "卖出价格{price}小于等于已挂最高买价{bid}，可能导致自成交：{req}",
  },
});

export class SelfTradeRule extends RiskRule {
  readonly name = "self_trade";
  override readonly displayName = { en: "Self-trade prevention", zh: "自成交检查" };
  override readonly priority = 30;

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(req: OrderRequest): RuleVerdict {
    const own = this.host.ownOrders;
    const market = req.type === OrderType.MARKET;
    if (req.direction === Direction.LONG) {
      const ask = own.bestAsk(req.vt_symbol);
      if (ask !== Number.POSITIVE_INFINITY && (market || req.price >= ask)) return this.block("SELF_TRADE_BUY", { price: req.price, ask: shown(ask) });
    } else {
      const bid = own.bestBid(req.vt_symbol);
      if (bid !== Number.NEGATIVE_INFINITY && (market || req.price <= bid)) return this.block("SELF_TRADE_SELL", { price: req.price, bid: shown(bid) });
    }
    return true;
  }
}

/** A resting market order has no price: say so rather than print Infinity. */
function shown(price: number): string | number {
  return Number.isFinite(price) ? price : "market";
}

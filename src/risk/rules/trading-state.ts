/**
 * The kill switch, as NautilusTrader's trading states: ACTIVE lets orders through, HALTED blocks every new order,
 * REDUCING lets through only orders that close or reduce a position. Cancels are never blocked (they are not
 * orders), so an operator can halt and then pull everything resting.
 */
import { Direction, Offset, type OmsEngine, type Language, type OrderRequest } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";

export const TRADING_STATES = ["ACTIVE", "HALTED", "REDUCING"] as const;
export type TradingState = (typeof TRADING_STATES)[number];

const text = blockMessages({
  en: {
    HALTED: "trading is halted: {req}",
    NOT_REDUCING: "reduce-only: volume {volume} exceeds the closable position {closable}: {req}",
  },
  zh: {
    HALTED: "交易已暂停：{req}",
    NOT_REDUCING: "仅允许减仓：委托数量{volume}超过可平仓数量{closable}：{req}",
  },
});

export class TradingStateRule extends RiskRule {
  readonly name = "trading_state";
  override readonly displayName = { en: "Trading state (kill switch)", zh: "交易状态（紧急停止）" };
  override readonly priority = 0;
  override readonly parameters = {
    state: { kind: "string", label: { en: "Trading state", zh: "交易状态" }, choices: TRADING_STATES },
  } as const;

  state: TradingState = "ACTIVE";

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(req: OrderRequest, gatewayName: string): RuleVerdict {
    if (this.state === "ACTIVE") return true;
    if (this.state === "HALTED") return this.block("HALTED");
    const closable = closableVolume(this.host.mainEngine.oms, req, gatewayName);
    return req.volume <= closable ? true : this.block("NOT_REDUCING", { volume: req.volume, closable });
  }
}

/**
 * How much of the position `req` can close without opening anything: a net position (one NET entry, as for
 * stocks or net-position gateways) in the opposite sign, else the opposite direction's position less what
 * pending closes already froze. An opening order closes nothing.
 */
export function closableVolume(oms: OmsEngine, req: OrderRequest, gatewayName: string): number {
  if (req.offset === Offset.OPEN) return 0;
  const buy = req.direction === Direction.LONG;
  const net = oms.positions.get(`${gatewayName}.${req.vt_symbol}.${Direction.NET}`);
  if (net) return Math.max(0, buy ? -net.volume : net.volume);
  const opposite = oms.positions.get(`${gatewayName}.${req.vt_symbol}.${buy ? Direction.SHORT : Direction.LONG}`);
  return opposite ? Math.max(0, opposite.volume - opposite.frozen) : 0;
}

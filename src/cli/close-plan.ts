/**
 * Which orders close a position, by the exchange's rules: SHFE and INE close today's and yesterday's volume with
 * different offsets (CLOSE there takes yesterday's only), equities sell yesterday's shares only (T+1), elsewhere
 * one CLOSE takes any. Pure: the client command turns the legs into orders.
 */
import { Direction, Exchange, Offset, Product, type ContractData, type PositionData } from "../kernel/index.js";

export interface CloseLeg {
  readonly direction: Direction;
  readonly offset: Offset;
  readonly volume: number;
}

export interface ClosePlan {
  readonly legs: CloseLeg[];
  /** Set when less than asked can be closed now, saying why. */
  readonly shortfall?: string;
}

const TODAY_APART: ReadonlySet<Exchange> = new Set([Exchange.SHFE, Exchange.INE]);
const T_PLUS_ONE: ReadonlySet<Product> = new Set([Product.EQUITY, Product.ETF, Product.FUND]);

/**
 * Closes `wanted` (default all) of `position`. Pending closes are subtracted from the free volume; which part
 * (today's or yesterday's) they hold the client cannot see, so yesterday's is taken first, as the venue does.
 */
export function planClose(position: PositionData, contract: ContractData, wanted?: number): ClosePlan {
  const direction = position.direction === Direction.SHORT ? Direction.LONG : Direction.SHORT;
  const free = Math.max(0, position.volume - position.frozen);
  const yesterday = Math.min(position.yd_volume, free);
  const today = free - yesterday;
  const closable = T_PLUS_ONE.has(contract.product) ? yesterday : free;
  const volume = Math.min(wanted ?? closable, closable);
  const shortfall =
    wanted !== undefined && wanted > closable
      ? `only ${closable} of ${position.vt_symbol} can be closed now (held ${position.volume}, pending closes ${position.frozen}` +
        `${T_PLUS_ONE.has(contract.product) ? `, bought today ${position.volume - position.yd_volume} (T+1)` : ""})`
      : undefined;
  const legs: CloseLeg[] = [];
  if (TODAY_APART.has(contract.exchange)) {
    const fromYesterday = Math.min(volume, yesterday);
    if (fromYesterday > 0) legs.push({ direction, offset: Offset.CLOSEYESTERDAY, volume: fromYesterday });
    if (volume - fromYesterday > 0) legs.push({ direction, offset: Offset.CLOSETODAY, volume: Math.min(volume - fromYesterday, today) });
  } else if (volume > 0) {
    legs.push({ direction, offset: Offset.CLOSE, volume });
  }
  return shortfall ? { legs, shortfall } : { legs };
}

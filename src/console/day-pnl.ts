/**
 * Today's realised P&L and fees per gateway account, from the trades the server sees.
 *
 * Why from trades, here: VeighNa's AccountData has balance and frozen only (Python clients read that exact shape),
 * and every gateway reports trades, so one calculation serves the SIM, a relayed VeighNa server and ccxt alike.
 *
 *  - Realised P&L: a trade that closes (offset CLOSE*, or one against a NET position) realises
 *    (price − average cost) × volume × size for a long holding, the opposite for a short one. The average cost is
 *    the position's (PositionData.price): a close does not change it, so it does not matter whether the position
 *    update comes before or after the trade. A NET position (ccxt swaps) is taken as it stood before the trade.
 *  - Fees: gateways that know a trade's fee put it on the trade (`extra.commission`, as the SIM does). When no trade
 *    of the day says, the fees are unknown (null), never a made-up 0.
 *  - Today: a trade counts on the date of its own datetime, in its own time zone (the exchange's); the sums start
 *    from zero once that date is past, as the trading day rolls.
 */
import { DateTime, Direction, Offset, type PositionData, type TradeData } from "../kernel/index.js";

export interface DayPnl {
  /** The gateway (one account per gateway in VeighNa's gateways). */
  gateway: string;
  /** The trading date the figures are for, YYYY-MM-DD (today, in the gateway's trade time zone). */
  day: string;
  realised: number;
  /** null: no trade of the day carried its fee (the gateway does not report fees). */
  fees: number | null;
  trades: number;
}

interface Holding {
  /** Average cost of the position (kept through a close to zero: the close realises against it). */
  price: number;
  volume: number;
}

interface Day extends DayPnl {
  /** The time zone of the day's trades: "today" is judged there. */
  zone: DateTime["tzinfo"];
}

const CLOSES: ReadonlySet<string> = new Set([Offset.CLOSE, Offset.CLOSETODAY, Offset.CLOSEYESTERDAY]);
/** Trade ids remembered to ignore a re-sent trade (gateways re-send after a reconnect). */
const SEEN_KEEP = 100_000;

export class DayPnlBook {
  private readonly holdings = new Map<string, Holding>();
  private readonly days = new Map<string, Day>();
  private readonly seen = new Set<string>();

  /** `contractSize(vt_symbol)`: the contract multiplier (1 when the contract is unknown). */
  constructor(
    private readonly contractSize: (vtSymbol: string) => number | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  onPosition(position: PositionData): void {
    const previous = this.holdings.get(position.vt_positionid);
    // A flat position keeps the cost it was closed against (its update may come before the closing trade).
    const price = position.volume !== 0 && position.price > 0 ? position.price : (previous?.price ?? 0);
    this.holdings.set(position.vt_positionid, { price, volume: position.volume });
  }

  onTrade(trade: TradeData): void {
    if (this.seen.has(trade.vt_tradeid)) return;
    if (this.seen.size >= SEEN_KEEP) this.seen.clear();
    this.seen.add(trade.vt_tradeid);
    const datetime = trade.datetime;
    const dayOf = datetime ? datetime.toISOString().slice(0, 10) : this.today(null);
    let day = this.days.get(trade.gateway_name);
    if (!day || dayOf > day.day) {
      day = { gateway: trade.gateway_name, day: dayOf, realised: 0, fees: null, trades: 0, zone: datetime?.tzinfo ?? null };
      this.days.set(trade.gateway_name, day);
    } else if (dayOf < day.day) {
      return; // a late trade of an earlier day (a replay): not today's
    }
    day.trades++;
    const commission = (trade.extra as { commission?: unknown } | null | undefined)?.commission;
    if (typeof commission === "number" && Number.isFinite(commission)) day.fees = (day.fees ?? 0) + commission;
    day.realised += this.realisedBy(trade);
  }

  /** Each gateway's figures for today (zero once its last trading day is past). */
  summary(): DayPnl[] {
    const out: DayPnl[] = [];
    for (const day of this.days.values()) {
      const today = this.today(day.zone);
      if (day.day === today) out.push({ gateway: day.gateway, day: day.day, realised: round(day.realised), fees: day.fees === null ? null : round(day.fees), trades: day.trades });
      else out.push({ gateway: day.gateway, day: today, realised: 0, fees: day.fees === null ? null : 0, trades: 0 });
    }
    return out;
  }

  private realisedBy(trade: TradeData): number {
    const size = this.contractSize(trade.vt_symbol) ?? 1;
    const net = this.holdings.get(`${trade.gateway_name}.${trade.vt_symbol}.${Direction.NET}`);
    if (net && trade.offset !== undefined && !CLOSES.has(trade.offset)) {
      // A NET position: the part of the trade that goes against it closes.
      const signed = trade.direction === Direction.SHORT ? -trade.volume : trade.volume;
      const closing = Math.sign(signed) === -Math.sign(net.volume) ? Math.min(Math.abs(signed), Math.abs(net.volume)) : 0;
      // No entry price, no cost to realise against: nothing counted rather than the whole price.
      const pnl = net.price > 0 ? closing * (trade.price - net.price) * size * Math.sign(net.volume) : 0;
      net.volume += signed;
      return pnl;
    }
    if (trade.offset === undefined || !CLOSES.has(trade.offset)) return 0;
    // Selling closes the long holding, buying closes the short one.
    const held = trade.direction === Direction.SHORT ? Direction.LONG : Direction.SHORT;
    const holding = this.holdings.get(`${trade.gateway_name}.${trade.vt_symbol}.${held}`);
    if (!holding || !(holding.price > 0)) return 0;
    const sign = held === Direction.LONG ? 1 : -1;
    return sign * (trade.price - holding.price) * trade.volume * size;
  }

  private today(zone: DateTime["tzinfo"]): string {
    if (zone) return DateTime.fromDate(new Date(this.now()), zone).toISOString().slice(0, 10);
    // Naive datetimes are the server's local time (VeighNa's naive convention).
    const d = new Date(this.now());
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }
}

/** Money to the cent's hundredth: sums of float products print without noise. */
function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

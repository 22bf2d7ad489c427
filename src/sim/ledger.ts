/**
 * Positions and money, as a Chinese futures account keeps them.
 *
 * A position leg (one contract, one direction) splits its volume into today's and yesterday's, because SHFE
 * and INE close them with different offsets and equities can only sell yesterday's shares (T+1). Pending close
 * orders freeze volume on the leg; pending open orders freeze margin on the account. The average price is the
 * open cost, kept through partial closes; it is what margin and P&L are measured from.
 */
import { AccountData, Direction, Exchange, Offset, PositionData, Product } from "../kernel/index.js";
import type { ContractModel } from "./model.js";
import type { SimContractSpec } from "./spec.js";

/** Which of a leg's volumes a close order may take. */
export type CloseRule = "yesterdayFirst" | "yesterdayOnly" | "todayOnly";

/** The part of a leg's volume a close order holds: filled from yesterday's first, then today's. */
export interface CloseAllocation {
  today: number;
  yesterday: number;
}

export function isEquityLike(spec: SimContractSpec): boolean {
  return spec.product === Product.EQUITY || spec.product === Product.ETF || spec.product === Product.FUND;
}

/**
 * SHFE and INE: CLOSETODAY takes today's volume, CLOSE and CLOSEYESTERDAY yesterday's. Elsewhere any close takes
 * yesterday's volume first, then today's. Equities sell yesterday's shares only (T+1).
 */
export function closeRuleFor(spec: SimContractSpec, offset: Offset): CloseRule {
  if (isEquityLike(spec)) return "yesterdayOnly";
  if (spec.exchange === Exchange.SHFE || spec.exchange === Exchange.INE) {
    return offset === Offset.CLOSETODAY ? "todayOnly" : "yesterdayOnly";
  }
  return "yesterdayFirst";
}

export class Leg {
  volume = 0;
  yd_volume = 0;
  /** Average open price of what is held; 0 when flat. */
  price = 0;
  frozenToday = 0;
  frozenYesterday = 0;

  get todayVolume(): number {
    return this.volume - this.yd_volume;
  }

  get frozen(): number {
    return this.frozenToday + this.frozenYesterday;
  }

  /** Volume a new close order under `rule` may still take (held minus what pending closes hold). */
  closable(rule: CloseRule): number {
    const today = this.todayVolume - this.frozenToday;
    const yesterday = this.yd_volume - this.frozenYesterday;
    return rule === "todayOnly" ? today : rule === "yesterdayOnly" ? yesterday : today + yesterday;
  }

  /** Freezes `volume` for a close order; the caller has checked `closable`. */
  freezeClose(rule: CloseRule, volume: number): CloseAllocation {
    const yesterdayFree = this.yd_volume - this.frozenYesterday;
    const yesterday = rule === "todayOnly" ? 0 : Math.min(volume, Math.max(0, yesterdayFree));
    const allocation = { today: volume - yesterday, yesterday };
    this.frozenToday += allocation.today;
    this.frozenYesterday += allocation.yesterday;
    return allocation;
  }

  /** Unfreezes what a cancelled or finished close order still held. */
  release(allocation: CloseAllocation): void {
    this.frozenToday -= allocation.today;
    this.frozenYesterday -= allocation.yesterday;
    allocation.today = 0;
    allocation.yesterday = 0;
  }

  addOpen(price: number, volume: number): void {
    this.price = (this.price * this.volume + price * volume) / (this.volume + volume);
    this.volume += volume;
  }

  /** Removes a close fill from the volumes and from the order's allocation, yesterday's first. */
  removeClose(allocation: CloseAllocation, volume: number): void {
    const yesterday = Math.min(volume, allocation.yesterday);
    const today = volume - yesterday;
    allocation.yesterday -= yesterday;
    allocation.today -= today;
    this.frozenYesterday -= yesterday;
    this.frozenToday -= today;
    this.yd_volume -= yesterday;
    this.volume -= volume;
    if (this.volume <= 1e-9) {
      this.volume = 0;
      this.yd_volume = 0;
      this.price = 0;
    }
  }

  /** A new trading day: everything held becomes yesterday's, and so does every pending close's hold. */
  rollDay(): void {
    this.yd_volume = this.volume;
    this.frozenYesterday += this.frozenToday;
    this.frozenToday = 0;
  }
}

/** Fees of a fill or of an order's estimate. */
export function commissionOf(spec: SimContractSpec, price: number, volume: number): number {
  return price * volume * spec.size * spec.commission_rate + volume * spec.commission_per_lot;
}

export function marginOf(spec: SimContractSpec, price: number, volume: number): number {
  return price * volume * spec.size * spec.margin_rate;
}

/** P&L of `volume` of a leg bought (LONG) or sold (SHORT) at `cost`, valued at `price`. */
export function pnlOf(spec: SimContractSpec, direction: Direction, cost: number, price: number, volume: number): number {
  const sign = direction === Direction.SHORT ? -1 : 1;
  return sign * (price - cost) * volume * spec.size;
}

/** The money side: cash moves with fees and realised P&L; margins are held against it. */
export class Funds {
  readonly capital: number;
  /** Capital + realised P&L − fees paid. */
  cash: number;
  commission = 0;
  realized = 0;
  /** Margin held for pending open orders. */
  pendingMargin = 0;

  constructor(capital: number, cash = capital, commission = 0, realized = 0) {
    this.capital = capital;
    this.cash = cash;
    this.commission = commission;
    this.realized = realized;
  }

  pay(fee: number): void {
    this.commission += fee;
    this.cash -= fee;
  }

  book(pnl: number): void {
    this.realized += pnl;
    this.cash += pnl;
  }
}

/** One position leg and what it belongs to. */
export interface LegEntry {
  readonly vt_symbol: string;
  readonly model: ContractModel;
  readonly direction: Direction;
  readonly leg: Leg;
}

/** The price a contract's positions are valued at now. */
export type MarkPrice = (model: ContractModel) => number;

/** Money values as VeighNa shows them: to the cent, without float dust. */
function money(value: number): number {
  return Math.round(value * 100) / 100;
}

/** What a leg lookup reads when there is no position at all; never written. */
const EMPTY_LEG: Readonly<Leg> = new Leg();

/** Every position leg and the funds, and the account and positions they add up to. */
export class Portfolio {
  readonly gatewayName: string;
  readonly accountid: string;
  funds: Funds;
  private readonly legs = new Map<string, LegEntry>();

  constructor(gatewayName: string, accountid: string, funds: Funds) {
    this.gatewayName = gatewayName;
    this.accountid = accountid;
    this.funds = funds;
  }

  /** A leg, created flat on first use. */
  entry(model: ContractModel, direction: Direction): LegEntry {
    const key = `${model.vt_symbol}|${direction}`;
    let entry = this.legs.get(key);
    if (!entry) {
      entry = { vt_symbol: model.vt_symbol, model, direction, leg: new Leg() };
      this.legs.set(key, entry);
    }
    return entry;
  }

  /** A leg to read, without creating one (a flat, empty leg if there is none). */
  peek(vt_symbol: string, direction: Direction): Readonly<Leg> {
    return this.legs.get(`${vt_symbol}|${direction}`)?.leg ?? EMPTY_LEG;
  }

  entries(): IterableIterator<LegEntry> {
    return this.legs.values();
  }

  /** Margin held by positions, at their open price. */
  positionMargin(): number {
    let margin = 0;
    for (const { model, leg } of this.legs.values()) if (leg.volume > 0) margin += marginOf(model.spec, leg.price, leg.volume);
    return margin;
  }

  floatingPnl(mark: MarkPrice): number {
    let pnl = 0;
    for (const { model, direction, leg } of this.legs.values()) {
      if (leg.volume > 0) pnl += pnlOf(model.spec, direction, leg.price, mark(model), leg.volume);
    }
    return pnl;
  }

  /** Balance (cash + floating P&L) minus margin held by positions and by pending opens. */
  available(mark: MarkPrice): number {
    return this.funds.cash + this.floatingPnl(mark) - this.positionMargin() - this.funds.pendingMargin;
  }

  /** A new trading day: every leg's volume becomes yesterday's. */
  rollDay(): void {
    for (const { leg } of this.legs.values()) leg.rollDay();
  }

  accountData(mark: MarkPrice): AccountData {
    return new AccountData({
      gateway_name: this.gatewayName,
      accountid: this.accountid,
      balance: money(this.funds.cash + this.floatingPnl(mark)),
      frozen: money(this.positionMargin() + this.funds.pendingMargin),
    });
  }

  positionData(entry: LegEntry, mark: MarkPrice): PositionData {
    const { model, direction, leg } = entry;
    return new PositionData({
      gateway_name: this.gatewayName,
      symbol: model.spec.symbol,
      exchange: model.spec.exchange,
      direction,
      volume: leg.volume,
      frozen: leg.frozen,
      price: leg.price,
      pnl: leg.volume > 0 ? money(pnlOf(model.spec, direction, leg.price, mark(model), leg.volume)) : 0,
      yd_volume: leg.yd_volume,
    });
  }
}

/**
 * The simulated market of one contract: its price at any instant, the day's limits, the 5-level book and the
 * trades printed at each tick. Everything is a pure function of (seed, contract, time or tick index).
 *
 * Futures and equities follow their own `LogPath` around the reference price; options are priced with Black-76
 * from their underlying's price, so a chain moves with its underlying and decays toward expiry.
 */
import { OptionType, Product } from "../kernel/index.js";
import { LogPath } from "./path.js";
import { contractKey, hashOf, mix32, unitOf } from "./random.js";
import { specVtSymbol, type SimContractSpec } from "./spec.js";
import { dayIndexOf, dayStartMs, MINUTE_MS } from "./time.js";

export interface BookLevel {
  price: number;
  volume: number;
}

/** Best level first; a side holds up to five non-empty levels, fewer at a price limit. */
export interface Book {
  bids: BookLevel[];
  asks: BookLevel[];
}

export interface DayLimits {
  readonly day: number;
  readonly pre_close: number;
  readonly limit_up: number;
  readonly limit_down: number;
}

/** The trade printed at one tick: `volume` 0 means a quote update without a trade. */
export interface TickPrint {
  readonly volume: number;
  /** 1: a buyer lifted the ask; -1: a seller hit the bid. */
  readonly side: 1 | -1;
}

const YEAR_MS = 365 * 86_400_000;
const STREAM_SPREAD = 100;
const STREAM_LEVEL = 101;
const STREAM_PRINT = 102;
const STREAM_MINUTE_VOLUME = 103;
/** Relative spread of a liquid market; the book is never tighter than one tick. */
const BASE_SPREAD = 0.0001;
const BOOK_LEVELS = 5;
/** Volatility of a futures month against its product, as a share of the product's volatility. */
const MONTH_SPREAD_VOLATILITY = 0.08;
/** The month's own drift has no texture under an hour (15 s · 2^8 = 64 min): it only moves the spread slowly. */
const MONTH_FINEST_OCTAVE = 8;

export class ContractModel {
  readonly spec: SimContractSpec;
  readonly vt_symbol: string;
  readonly pricetick: number;
  private readonly scale: number;
  private readonly key: number;
  private readonly path: LogPath | null;
  /** Futures only: the month's own small drift around the product path (calendar spreads move, slowly). */
  private readonly monthPath: LogPath | null;
  private interestPath: LogPath | null = null;
  private readonly underlying: ContractModel | null;
  private readonly limitCache = new Map<number, DayLimits>();
  private lastLimits: DayLimits | null = null;

  /** An option needs the model of its underlying; other contracts take none. */
  constructor(spec: SimContractSpec, seed: number, underlying: ContractModel | null = null) {
    if (spec.option && !underlying) throw new RangeError(`option ${specVtSymbol(spec)} needs its underlying's model`);
    this.spec = spec;
    this.vt_symbol = specVtSymbol(spec);
    this.pricetick = spec.pricetick;
    this.scale = 10 ** decimalsOf(spec.pricetick);
    this.key = contractKey(seed, this.vt_symbol);
    // Months of one futures product share the product's path, so rb2505 and rb2510 move together.
    const product = spec.product === Product.FUTURES ? /^[A-Za-z]+/.exec(spec.symbol)?.[0] : undefined;
    this.path = spec.option ? null : new LogPath(product ? contractKey(seed, `${product}.${spec.exchange}`) : this.key, spec.volatility);
    this.monthPath = product ? new LogPath(mix32(this.key ^ 0x27d4eb2f), spec.volatility * MONTH_SPREAD_VOLATILITY, MONTH_FINEST_OCTAVE) : null;
    this.underlying = spec.option ? underlying : null;
  }

  /** A price on the tick grid, as the exact decimal a user would type (3900.2, not 3900.2000000000003). */
  ticksToPrice(ticks: number): number {
    return Math.round(ticks * this.pricetick * this.scale) / this.scale;
  }

  priceToTicks(price: number): number {
    return Math.round(price / this.pricetick);
  }

  isOnTick(price: number): boolean {
    const ticks = price / this.pricetick;
    return Math.abs(ticks - Math.round(ticks)) < 1e-6;
  }

  roundPrice(price: number): number {
    return this.ticksToPrice(this.priceToTicks(price));
  }

  /** The unconstrained price: the path, or the option's model value. */
  rawPrice(epochMs: number): number {
    if (this.path) return this.spec.price * Math.exp(this.path.at(epochMs) + (this.monthPath ? this.monthPath.at(epochMs) : 0));
    const option = this.spec.option!;
    const years = (option.expiry.epochMicros() / 1000 - epochMs) / YEAR_MS;
    return black76(this.underlying!.price(epochMs), option.strike, years, this.spec.volatility, option.type === OptionType.CALL);
  }

  /** Pre-close and limits of a Shanghai day: the pre-close is the path's price at midnight. */
  dayLimits(day: number): DayLimits {
    if (this.lastLimits?.day === day) return this.lastLimits;
    let limits = this.limitCache.get(day);
    if (limits) return (this.lastLimits = limits);
    const preTicks = Math.max(1, this.priceToTicks(this.rawPrice(dayStartMs(day))));
    // Options move by a share of the underlying's price, as CFFEX and the commodity exchanges set their limits.
    const width = this.underlying
      ? this.underlying.dayLimits(day).pre_close * this.spec.limit_pct
      : preTicks * this.pricetick * this.spec.limit_pct;
    const widthTicks = Math.max(1, Math.round(width / this.pricetick));
    limits = {
      day,
      pre_close: this.ticksToPrice(preTicks),
      limit_up: this.ticksToPrice(preTicks + widthTicks),
      limit_down: this.ticksToPrice(Math.max(1, preTicks - widthTicks)),
    };
    if (this.limitCache.size >= 4) this.limitCache.delete(this.limitCache.keys().next().value!);
    this.limitCache.set(day, limits);
    return (this.lastLimits = limits);
  }

  /** The continuous price at an instant, held within the day's limits. */
  price(epochMs: number): number {
    const limits = this.dayLimits(dayIndexOf(epochMs));
    const raw = this.rawPrice(epochMs);
    return Math.min(limits.limit_up, Math.max(limits.limit_down, raw));
  }

  /**
   * The book at tick `index` (time `epochMs`): spread of one or two base spreads around the price, five levels
   * a base spread apart, nothing beyond the limits (so a price stuck at a limit shows an empty side).
   */
  bookAt(epochMs: number, index: number): Book {
    const limits = this.dayLimits(dayIndexOf(epochMs));
    const upTicks = this.priceToTicks(limits.limit_up);
    const downTicks = this.priceToTicks(limits.limit_down);
    const mid = this.price(epochMs) / this.pricetick;
    const step = Math.max(1, Math.round(BASE_SPREAD * mid));
    const spread = unitOf(hashOf(this.key, STREAM_SPREAD, index)) < 0.75 ? step : 2 * step;
    const bid1 = Math.floor(mid - (spread - 1) / 2);
    const ask1 = bid1 + spread;
    const book: Book = { bids: [], asks: [] };
    for (let level = 0; level < BOOK_LEVELS; level++) {
      const bid = bid1 - level * step;
      const ask = ask1 + level * step;
      if (bid >= downTicks && bid <= upTicks) book.bids.push({ price: this.ticksToPrice(bid), volume: this.levelVolume(index, level) });
      if (ask <= upTicks && ask >= downTicks) book.asks.push({ price: this.ticksToPrice(ask), volume: this.levelVolume(index, BOOK_LEVELS + level) });
    }
    return book;
  }

  private levelVolume(index: number, slot: number): number {
    const u = unitOf(hashOf(this.key, STREAM_LEVEL, index, slot + 1));
    return this.lots(this.spec.depth * (0.25 + 1.5 * u), 1);
  }

  /** Volume traded in a wall-clock minute (`minute` = epoch minutes); bars and ticks draw from it. */
  minuteVolume(minute: number): number {
    const u = unitOf(hashOf(this.key, STREAM_MINUTE_VOLUME, minute));
    return this.lots((this.spec.daily_volume / 1440) * (0.4 + 1.2 * u), 0);
  }

  /** The trade printed at tick `index`, `intervalMs` after the previous one: the minute's volume, spread out. */
  printAt(epochMs: number, index: number, intervalMs: number): TickPrint {
    const expectedLots = (this.minuteVolume(Math.floor(epochMs / MINUTE_MS)) * intervalMs) / MINUTE_MS / this.spec.min_volume;
    const u1 = unitOf(hashOf(this.key, STREAM_PRINT, index, 1));
    const u2 = unitOf(hashOf(this.key, STREAM_PRINT, index, 2));
    // floor(2λ·u1 + u2) has mean λ: a whole number of lots whose average matches the minute's volume.
    const lots = Math.floor(2 * expectedLots * u1 + u2);
    const side = unitOf(hashOf(this.key, STREAM_PRINT, index, 3)) < 0.5 ? 1 : -1;
    return { volume: lots * this.spec.min_volume, side };
  }

  openInterestAt(epochMs: number): number {
    if (this.spec.open_interest === 0) return 0;
    this.interestPath ??= new LogPath(mix32(this.key ^ 0x5bd1e995), 0.3, MONTH_FINEST_OCTAVE);
    return Math.round(this.spec.open_interest * Math.exp(this.interestPath.at(epochMs)));
  }

  /** A volume in whole lots of min_volume, at least `minLots`. */
  private lots(volume: number, minLots: number): number {
    return Math.max(minLots, Math.round(volume / this.spec.min_volume)) * this.spec.min_volume;
  }
}

/** Digits after the decimal point needed to write a price tick exactly (0.2 → 1, 0.025 → 3, 5 → 0). */
export function decimalsOf(tick: number): number {
  for (let d = 0; d < 10; d++) {
    const scaled = tick * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 10;
}

/** Black-76 value of a European option on a future (zero rate); intrinsic value at and after expiry. */
export function black76(forward: number, strike: number, years: number, volatility: number, call: boolean): number {
  if (!(years > 0) || !(volatility > 0)) return Math.max(0, call ? forward - strike : strike - forward);
  const sd = volatility * Math.sqrt(years);
  const d1 = (Math.log(forward / strike) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  return call ? forward * normalCdf(d1) - strike * normalCdf(d2) : strike * normalCdf(-d2) - forward * normalCdf(-d1);
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

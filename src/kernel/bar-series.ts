/**
 * Bars of one contract and interval held as columns, one Float64Array per field, instead of a BarData (and its
 * DateTime) per bar. A day of minute bars is then nine arrays outside the JavaScript heap rather than some 4,000
 * objects; a server answering many history queries at once keeps those objects alive from the query's start to the
 * end of its reply's encoding, long enough for the garbage collector to copy them twice and promote them, and its
 * pauses hold every other client's calls up. The RPC service encodes a series a bar at a time (each BarData built,
 * written and dropped); everyone else asks for `toArray()`.
 */
import { BarData } from "./objects.js";
import { DateTime, type TimeZone } from "./datetime.js";
import type { Exchange, Interval } from "./constants.js";

export interface BarSeriesInit {
  gateway_name: string;
  symbol: string;
  exchange: Exchange;
  interval: Interval;
  /** The zone of the bars' datetimes; `starts` are wall-clock times on its clocks (its offset is the producer's to know). */
  zone: TimeZone | null;
}

const COLUMNS = ["starts", "open", "high", "low", "close", "volume", "turnover", "openInterest"] as const;
type Column = (typeof COLUMNS)[number];

export class BarSeries implements Iterable<BarData> {
  readonly gateway_name: string;
  readonly symbol: string;
  readonly exchange: Exchange;
  readonly interval: Interval;
  readonly zone: TimeZone | null;
  private count = 0;
  private columns: Record<Column, Float64Array>;

  /** `capacity`: bars expected (the columns grow past it when needed). */
  constructor(init: BarSeriesInit, capacity = 16) {
    this.gateway_name = init.gateway_name;
    this.symbol = init.symbol;
    this.exchange = init.exchange;
    this.interval = init.interval;
    this.zone = init.zone;
    this.columns = BarSeries.allocate(Math.max(1, capacity));
  }

  private static allocate(capacity: number): Record<Column, Float64Array> {
    const columns = {} as Record<Column, Float64Array>;
    for (const name of COLUMNS) columns[name] = new Float64Array(capacity);
    return columns;
  }

  get length(): number {
    return this.count;
  }

  /** Appends a bar: `startWallMicros` is its start on the zone's clocks, in microseconds since 1970-01-01 00:00. */
  push(startWallMicros: number, open: number, high: number, low: number, close: number, volume: number, turnover: number, openInterest: number): void {
    if (this.count === this.columns.starts.length) this.grow();
    const i = this.count++;
    const c = this.columns;
    c.starts[i] = startWallMicros;
    c.open[i] = open;
    c.high[i] = high;
    c.low[i] = low;
    c.close[i] = close;
    c.volume[i] = volume;
    c.turnover[i] = turnover;
    c.openInterest[i] = openInterest;
  }

  private grow(): void {
    const bigger = BarSeries.allocate(this.columns.starts.length * 2);
    for (const name of COLUMNS) bigger[name].set(this.columns[name]);
    this.columns = bigger;
  }

  /** The i-th bar as a fresh BarData (nothing else holds it: it can die as soon as its reader is done with it). */
  at(i: number): BarData {
    this.check(i);
    const datetime = DateTime.fromWallMicros(this.columns.starts[i]!, this.zone);
    const bar = new BarData({ gateway_name: this.gateway_name, symbol: this.symbol, exchange: this.exchange, datetime, interval: this.interval });
    return this.fillValues(bar, i);
  }

  /**
   * Writes the i-th bar's values into `bar`, a BarData of this series (from at()): a reader that is done with each
   * bar before the next walks the whole series with one object. The datetime is a new DateTime.
   */
  fill(bar: BarData, i: number): BarData {
    this.check(i);
    bar.datetime = DateTime.fromWallMicros(this.columns.starts[i]!, this.zone);
    return this.fillValues(bar, i);
  }

  /** The columns' numbers for bar i (its datetime aside). */
  private fillValues(bar: BarData, i: number): BarData {
    const c = this.columns;
    bar.volume = c.volume[i]!;
    bar.turnover = c.turnover[i]!;
    bar.open_interest = c.openInterest[i]!;
    bar.open_price = c.open[i]!;
    bar.high_price = c.high[i]!;
    bar.low_price = c.low[i]!;
    bar.close_price = c.close[i]!;
    return bar;
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`bar ${i} of ${this.count}`);
  }

  *[Symbol.iterator](): Iterator<BarData> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  toArray(): BarData[] {
    const bars = new Array<BarData>(this.count);
    for (let i = 0; i < this.count; i++) bars[i] = this.at(i);
    return bars;
  }

  /** JSON.stringify(series) is that of its bars. */
  toJSON(): BarData[] {
    return this.toArray();
  }
}

/** Bars as a list, whichever form a gateway gave them in. */
export function barList(bars: BarData[] | BarSeries): BarData[] {
  return bars instanceof BarSeries ? bars.toArray() : bars;
}

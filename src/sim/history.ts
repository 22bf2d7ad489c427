/**
 * History bars from the same price path the live ticks follow.
 *
 * A minute bar samples the path every 15 s (the path's knot spacing): open at the minute's start, close at its
 * end, high and low over the five samples. Hour, day and week bars are built from minute bars, so every
 * interval agrees with every other: a day's open is its first minute's open, its high the highest minute high,
 * its volume the sum. A bar's datetime is its start, aware, in Asia/Shanghai. The venue trades around the
 * clock, so there is a bar for every minute.
 */
import { BarSeries, CHINA_TZ, Interval, heavyWork, type SliceScheduler } from "../kernel/index.js";
import type { ContractModel } from "./model.js";
import { chinaWallMicros, DAY_MS, dayIndexOf, dayStartMs, floorToPeriod, HOUR_MS, MINUTE_MS, weekStartMs } from "./time.js";

export interface BarValues {
  /** Start of the bar (epoch ms). */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  turnover: number;
  open_interest: number;
}

const SAMPLE_MS = 15_000;
const SAMPLES_PER_MINUTE = MINUTE_MS / SAMPLE_MS;

/**
 * Minute bars starting in [fromMs, toMs) (fromMs is aligned down to a minute), each written into one reused
 * BarValues: a bar is valid until the next is asked for (every consumer copies what it keeps), so a day of minutes
 * allocates no BarValues per bar (garbage that a flood of history queries multiplies).
 */
export function* minuteBars(model: ContractModel, fromMs: number, toMs: number): Generator<BarValues> {
  const size = model.spec.size;
  let start = floorToPeriod(fromMs, MINUTE_MS);
  let open = model.roundPrice(model.price(start));
  const bar: BarValues = { start, open, high: open, low: open, close: open, volume: 0, turnover: 0, open_interest: 0 };
  for (; start < toMs; start += MINUTE_MS) {
    let high = open;
    let low = open;
    let close = open;
    for (let i = 1; i <= SAMPLES_PER_MINUTE; i++) {
      close = model.roundPrice(model.price(start + i * SAMPLE_MS));
      if (close > high) high = close;
      if (close < low) low = close;
    }
    const volume = model.minuteVolume(start / MINUTE_MS);
    bar.start = start;
    bar.open = open;
    bar.high = high;
    bar.low = low;
    bar.close = close;
    bar.volume = volume;
    bar.turnover = volume * ((open + close) / 2) * size;
    bar.open_interest = model.openInterestAt(start + MINUTE_MS);
    yield bar;
    open = close; // the next minute opens where this one closed: one path, no gaps
  }
}

/** Merges consecutive bars that share a period (`periodOf` maps a bar start to its period's start). */
export function* aggregateBars(bars: Iterable<BarValues>, periodOf: (startMs: number) => number): Generator<BarValues> {
  let current: BarValues | null = null;
  for (const bar of bars) {
    const period = periodOf(bar.start);
    if (current && current.start === period) {
      if (bar.high > current.high) current.high = bar.high;
      if (bar.low < current.low) current.low = bar.low;
      current.close = bar.close;
      current.volume += bar.volume;
      current.turnover += bar.turnover;
      current.open_interest = bar.open_interest;
      continue;
    }
    if (current) yield current;
    current = { ...bar, start: period };
  }
  if (current) yield current;
}

/** Length and period-start function of each interval the venue serves. */
export const BAR_PERIODS: ReadonlyMap<Interval, { readonly approxMs: number; readonly periodOf: (ms: number) => number; readonly nextOf: (ms: number) => number }> = new Map([
  [Interval.MINUTE, { approxMs: MINUTE_MS, periodOf: (ms: number) => floorToPeriod(ms, MINUTE_MS), nextOf: (ms: number) => floorToPeriod(ms, MINUTE_MS) + MINUTE_MS }],
  [Interval.HOUR, { approxMs: HOUR_MS, periodOf: (ms: number) => floorToPeriod(ms, HOUR_MS), nextOf: (ms: number) => floorToPeriod(ms, HOUR_MS) + HOUR_MS }],
  [Interval.DAILY, { approxMs: 24 * HOUR_MS, periodOf: (ms: number) => dayStartMs(dayIndexOf(ms)), nextOf: (ms: number) => dayStartMs(dayIndexOf(ms) + 1) }],
  [Interval.WEEKLY, { approxMs: 7 * 24 * HOUR_MS, periodOf: weekStartMs, nextOf: (ms: number) => weekStartMs(ms) + 7 * 24 * HOUR_MS }],
]);

/** Day bars of one contract by day start. A past day never changes (the path is fixed), so entries never go stale. */
export type DayBarCache = Map<number, BarValues>;

/** The day bar starting at `dayStart`, from its 1,440 minute bars; callers only ask for days that are over. */
function dayBar(model: ContractModel, dayStart: number, cache: DayBarCache | null): BarValues {
  const cached = cache?.get(dayStart);
  if (cached) return cached;
  let bar: BarValues | null = null;
  for (const day of aggregateBars(minuteBars(model, dayStart, dayStart + DAY_MS), () => dayStart)) bar = day;
  cache?.set(dayStart, bar!);
  return bar!;
}

/** Bar values of `interval` for periods starting in [from, to) (both period starts). */
function* barValues(model: ContractModel, interval: Interval, from: number, to: number, cache: DayBarCache | null): Generator<BarValues> {
  if (interval === Interval.MINUTE) return yield* minuteBars(model, from, to);
  if (interval === Interval.HOUR) return yield* aggregateBars(minuteBars(model, from, to), (ms) => floorToPeriod(ms, HOUR_MS));
  function* days(): Generator<BarValues> {
    for (let day = from; day < to; day = dayStartMs(dayIndexOf(day) + 1)) yield dayBar(model, day, cache);
  }
  if (interval === Interval.DAILY) return yield* days();
  yield* aggregateBars(days(), weekStartMs);
}

/** The span of complete bars whose start lies in [startMs, endMs], as [first start, end of the last). */
function barSpan(interval: Interval, startMs: number, endMs: number, nowMs: number): [number, number] | null {
  const period = BAR_PERIODS.get(interval);
  if (!period) return null;
  const first = period.periodOf(startMs);
  const from = first < startMs ? period.nextOf(startMs) : first;
  // The last bar starts by `end` and has ended by `now`.
  const lastStart = period.periodOf(Math.min(endMs, nowMs));
  const to = period.nextOf(lastStart) <= nowMs ? period.nextOf(lastStart) : lastStart;
  return to > from ? [from, to] : null;
}

export interface HistoryQuery {
  readonly interval: Interval;
  readonly startMs: number;
  readonly endMs: number;
  readonly nowMs: number;
  readonly gatewayName: string;
  /** Day bars already computed for this contract (and where new ones go). */
  readonly dayCache?: DayBarCache;
}

/**
 * Complete bars whose start lies in [start, end], as VeighNa's bars (aware, Asia/Shanghai), one step per bar for a
 * SliceScheduler. A bar is complete when its period has ended by `now`; the unfinished current bar is left out.
 */
function* historySeriesSteps(model: ContractModel, query: HistoryQuery): Generator<void, BarSeries, void> {
  const span = barSpan(query.interval, query.startMs, query.endMs, query.nowMs);
  const period = BAR_PERIODS.get(query.interval);
  const capacity = span && period ? Math.ceil((span[1] - span[0]) / period.approxMs) + 1 : 0;
  const series = new BarSeries({ gateway_name: query.gatewayName, symbol: model.spec.symbol, exchange: model.spec.exchange, interval: query.interval, zone: CHINA_TZ }, capacity);
  if (!span) return series;
  for (const bar of barValues(model, query.interval, span[0], span[1], query.dayCache ?? null)) {
    series.push(chinaWallMicros(bar.start), bar.open, bar.high, bar.low, bar.close, bar.volume, bar.turnover, bar.open_interest);
    yield;
  }
  return series;
}

/**
 * The bars of a query as a BarSeries, a few at a time in the shared heavy-work slices (about 1 ms a turn with
 * everything else sliced), so ticks, orders and other clients' calls keep flowing.
 */
export function historySeriesAsync(model: ContractModel, query: HistoryQuery, slices: SliceScheduler = heavyWork): Promise<BarSeries> {
  return slices.run(historySeriesSteps(model, query));
}

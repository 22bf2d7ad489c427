/**
 * The venue's clock and calendar: China Standard Time, UTC+8 without daylight saving since 1991.
 *
 * A fixed offset lets the venue turn epoch milliseconds into Asia/Shanghai wall time with plain arithmetic
 * instead of an Intl call per tick; the values still carry the `Asia/Shanghai` zone, as VeighNa's do.
 */
import { CHINA_TZ, DateTime } from "../kernel/index.js";

export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const SHANGHAI_OFFSET_MS = 8 * HOUR_MS;

/** Where the venue reads the time: epoch milliseconds, fractions allowed. */
export interface SimClock {
  now(): number;
}

export const SYSTEM_CLOCK: SimClock = Object.freeze({ now: () => Date.now() });

/** A clock that moves only when told to: tests and replays drive the venue with it. */
export class ManualClock implements SimClock {
  private current: number;

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  set(epochMs: number): void {
    this.current = epochMs;
  }

  advance(ms: number): number {
    this.current += ms;
    return this.current;
  }
}

/** The trading day (days since 1970-01-01 in Shanghai) an instant belongs to; the venue rolls at midnight. */
export function dayIndexOf(epochMs: number): number {
  return Math.floor((epochMs + SHANGHAI_OFFSET_MS) / DAY_MS);
}

/** The instant a Shanghai day starts (its midnight). */
export function dayStartMs(dayIndex: number): number {
  return dayIndex * DAY_MS - SHANGHAI_OFFSET_MS;
}

/** Start of the Shanghai wall-clock period (`MINUTE_MS`, `HOUR_MS`, `DAY_MS`) containing an instant. */
export function floorToPeriod(epochMs: number, periodMs: number): number {
  return Math.floor((epochMs + SHANGHAI_OFFSET_MS) / periodMs) * periodMs - SHANGHAI_OFFSET_MS;
}

/** Start of the Shanghai week (Monday 00:00) containing an instant. */
export function weekStartMs(epochMs: number): number {
  const day = dayIndexOf(epochMs);
  const weekday = (day + 3) % 7; // 1970-01-01 was a Thursday: (0 + 3) % 7 = 3 → Monday = 0
  return dayStartMs(day - weekday);
}

/** An aware Asia/Shanghai datetime for an instant, to the microsecond. */
export function chinaDateTime(epochMs: number): DateTime {
  const localMicros = Math.round((epochMs + SHANGHAI_OFFSET_MS) * 1000);
  const date = new Date(Math.floor(localMicros / 1000));
  const microsecond = localMicros - Math.floor(localMicros / 1_000_000) * 1_000_000;
  return new DateTime(
    {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
      microsecond,
    },
    CHINA_TZ,
  );
}

/** The instant of a datetime; a naive one is taken as Shanghai wall time (the venue's zone). */
export function instantOf(datetime: DateTime): number {
  const aware = datetime.isAware ? datetime : datetime.withZone(CHINA_TZ);
  return aware.epochMicros() / 1000;
}

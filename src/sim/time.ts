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

/** An aware Asia/Shanghai datetime for an instant, to the microsecond (Shanghai has kept +08:00 since 1992). */
export function chinaDateTime(epochMs: number): DateTime {
  return DateTime.fromWallMicros(chinaWallMicros(epochMs), CHINA_TZ);
}

/** An instant as wall-clock microseconds in Asia/Shanghai (what DateTime.fromWallMicros and BarSeries take). */
export function chinaWallMicros(epochMs: number): number {
  return Math.round((epochMs + SHANGHAI_OFFSET_MS) * 1000);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * `datetime.toISOString()` for the venue's Asia/Shanghai values, written from the fields: the generic path asks
 * Intl for the zone's offset (several microseconds), and the journal writes a datetime per order and per fill.
 */
export function isoString(datetime: DateTime): string {
  const zone = datetime.tzinfo;
  if (zone?.kind !== "zoneinfo" || zone.key !== "Asia/Shanghai" || datetime.year < 1992) return datetime.toISOString();
  const micro = datetime.microsecond ? `.${String(datetime.microsecond).padStart(6, "0")}` : "";
  return `${String(datetime.year).padStart(4, "0")}-${pad2(datetime.month)}-${pad2(datetime.day)}T${pad2(datetime.hour)}:${pad2(datetime.minute)}:${pad2(datetime.second)}${micro}+08:00`;
}

/** The instant of a datetime; a naive one is taken as Shanghai wall time (the venue's zone). */
export function instantOf(datetime: DateTime): number {
  const aware = datetime.isAware ? datetime : datetime.withZone(CHINA_TZ);
  return aware.epochMicros() / 1000;
}

/**
 * Trading days. Chinese futures trade a night session that belongs to the next trading day: the day rolls in the
 * evening (around 20:00-21:00 Asia/Shanghai), and a Friday night session trades for Monday. Daily counters reset
 * at that boundary, while the process runs, not only at restart.
 */
import { DateTime, assertKnownZone, zoneInfo, type TimeZone } from "../kernel/index.js";

/** When the trading day rolls, as a wall-clock time in a zone. */
export class TradingDayBoundary {
  /** Minutes after midnight. */
  readonly startMinutes: number;
  readonly zone: TimeZone;

  constructor(readonly start: string, readonly timeZone: string) {
    const problem = timeOfDayProblem(start) ?? timeZoneProblem(timeZone);
    if (problem !== null) throw new RangeError(problem);
    this.startMinutes = Number(start.slice(0, 2)) * 60 + Number(start.slice(3, 5));
    this.zone = zoneInfo(timeZone);
  }

  /** The first boundary strictly after `nowMs` (epoch ms). */
  nextStart(nowMs: number): number {
    const local = DateTime.fromEpochMicros(nowMs * 1000, this.zone);
    for (let days = 0; days <= 2; days++) {
      const candidate = this.startOn(local.year, local.month, local.day + days);
      if (candidate > nowMs) return candidate;
    }
    throw new RangeError(`no trading-day start after ${local.toISOString()}`); // unreachable: a day has one start
  }

  /**
   * The trading day `nowMs` belongs to, "YYYY-MM-DD". A day that starts in the evening (start at or after noon) is
   * named after the next calendar day; Saturdays and Sundays roll on to Monday. Holidays are not known here.
   */
  tradingDay(nowMs: number): string {
    const local = DateTime.fromEpochMicros(nowMs * 1000, this.zone);
    const minutes = local.hour * 60 + local.minute;
    let day = Date.UTC(local.year, local.month - 1, local.day);
    if (minutes < this.startMinutes) day -= 86_400_000; // still in the day that started yesterday evening
    if (this.startMinutes >= 12 * 60) day += 86_400_000;
    const weekday = new Date(day).getUTCDay();
    if (weekday === 6) day += 2 * 86_400_000;
    else if (weekday === 0) day += 86_400_000;
    return new Date(day).toISOString().slice(0, 10);
  }

  /** Epoch ms of the start time on a calendar day (the day may overflow the month: Date.UTC normalises it). */
  private startOn(year: number, month: number, day: number): number {
    const date = new Date(Date.UTC(year, month - 1, day));
    const wall = new DateTime(
      { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: Math.floor(this.startMinutes / 60), minute: this.startMinutes % 60 },
      this.zone,
    );
    return Math.floor(wall.epochMicros() / 1000);
  }
}

/** "HH:MM", 24-hour clock; what is wrong with `text`, or null. */
export function timeOfDayProblem(text: string): string | null {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return `expected a time of day "HH:MM", got ${JSON.stringify(text)}`;
  return null;
}

export function timeZoneProblem(name: string): string | null {
  try {
    assertKnownZone(name);
    return null;
  } catch {
    return `unknown time zone ${JSON.stringify(name)}`;
  }
}

/**
 * A Python-compatible datetime: wall-clock fields to the microsecond plus an optional zone.
 *
 * VeighNa peers send both aware datetimes (ZoneInfo("Asia/Shanghai"), timezone.utc, fixed offsets) and naive
 * ones (TickData.localtime, LogData.time), and expect back exactly what they sent. A JS `Date` keeps neither
 * microseconds nor the zone, so the kernel carries its own immutable value.
 */

export type TimeZone =
  /** `zoneinfo.ZoneInfo(key)`: an IANA zone whose offset depends on the instant. */
  | { readonly kind: "zoneinfo"; readonly key: string }
  /** `datetime.timezone.utc`. */
  | { readonly kind: "utc" }
  /** `datetime.timezone(timedelta(...), name?)`: a fixed offset. */
  | { readonly kind: "fixed"; readonly offsetMicros: number; readonly name?: string };

export const UTC: TimeZone = Object.freeze({ kind: "utc" });
export const CHINA_TZ: TimeZone = zoneInfo("Asia/Shanghai");

export function zoneInfo(key: string): TimeZone {
  return Object.freeze({ kind: "zoneinfo", key });
}

export function fixedOffset(offsetMinutes: number, name?: string): TimeZone {
  const zone: { kind: "fixed"; offsetMicros: number; name?: string } = { kind: "fixed", offsetMicros: offsetMinutes * 60_000_000 };
  if (name !== undefined) zone.name = name;
  return Object.freeze(zone);
}

const MICROS_PER_SECOND = 1_000_000;
const MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND;

/** Intl formatters are costly to build: one per zone, kept. */
const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** Zone keys come from the wire too (Intl accepts any letter case): bound the caches a peer can grow. */
const ZONE_CACHE_LIMIT = 1_000;

function formatterFor(key: string): Intl.DateTimeFormat {
  let fmt = zoneFormatters.get(key);
  if (!fmt) {
    if (zoneFormatters.size >= ZONE_CACHE_LIMIT) {
      zoneFormatters.clear();
      offsetCache.clear();
    }
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: key,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    zoneFormatters.set(key, fmt);
  }
  return fmt;
}

/**
 * Offsets resolved through Intl cost ~5 µs each and a tick's datetime needs up to three: keep them per zone and
 * quarter hour (every transition of the tz database since 1970 falls on a quarter hour).
 */
const QUARTER_HOUR_MS = 900_000;
const OFFSET_CACHE_LIMIT = 50_000;
const offsetCache = new Map<string, Map<number, number>>();

/** UTC offset (µs) of an IANA zone at a UTC instant given in epoch milliseconds. */
function zoneOffsetMicrosAt(key: string, epochMs: number): number {
  if (epochMs < 0) return intlOffsetMicrosAt(key, epochMs); // before 1970, transitions need not be on a quarter hour
  const bucket = Math.floor(epochMs / QUARTER_HOUR_MS);
  let zoneCache = offsetCache.get(key);
  if (!zoneCache) offsetCache.set(key, (zoneCache = new Map()));
  const cached = zoneCache.get(bucket);
  if (cached !== undefined) return cached;
  const offset = intlOffsetMicrosAt(key, bucket * QUARTER_HOUR_MS);
  if (zoneCache.size >= OFFSET_CACHE_LIMIT) zoneCache.clear();
  zoneCache.set(bucket, offset);
  return offset;
}

function intlOffsetMicrosAt(key: string, epochMs: number): number {
  const wholeSecondMs = Math.floor(epochMs / 1000) * 1000;
  const parts = formatterFor(key).formatToParts(new Date(wholeSecondMs));
  const field = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(field("year"), field("month") - 1, field("day"), field("hour"), field("minute"), field("second"));
  return (asUtc - wholeSecondMs) * 1000;
}

/** Throws unless `key` names a zone this runtime knows. */
export function assertKnownZone(key: string): void {
  formatterFor(key);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm: pure arithmetic, no Date). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export interface DateTimeFields {
  year: number;
  month: number;
  day: number;
  hour?: number;
  minute?: number;
  second?: number;
  microsecond?: number;
  fold?: 0 | 1;
}

export class DateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  /** Python's PEP 495 fold: which of two repeated wall times (0 = the earlier). */
  readonly fold: 0 | 1;
  readonly tzinfo: TimeZone | null;

  constructor(fields: DateTimeFields, tzinfo: TimeZone | null = null) {
    this.year = fields.year;
    this.month = fields.month;
    this.day = fields.day;
    this.hour = fields.hour ?? 0;
    this.minute = fields.minute ?? 0;
    this.second = fields.second ?? 0;
    this.microsecond = fields.microsecond ?? 0;
    this.fold = fields.fold ?? 0;
    this.tzinfo = tzinfo;
    validateFields(this);
  }

  /** Now, as an aware datetime in `zone`, or naive local time when `zone` is null (like `datetime.now()`). */
  static now(zone: TimeZone | null = CHINA_TZ): DateTime {
    const micros = Date.now() * 1000;
    if (zone) return DateTime.fromEpochMicros(micros, zone);
    const localOffsetMicros = -new Date(micros / 1000).getTimezoneOffset() * 60_000_000;
    return DateTime.fromEpochMicros(micros + localOffsetMicros, UTC).withZone(null);
  }

  /** The wall time in `zone` of the instant `epochMicros` (µs since 1970-01-01T00:00Z). */
  static fromEpochMicros(epochMicros: number, zone: TimeZone | null): DateTime {
    const offset = zone ? offsetMicrosAtInstant(zone, epochMicros) : 0;
    const wall = fromLocalMicros(epochMicros + offset, zone);
    // The second pass through a repeated hour is fold 1, as Python's astimezone() marks it; fold 0 would name the
    // first pass, an hour earlier.
    if (zone?.kind === "zoneinfo" && wall.utcOffsetMicros() !== offset) return new DateTime({ ...wall, fold: 1 }, zone);
    return wall;
  }

  /**
   * The wall time `localMicros` microseconds after 1970-01-01 00:00 on the clocks of `zone`, with no offset lookup:
   * for callers that know the zone's offset (a fixed-offset venue clock), where fromEpochMicros would ask Intl.
   */
  static fromWallMicros(localMicros: number, zone: TimeZone | null): DateTime {
    return fromLocalMicros(localMicros, zone);
  }

  static fromDate(date: Date, zone: TimeZone | null = CHINA_TZ): DateTime {
    return DateTime.fromEpochMicros(date.getTime() * 1000, zone);
  }

  /**
   * Parses ISO 8601 as Python's `datetime.fromisoformat` writes it: `2024-12-31T09:30:15.123456+08:00`,
   * a space instead of `T`, `Z`, or no offset (naive). An offset becomes a fixed-offset zone unless `zone`
   * is given, in which case the instant is converted to that zone.
   */
  static parse(text: string, zone?: TimeZone): DateTime {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
    if (!m) throw new RangeError(`not an ISO datetime: ${JSON.stringify(text)}`);
    const fields: DateTimeFields = {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      microsecond: Number((m[7] ?? "").padEnd(6, "0")),
    };
    const offsetText = m[8];
    if (offsetText === undefined) return new DateTime(fields, zone ?? null);
    let parsedZone: TimeZone = UTC;
    if (offsetText !== "Z") {
      const sign = offsetText.startsWith("-") ? -1 : 1;
      const digits = offsetText.slice(1).replace(":", "");
      const minutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
      parsedZone = minutes === 0 ? UTC : fixedOffset(minutes);
    }
    const parsed = new DateTime(fields, parsedZone);
    return zone ? parsed.toZone(zone) : parsed;
  }

  get isAware(): boolean {
    return this.tzinfo !== null;
  }

  /** Microseconds since midnight 1970-01-01 of the wall clock, ignoring the zone. */
  localMicros(): number {
    const days = daysFromCivil(this.year, this.month, this.day);
    return days * MICROS_PER_DAY + ((this.hour * 60 + this.minute) * 60 + this.second) * MICROS_PER_SECOND + this.microsecond;
  }

  /** UTC offset in µs (null when naive), resolved like Python's ZoneInfo including `fold`. */
  utcOffsetMicros(): number | null {
    const zone = this.tzinfo;
    if (!zone) return null;
    if (zone.kind === "utc") return 0;
    if (zone.kind === "fixed") return zone.offsetMicros;
    return zoneOffsetForWallTime(zone.key, this.localMicros(), this.fold);
  }

  /** The instant in µs since the epoch. A naive datetime is taken as UTC wall time (there is no better guess). */
  epochMicros(): number {
    return this.localMicros() - (this.utcOffsetMicros() ?? 0);
  }

  toDate(): Date {
    return new Date(Math.floor(this.epochMicros() / 1000));
  }

  /** The same instant in another zone (like `astimezone`). */
  toZone(zone: TimeZone): DateTime {
    return DateTime.fromEpochMicros(this.epochMicros(), zone);
  }

  /** The same wall time with another zone or none (like `replace(tzinfo=...)`). */
  withZone(zone: TimeZone | null): DateTime {
    return new DateTime(this, zone);
  }

  plusMicros(micros: number): DateTime {
    if (this.tzinfo && this.tzinfo.kind === "zoneinfo") return DateTime.fromEpochMicros(this.epochMicros() + micros, this.tzinfo);
    return fromLocalMicros(this.localMicros() + micros, this.tzinfo);
  }

  plusSeconds(seconds: number): DateTime {
    return this.plusMicros(Math.round(seconds * MICROS_PER_SECOND));
  }

  /** Negative, zero or positive; aware values compare by instant, naive ones by wall time. */
  compare(other: DateTime): number {
    return this.epochMicros() - other.epochMicros();
  }

  equals(other: DateTime): boolean {
    return (
      this.localMicros() === other.localMicros() &&
      this.fold === other.fold &&
      sameZone(this.tzinfo, other.tzinfo)
    );
  }

  /**
   * ISO 8601 as Python's `isoformat(sep, timespec)` writes it: "auto" writes microseconds only when there are
   * some, "microseconds" always writes all six digits (one shape for every value, as the JSON wire wants).
   */
  toISOString(separator = "T", timespec: "auto" | "microseconds" = "auto"): string {
    const date = `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
    let time = `${pad(this.hour, 2)}:${pad(this.minute, 2)}:${pad(this.second, 2)}`;
    if (this.microsecond || timespec === "microseconds") time += `.${pad(this.microsecond, 6)}`;
    const offset = this.utcOffsetMicros();
    return `${date}${separator}${time}${offset === null ? "" : formatOffset(offset)}`;
  }

  /** Python's `str(dt)`. */
  toString(): string {
    return this.toISOString(" ");
  }

  toJSON(): string {
    return this.toISOString();
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function formatOffset(offsetMicros: number): string {
  const sign = offsetMicros < 0 ? "-" : "+";
  let rest = Math.abs(offsetMicros);
  const hours = Math.floor(rest / 3_600_000_000);
  rest -= hours * 3_600_000_000;
  const minutes = Math.floor(rest / 60_000_000);
  rest -= minutes * 60_000_000;
  const seconds = Math.floor(rest / MICROS_PER_SECOND);
  const micros = rest - seconds * MICROS_PER_SECOND;
  let text = `${sign}${pad(hours, 2)}:${pad(minutes, 2)}`;
  if (seconds || micros) text += `:${pad(seconds, 2)}`;
  if (micros) text += `.${pad(micros, 6)}`;
  return text;
}

export function sameZone(a: TimeZone | null, b: TimeZone | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.kind !== b.kind) return false;
  if (a.kind === "zoneinfo") return a.key === (b as { key: string }).key;
  if (a.kind === "fixed") {
    const f = b as { offsetMicros: number; name?: string };
    return a.offsetMicros === f.offsetMicros && a.name === f.name;
  }
  return true;
}

function offsetMicrosAtInstant(zone: TimeZone, epochMicros: number): number {
  if (zone.kind === "utc") return 0;
  if (zone.kind === "fixed") return zone.offsetMicros;
  return zoneOffsetMicrosAt(zone.key, Math.floor(epochMicros / 1000));
}

/** Offset for a wall time in an IANA zone; `fold` picks the later of two candidates in an ambiguous hour. */
function zoneOffsetForWallTime(key: string, localMicros: number, fold: 0 | 1): number {
  const localMs = Math.floor(localMicros / 1000);
  // Candidate offsets: those in force a day either side cover every transition the wall time can fall near.
  const before = zoneOffsetMicrosAt(key, localMs - 86_400_000);
  const after = zoneOffsetMicrosAt(key, localMs + 86_400_000);
  if (before === after) return before; // no transition near this wall time: the common case
  const candidates = [before, after];
  const valid = candidates.filter((off) => zoneOffsetMicrosAt(key, Math.floor((localMicros - off) / 1000)) === off);
  if (valid.length === 0) return fold ? after : before; // a wall time in a gap: Python uses the offset before (fold 0)
  if (valid.length === 1) return valid[0]!;
  return fold ? Math.min(...valid) : Math.max(...valid);
}

function fromLocalMicros(localMicros: number, zone: TimeZone | null): DateTime {
  const days = Math.floor(localMicros / MICROS_PER_DAY);
  let rest = localMicros - days * MICROS_PER_DAY;
  // The date from the day number: daysFromCivil backwards, in arithmetic (a Date and its getters cost ~5x more, and
  // history queries build a datetime per bar).
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000_000);
  rest -= hour * 3_600_000_000;
  const minute = Math.floor(rest / 60_000_000);
  rest -= minute * 60_000_000;
  const second = Math.floor(rest / MICROS_PER_SECOND);
  const microsecond = rest - second * MICROS_PER_SECOND;
  return new DateTime({ year, month, day, hour, minute, second, microsecond }, zone);
}

function validateFields(dt: DateTime): void {
  const ok =
    Number.isInteger(dt.year) && dt.year >= 1 && dt.year <= 9999 &&
    Number.isInteger(dt.month) && dt.month >= 1 && dt.month <= 12 &&
    Number.isInteger(dt.day) && dt.day >= 1 && dt.day <= daysInMonth(dt.year, dt.month) &&
    Number.isInteger(dt.hour) && dt.hour >= 0 && dt.hour <= 23 &&
    Number.isInteger(dt.minute) && dt.minute >= 0 && dt.minute <= 59 &&
    Number.isInteger(dt.second) && dt.second >= 0 && dt.second <= 59 &&
    Number.isInteger(dt.microsecond) && dt.microsecond >= 0 && dt.microsecond <= 999_999;
  if (!ok) throw new RangeError(`invalid datetime fields ${dt.year}-${dt.month}-${dt.day} ${dt.hour}:${dt.minute}:${dt.second}.${dt.microsecond}`);
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return DAYS_IN_MONTH[month] ?? 31;
}

/**
 * Time zones met on the wire. A zoneinfo key from a peer is checked against what this runtime knows, once per
 * key: a bogus key must fail at decoding (typed), not later inside some consumer's offset computation.
 */
import { CHINA_TZ, UTC, type TimeZone } from "../kernel/index.js";

/** Bounds what a stream of distinct (possibly hostile) keys can make us cache or compute. */
const MAX_CACHED_KEYS = 4096;
const KEY_PATTERN = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+){0,3}$/;

const zoneByKey = new Map<string, TimeZone | null>([[CHINA_TZ.kind === "zoneinfo" ? CHINA_TZ.key : "Asia/Shanghai", CHINA_TZ]]);
let canonical: Set<string> | undefined;

/** Zone objects the decoder handed out: only these are accepted as a datetime's tzinfo. */
const decodedZones = new WeakSet<object>([UTC, CHINA_TZ]);

export function isDecodedZone(value: unknown): value is TimeZone {
  return typeof value === "object" && value !== null && decodedZones.has(value);
}

/** The (shared) TimeZone for a zoneinfo key, or undefined when the key names no zone this runtime has. */
export function zoneForKey(key: string): TimeZone | undefined {
  const cached = zoneByKey.get(key);
  if (cached !== undefined) return cached ?? undefined;
  if (key.length > 64 || !KEY_PATTERN.test(key)) return undefined;
  canonical ??= new Set(Intl.supportedValuesOf("timeZone"));
  let known = canonical.has(key);
  if (!known) {
    if (zoneByKey.size >= MAX_CACHED_KEYS) return undefined;
    try {
      // An alias ("PRC", "Asia/Chongqing") is a valid key for Python too. Intl accepts any letter case, where
      // Python's zoneinfo (a file lookup) does not: a key Intl only knows under another spelling is refused.
      const resolved = new Intl.DateTimeFormat("en-US", { timeZone: key }).resolvedOptions().timeZone;
      known = resolved === key || resolved.toLowerCase() !== key.toLowerCase();
    } catch {
      known = false;
    }
  }
  const zone: TimeZone | null = known ? Object.freeze({ kind: "zoneinfo", key }) : null;
  if (zoneByKey.size < MAX_CACHED_KEYS) zoneByKey.set(key, zone);
  if (zone) decodedZones.add(zone);
  return zone ?? undefined;
}

/** `datetime.timezone(offset, name)`: the UTC singleton for a zero offset without a name, as in CPython. */
export function fixedZone(offsetMicros: number, name: string | undefined): TimeZone {
  if (offsetMicros === 0 && name === undefined) return UTC;
  const zone: TimeZone = name === undefined
    ? Object.freeze({ kind: "fixed", offsetMicros })
    : Object.freeze({ kind: "fixed", offsetMicros, name });
  decodedZones.add(zone);
  return zone;
}

/**
 * VeighNa's data model as JSON: the same field names as the pickle wire, so there is one vocabulary everywhere.
 *
 * - a data object is its own fields plus `"$class": "OrderData"` (first key), derived ids (`vt_symbol`...) included;
 * - enums are their values (`"多"`, `"SHFE"`), exactly what the kernel holds;
 * - datetimes are ISO 8601 strings with microseconds and, when aware, the UTC offset
 *   (`"2024-12-31T09:30:15.250000+08:00"`); naive ones (LogData.time) have no offset, as in VeighNa;
 * - an Event is `{"type", "data"}`.
 */
import { DATA_CLASSES, DateTime, Event, dataClassName, type DataClassName, type FieldKinds } from "../../kernel/index.js";

/** ISO 8601 with all six microsecond digits, so every datetime on this wire has one shape. */
export function isoMicros(dt: DateTime): string {
  const text = dt.toISOString();
  if (dt.microsecond !== 0) return text;
  // Python's isoformat drops ".000000"; put it back right after the seconds (index 19 of "YYYY-MM-DDTHH:MM:SS").
  return `${text.slice(0, 19)}.000000${text.slice(19)}`;
}

/** A value ready for JSON.stringify: data objects tagged, datetimes as strings, events as {type, data}. */
export function toWire(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof DateTime) return isoMicros(value);
  if (Array.isArray(value)) return value.map(toWire);
  if (value instanceof Event) return { type: value.type, data: toWire(value.data) };
  if (value instanceof Map) return toWire(Object.fromEntries(value));
  if (value instanceof Set) return [...value].map(toWire);
  const name = dataClassName(value);
  const out: Record<string, unknown> = name === undefined ? {} : { $class: name };
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) out[key] = toWire(record[key]);
  return out;
}

/** One JSON text for one event as it leaves the server (the per-event hot path of every endpoint). */
export function eventToJson(seq: number, epoch: string, event: Event): string {
  return JSON.stringify({ seq, epoch, type: event.type, data: toWire(event.data) });
}

/**
 * Rebuilds kernel objects from JSON received from a server: `$class` objects become instances of the kernel
 * class (derived ids recomputed, datetime fields parsed). Unknown classes stay plain objects, `$class` kept.
 * This is the lenient, client-side direction; the server validates what it receives (see protocol.ts).
 */
export function fromWire(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(fromWire);
  const record = value as Record<string, unknown>;
  const className = record.$class;
  if (typeof className === "string" && Object.prototype.hasOwnProperty.call(DATA_CLASSES, className)) {
    return buildDataObject(className as DataClassName, record);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) out[key] = fromWire(record[key]);
  return out;
}

/** Constructs a kernel data class from its JSON fields (datetime strings parsed, `$class` dropped). */
export function buildDataObject(className: DataClassName, record: Readonly<Record<string, unknown>>): object {
  const cls = DATA_CLASSES[className] as unknown as { new (init: never): object; fieldKinds: FieldKinds };
  const init: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (key === "$class") continue;
    const raw = record[key];
    init[key] = cls.fieldKinds[key] === "datetime" && typeof raw === "string" ? DateTime.parse(raw) : fromWire(raw);
  }
  // Constructors assign every field given (`extra` too) and recompute the derived ids.
  return new cls(init as never);
}

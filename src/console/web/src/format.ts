/** Display helpers: numbers, times, enum labels. */
import { LABELS } from "./protocol";

export function label(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return LABELS[value] ?? value;
}

/** Prices with the contract's decimals (from its pricetick), volumes as integers. */
export function price(value: number, tick = 0.01): string {
  if (!Number.isFinite(value) || value === 0) return "—";
  const decimals = Math.max(0, Math.min(6, Math.ceil(-Math.log10(tick) - 1e-9)));
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function money(value: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function qty(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 4 });
}

/** "09:30:15.250" from an ISO datetime; the wire always carries µs. */
export function clock(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = iso.indexOf("T") >= 0 ? iso.indexOf("T") : iso.indexOf(" ");
  return iso.slice(t + 1, t + 13);
}

export function since(epochMs: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - epochMs) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

export function sideClass(direction: string | null | undefined): string {
  return direction === "多" ? "long" : direction === "空" ? "short" : "";
}

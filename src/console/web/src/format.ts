/** Display helpers: numbers, times, enum labels. */
import { currentLanguage } from "./i18n";
import { LABELS } from "./protocol";

/** An enum value for the reader: VeighNa's Chinese as is in Chinese, its English label otherwise. */
export function label(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return currentLanguage() === "zh" ? value : (LABELS[value] ?? value);
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

/** "1.5 MiB": sizes of the NATS stream and its limit. */
export function bytes(value: number): string {
  if (!Number.isFinite(value) || value < 0) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let n = value;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** "1 d", "2 h", "90 s": the stream's max age (ms). */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "—";
  const s = ms / 1000;
  if (s >= 86_400 && s % 3_600 === 0) return `${+(s / 86_400).toFixed(1)} d`;
  if (s >= 3_600) return `${+(s / 3_600).toFixed(1)} h`;
  if (s >= 60) return `${+(s / 60).toFixed(1)} min`;
  return `${+s.toFixed(1)} s`;
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

const REPR = /OrderRequest\((.*?)\)(?=[^)]*$)/s;

/** A field of a Python repr: `name='x'`, `name=<Enum.X: 'v'>` or `name=3.5`. */
function reprField(repr: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}=(?:'([^']*)'|<[^:]+: '([^']*)'>|([^,)]+))`).exec(repr);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

/**
 * A risk message for the page: "Buy 6 rb2701.SHFE @ 3039: order volume 6 exceeds the limit 5" instead of the
 * Python repr VeighNa's format puts in the server log. Text without a repr stays as it is.
 */
export function readable(message: string): string {
  const m = REPR.exec(message);
  if (!m) return message;
  const repr = m[1]!;
  const direction = reprField(repr, "direction");
  const side = direction === "多" ? "Buy" : direction === "空" ? "Sell" : (direction ?? "");
  const order = `${side} ${reprField(repr, "volume") ?? "?"} ${reprField(repr, "symbol") ?? "?"}.${reprField(repr, "exchange") ?? "?"} @ ${reprField(repr, "price") ?? "?"}`;
  const reason = message.replace(m[0], "").replace(/[\s:：,，]+$/, "").replace(/^[\s:：]+/, "").trim();
  return reason ? `${order}: ${reason}` : order;
}

export function sideClass(direction: string | null | undefined): string {
  return direction === "多" ? "long" : direction === "空" ? "short" : "";
}

/** A CSV file the browser downloads: RFC 4180 quoting, a BOM so spreadsheet programs read Chinese as UTF-8. */
export function downloadCsv(name: string, header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  const cell = (value: string | number) => {
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const body = [header, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
  const url = URL.createObjectURL(new Blob(["\ufeff", body], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** What one client asked to receive; events are filtered here, at the server, before any bytes are written. */
import type { Event } from "../../kernel/index.js";

/** Event types whose specific twin is `type + id` (eTick.rb2501.SHFE): "*" stands for the generic ones only. */
const DOTTED_TYPES = ["eTick.", "eTrade.", "eOrder.", "ePosition.", "eAccount.", "eQuote.", "eContract."];

export function isSpecificType(type: string): boolean {
  for (const prefix of DOTTED_TYPES) if (type.length > prefix.length && type.startsWith(prefix)) return true;
  return false;
}

export class Subscription {
  private readonly types: ReadonlySet<string>;
  private readonly everyGeneric: boolean;
  private readonly symbols: ReadonlySet<string> | null;

  constructor(types: readonly string[], symbols: readonly string[] | null | undefined) {
    this.types = new Set(types);
    this.everyGeneric = this.types.has("*");
    this.symbols = symbols ? new Set(symbols) : null;
  }

  matches(event: Event): boolean {
    const type = event.type;
    if (!this.types.has(type) && !(this.everyGeneric && !isSpecificType(type))) return false;
    if (this.symbols === null) return true;
    const data = event.data as { vt_symbol?: unknown } | null;
    const vtSymbol = data !== null && typeof data === "object" ? data.vt_symbol : undefined;
    return typeof vtSymbol !== "string" || this.symbols.has(vtSymbol);
  }
}

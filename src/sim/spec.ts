/**
 * What the venue knows about a contract beyond VeighNa's ContractData: margin, fees, limits, and the parameters
 * of its simulated market. Specs are plain data with a JSON form, the format of a contracts file.
 */
import { readFileSync } from "node:fs";
import {
  CHINA_TZ,
  ContractData,
  DateTime,
  enumMemberByValue,
  enumValueByName,
  Exchange,
  OptionType,
  Product,
  type EnumName,
} from "../kernel/index.js";
import { SimError } from "./errors.js";

export interface SimOptionSpec {
  /** vt_symbol of the underlying contract, which must be in the same universe. */
  readonly underlying: string;
  readonly type: OptionType;
  readonly strike: number;
  readonly expiry: DateTime;
  readonly listed: DateTime | null;
  /** The option portfolio (VeighNa's option_portfolio), e.g. "IO". */
  readonly portfolio: string;
  readonly index: string;
}

export interface SimContractSpec {
  readonly symbol: string;
  readonly exchange: Exchange;
  readonly name: string;
  readonly product: Product;
  /** Contract multiplier. */
  readonly size: number;
  readonly pricetick: number;
  readonly min_volume: number;
  readonly max_volume: number | null;
  /** Reference price: the level the simulated price wanders around (options: ignored, they are priced). */
  readonly price: number;
  /** Margin as a fraction of notional (price × volume × size); 1 for cash-settled equities and option premiums. */
  readonly margin_rate: number;
  /** Fee as a fraction of turnover. */
  readonly commission_rate: number;
  /** Fee per unit of volume, added to the turnover fee. */
  readonly commission_per_lot: number;
  /** Annualised volatility of the price path (options: the implied volatility they are priced with). */
  readonly volatility: number;
  /** Daily price limit as a fraction of the pre-close (options: of the underlying's pre-close). */
  readonly limit_pct: number;
  /** Mean volume shown at each of the five book levels. */
  readonly depth: number;
  /** Mean volume traded per day; ticks and bars draw their volume from it. */
  readonly daily_volume: number;
  /** Level around which open interest wanders (0 for equities). */
  readonly open_interest: number;
  readonly option: SimOptionSpec | null;
}

export function specVtSymbol(spec: SimContractSpec): string {
  return `${spec.symbol}.${spec.exchange}`;
}

export function toContractData(spec: SimContractSpec, gatewayName: string): ContractData {
  const option = spec.option;
  return new ContractData({
    gateway_name: gatewayName,
    symbol: spec.symbol,
    exchange: spec.exchange,
    name: spec.name,
    product: spec.product,
    size: spec.size,
    pricetick: spec.pricetick,
    min_volume: spec.min_volume,
    max_volume: spec.max_volume,
    history_data: true,
    option_strike: option?.strike ?? null,
    option_underlying: option?.underlying ?? null,
    option_type: option?.type ?? null,
    option_listed: option?.listed ?? null,
    option_expiry: option?.expiry ?? null,
    option_portfolio: option?.portfolio ?? null,
    option_index: option?.index ?? null,
  });
}

/** Defaults for the simulation fields a contracts-file entry may leave out, by product. */
function defaultsFor(product: Product, min_volume: number) {
  const equity = product === Product.EQUITY || product === Product.ETF || product === Product.FUND;
  const option = product === Product.OPTION;
  return {
    margin_rate: equity || option ? 1 : 0.1,
    commission_rate: equity ? 0.0003 : option ? 0 : 0.0001,
    commission_per_lot: option ? 5 : 0,
    volatility: option ? 0.2 : 0.25,
    limit_pct: equity ? 0.1 : 0.07,
    depth: 50 * min_volume,
    daily_volume: 20_000 * min_volume,
    open_interest: equity ? 0 : 100_000,
  };
}

type Json = Record<string, unknown>;

/** Reads fields of one entry, naming the entry and the field in every error. */
class EntryReader {
  constructor(
    private readonly entry: Json,
    private readonly where: string,
  ) {}

  fail(message: string): never {
    throw new SimError("ERR_SIM_CONTRACTS", `${this.where}: ${message}`);
  }

  has(key: string): boolean {
    return this.entry[key] !== undefined && this.entry[key] !== null;
  }

  string(key: string, fallback?: string): string {
    const value = this.entry[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      this.fail(`"${key}" is required`);
    }
    if (typeof value !== "string" || value === "") this.fail(`"${key}" must be a non-empty string`);
    return value;
  }

  number(key: string, rule: "positive" | "nonNegative", fallback?: number): number {
    const value = this.entry[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      this.fail(`"${key}" is required`);
    }
    const ok = typeof value === "number" && Number.isFinite(value) && (rule === "positive" ? value > 0 : value >= 0);
    if (!ok) this.fail(`"${key}" must be a ${rule === "positive" ? "positive" : "non-negative"} number, got ${JSON.stringify(value)}`);
    return value as number;
  }

  enumValue<T extends string>(key: string, enumName: EnumName, fallback?: T): T {
    const text = this.string(key, fallback);
    const member = enumValueByName(enumName, text) ?? enumValueByName(enumName, enumMemberByValue(enumName, text) ?? "");
    if (member === undefined) this.fail(`"${key}" is not a ${enumName}: ${JSON.stringify(text)}`);
    return member as T;
  }

  datetime(key: string): DateTime {
    const text = this.string(key);
    try {
      return DateTime.parse(text, CHINA_TZ);
    } catch {
      this.fail(`"${key}" is not an ISO date or datetime: ${JSON.stringify(text)}`);
    }
  }
}

/** Builds one spec from a JSON entry (the contracts-file format), applying defaults by product. */
export function parseContractSpec(entry: unknown, where = "contract"): SimContractSpec {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw new SimError("ERR_SIM_CONTRACTS", `${where}: not a JSON object`);
  }
  const json = entry as Json;
  const label = typeof json.symbol === "string" ? `${where} (${json.symbol})` : where;
  const r = new EntryReader(json, label);
  const product = r.enumValue<Product>("product", "Product", Product.FUTURES);
  const min_volume = r.number("min_volume", "positive", 1);
  const d = defaultsFor(product, min_volume);
  const max_volume = r.has("max_volume") ? r.number("max_volume", "positive") : null;
  if (max_volume !== null && max_volume < min_volume) r.fail(`"max_volume" ${max_volume} is below "min_volume" ${min_volume}`);

  let option: SimOptionSpec | null = null;
  if (product === Product.OPTION) {
    const strike = r.number("option_strike", "positive");
    option = {
      underlying: r.string("option_underlying"),
      type: r.enumValue<OptionType>("option_type", "OptionType"),
      strike,
      expiry: r.datetime("option_expiry"),
      listed: r.has("option_listed") ? r.datetime("option_listed") : null,
      portfolio: r.string("option_portfolio", r.string("symbol").replace(/\d.*$/, "") || "OPTION"),
      index: r.string("option_index", String(strike)),
    };
  }

  return {
    symbol: r.string("symbol"),
    exchange: r.enumValue<Exchange>("exchange", "Exchange"),
    name: r.string("name", r.string("symbol")),
    product,
    size: r.number("size", "positive"),
    pricetick: r.number("pricetick", "positive"),
    min_volume,
    max_volume,
    price: option ? r.number("price", "nonNegative", 0) : r.number("price", "positive"),
    margin_rate: r.number("margin_rate", "positive", d.margin_rate),
    commission_rate: r.number("commission_rate", "nonNegative", d.commission_rate),
    commission_per_lot: r.number("commission_per_lot", "nonNegative", d.commission_per_lot),
    volatility: r.number("volatility", "positive", d.volatility),
    limit_pct: r.number("limit_pct", "positive", d.limit_pct),
    depth: r.number("depth", "positive", d.depth),
    daily_volume: r.number("daily_volume", "nonNegative", d.daily_volume),
    open_interest: r.number("open_interest", "nonNegative", d.open_interest),
    option,
  };
}

/**
 * Builds a universe from JSON: an array of entries, or `{ "contracts": [...] }`. Checks that vt_symbols are
 * unique and that every option's underlying is a non-option contract of the same universe. An entry:
 *
 *     { "symbol": "rb2505", "exchange": "SHFE", "name": "螺纹钢2505", "product": "FUTURES",
 *       "size": 10, "pricetick": 1, "min_volume": 1, "max_volume": 500, "price": 3500,
 *       "margin_rate": 0.1, "commission_rate": 0.0001, "commission_per_lot": 0,
 *       "volatility": 0.2, "limit_pct": 0.07, "depth": 300, "daily_volume": 1000000, "open_interest": 1800000 }
 *
 * symbol, exchange, size, pricetick and price (not for options) are required; the rest default by product.
 * Options add option_underlying (a vt_symbol), option_type (CALL/PUT), option_strike and option_expiry (ISO;
 * a naive time is Shanghai time), and optionally option_listed, option_portfolio, option_index. Enums are
 * given by member name (FUTURES) or by VeighNa value (期货).
 */
export function parseContractSpecs(value: unknown, source = "contracts"): SimContractSpec[] {
  const list = Array.isArray(value) ? value : (value as { contracts?: unknown } | null)?.contracts;
  if (!Array.isArray(list)) throw new SimError("ERR_SIM_CONTRACTS", `${source}: expected an array of contracts or {"contracts": [...]}`);
  const specs = list.map((entry, i) => parseContractSpec(entry, `${source}: entry ${i}`));
  checkUniverse(specs, source);
  return specs;
}

export function checkUniverse(specs: readonly SimContractSpec[], source = "contracts"): void {
  const byVtSymbol = new Map<string, SimContractSpec>();
  for (const spec of specs) {
    const vt = specVtSymbol(spec);
    if (byVtSymbol.has(vt)) throw new SimError("ERR_SIM_CONTRACTS", `${source}: ${vt} is listed twice`);
    byVtSymbol.set(vt, spec);
  }
  for (const spec of specs) {
    if (!spec.option) continue;
    const underlying = byVtSymbol.get(spec.option.underlying);
    if (!underlying || underlying.option) {
      throw new SimError(
        "ERR_SIM_CONTRACTS",
        `${source}: option ${specVtSymbol(spec)} has no underlying ${spec.option.underlying} (a non-option contract of the same file)`,
      );
    }
  }
}

/** Reads a contracts file (see `parseContractSpecs` for the format). */
export function loadContractsFile(path: string): SimContractSpec[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SimError("ERR_SIM_CONTRACTS", `cannot read contracts file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SimError("ERR_SIM_CONTRACTS", `${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseContractSpecs(json, path);
}

/** The JSON form of a spec (the contracts-file format): enums by member name, datetimes in ISO 8601. */
export function specToJson(spec: SimContractSpec): Record<string, unknown> {
  const json: Record<string, unknown> = {
    symbol: spec.symbol,
    exchange: spec.exchange,
    name: spec.name,
    product: enumMemberByValue("Product", spec.product),
    size: spec.size,
    pricetick: spec.pricetick,
    min_volume: spec.min_volume,
    max_volume: spec.max_volume,
    price: spec.price,
    margin_rate: spec.margin_rate,
    commission_rate: spec.commission_rate,
    commission_per_lot: spec.commission_per_lot,
    volatility: spec.volatility,
    limit_pct: spec.limit_pct,
    depth: spec.depth,
    daily_volume: spec.daily_volume,
    open_interest: spec.open_interest,
  };
  const option = spec.option;
  if (option) {
    json.option_underlying = option.underlying;
    json.option_type = enumMemberByValue("OptionType", option.type);
    json.option_strike = option.strike;
    json.option_expiry = option.expiry.toISOString();
    if (option.listed) json.option_listed = option.listed.toISOString();
    json.option_portfolio = option.portfolio;
    json.option_index = option.index;
  }
  return json;
}

/**
 * The ccxt gateway's connect settings: defaults, validation once at connect, keys from the setting or the
 * environment. A server reads them from a gateway file of kind `ccxt` (src/gateways/kinds/ccxt.ts).
 */
import { settingReaders, type GatewaySetting, type SettingValue } from "../kernel/index.js";
import { CcxtError } from "./errors.js";

/** The market types the gateway trades: spot pairs and linear perpetual swaps. */
export type CcxtMarketType = "spot" | "swap";
export const MARKET_TYPES: readonly CcxtMarketType[] = ["spot", "swap"];

export interface CcxtSettings {
  /** ccxt's exchange id, e.g. "binance", "okx", "bybit". */
  readonly exchange: string;
  /** Credentials, resolved from the setting or its `*_env` variable; never logged. "" when absent. */
  readonly apiKey: string;
  readonly secret: string;
  readonly password: string;
  /** The exchange's test network (`setSandboxMode(true)`). */
  readonly sandbox: boolean;
  readonly marketTypes: readonly CcxtMarketType[];
  /** ccxt symbols to load as contracts; empty: every active market of `marketTypes`. */
  readonly symbols: readonly string[];
  /** Extra ccxt options (`new Exchange({ options })`), e.g. `{ "fetchCurrencies": false }`. */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * Rewrites every REST and WebSocket URL of the exchange to `<origin>/<original host[:port]><original path>`,
   * so one local server (the tests' exchange double, a recording proxy) stands for all of the exchange's hosts.
   * "" leaves the URLs alone.
   */
  readonly apiOrigin: string;
  /** Use ccxt's WebSocket (`watch*`) methods where the exchange has them; false: REST polling only. */
  readonly websocket: boolean;
  /** Every LIMIT order maker-only (else only those whose reference says `post_only`). */
  readonly postOnly: boolean;
  /** Polling period of tickers, books and (without order streams) orders where there is no WebSocket feed. */
  readonly pollMs: number;
  /** Period of the REST reconciliation of open orders and fills (it also runs after every reconnect). */
  readonly reconcileMs: number;
}

/** What `connect` accepts; every value also accepts its text form (settings typed into a UI arrive as text). */
export const CCXT_DEFAULT_SETTING: Readonly<GatewaySetting> = Object.freeze({
  exchange: "binance",
  api_key: "",
  secret: "",
  password: "",
  api_key_env: "CCXT_API_KEY",
  secret_env: "CCXT_SECRET",
  password_env: "CCXT_PASSWORD",
  sandbox: false,
  market_types: ["spot", "swap"],
  symbols: [],
  options: "{}",
  api_origin: "",
  websocket: true,
  post_only: false,
  poll_ms: 1000,
  reconcile_seconds: 30,
});

function fail(key: string, message: string): never {
  throw new CcxtError("ERR_CCXT_SETTING", `ccxt setting "${key}" ${message}`);
}

const { string: stringOf, number: numberOf, boolean: booleanOf } = settingReaders(fail);

/** A list, or a comma-separated string of one. */
function listOf(key: string, value: SettingValue): string[] {
  if (Array.isArray(value)) return value.map((item) => stringOf(key, item).trim()).filter((item) => item !== "");
  if (typeof value === "string") return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
  fail(key, `must be a list of strings, got ${JSON.stringify(value)}`);
}

/** The setting's own value, else the named environment variable's, else "". */
function credential(merged: GatewaySetting, key: string, env: Readonly<Record<string, string | undefined>>): string {
  const own = stringOf(key, merged[key]!);
  if (own !== "") return own;
  const variable = stringOf(`${key}_env`, merged[`${key}_env`]!);
  return variable === "" ? "" : (env[variable] ?? "");
}

/** Merges `setting` over the defaults and checks every key; unknown keys are errors (they are usually typos). */
export function parseCcxtSetting(
  setting: Readonly<Partial<GatewaySetting>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CcxtSettings {
  for (const key of Object.keys(setting)) {
    if (!(key in CCXT_DEFAULT_SETTING)) fail(key, `is unknown; known settings: ${Object.keys(CCXT_DEFAULT_SETTING).join(", ")}`);
  }
  const merged = { ...CCXT_DEFAULT_SETTING, ...setting } as GatewaySetting;
  const exchange = stringOf("exchange", merged.exchange!).trim();
  if (!/^[a-z0-9]+$/.test(exchange)) fail("exchange", `must be a ccxt exchange id such as "binance", got ${JSON.stringify(exchange)}`);
  const marketTypes = listOf("market_types", merged.market_types!);
  if (marketTypes.length === 0) fail("market_types", `must name at least one of ${MARKET_TYPES.join(", ")}`);
  for (const type of marketTypes) {
    if (!MARKET_TYPES.includes(type as CcxtMarketType)) fail("market_types", `has ${JSON.stringify(type)}; known: ${MARKET_TYPES.join(", ")}`);
  }
  let options: unknown = merged.options;
  // A JSON text (a setting typed into a form), or the object itself (a gateway file).
  if (typeof options === "string") {
    try {
      options = JSON.parse(options || "{}");
    } catch (error) {
      fail("options", `must be a JSON object: ${(error as Error).message}`);
    }
  }
  if (options === null || typeof options !== "object" || Array.isArray(options)) fail("options", "must be a JSON object");
  const apiOrigin = stringOf("api_origin", merged.api_origin!).replace(/\/+$/, "");
  if (apiOrigin !== "" && !/^https?:\/\/[^/]+$/.test(apiOrigin)) fail("api_origin", `must be an origin such as http://127.0.0.1:8443, got ${JSON.stringify(apiOrigin)}`);
  const pollMs = numberOf("poll_ms", merged.poll_ms!);
  if (!(pollMs >= 50)) fail("poll_ms", `must be at least 50, got ${pollMs}`);
  const reconcileSeconds = numberOf("reconcile_seconds", merged.reconcile_seconds!);
  if (!(reconcileSeconds >= 1)) fail("reconcile_seconds", `must be at least 1, got ${reconcileSeconds}`);
  return {
    exchange,
    apiKey: credential(merged, "api_key", env),
    secret: credential(merged, "secret", env),
    password: credential(merged, "password", env),
    sandbox: booleanOf("sandbox", merged.sandbox!),
    marketTypes: [...new Set(marketTypes as CcxtMarketType[])],
    symbols: listOf("symbols", merged.symbols!),
    options: options as Record<string, unknown>,
    apiOrigin,
    websocket: booleanOf("websocket", merged.websocket!),
    postOnly: booleanOf("post_only", merged.post_only!),
    pollMs,
    reconcileMs: reconcileSeconds * 1000,
  };
}

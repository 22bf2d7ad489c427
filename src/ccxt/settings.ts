/**
 * The ccxt gateway's connect settings: defaults, validation once at connect, keys from the setting or the
 * environment. A server reads them from a gateway file of kind `ccxt` (src/gateways/kinds/ccxt.ts).
 */
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parseSettings, type GatewaySetting } from "../kernel/index.js";
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

const text = (value: string) => Type.String({ default: value });
/** A list, or its comma-separated text (a setting typed into a form). */
const list = (value: readonly string[]) => Type.Union([Type.Array(Type.String()), Type.String()], { default: value });

/**
 * What `connect` accepts (and a gateway file of kind `ccxt`), with the defaults; closed, as every settings schema.
 * Numbers and booleans also take their text form; ranges and shapes beyond the schema are checked below.
 */
export const CcxtSettingSchema = Type.Object(
  {
    exchange: Type.String({ default: "binance", pattern: "^\\s*[a-z0-9]+\\s*$", errorMessage: 'must be a ccxt exchange id such as "binance"' }),
    api_key: text(""),
    secret: text(""),
    password: text(""),
    api_key_env: text("CCXT_API_KEY"),
    secret_env: text("CCXT_SECRET"),
    password_env: text("CCXT_PASSWORD"),
    sandbox: Type.Boolean({ default: false }),
    market_types: list(["spot", "swap"]),
    symbols: list([]),
    // A JSON text (a setting typed into a form), or the object itself (a gateway file).
    options: Type.Union([Type.String(), Type.Object({})], { default: "{}" }),
    api_origin: text(""),
    websocket: Type.Boolean({ default: true }),
    post_only: Type.Boolean({ default: false }),
    poll_ms: Type.Number({ default: 1000, minimum: 50, errorMessage: "must be at least 50" }),
    reconcile_seconds: Type.Number({ default: 30, minimum: 1, errorMessage: "must be at least 1" }),
  },
  { additionalProperties: false },
);
export const CCXT_SECRETS: readonly string[] = ["api_key", "secret", "password"];

export const CCXT_DEFAULT_SETTING: Readonly<GatewaySetting> = Object.freeze(Value.Create(CcxtSettingSchema) as GatewaySetting);

function fail(key: string, message: string): never {
  throw new CcxtError("ERR_CCXT_SETTING", `ccxt setting "${key}" ${message}`);
}

/** A list, or a comma-separated string of one. */
function listOf(value: readonly string[] | string): string[] {
  return (typeof value === "string" ? value.split(",") : value).map((item) => item.trim()).filter((item) => item !== "");
}

/** The setting's own value, else the named environment variable's, else "". */
function credential(own: string, variable: string, env: Readonly<Record<string, string | undefined>>): string {
  if (own !== "") return own;
  return variable === "" ? "" : (env[variable] ?? "");
}

/** Merges `setting` over the defaults and checks every key once (parseSettings), then what a schema cannot say. */
export function parseCcxtSetting(
  setting: Readonly<Partial<GatewaySetting>>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CcxtSettings {
  const merged = parseSettings(CcxtSettingSchema, setting, "ccxt setting", (message) => new CcxtError("ERR_CCXT_SETTING", message), {
    text: true,
    secrets: CCXT_SECRETS,
  });
  const exchange = merged.exchange.trim();
  const marketTypes = listOf(merged.market_types);
  if (marketTypes.length === 0) fail("market_types", `must name at least one of ${MARKET_TYPES.join(", ")}`);
  for (const type of marketTypes) {
    if (!MARKET_TYPES.includes(type as CcxtMarketType)) fail("market_types", `has ${JSON.stringify(type)}; known: ${MARKET_TYPES.join(", ")}`);
  }
  let options: unknown = merged.options;
  if (typeof options === "string") {
    try {
      options = JSON.parse(options || "{}");
    } catch (error) {
      fail("options", `must be a JSON object: ${(error as Error).message}`);
    }
  }
  if (options === null || typeof options !== "object" || Array.isArray(options)) fail("options", "must be a JSON object");
  const apiOrigin = merged.api_origin.replace(/\/+$/, "");
  if (apiOrigin !== "" && !/^https?:\/\/[^/]+$/.test(apiOrigin)) fail("api_origin", `must be an origin such as http://127.0.0.1:8443, got ${JSON.stringify(apiOrigin)}`);
  const pollMs = merged.poll_ms;
  const reconcileSeconds = merged.reconcile_seconds;
  return {
    exchange,
    apiKey: credential(merged.api_key, merged.api_key_env, env),
    secret: credential(merged.secret, merged.secret_env, env),
    password: credential(merged.password, merged.password_env, env),
    sandbox: merged.sandbox,
    marketTypes: [...new Set(marketTypes as CcxtMarketType[])],
    symbols: listOf(merged.symbols),
    options: options as Record<string, unknown>,
    apiOrigin,
    websocket: merged.websocket,
    postOnly: merged.post_only,
    pollMs,
    reconcileMs: reconcileSeconds * 1000,
  };
}

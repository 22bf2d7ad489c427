/** The SIM gateway's connect settings: defaults, and validation once, at connect. */
import { settingReaders, type GatewaySetting } from "../kernel/index.js";
import { SimError } from "./errors.js";

export interface SimSettings {
  /** Folder of the venue's database (`sim.db`); ":memory:" keeps nothing across restarts. */
  readonly data_dir: string;
  /** JSON file of contracts to trade instead of the built-in universe; "" for the built-in one. */
  readonly contracts_file: string;
  /** Ticks per second per subscribed contract, 0.1 to 10,000. */
  readonly ticks_per_second: number;
  /** Seeds every price path: the same seed gives the same market at the same instant. */
  readonly seed: number;
  /** Starting balance of a new account (an existing account keeps its own). */
  readonly capital: number;
  readonly accountid: string;
  /** Survive power loss as well as crashes: synchronous=FULL, one fsync per commit. */
  readonly fsync: boolean;
}

export const SIM_DEFAULT_SETTING: Readonly<GatewaySetting> = Object.freeze({
  data_dir: ".rpcservice/sim",
  contracts_file: "",
  ticks_per_second: 2,
  seed: 1,
  capital: 1_000_000,
  accountid: "SIM001",
  fsync: false,
});

export const MAX_TICKS_PER_SECOND = 10_000;

function fail(key: string, message: string): never {
  throw new SimError("ERR_SIM_SETTING", `SIM setting "${key}" ${message}`);
}

const { string: stringOf, number: numberOf, boolean: booleanOf } = settingReaders(fail);

/** Merges `setting` over the defaults and checks every key; unknown keys are errors (they are usually typos). */
export function parseSimSetting(setting: Readonly<Partial<GatewaySetting>>): SimSettings {
  for (const key of Object.keys(setting)) {
    if (!(key in SIM_DEFAULT_SETTING)) fail(key, `is unknown; known settings: ${Object.keys(SIM_DEFAULT_SETTING).join(", ")}`);
  }
  const merged = { ...SIM_DEFAULT_SETTING, ...setting } as GatewaySetting;
  const data_dir = stringOf("data_dir", merged.data_dir!);
  if (data_dir === "") fail("data_dir", "must name a folder (or \":memory:\")");
  const ticks_per_second = numberOf("ticks_per_second", merged.ticks_per_second!);
  if (!(ticks_per_second >= 0.1 && ticks_per_second <= MAX_TICKS_PER_SECOND)) {
    fail("ticks_per_second", `must be between 0.1 and ${MAX_TICKS_PER_SECOND}, got ${ticks_per_second}`);
  }
  const seed = numberOf("seed", merged.seed!);
  if (!Number.isSafeInteger(seed)) fail("seed", `must be an integer, got ${seed}`);
  const capital = numberOf("capital", merged.capital!);
  if (!(capital > 0)) fail("capital", `must be positive, got ${capital}`);
  const accountid = stringOf("accountid", merged.accountid!);
  if (accountid === "") fail("accountid", "must not be empty");
  return {
    data_dir,
    contracts_file: stringOf("contracts_file", merged.contracts_file!),
    ticks_per_second,
    seed,
    capital,
    accountid,
    fsync: booleanOf("fsync", merged.fsync!),
  };
}

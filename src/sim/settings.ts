/** The SIM gateway's connect settings: defaults, and validation once, at connect. */
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parseSettings, type GatewaySetting } from "../kernel/index.js";
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

export const MAX_TICKS_PER_SECOND = 10_000;

/** The settings `connect` takes, their defaults and bounds; unknown keys are refused (they are usually typos). */
export const SimSettingSchema = Type.Object(
  {
    data_dir: Type.String({ default: ".rpcservice/sim", minLength: 1, errorMessage: 'must name a folder (or ":memory:")' }),
    contracts_file: Type.String({ default: "" }),
    ticks_per_second: Type.Number({
      default: 2,
      minimum: 0.1,
      maximum: MAX_TICKS_PER_SECOND,
      errorMessage: `must be between 0.1 and ${MAX_TICKS_PER_SECOND}`,
    }),
    seed: Type.Integer({ default: 1, minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, errorMessage: "must be an integer" }),
    capital: Type.Number({ default: 1_000_000, exclusiveMinimum: 0, errorMessage: "must be a positive number" }),
    accountid: Type.String({ default: "SIM001", minLength: 1, errorMessage: "must not be empty" }),
    fsync: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export const SIM_DEFAULT_SETTING: Readonly<GatewaySetting> = Object.freeze(Value.Create(SimSettingSchema));

/** Merges `setting` over the defaults and checks every key once (parseSettings); text forms are accepted. */
export function parseSimSetting(setting: Readonly<Partial<GatewaySetting>>): SimSettings {
  return parseSettings(SimSettingSchema, setting, "SIM setting", (message) => new SimError("ERR_SIM_SETTING", message), { text: true });
}

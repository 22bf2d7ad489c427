/** RiskManagerApp: the risk engine as an app for `MainEngine.addApp`, with defaults or with options. */
import type { AppClass, EventEngine, MainEngine } from "../kernel/index.js";
import { RiskEngine, RISK_ENGINE_NAME, type RiskEngineOptions } from "./engine.js";

export const RISK_APP_NAME = RISK_ENGINE_NAME;

/** The app with these options (a test clock, another rules folder, another set of rules). */
export function riskManagerApp(options: RiskEngineOptions = {}): AppClass<RiskEngine> {
  if (options.now !== undefined && typeof options.now !== "function") throw new TypeError("options.now must be a function");
  if (options.rules !== undefined && typeof options.rules !== "function") throw new TypeError("options.rules must be a function returning rules");
  const frozen = Object.freeze({ ...options });
  class ConfiguredRiskEngine extends RiskEngine {
    constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
      super(mainEngine, eventEngine, frozen);
    }
  }
  return Object.freeze({ appName: RISK_APP_NAME, displayName: "Risk manager", engineClass: ConfiguredRiskEngine });
}

/** The app with the safe defaults: every built-in rule active with the spec's limits, trading state ACTIVE. */
export const RiskManagerApp: AppClass<RiskEngine> = riskManagerApp();

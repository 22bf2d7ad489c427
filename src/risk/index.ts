/** Server-side pre-trade risk control: the engine, its app, the rule contract and the built-in rules. */
export { RiskManagerApp, riskManagerApp, RISK_APP_NAME } from "./app.js";
export {
  RiskEngine,
  RISK_CHECK_PRIORITY,
  RISK_ENGINE_NAME,
  RISK_SETTING_FILENAME,
  type RiskEngineOptions,
  type RiskParameterDescription,
  type RiskRuleDescription,
} from "./engine.js";
export { RiskError, type RiskErrorCode } from "./errors.js";
export { EVENT_RISK_NOTIFY, EVENT_RISK_RULE } from "./events.js";
export { RISK_RULE_KIT, type RiskRuleKit } from "./loader.js";
export { OwnOrders } from "./own-orders.js";
export { labelText, type Label, type ParameterSpec, type ParameterSpecs, type ParameterValue, type VariableSpecs } from "./parameters.js";
export { DEFAULT_RULE_PRIORITY, RiskRule, blockMessages, type BlockRenderer, type RiskRuleClass, type RiskRuleData, type RuleBlock, type RuleHost, type RuleVerdict } from "./rule.js";
export * from "./rules/index.js";
export { TimeRing } from "./time-ring.js";
export { TradingDayBoundary } from "./trading-day.js";

/** The risk manager's event types (vnpy_riskmanager 2.0); the RPC layer broadcasts them like every event. */
import type { RiskRuleData } from "./rule.js";

/** A rule's state changed; data: the rule's `RiskRuleData` dict. */
export const EVENT_RISK_RULE = "eRiskRule";

/** An order was blocked; data: the message (a string), as VeighNa puts it. */
export const EVENT_RISK_NOTIFY = "eRiskNotify";

declare module "../kernel/event-types.js" {
  interface EventMap {
    eRiskRule: RiskRuleData;
    eRiskNotify: string;
  }
}

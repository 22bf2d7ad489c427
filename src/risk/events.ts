/** The risk manager's event types (vnpy_riskmanager 2.0); the RPC layer broadcasts them like every event. */

/** A rule's state changed; data: the rule's `RiskRuleData` dict. */
export const EVENT_RISK_RULE = "eRiskRule";

/** An order was blocked; data: the message (a string), as VeighNa puts it. */
export const EVENT_RISK_NOTIFY = "eRiskNotify";

/** Typed errors of the risk layer: callers (command line, console, RPC) tell them apart by `code`. */

export type RiskErrorCode =
  /** `updateRule` named no loaded rule. */
  | "ERR_RISK_UNKNOWN_RULE"
  /** A setting or update named a parameter the rule does not have. */
  | "ERR_RISK_UNKNOWN_PARAMETER"
  /** A parameter value of the wrong type or out of range. */
  | "ERR_RISK_INVALID_PARAMETER"
  /** A rule class that cannot be used (no name, a name already taken, a broken declaration). */
  | "ERR_RISK_INVALID_RULE"
  /** A rule used before the engine attached it. */
  | "ERR_RISK_RULE_DETACHED";

export class RiskError extends Error {
  readonly code: RiskErrorCode;

  constructor(code: RiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RiskError";
    this.code = code;
  }
}

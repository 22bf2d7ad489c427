/**
 * Gateway configuration and management: which venues a server runs (gateway files in the home folder and
 * `serve` flags), their kinds, their connection states, connect/disconnect. Above `sim`, `ccxt` and `service`, whose
 * gateways it configures; below `console` and `cli`.
 */
export { GatewayConfigError, GatewayManagerError } from "./errors.js";
export { MASK, maskSetting, secretValues, type GatewayKind, type GatewayState, type StateReport } from "./kind.js";
export { BUILTIN_KINDS, ccxtKind, rpcKind, simKind } from "./kinds/index.js";
export {
  GATEWAY_FILE_PATTERN,
  GatewayKinds,
  loadGatewayFiles,
  planGateways,
  type GatewayConfig,
  type GatewayPlanOptions,
  type UpstreamFlags,
} from "./config.js";
export { EVENT_GATEWAY_STATE } from "../kernel/index.js";
export {
  GATEWAY_CHECK_PRIORITY,
  GATEWAY_MANAGER_NAME,
  GatewayEngine,
  GatewayManagerApp,
  type GatewayStatus,
} from "./manager.js";

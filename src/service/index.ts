/** The RPC service app (server side) and the RPC gateway (client side). */
export {
  APP_NAME,
  DEFAULT_PUB_ADDRESS,
  DEFAULT_REP_ADDRESS,
  EVENT_RPC_LOG,
  RPC_SETTING_FILENAME,
  RpcEngine,
  RpcServiceApp,
  isLocalAddress,
  type CancelPolicy,
  type RpcServiceSetting,
  type RpcStartOptions,
  type NatsServeOptions,
  type NatsStatus,
  type NatsStreamSetting,
} from "./rpc-engine.js";
export {
  AUTHORIZED_CLIENTS_FILE,
  KeyFileError,
  SERVER_KEY_FILE,
  DEFAULT_KEY_ROLE,
  authorizeClient,
  isKeyFileExposed,
  loadOrCreateServerKeys,
  readAuthorizedClientEntries,
  readAuthorizedClients,
  readKeyFile,
  revokeClient,
  writeKeyFile,
  type AuthorizedClient,
  type KeyFileErrorCode,
  type ServerKeys,
} from "./curve-keys.js";
export { ROLES, PERMISSIONS, definePermission, isRole, permissionFor, permissionsOf, roleAllows, isStateChanging, type Permission, type Role } from "./roles.js";
export { AUDIT_FILENAME, AuditError, AuditTrail, auditText, type AuditEntry, type AuditOutcome, type AuditQuery, type AuditRow } from "./audit.js";
export { AccessControl, DEFAULT_ACCESS, type AccessSettings, type Caller } from "./access.js";
export { ClientLimits, DEFAULT_CLIENT_LIMITS, parseClientLimits, type ClientLimitSettings } from "./limits.js";
export {
  CONSOLE_USERS_FILE,
  ConsoleUserError,
  ConsoleUsers,
  SHARED_TOKEN_USER,
  addConsoleUser,
  readConsoleUsers,
  removeConsoleUser,
  type ConsoleUser,
} from "./console-users.js";
export { ClientKeyFile } from "./client-keys.js";
export {
  GatewayNotReadyError,
  ResyncMachine,
  type ResyncCause,
  type ResyncOptions,
  type SyncState,
  type SyncStatus,
} from "./resync.js";
export {
  DEFAULT_READY_TIMEOUT,
  EVENT_RPC_CONNECTION,
  KEY_FILE_KEY,
  REQ_ADDRESS_KEY,
  SERVER_KEY_KEY,
  RpcGateway,
  RpcGatewaySettingSchema,
  RPC_GATEWAY_SECRETS,
  SUB_ADDRESS_KEY,
  splitVtId,
  type NamespaceMode,
  type RpcConnectionStatus,
} from "./rpc-gateway.js";

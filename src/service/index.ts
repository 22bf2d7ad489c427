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
} from "./rpc-engine.js";
export {
  AUTHORIZED_CLIENTS_FILE,
  KeyFileError,
  SERVER_KEY_FILE,
  authorizeClient,
  isKeyFileExposed,
  loadOrCreateServerKeys,
  readAuthorizedClients,
  readKeyFile,
  writeKeyFile,
  type KeyFileErrorCode,
  type ServerKeys,
} from "./curve-keys.js";
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
  SUB_ADDRESS_KEY,
  splitVtId,
  type NamespaceMode,
  type RpcConnectionStatus,
} from "./rpc-gateway.js";

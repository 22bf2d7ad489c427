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
  EVENT_RPC_CONNECTION,
  REQ_ADDRESS_KEY,
  RpcGateway,
  SUB_ADDRESS_KEY,
  splitVtId,
  type NamespaceMode,
  type RpcConnectionStatus,
} from "./rpc-gateway.js";

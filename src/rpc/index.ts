/** The RPC layer: VeighNa-compatible server and client over ZeroMQ, behind a transport-neutral endpoint seam. */
export * from "./endpoint.js";
export * from "./errors.js";
export { RpcServer, type RpcFunctionSpec, type RpcHandler, type RpcServerOptions, type ServerLog } from "./server.js";
export { bindArguments, instanceOf, nullable, str, type ArgType, type Param } from "./signature.js";
export {
  RpcClient,
  DEFAULT_CALL_TIMEOUT,
  type CallOptions,
  type CallResult,
  type ConnectionState,
  type ResyncReason,
  type RpcClientCurve,
  type RpcClientEvents,
  type RpcClientOptions,
  type ServerKind,
  type StreamEvent,
} from "./client.js";
export {
  ZmqEndpoint,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_MAX_REQUEST_BYTES,
  EVENT_RPC_SKIPPED,
  isCurveKey,
  type ZmqCurveOptions,
  type ZmqEndpointOptions,
} from "./zmq-endpoint.js";
export { HELLO_FUNCTION, PROTOCOL_VERSION, type HelloInfo } from "./protocol.js";
export type {
  ClientSocketOptions,
  CurveClientSecurity,
  CurveServerSecurity,
  Refusal,
  ServerSocketOptions,
  Transport,
  TransportKind,
} from "./transport.js";
export { DEFAULT_TRANSPORT, resolveTransport } from "./transports.js";
export * from "./ws/index.js";
export * from "./nats/index.js";

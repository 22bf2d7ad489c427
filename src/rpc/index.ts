/** The RPC layer: VeighNa-compatible server and client over ZeroMQ, behind a transport-neutral endpoint seam. */
export * from "./endpoint.js";
export * from "./errors.js";
export { runGated, type CallGate, type CallOutcome, type CallPass, type GatedCall } from "./gate.js";
export { DEFAULT_HEAVY_CONCURRENCY, RpcServer, type StreamFilter, type RpcFunctionOptions, type RpcFunctionSpec, type RpcHandler, type RpcServerOptions, type ServerLog } from "./server.js";
export { FairQueue } from "./fair-queue.js";
export { bindArguments, instanceOf, nullable, str, type ArgType, type Param } from "./signature.js";
export type {
  CallOptions,
  CallResult,
  ConnectionState,
  ResyncReason,
  RpcCaller,
  RpcCallerEvents,
  ServerKind,
  StreamEvent,
} from "./caller.js";
export { CallTable, armDeadline, type CallTableOptions, type PendingCall } from "./call-table.js";
export { LockStepQueue, type LockStepWire } from "./lock-step.js";
export { StreamTracker, type StreamVerdict } from "./stream-tracker.js";
export { ConnectionStateMachine } from "./connection-state.js";
export { RpcClient, DEFAULT_CALL_TIMEOUT, type RpcClientCurve, type RpcClientEvents, type RpcClientOptions } from "./client.js";
export {
  ZmqEndpoint,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_PUBLISH_MAX_LAG,
  EVENT_RPC_SKIPPED,
  type ClientKeyDirectory,
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
export { DEFAULT_PUBLISH_QUEUE } from "./transport.js";
export { DEFAULT_TRANSPORT, resolveTransport } from "./transports.js";
export * from "./ws/index.js";
export * from "./nats/index.js";
/** Kept here too: callers of the RPC layer check CURVE keys without importing the transport. */
export { isCurveKey } from "../zmtp/index.js";

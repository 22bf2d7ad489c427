/** NATS: the endpoint that serves calls and events over a NATS cluster (JetStream history), and its client. */
export * from "./subjects.js";
export { parseNatsServers, type NatsAuthOptions, type NatsConnectOptions } from "./connection.js";
export {
  NatsEndpoint,
  NATS_SERVICE_NAME,
  PERSISTED_EVENT_TYPES,
  type NatsEndpointOptions,
  type NatsStreamLimits,
  type NatsStreamState,
} from "./endpoint.js";
export { NatsRpcClient, DEFAULT_NATS_CALL_TIMEOUT, type NatsRpcClientOptions } from "./client.js";
export { natsPermissions, READ_ONLY_FUNCTIONS, type NatsPermissions, type NatsRole } from "./permissions.js";

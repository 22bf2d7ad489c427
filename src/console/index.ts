/** The web console and the native WebSocket endpoint (its wire and client are in src/rpc/ws). */
export * from "./errors.js";
export * from "../rpc/ws/json-wire.js";
export * from "../rpc/ws/protocol.js";
export * from "./ring.js";
export * from "./subscription.js";
export * from "./token.js";
export * from "./host-check.js";
export * from "./web-host.js";
export * from "./ws-endpoint.js";
export * from "./metrics.js";
export * from "./metrics-sampler.js";
export * from "./engine.js";
export * from "./day-pnl.js";

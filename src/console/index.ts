/** The web console: its engine, its HTTP host (which serves the WebSocket endpoints of src/rpc/ws) and metrics. */
export * from "./errors.js";
export * from "./token.js";
export * from "./host-check.js";
export * from "./web-host.js";
export * from "./metrics.js";
export * from "./metrics-sampler.js";
export * from "./engine.js";
export * from "./day-pnl.js";

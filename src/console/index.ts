/** The web console and the native WebSocket endpoint: JSON protocol, endpoint, Node client, console app. */
export * from "./errors.js";
export * from "./wire/json-wire.js";
export * from "./wire/protocol.js";
export * from "./ring.js";
export * from "./subscription.js";
export * from "./token.js";
export * from "./web-host.js";
export * from "./ws-endpoint.js";
export * from "./ws-client.js";
export * from "./engine.js";

/** The native WebSocket wire: JSON form of VeighNa's data model, message schemas, the server endpoint and the client. */
export * from "./errors.js";
export * from "./json-wire.js";
export * from "./protocol.js";
export * from "./socket-host.js";
export * from "./ring.js";
export * from "./subscription.js";
export * from "./endpoint.js";
export * from "./client.js";

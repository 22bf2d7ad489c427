/** The native WebSocket wire: JSON form of VeighNa's data model, message schemas, and the client. */
export * from "./errors.js";
export * from "./json-wire.js";
export * from "./protocol.js";
export * from "./client.js";

/** The trading kernel: VeighNa's data model, event engine, gateway contract and main engine. Imports nothing above it. */
export * from "./constants.js";
export * from "./datetime.js";
export * from "./objects.js";
export * from "./bar-series.js";
export * from "./event.js";
export * from "./event-types.js";
export * from "./gateway.js";
export * from "./oms.js";
export * from "./engine.js";
export * from "./metrics.js";
export * from "./locale.js";
export * from "./settings.js";
export * from "./log-text.js";
export * from "./errors.js";
export * from "./slices.js";

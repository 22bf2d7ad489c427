/** rpcservice: the public API. */
export * from "./kernel/index.js";
export * from "./codec/index.js";
export * from "./sim/index.js";
export * from "./rpc/index.js";
export * from "./service/index.js";
export * from "./risk/index.js";
export * from "./console/index.js";

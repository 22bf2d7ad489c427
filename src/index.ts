/** rpcservice: the public API. */
export * from "./kernel/index.js";

/** Picks a transport by name; the default is the one we measured fastest. */
import { RpcError } from "./errors.js";
import type { Transport, TransportKind } from "./transport.js";
import { zeromqTransport } from "./zeromq-transport.js";

export const DEFAULT_TRANSPORT: TransportKind = "zeromq";

export function resolveTransport(transport: TransportKind | Transport | undefined): Transport {
  if (transport !== undefined && typeof transport === "object") return transport;
  switch (transport ?? DEFAULT_TRANSPORT) {
    case "zeromq":
      return zeromqTransport;
    default:
      throw new RpcError("ERR_RPC_OPTIONS", `unknown transport ${JSON.stringify(transport)} (expected "zmtp" or "zeromq")`);
  }
}

/**
 * The gateway kinds a server knows. Adding a venue type is one line here: its GatewayKind (see ../kind.ts).
 */
import type { GatewayKind } from "../kind.js";
import { ccxtKind } from "./ccxt.js";
import { rpcKind } from "./rpc.js";
import { simKind } from "./sim.js";

export const BUILTIN_KINDS: readonly GatewayKind[] = [
  simKind,
  rpcKind,
  ccxtKind,
];

export { ccxtKind, rpcKind, simKind };

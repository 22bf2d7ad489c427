/**
 * `rpc`: another RPC server (ours, or a Python VeighNa trading process's RpcService) as a gateway: the relay.
 * VeighNa's Chinese keys of `connect_rpc.json` are accepted beside the English ones.
 */
import {
  EVENT_RPC_CONNECTION,
  KEY_FILE_KEY,
  RpcGateway,
  RpcGatewaySettingSchema,
  RPC_GATEWAY_SECRETS,
  readKeyFile,
  type RpcConnectionStatus,
} from "../../service/index.js";
import type { GatewayKind } from "../kind.js";

export const rpcKind: GatewayKind = {
  id: "rpc",
  description: "an RPC server: rpcservice or a Python VeighNa RpcService (relay)",
  gatewayClass: RpcGateway,
  setting: RpcGatewaySettingSchema,
  secrets: RPC_GATEWAY_SECRETS,
  // A key file the gateway could not read would leave it "connecting" forever: refuse it at start instead.
  check(setting) {
    for (const field of ["key_file", KEY_FILE_KEY]) {
      const path = setting[field];
      if (typeof path !== "string" || path.trim() === "") continue;
      try {
        readKeyFile(path.trim());
      } catch (error) {
        return { field, message: (error as Error).message };
      }
    }
    return null;
  },
  watch(gateway, eventEngine, report) {
    const handler = (event: { data: RpcConnectionStatus }): void => {
      const status = event.data;
      if (status.gateway_name !== gateway.gatewayName) return;
      // Orders go through only with a snapshot of the server's current run (see SyncStatus.ordersOpen): before it,
      // "connected" and "syncing" count as still connecting.
      if (status.orders_open || status.state === "synced") report("connected", status.state === "synced" ? status.reason : `${status.state}: ${status.reason}`);
      else if (status.state === "connected" || status.state === "syncing") report("connecting", `${status.state}: ${status.reason}`);
      else report(status.state, status.reason);
    };
    eventEngine.register(EVENT_RPC_CONNECTION, handler);
    return () => eventEngine.unregister(EVENT_RPC_CONNECTION, handler);
  },
};

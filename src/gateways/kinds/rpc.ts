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
    // Synced with the server's current run: its contracts are known and its request link is up.
    let synced = false;
    const handler = (event: { data: RpcConnectionStatus }): void => {
      const status = event.data;
      if (status.gateway_name !== gateway.gatewayName) return;
      // Orders go through only once the snapshot is in: "connected" and "syncing" count as still connecting...
      if (status.state === "synced") {
        synced = true;
        report("connected", status.reason);
        return;
      }
      // ...except a resync of the same run's event stream (a socket reconnected, a gap): the request link is up, so
      // an order sent meanwhile goes through and the resync keeps its trade. A new run (restart) must sync first.
      if (synced && status.state === "syncing" && !status.reason.startsWith("restart")) {
        report("connected", `${status.state}: ${status.reason}`);
        return;
      }
      synced = false;
      if (status.state === "connected" || status.state === "syncing") report("connecting", `${status.state}: ${status.reason}`);
      else report(status.state, status.reason);
    };
    eventEngine.register(EVENT_RPC_CONNECTION, handler);
    return () => eventEngine.unregister(EVENT_RPC_CONNECTION, handler);
  },
};

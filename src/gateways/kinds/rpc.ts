/**
 * `rpc`: another RPC server (ours, or a Python VeighNa trading process's RpcService) as a gateway: the relay.
 * VeighNa's Chinese keys of `connect_rpc.json` are accepted beside the English ones.
 */
import { Type } from "@sinclair/typebox";
import {
  EVENT_RPC_CONNECTION,
  KEY_FILE_KEY,
  REQ_ADDRESS_KEY,
  RpcGateway,
  SERVER_KEY_KEY,
  SUB_ADDRESS_KEY,
  readKeyFile,
  type RpcConnectionStatus,
} from "../../service/index.js";
import type { GatewayKind } from "../kind.js";

const text = Type.Optional(Type.String());
/** A CURVE key in Z85: 40 characters of its alphabet. */
const curveKey = Type.Optional(Type.String({ pattern: "^([0-9a-zA-Z.:+=^!/*?&<>()\\[\\]{}@%$#-]{40})?$", errorMessage: "must be a CURVE key: 40 Z85 characters" }));

export const rpcKind: GatewayKind = {
  id: "rpc",
  description: "an RPC server: rpcservice or a Python VeighNa RpcService (relay)",
  gatewayClass: RpcGateway,
  setting: Type.Object(
    {
      req_address: text,
      sub_address: text,
      [REQ_ADDRESS_KEY]: text,
      [SUB_ADDRESS_KEY]: text,
      server_key: curveKey,
      [SERVER_KEY_KEY]: curveKey,
      key_file: text,
      [KEY_FILE_KEY]: text,
      secret_key: curveKey,
      token: text,
      client_name: text,
      transport: Type.Optional(Type.Union([Type.Literal("zmtp"), Type.Literal("zeromq")])),
      namespace: Type.Optional(Type.Union([Type.Literal("auto"), Type.Literal("flat"), Type.Literal("prefixed")])),
      timeout: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      heartbeat_tolerance: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    },
    { additionalProperties: false },
  ),
  secrets: ["secret_key", "token"],
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
    const handler = (event: { data: unknown }): void => {
      const status = event.data as RpcConnectionStatus;
      if (status.gateway_name !== gateway.gatewayName) return;
      // Orders go through only once the snapshot is in: "connected" and "syncing" count as still connecting.
      if (status.state === "synced") report("connected", status.reason);
      else if (status.state === "connected" || status.state === "syncing") report("connecting", `${status.state}: ${status.reason}`);
      else report(status.state, status.reason);
    };
    eventEngine.register(EVENT_RPC_CONNECTION, handler);
    return () => eventEngine.unregister(EVENT_RPC_CONNECTION, handler);
  },
};

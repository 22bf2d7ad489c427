/**
 * `ccxt`: a crypto exchange through ccxt (spot and linear perpetual swaps). The schema fixes keys and types;
 * CcxtGateway checks ranges and resolves keys from the environment. `options` may be a JSON object here.
 */
import { Type } from "@sinclair/typebox";
import { CcxtGateway } from "../../ccxt/index.js";
import type { GatewayKind } from "../kind.js";

const text = Type.Optional(Type.String());

export const ccxtKind: GatewayKind = {
  id: "ccxt",
  description: "a crypto exchange through ccxt (spot, linear perpetual swaps)",
  gatewayClass: CcxtGateway,
  setting: Type.Object(
    {
      exchange: Type.Optional(Type.String({ pattern: "^[a-z0-9]+$", errorMessage: "must be a ccxt exchange id such as binance" })),
      api_key: text,
      secret: text,
      password: text,
      api_key_env: text,
      secret_env: text,
      password_env: text,
      sandbox: Type.Optional(Type.Boolean()),
      market_types: Type.Optional(Type.Array(Type.Union([Type.Literal("spot"), Type.Literal("swap")]), { minItems: 1 })),
      symbols: Type.Optional(Type.Array(Type.String())),
      options: Type.Optional(Type.Union([Type.String(), Type.Object({})])),
      api_origin: text,
      websocket: Type.Optional(Type.Boolean()),
      post_only: Type.Optional(Type.Boolean()),
      poll_ms: Type.Optional(Type.Number({ minimum: 50 })),
      reconcile_seconds: Type.Optional(Type.Number({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  secrets: ["api_key", "secret", "password"],
};

/** `sim`: the embedded simulated exchange. Ranges are SimGateway's own checks; the schema fixes types and keys. */
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { SimGateway } from "../../sim/index.js";
import type { GatewayKind } from "../kind.js";

export const simKind: GatewayKind = {
  id: "sim",
  description: "the embedded simulated exchange",
  gatewayClass: SimGateway,
  setting: Type.Object(
    {
      data_dir: Type.Optional(Type.String({ minLength: 1 })),
      contracts_file: Type.Optional(Type.String()),
      ticks_per_second: Type.Optional(Type.Number()),
      seed: Type.Optional(Type.Integer()),
      capital: Type.Optional(Type.Number()),
      accountid: Type.Optional(Type.String({ minLength: 1 })),
      fsync: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  secrets: [],
  defaults: (home) => ({ data_dir: join(home, "sim") }),
};

/**
 * `ccxt`: a crypto exchange through ccxt (spot and linear perpetual swaps). The schema fixes keys and types;
 * CcxtGateway checks ranges and resolves keys from the environment. `options` may be a JSON object here.
 */
import { CCXT_SECRETS, CcxtGateway, CcxtSettingSchema } from "../../ccxt/index.js";
import type { GatewayKind } from "../kind.js";

export const ccxtKind: GatewayKind = {
  id: "ccxt",
  description: "a crypto exchange through ccxt (spot, linear perpetual swaps)",
  gatewayClass: CcxtGateway,
  setting: CcxtSettingSchema,
  secrets: CCXT_SECRETS,
};

/**
 * Symbols for help texts and the README: taken from the built-in universe at today's date, so an example never
 * names a contract month that has rolled off the list.
 */
import { Exchange, Product } from "../kernel/index.js";
import { SIM_DEFAULT_SETTING, defaultUniverse } from "../sim/index.js";

export interface ExampleContract {
  readonly vt_symbol: string;
  /** A price near the simulated market, on the tick. */
  readonly price: number;
}

/** The front rebar (SHFE, where close today and close yesterday differ) month listed today. */
export function exampleFuture(nowMs = Date.now()): ExampleContract {
  const spec = defaultUniverse(nowMs, Number(SIM_DEFAULT_SETTING["seed"])).find(
    (s) => s.exchange === Exchange.SHFE && s.product === Product.FUTURES && /^rb\d+$/.test(s.symbol),
  );
  if (!spec) return { vt_symbol: "600036.SSE", price: 35 }; // an equity never rolls
  return { vt_symbol: `${spec.symbol}.${spec.exchange}`, price: spec.price };
}

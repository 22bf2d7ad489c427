/**
 * The ccxt gateway's test bench: a MainEngine with CcxtGateway connected either to the local Binance double
 * (always) or to Binance's public testnet (only when CCXT_TESTNET_API_KEY and CCXT_TESTNET_SECRET are set; see
 * README "Trade a crypto exchange").
 */
import { until as waitUntil } from "../helpers/until.js";
import { CcxtGateway } from "../../src/ccxt/index.js";
import { MainEngine, type GatewaySetting, type LogData } from "../../src/kernel/index.js";
import { BinanceDouble, DOUBLE_API_KEY, DOUBLE_SECRET } from "./double/server.js";

export const GATEWAY = "CCXT";

/** The shared `until` with the ccxt tests' argument order. */
export function until(condition: () => boolean, what: string, timeout = 15_000): Promise<void> {
  return waitUntil(condition, timeout, what);
}

export interface Bench {
  readonly engine: MainEngine;
  readonly gateway: CcxtGateway;
  readonly double: BinanceDouble;
  readonly logs: LogData[];
  close(): Promise<void>;
}

/** The double's gateway setting: every Binance URL rewritten to the double, its test keys. */
export function doubleSetting(double: BinanceDouble, extra: GatewaySetting = {}): GatewaySetting {
  return {
    exchange: "binance",
    api_key: DOUBLE_API_KEY,
    secret: DOUBLE_SECRET,
    api_origin: double.origin,
    market_types: ["spot", "swap"],
    options: JSON.stringify({ fetchMarkets: { types: ["spot", "linear"] } }),
    reconcile_seconds: 3600,
    ...extra,
  };
}

/** A double with a BTC/USDT market around 60,000 and funded accounts, and a connected engine. */
export async function startBench(extra: GatewaySetting = {}, prepare?: (double: BinanceDouble) => void): Promise<Bench> {
  const double = await BinanceDouble.start();
  double.venue.deposit("USDT", 100_000);
  double.venue.deposit("BTC", 1);
  double.venue.futuresWallet = 50_000;
  double.venue.setBook("spot", "BTCUSDT", { bids: [[59_990, 1], [59_980, 2], [59_970, 3]], asks: [[60_010, 1], [60_020, 2], [60_030, 3]] });
  double.venue.setBook("futures", "BTCUSDT", { bids: [[59_990, 5]], asks: [[60_010, 5]] });
  prepare?.(double);
  const logs: LogData[] = [];
  const engine = new MainEngine({ logSink: (log) => logs.push(log) });
  const gateway = engine.addGateway(CcxtGateway);
  try {
    await engine.connect(doubleSetting(double, extra), GATEWAY);
  } catch (error) {
    await engine.close();
    await double.stop();
    throw error;
  }
  return {
    engine,
    gateway,
    double,
    logs,
    close: async () => {
      await engine.close();
      await double.stop();
    },
  };
}

/** Shared fixtures of the sim tests: a small universe, a venue on a manual clock, and a sink that records. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AccountData,
  ContractData,
  Direction,
  Offset,
  OrderData,
  OrderRequest,
  OrderType,
  PositionData,
  Status,
  TickData,
  TradeData,
  type Exchange,
} from "../../src/kernel/index.js";
import { ContractModel, type Book } from "../../src/sim/model.js";
import { parseContractSpecs, type SimContractSpec } from "../../src/sim/spec.js";
import { MEMORY_STORE, SimStore } from "../../src/sim/store.js";
import { dayIndexOf, ManualClock } from "../../src/sim/time.js";
import { SimVenue, type VenueSink } from "../../src/sim/venue.js";

/** 2025-03-03 10:00:00 Asia/Shanghai, a Monday. */
export const T0 = Date.UTC(2025, 2, 3, 2, 0, 0);
export const SEED = 7;
export const CAPITAL = 1_000_000;

/** One contract of each kind the venue treats differently. */
export const TEST_CONTRACTS = [
  { symbol: "rb2505", exchange: "SHFE", name: "螺纹钢2505", product: "FUTURES", size: 10, pricetick: 1, price: 3500, margin_rate: 0.1, commission_rate: 0.0001, limit_pct: 0.07, depth: 50, max_volume: 500 },
  { symbol: "m2505", exchange: "DCE", name: "豆粕2505", product: "FUTURES", size: 10, pricetick: 1, price: 3000, margin_rate: 0.08, commission_rate: 0, commission_per_lot: 1.5, limit_pct: 0.06 },
  { symbol: "IF2503", exchange: "CFFEX", name: "沪深300", product: "FUTURES", size: 300, pricetick: 0.2, price: 3900, margin_rate: 0.12, commission_rate: 0.000023, limit_pct: 0.1 },
  { symbol: "600000", exchange: "SSE", name: "浦发银行", product: "EQUITY", size: 1, pricetick: 0.01, min_volume: 100, price: 10, margin_rate: 1, commission_rate: 0.0003, limit_pct: 0.1 },
  { symbol: "IO2503-C-3900", exchange: "CFFEX", name: "沪深300购2503-3900", product: "OPTION", size: 100, pricetick: 0.2, option_underlying: "IF2503.CFFEX", option_type: "CALL", option_strike: 3900, option_expiry: "2025-03-21T15:00:00+08:00" },
] as const;

export function testSpecs(): SimContractSpec[] {
  return parseContractSpecs(TEST_CONTRACTS, "test contracts");
}

export class RecordingSink implements VenueSink {
  readonly contracts: ContractData[] = [];
  readonly orders: OrderData[] = [];
  readonly trades: TradeData[] = [];
  readonly positions: PositionData[] = [];
  readonly accounts: AccountData[] = [];
  readonly ticks: TickData[] = [];
  readonly logs: { msg: string; level: number }[] = [];
  /** Every call in order, by kind: shows what was published before what. */
  readonly sequence: string[] = [];

  contract(contract: ContractData): void {
    this.contracts.push(contract);
    this.sequence.push("contract");
  }
  order(order: OrderData): void {
    this.orders.push(order);
    this.sequence.push(`order:${order.status}`);
  }
  trade(trade: TradeData): void {
    this.trades.push(trade);
    this.sequence.push("trade");
  }
  position(position: PositionData): void {
    this.positions.push(position);
    this.sequence.push("position");
  }
  account(account: AccountData): void {
    this.accounts.push(account);
    this.sequence.push("account");
  }
  tick(tick: TickData): void {
    this.ticks.push(tick);
    this.sequence.push("tick");
  }
  log(msg: string, level: number): void {
    this.logs.push({ msg, level });
  }

  statuses(vt_orderid: string): Status[] {
    return this.orders.filter((o) => o.vt_orderid === vt_orderid).map((o) => o.status);
  }
  lastOrder(vt_orderid: string): OrderData {
    const found = this.orders.filter((o) => o.vt_orderid === vt_orderid).at(-1);
    if (!found) throw new Error(`no order ${vt_orderid} was published`);
    return found;
  }
  tradesOf(vt_orderid: string): { price: number; volume: number }[] {
    return this.trades.filter((t) => t.vt_orderid === vt_orderid).map((t) => ({ price: t.price, volume: t.volume }));
  }
  lastPosition(vt_symbol: string, direction: Direction): PositionData {
    const found = this.positions.filter((p) => p.vt_symbol === vt_symbol && p.direction === direction).at(-1);
    if (!found) throw new Error(`no ${direction} position of ${vt_symbol} was published`);
    return found;
  }
  lastAccount(): AccountData {
    const found = this.accounts.at(-1);
    if (!found) throw new Error("no account was published");
    return found;
  }
  clear(): void {
    for (const list of [this.contracts, this.orders, this.trades, this.positions, this.accounts, this.ticks, this.logs, this.sequence]) {
      list.length = 0;
    }
  }
}

export interface TestVenue {
  readonly venue: SimVenue;
  readonly sink: RecordingSink;
  readonly clock: ManualClock;
  readonly store: SimStore;
}

export interface TestVenueOptions {
  readonly specs?: SimContractSpec[];
  readonly capital?: number;
  readonly dataDir?: string;
  readonly clock?: ManualClock;
  readonly ticksPerSecond?: number;
}

export function openVenue(options: TestVenueOptions = {}): TestVenue {
  const clock = options.clock ?? new ManualClock(T0);
  const sink = new RecordingSink();
  const store = new SimStore(options.dataDir ?? MEMORY_STORE);
  const venue = new SimVenue({
    gatewayName: "SIM",
    accountid: "T1",
    capital: options.capital ?? CAPITAL,
    seed: SEED,
    ticksPerSecond: options.ticksPerSecond ?? 2,
    universe: options.specs ?? testSpecs(),
    store,
    clock,
    sink,
  });
  venue.open();
  return { venue, sink, clock, store };
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `rpcservice-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The model the venue builds for a test contract (same seed), to read the day's limits and prices. */
export function modelOf(vt_symbol: string, specs: SimContractSpec[] = testSpecs()): ContractModel {
  const byVt = new Map(specs.map((s) => [`${s.symbol}.${s.exchange}`, s]));
  const spec = byVt.get(vt_symbol)!;
  const underlying = spec.option ? new ContractModel(byVt.get(spec.option.underlying)!, SEED) : null;
  return new ContractModel(spec, SEED, underlying);
}

export function preClose(vt_symbol: string, atMs = T0): number {
  return modelOf(vt_symbol).dayLimits(dayIndexOf(atMs)).pre_close;
}

/** A book from [price, volume] pairs, best first. */
export function book(bids: [number, number][], asks: [number, number][]): Book {
  return {
    bids: bids.map(([price, volume]) => ({ price, volume })),
    asks: asks.map(([price, volume]) => ({ price, volume })),
  };
}

export function orderRequest(
  vt_symbol: string,
  direction: Direction,
  type: OrderType,
  volume: number,
  price = 0,
  offset: Offset = Offset.OPEN,
): OrderRequest {
  const dot = vt_symbol.lastIndexOf(".");
  return new OrderRequest({
    symbol: vt_symbol.slice(0, dot),
    exchange: vt_symbol.slice(dot + 1) as Exchange,
    direction,
    type,
    volume,
    price,
    offset,
  });
}

/**
 * What pre-trade risk costs per order: MainEngine's check pipeline with the RiskEngine (all eight built-in rules
 * active, 20 of our own orders resting on the contract) against the same pipeline with no check and with one
 * empty check, in the same run. Orders are timed in batches of 1 000 (a single check is too short for the
 * timer); p50/p99 are over batches, as ns per order. GCs counts the garbage collections during the timed part.
 *
 *   npm run build && node dist/bench/risk.bench.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import {
  BaseGateway,
  ContractData,
  DateTime,
  Direction,
  Exchange,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Product,
  Status,
  TickData,
  type OrderOrigin,
} from "../src/kernel/index.js";
import { riskManagerApp, type RiskEngine } from "../src/risk/index.js";

const BATCH = 1_000;
const WARMUP_BATCHES = 300;
const BATCHES = 2_000;
const ORIGIN: OrderOrigin = Object.freeze({ kind: "rpc", clientId: "zmq:1" });

class BenchGateway extends BaseGateway {
  static override readonly defaultName = "BENCH";
  private nextId = 1;
  connect(): void {}
  close(): void {}
  subscribe(): void {}
  cancelOrder(): void {}
  queryAccount(): void {}
  queryPosition(): void {}
  sendOrder(req: OrderRequest): string {
    const order = req.createOrderData(String(this.nextId++), this.gatewayName);
    order.status = Status.NOTTRADED;
    this.onOrder(order);
    return order.vt_orderid;
  }
}

function request(direction: Direction, price: number): OrderRequest {
  return new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction, type: OrderType.LIMIT, volume: 1, price, offset: Offset.OPEN });
}

interface Row {
  scenario: string;
  p50: number;
  p99: number;
  perSecond: number;
  gcs: number;
}

let gcCount = 0;
new PerformanceObserver((list) => (gcCount += list.getEntries().length)).observe({ entryTypes: ["gc"] });

/** Times `BATCHES` batches of `BATCH` calls of `one(i)`; returns ns per call at p50/p99 and calls per second. */
async function measure(scenario: string, one: (i: number) => void, afterBatch: () => void): Promise<Row> {
  let i = 0;
  for (let b = 0; b < WARMUP_BATCHES; b++) {
    for (let k = 0; k < BATCH; k++) one(i++);
    afterBatch();
  }
  globalThis.gc?.();
  const samples = new Float64Array(BATCHES);
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the warm-up's GC entries arrive first
  const gcBefore = gcCount;
  let total = 0n;
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < BATCH; k++) one(i++);
    const elapsed = process.hrtime.bigint() - start;
    total += elapsed;
    samples[b] = Number(elapsed) / BATCH;
    afterBatch();
  }
  samples.sort();
  await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries reach the observer on a later turn
  return {
    scenario,
    p50: samples[Math.floor(BATCHES * 0.5)]!,
    p99: samples[Math.floor(BATCHES * 0.99)]!,
    perSecond: (BATCHES * BATCH) / (Number(total) / 1e9),
    gcs: gcCount - gcBefore,
  };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "risk-bench-"));
  const mainEngine = new MainEngine({ home });
  const events = mainEngine.eventEngine;
  try {
    const gateway = mainEngine.addGateway(BenchGateway);
    gateway.onContract(new ContractData({ gateway_name: "BENCH", symbol: "rb2501", exchange: Exchange.SHFE, name: "rebar", product: Product.FUTURES, size: 10, pricetick: 1 }));
    gateway.onTick(new TickData({ gateway_name: "BENCH", symbol: "rb2501", exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: 3500, limit_up: 3700, limit_down: 3300 }));
    events.flush();

    const orders = Array.from({ length: 100 }, (_, k) => request(Direction.LONG, 3450 + k));
    const rows: Row[] = [];

    rows.push(await measure("blockedReason, no checks (baseline)", (i) => mainEngine.blockedReason(orders[i % 100]!, "BENCH", ORIGIN), () => {}));

    const removeEmpty = mainEngine.addOrderCheck({ name: "empty", check: () => null });
    rows.push(await measure("blockedReason, one empty check (baseline)", (i) => mainEngine.blockedReason(orders[i % 100]!, "BENCH", ORIGIN), () => {}));
    removeEmpty();

    // The risk engine with every built-in rule active. The clock moves 1 ms per order; limits are raised so that a
    // passing order stays passing (100 prices cycle: each repeats 600 times a minute, 1 000 orders a second).
    // The clock lives in a Float64Array: a `let` number that large would be re-boxed on every increment.
    const clock = new Float64Array([Date.UTC(2025, 0, 6, 2, 0, 0)]);
    const risk: RiskEngine = mainEngine.addApp(riskManagerApp({ now: () => clock[0]!, rulesFolder: null }));
    risk.updateRule("order_flow", { order_flow_limit: 2_000, order_flow_clear: 1 });
    risk.updateRule("duplicate_order", { duplicate_order_limit: 1_000, duplicate_order_window: 60 });
    for (let k = 0; k < 10; k++) {
      await mainEngine.sendOrder(request(Direction.LONG, 3400 + k), "BENCH", ORIGIN);
      await mainEngine.sendOrder(request(Direction.SHORT, 3600 + k), "BENCH", ORIGIN);
    }
    events.flush();
    if (risk.ownOrders.activeCount !== 20) throw new Error(`expected 20 resting orders, got ${risk.ownOrders.activeCount}`);

    const passing = (i: number): void => {
      clock[0]!++;
      const req = orders[i % 100]!;
      if (mainEngine.blockedReason(req, "BENCH", ORIGIN) !== null) throw new Error(`blocked: ${risk.getRules().map((r) => JSON.stringify(r.variables)).join(" ")}`);
      risk.settled(req, "BENCH", ORIGIN, ""); // what MainEngine.sendOrder calls once the gateway answered
    };
    rows.push(await measure("RiskEngine, 8 rules, order passes", passing, () => {}));

    risk.setTradingState("HALTED");
    rows.push(await measure("RiskEngine, order blocked (kill switch)", (i) => mainEngine.blockedReason(orders[i % 100]!, "BENCH", ORIGIN), () => events.flush()));
    risk.setTradingState("ACTIVE");

    risk.updateRule("daily_limit", { total_order_limit: 0 });
    rows.push(await measure("RiskEngine, order blocked by the last rule", (i) => mainEngine.blockedReason(orders[i % 100]!, "BENCH", ORIGIN), () => events.flush()));

    print(rows);
  } finally {
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
}

function print(rows: Row[]): void {
  const width = Math.max(...rows.map((row) => row.scenario.length));
  console.log(`risk check cost per order (${BATCHES} batches of ${BATCH}, node ${process.version})`);
  console.log(`${"scenario".padEnd(width)}  ${"p50 ns".padStart(8)}  ${"p99 ns".padStart(8)}  ${"orders/s".padStart(12)}  ${"GCs".padStart(5)}`);
  for (const row of rows) {
    console.log(
      `${row.scenario.padEnd(width)}  ${row.p50.toFixed(1).padStart(8)}  ${row.p99.toFixed(1).padStart(8)}  ${Math.round(row.perSecond).toLocaleString("en-US").padStart(12)}  ${String(row.gcs).padStart(5)}`,
    );
  }
  const baseline = rows[1]!;
  const risk = rows[2]!;
  console.log(`risk manager adds ${(risk.p50 - baseline.p50).toFixed(1)} ns per passing order at p50 over one empty check`);
}

await main();

/** A small in-process venue and a server around it, for the risk tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BaseGateway,
  CancelRequest,
  ContractData,
  DateTime,
  Direction,
  EVENT_LOG,
  EVENT_ORDER_BLOCKED,
  EVENT_TIMER,
  Event,
  Exchange,
  LogData,
  MainEngine,
  Offset,
  OrderData,
  OrderRequest,
  type OrderBlock,
  OrderType,
  PositionData,
  Product,
  Status,
  TickData,
  TradeData,
  type AppClass,
  type Language,
  type OrderOrigin,
  type OrderRequestInit,
} from "../../src/kernel/index.js";
import { EVENT_RISK_NOTIFY, EVENT_RISK_RULE, riskManagerApp, type RiskEngine, type RiskEngineOptions, type RiskRuleData } from "../../src/risk/index.js";

/** A clock the test moves by hand. 2025-01-06 10:00:00 Asia/Shanghai, a Monday morning. */
export class TestClock {
  time = Date.UTC(2025, 0, 6, 2, 0, 0);
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * Takes every order, numbers it, reports it NOTTRADED at once; fills and cancels happen when the test says so.
 * `answerLater` makes sendOrder answer on a later turn, as a remote gateway does.
 */
export class TestGateway extends BaseGateway {
  static override readonly defaultName = "TEST";
  static override readonly exchanges = [Exchange.SHFE];
  private nextId = 1;
  private nextTradeId = 1;
  readonly orders = new Map<string, OrderData>();
  answerLater = false;

  connect(): void {}
  close(): void {}
  subscribe(): void {}
  queryAccount(): void {}
  queryPosition(): void {}

  sendOrder(req: OrderRequest): string | Promise<string> {
    const order = req.createOrderData(String(this.nextId++), this.gatewayName);
    order.status = Status.NOTTRADED;
    this.orders.set(order.vt_orderid, order);
    this.onOrder(copy(order));
    if (!this.answerLater) return order.vt_orderid;
    return new Promise((resolve) => setImmediate(() => resolve(order.vt_orderid)));
  }

  cancelOrder(req: CancelRequest): void {
    const order = this.orders.get(`${this.gatewayName}.${req.orderid}`);
    if (!order || !order.isActive()) return;
    order.status = Status.CANCELLED;
    this.onOrder(copy(order));
  }

  /** Fills `volume` (default: the rest) of an order. */
  fill(vt_orderid: string, volume?: number): void {
    const order = this.orders.get(vt_orderid);
    if (!order || !order.isActive()) throw new Error(`no working order ${vt_orderid}`);
    const qty = volume ?? order.volume - order.traded;
    order.traded += qty;
    order.status = order.traded >= order.volume ? Status.ALLTRADED : Status.PARTTRADED;
    this.onOrder(copy(order));
    this.onTrade(
      new TradeData({
        gateway_name: this.gatewayName,
        symbol: order.symbol,
        exchange: order.exchange,
        orderid: order.orderid,
        tradeid: String(this.nextTradeId++),
        direction: order.direction,
        offset: order.offset,
        price: order.price,
        volume: qty,
      }),
    );
  }

  pushContract(init: Partial<ConstructorParameters<typeof ContractData>[0]> = {}): void {
    this.onContract(
      new ContractData({ gateway_name: this.gatewayName, symbol: "rb2501", exchange: Exchange.SHFE, name: "rebar 2501", product: Product.FUTURES, size: 10, pricetick: 1, ...init }),
    );
  }

  pushTick(init: Partial<ConstructorParameters<typeof TickData>[0]> = {}): void {
    this.onTick(
      new TickData({ gateway_name: this.gatewayName, symbol: "rb2501", exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: 3500, limit_up: 3700, limit_down: 3300, ...init }),
    );
  }

  pushPosition(direction: Direction, volume: number, frozen = 0): void {
    this.onPosition(new PositionData({ gateway_name: this.gatewayName, symbol: "rb2501", exchange: Exchange.SHFE, direction, volume, frozen }));
  }
}

function copy(order: OrderData): OrderData {
  return Object.assign(Object.create(OrderData.prototype) as OrderData, order);
}

export function order(init: Partial<OrderRequestInit> = {}): OrderRequest {
  return new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 3500, offset: Offset.OPEN, ...init });
}

export const RPC_ORIGIN = Object.freeze({ kind: "rpc", clientId: "zmq:1" } as const);

export interface TestServer {
  readonly mainEngine: MainEngine;
  readonly gateway: TestGateway;
  readonly risk: RiskEngine;
  readonly clock: TestClock;
  readonly home: string;
  readonly logs: LogData[];
  readonly notices: string[];
  /** Every eOrderBlocked event: what programs match on (code, rule), not the text. */
  readonly blocks: OrderBlock[];
  readonly ruleEvents: RiskRuleData[];
  /** Processes queued events now. */
  flush(): void;
  /** A timer event, processed now. */
  tick(): void;
  /** Log lines from RiskManager at ERROR level. */
  blockedLines(): string[];
  close(): Promise<void>;
}

export interface ServerOptions extends RiskEngineOptions {
  home?: string;
  language?: Language;
  /** Apps added before the risk manager. */
  before?: AppClass[];
  /** Apps added after it. */
  after?: AppClass[];
  /** Skip the default contract and tick. */
  bare?: boolean;
}

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), "risk-test-"));
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const clock = new TestClock();
  const ownHome = options.home === undefined;
  const home = options.home ?? tempHome();
  const mainEngine = new MainEngine({ home, language: options.language ?? "en" });
  const logs: LogData[] = [];
  const notices: string[] = [];
  const blocks: OrderBlock[] = [];
  const ruleEvents: RiskRuleData[] = [];
  mainEngine.eventEngine.register(EVENT_LOG, (e) => logs.push(e.data));
  mainEngine.eventEngine.register(EVENT_RISK_NOTIFY, (e) => notices.push(e.data));
  mainEngine.eventEngine.register(EVENT_ORDER_BLOCKED, (e) => blocks.push(e.data));
  mainEngine.eventEngine.register(EVENT_RISK_RULE, (e) => ruleEvents.push(e.data));
  const gateway = mainEngine.addGateway(TestGateway);
  if (!options.bare) {
    gateway.pushContract();
    gateway.pushTick();
  }
  for (const app of options.before ?? []) mainEngine.addApp(app);
  const { home: _home, language: _language, before: _before, after: _after, bare: _bare, ...riskOptions } = options;
  let risk: RiskEngine;
  try {
    risk = mainEngine.addApp(riskManagerApp({ now: clock.now, rulesFolder: null, ...riskOptions }));
  } catch (error) {
    await mainEngine.close();
    if (ownHome) rmSync(home, { recursive: true, force: true });
    throw error;
  }
  for (const app of options.after ?? []) mainEngine.addApp(app);
  mainEngine.eventEngine.flush();
  await risk.ready;
  mainEngine.eventEngine.flush();
  return {
    mainEngine,
    gateway,
    risk,
    clock,
    home,
    logs,
    notices,
    blocks,
    ruleEvents,
    flush: () => mainEngine.eventEngine.flush(),
    tick: () => {
      mainEngine.eventEngine.put(new Event(EVENT_TIMER));
      mainEngine.eventEngine.flush();
    },
    blockedLines: () => logs.filter((log) => log.gateway_name === "RiskManager" && log.level === 40).map((log) => log.msg),
    close: async () => {
      await mainEngine.close();
      if (ownHome) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with a fresh server and always closes it. */
export function withServer(options: ServerOptions | (() => ServerOptions), fn: (server: TestServer) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const server = await startServer(typeof options === "function" ? options() : options);
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  };
}

/** Sends an order through MainEngine and processes the events it caused. */
export async function send(server: TestServer, req: OrderRequest = order(), origin: OrderOrigin = RPC_ORIGIN): Promise<string> {
  const vt_orderid = await server.mainEngine.sendOrder(req, "TEST", origin);
  server.flush();
  return vt_orderid;
}

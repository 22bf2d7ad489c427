import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AccountData,
  BarData,
  BaseEngine,
  BaseGateway,
  CancelRequest,
  CHINA_TZ,
  ContractData,
  DateTime,
  Direction,
  ERROR,
  EVENT_LOG,
  Event,
  Exchange,
  HistoryRequest,
  MainEngine,
  OrderData,
  OrderRequest,
  OrderType,
  PositionData,
  Product,
  QuoteRequest,
  Status,
  SubscribeRequest,
  TickData,
  TradeData,
  type EventEngine,
  type GatewaySetting,
  type Language,
  type LogData,
  type OrderOrigin,
} from "../../src/kernel/index.js";

/** A gateway that records the requests it gets and answers with fixed values. */
class RecordingGateway extends BaseGateway {
  static override readonly defaultName: string = "REC";
  static override readonly defaultSetting: Readonly<GatewaySetting> = { key: "value" };
  static override readonly exchanges = [Exchange.SHFE, Exchange.DCE];
  readonly calls: [string, unknown][] = [];
  closed = 0;

  connect(setting: GatewaySetting): void {
    this.calls.push(["connect", setting]);
  }
  close(): void {
    this.closed++;
  }
  subscribe(req: SubscribeRequest): void {
    this.calls.push(["subscribe", req]);
  }
  async sendOrder(req: OrderRequest): Promise<string> {
    this.calls.push(["sendOrder", req]);
    return `${this.gatewayName}.${this.calls.length}`;
  }
  cancelOrder(req: CancelRequest): void {
    this.calls.push(["cancelOrder", req]);
  }
  queryAccount(): void {}
  queryPosition(): void {}
  override queryHistory(req: HistoryRequest): BarData[] {
    this.calls.push(["queryHistory", req]);
    return [new BarData({ gateway_name: this.gatewayName, symbol: req.symbol, exchange: req.exchange, datetime: req.start })];
  }
  override sendQuote(req: QuoteRequest): string {
    this.calls.push(["sendQuote", req]);
    return `${this.gatewayName}.q`;
  }
}

const START = new DateTime({ year: 2025, month: 3, day: 3 }, CHINA_TZ);
const orderReq = () => new OrderRequest({ symbol: "rb2505", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 3500 });

function engineWithLogs(language?: Language): { mainEngine: MainEngine; logs: LogData[] } {
  const logs: LogData[] = [];
  const mainEngine = new MainEngine({ home: "unused-home", logSink: (log) => logs.push(log), ...(language ? { language } : {}) });
  return { mainEngine, logs };
}

describe("MainEngine", () => {
  test("requests reach the named gateway, and nothing else", async () => {
    const { mainEngine } = engineWithLogs();
    const a = mainEngine.addGateway(RecordingGateway, "A");
    const b = mainEngine.addGateway(RecordingGateway, "B");
    await mainEngine.connect({ key: "x" }, "A");
    await mainEngine.subscribe(new SubscribeRequest({ symbol: "rb2505", exchange: Exchange.SHFE }), "A");
    const vt_orderid = await mainEngine.sendOrder(orderReq(), "A");
    await mainEngine.cancelOrder(new CancelRequest({ orderid: "3", symbol: "rb2505", exchange: Exchange.SHFE }), "A");
    const bars = await mainEngine.queryHistory(new HistoryRequest({ symbol: "rb2505", exchange: Exchange.SHFE, start: START }), "A");
    const quote = await mainEngine.sendQuote(new QuoteRequest({ symbol: "m", exchange: Exchange.DCE, bid_price: 1, bid_volume: 1, ask_price: 2, ask_volume: 1 }), "A");
    assert.deepEqual(a.calls.map(([name]) => name), ["connect", "subscribe", "sendOrder", "cancelOrder", "queryHistory", "sendQuote"]);
    assert.deepEqual(b.calls, []);
    assert.equal(vt_orderid, "A.3");
    assert.equal(bars.length, 1);
    assert.equal(quote, "A.q");
    assert.deepEqual(mainEngine.getAllGatewayNames(), ["A", "B"]);
    assert.deepEqual(mainEngine.getAllExchanges(), [Exchange.SHFE, Exchange.DCE]);
    assert.deepEqual(mainEngine.getDefaultSetting("A"), { key: "value" });
    await mainEngine.close();
  });

  test("each request is logged as VeighNa logs it, and a missing gateway is logged and answered empty", async () => {
    const { mainEngine, logs } = engineWithLogs();
    mainEngine.addGateway(RecordingGateway);
    await mainEngine.sendOrder(orderReq(), "REC");
    assert.equal(await mainEngine.sendOrder(orderReq(), "NOPE"), "");
    assert.deepEqual(await mainEngine.queryHistory(new HistoryRequest({ symbol: "rb2505", exchange: Exchange.SHFE, start: START }), "NOPE"), []);
    mainEngine.eventEngine.flush();
    const messages = logs.map((log) => log.msg);
    assert.equal(messages[0], `Send order -> REC: ${orderReq()}`);
    assert.ok(messages.includes("Gateway not found: NOPE"));
    assert.equal(logs[0]!.gateway_name, "MainEngine");
    await mainEngine.close();
  });

  test("in Chinese, the log lines are VeighNa's own", async () => {
    const { mainEngine, logs } = engineWithLogs("zh");
    mainEngine.addGateway(RecordingGateway);
    await mainEngine.connect({}, "REC");
    await mainEngine.sendOrder(orderReq(), "REC");
    mainEngine.eventEngine.flush();
    assert.deepEqual(logs.map((log) => log.msg), ["连接登录 -> REC", `委托下单 -> REC：${orderReq()}`]);
    await mainEngine.close();
  });

  test("an unknown language is refused when the engine is made", () => {
    assert.throws(() => new MainEngine({ home: "unused-home", language: "fr" as Language }), RangeError);
  });

  test("order checks run in priority order; the first that blocks stops the order before its gateway", async () => {
    const { mainEngine } = engineWithLogs();
    const gateway = mainEngine.addGateway(RecordingGateway);
    const seen: string[] = [];
    const origins: OrderOrigin[] = [];
    const check = (name: string, code: string | null) => ({
      name,
      check: (_req: OrderRequest, gatewayName: string, origin: OrderOrigin) => {
        seen.push(`${name}@${gatewayName}`);
        origins.push(origin);
        return code === null ? null : { check: name, rule: name, code, params: {}, msg: code };
      },
    });
    mainEngine.addOrderCheck(check("late", null), 10);
    const removeBlocker = mainEngine.addOrderCheck(check("blocker", "TOO_BIG"), 5);
    mainEngine.addOrderCheck(check("early", null), -1);

    assert.equal(await mainEngine.sendOrder(orderReq(), "REC", { kind: "rpc", clientId: "zmq:1" }), "");
    assert.deepEqual(seen, ["early@REC", "blocker@REC"]);
    assert.deepEqual(origins[0], { kind: "rpc", clientId: "zmq:1" });
    assert.deepEqual(gateway.calls, []);
    assert.equal(mainEngine.blockedReason(orderReq(), "REC")?.code, "TOO_BIG");

    removeBlocker();
    seen.length = 0;
    assert.notEqual(await mainEngine.sendOrder(orderReq(), "REC"), "");
    assert.deepEqual(seen, ["early@REC", "late@REC"]);
    assert.equal(gateway.calls.length, 1);
    await mainEngine.close();
  });

  test("the OMS keeps the latest of everything and the active orders", async () => {
    const { mainEngine } = engineWithLogs();
    const gateway = mainEngine.addGateway(RecordingGateway, "G");
    const base = { gateway_name: "G", symbol: "rb2505", exchange: Exchange.SHFE };
    const order = new OrderData({ ...base, orderid: "1", status: Status.NOTTRADED });
    gateway.onOrder(order);
    gateway.onOrder(new OrderData({ ...base, orderid: "2", status: Status.NOTTRADED }));
    gateway.onTick(new TickData({ ...base, datetime: START, last_price: 3500 }));
    gateway.onTrade(new TradeData({ ...base, orderid: "1", tradeid: "t1" }));
    gateway.onPosition(new PositionData({ ...base, direction: Direction.LONG, volume: 1 }));
    gateway.onAccount(new AccountData({ gateway_name: "G", accountid: "A", balance: 10 }));
    gateway.onContract(new ContractData({ ...base, name: "rebar", product: Product.FUTURES, size: 10, pricetick: 1 }));
    mainEngine.eventEngine.flush();
    assert.deepEqual(mainEngine.getAllActiveOrders().map((o) => o.vt_orderid), ["G.1", "G.2"]);

    gateway.onOrder(new OrderData({ ...base, orderid: "1", status: Status.ALLTRADED }));
    mainEngine.eventEngine.flush();
    assert.deepEqual(mainEngine.getAllActiveOrders().map((o) => o.vt_orderid), ["G.2"]);
    assert.equal(mainEngine.getOrder("G.1")!.status, Status.ALLTRADED);
    assert.deepEqual(mainEngine.getAllOrders().map((o) => o.vt_orderid), ["G.1", "G.2"], "insertion order, like a dict");
    assert.equal(mainEngine.getTick("rb2505.SHFE")!.last_price, 3500);
    assert.equal(mainEngine.getTrade("G.t1")!.orderid, "1");
    assert.equal(mainEngine.getPosition("G.rb2505.SHFE.多")!.volume, 1);
    assert.equal(mainEngine.getAccount("G.A")!.available, 10);
    assert.equal(mainEngine.getContract("rb2505.SHFE")!.name, "rebar");
    assert.equal(mainEngine.getOrder("G.404"), null);
    await mainEngine.close();
  });

  test("a failing handler becomes an ERROR log and the engine keeps going", async () => {
    const { mainEngine, logs } = engineWithLogs();
    mainEngine.eventEngine.register("boom", () => {
      throw new Error("handler bug");
    });
    let after = 0;
    mainEngine.eventEngine.register("after", () => after++);
    mainEngine.eventEngine.put(new Event("boom"));
    mainEngine.eventEngine.put(new Event("after"));
    mainEngine.eventEngine.flush();
    assert.equal(after, 1);
    const error = logs.find((log) => log.level === ERROR)!;
    assert.equal(error.gateway_name, "EventEngine");
    assert.match(error.msg, /^Event handler failed on boom: Error: handler bug/);
    await mainEngine.close();
  });

  test("close stops events, then closes engines, then gateways, once", async () => {
    const { mainEngine } = engineWithLogs();
    const order: string[] = [];
    class Recorder extends BaseEngine {
      constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
        super(mainEngine, eventEngine, "recorder");
      }
      override close(): void {
        order.push(`engine, events active: ${this.eventEngine.isActive}`);
      }
    }
    const engine = mainEngine.addApp({ appName: "Rec", displayName: "Recorder", engineClass: Recorder });
    const gateway = mainEngine.addGateway(RecordingGateway);
    const originalClose = gateway.close.bind(gateway);
    gateway.close = () => {
      order.push("gateway");
      originalClose();
    };
    assert.equal(mainEngine.getEngine("recorder"), engine);
    assert.deepEqual(mainEngine.getAllApps().map((app) => app.appName), ["Rec"]);
    await mainEngine.close();
    await mainEngine.close();
    assert.deepEqual(order, ["engine, events active: false", "gateway"]);
    assert.equal(gateway.closed, 1);
  });

  test("a log sink sees log events only", async () => {
    const { mainEngine, logs } = engineWithLogs();
    mainEngine.writeLog("hello", "Me", 30);
    mainEngine.eventEngine.put(new Event(EVENT_LOG.toUpperCase()));
    mainEngine.eventEngine.flush();
    assert.deepEqual(logs.map((log) => [log.msg, log.gateway_name, log.level]), [["hello", "Me", 30]]);
    await mainEngine.close();
  });
});

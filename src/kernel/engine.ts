/**
 * MainEngine: gateways, engines and apps around one EventEngine (vnpy/trader/engine.py).
 *
 * Every request is routed to the named gateway and logged as VeighNa logs it. Order entry goes through one
 * pipeline of order checks that apps register (`addOrderCheck`), so a risk manager sees every order whoever
 * sends it and whatever the order in which apps were added; VeighNa's monkey-patching lets RPC orders bypass it.
 */
import { messageOf } from "./errors.js";
import { resolve } from "node:path";
import { Event, EventEngine } from "./event.js";
import { boundLogMessage } from "./log-text.js";
import { EVENT_LOG, EVENT_ORDER_BLOCKED } from "./event-types.js";
import type { BaseGateway, GatewayClass, GatewaySetting } from "./gateway.js";
import { DEFAULT_LANGUAGE, defineMessages, parseLanguage, type Language, type TranslatorOf } from "./locale.js";
import {
  INFO,
  LogData,
  type BarData,
  type CancelRequest,
  type HistoryRequest,
  type OrderRequest,
  type QuoteRequest,
  type SubscribeRequest,
  ERROR,
} from "./objects.js";
import { NO_METRICS, type MetricsRecorder } from "./metrics.js";
import { OmsEngine } from "./oms.js";
import type { Exchange } from "./constants.js";
import { barList, type BarSeries } from "./bar-series.js";

const messages = defineMessages({
  en: {
    gatewayNotFound: "Gateway not found: {name}",
    engineNotFound: "Engine not found: {name}",
    connect: "Connect -> {gateway}",
    subscribe: "Subscribe -> {gateway}: {req}",
    sendOrder: "Send order -> {gateway}: {req}",
    cancelOrder: "Cancel order -> {gateway}: {req}",
    sendQuote: "Send quote -> {gateway}: {req}",
    cancelQuote: "Cancel quote -> {gateway}: {req}",
    queryHistory: "Query history -> {gateway}: {req}",
    handlerFailed: "Event handler failed on {type}: {error}",
    settleFailed: "Order check {check} failed after the order was sent: {error}",
    overloaded: "Overloaded: {pending} events waiting (orders, trades and logs are never dropped); new subscriptions are refused until the server catches up",
    caughtUp: "Caught up: {pending} events waiting; new subscriptions are accepted again",
    refused: "server overloaded: subscription to {req} refused, retry once it has caught up",
  },
  zh: {
    gatewayNotFound: "找不到底层接口：{name}",
    engineNotFound: "找不到引擎：{name}",
    connect: "连接登录 -> {gateway}",
    subscribe: "订阅行情 -> {gateway}：{req}",
    sendOrder: "委托下单 -> {gateway}：{req}",
    cancelOrder: "委托撤单 -> {gateway}：{req}",
    sendQuote: "报价下单 -> {gateway}：{req}",
    cancelQuote: "报价撤单 -> {gateway}：{req}",
    queryHistory: "查询K线 -> {gateway}：{req}",
    handlerFailed: "事件处理函数出错 {type}：{error}",
    settleFailed: "委托检查{check}在委托发出后出错：{error}",
    overloaded: "过载：{pending}个事件等待处理（委托、成交和日志不会丢弃）；在追上之前拒绝新的行情订阅",
    caughtUp: "已追上：{pending}个事件等待处理；恢复接受行情订阅",
    refused: "服务器过载：拒绝订阅{req}，请稍后重试",
  },
});

/** A request refused because the server is overloaded: shed at the edge rather than queued without bound. */
export class OverloadError extends Error {
  readonly code = "ERR_OVERLOADED";
  constructor(message: string) {
    super(message);
    this.name = "OverloadError";
  }
}

/** Who sent an order: checks and ownership rules may treat remote clients differently. */
export type OrderOrigin =
  | { readonly kind: "local" }
  | { readonly kind: "rpc"; readonly clientId: string }
  | { readonly kind: "console"; readonly clientId: string };

export const LOCAL_ORIGIN: OrderOrigin = Object.freeze({ kind: "local" });

/** The values a block's text names: plain, so the block travels as JSON to the console. */
export type BlockParams = Readonly<Record<string, string | number | boolean>>;

/**
 * Why a check blocked an order, for programs and people (NautilusTrader's OrderDenied, VeighNa's text): which
 * check and rule, a stable code, the values, and the text in the engine's language.
 */
export interface OrderBlock {
  /** The pipeline check that blocked: "RiskManager", "gateway_state". */
  readonly check: string;
  /** The rule inside the check ("order_size"); the check's own name when it has no rules. */
  readonly rule: string;
  /** Stable, upper snake case ("VOLUME_LIMIT"): what programs and tests match on, never the text. */
  readonly code: string;
  readonly params: BlockParams;
  /** For people: what the "Order blocked" log line and the eRiskNotify event say (VeighNa's wording). */
  readonly msg: string;
}

/**
 * A pre-trade check in the order-entry pipeline. Returns null to let the order through, or why it is blocked.
 * Checks run synchronously, in ascending `priority`, before the order reaches its gateway.
 */
export interface OrderCheck {
  readonly name: string;
  check(req: OrderRequest, gatewayName: string, origin: OrderOrigin): OrderBlock | null;
  /**
   * Optional: told how an order this check let through ended: the gateway's vt_orderid, or "" when a later check
   * blocked it or the gateway did not take it. The gateway may answer asynchronously, so a check that limits
   * orders in flight (active orders, self-trade) needs this to know which accepted orders are still on their way.
   */
  settled?(req: OrderRequest, gatewayName: string, origin: OrderOrigin, vt_orderid: string): void;
}

/** What placeOrder did: the vt_orderid ("" when not sent), and the block when a check stopped the order. */
export interface OrderPlacement {
  readonly vt_orderid: string;
  readonly block: OrderBlock | null;
}

/** An engine plugged into MainEngine (VeighNa's BaseEngine). */
export abstract class BaseEngine {
  readonly mainEngine: MainEngine;
  readonly eventEngine: EventEngine;
  readonly engineName: string;

  constructor(mainEngine: MainEngine, eventEngine: EventEngine, engineName: string) {
    this.mainEngine = mainEngine;
    this.eventEngine = eventEngine;
    this.engineName = engineName;
  }

  close(): void | Promise<void> {}
}

export interface EngineClass<E extends BaseEngine = BaseEngine> {
  new (mainEngine: MainEngine, eventEngine: EventEngine): E;
}

/** An app: a named engine with a display name (VeighNa's BaseApp without the Qt widget). */
export interface AppClass<E extends BaseEngine = BaseEngine> {
  readonly appName: string;
  readonly displayName: string;
  readonly engineClass: EngineClass<E>;
}

export interface MainEngineOptions {
  eventEngine?: EventEngine;
  /** Settings and data folder (VeighNa's `.vntrader`); default `.rpcservice` in the working directory. */
  home?: string;
  /** The language of every text the engine and its layers render (log lines, block texts); default "en". */
  language?: Language;
  /** Called with every log line (eLog); the command line prints them, a library user may not want to. */
  logSink?: (log: LogData) => void;
  /** Where the layers report calls, events, orders and risk blocks; default: nowhere. */
  metrics?: MetricsRecorder;
}

export class MainEngine {
  readonly eventEngine: EventEngine;
  /** What its engines, apps and gateways write their texts in: this engine's own, whatever another engine speaks. */
  readonly language: Language;
  readonly home: string;
  readonly oms: OmsEngine;
  readonly gateways = new Map<string, BaseGateway>();
  readonly engines = new Map<string, BaseEngine>();
  readonly apps = new Map<string, AppClass>();
  /** gateway name -> vt_symbol -> the request, for re-subscribing after a reconnect. */
  private readonly subscriptions = new Map<string, Map<string, SubscribeRequest>>();
  readonly exchanges: Exchange[] = [];
  /** Read at each use, so a recorder installed later (by the console) sees every layer from then on. */
  metrics: MetricsRecorder;
  private orderChecks: { check: OrderCheck; priority: number }[] = [];
  private closed = false;
  private readonly t: TranslatorOf<typeof messages>;

  constructor(options: MainEngineOptions = {}) {
    this.language = options.language === undefined ? DEFAULT_LANGUAGE : parseLanguage(options.language);
    this.t = messages.in(this.language);
    this.home = resolve(options.home ?? ".rpcservice");
    this.eventEngine = options.eventEngine ?? new EventEngine();
    this.metrics = options.metrics ?? NO_METRICS;
    this.eventEngine.start();
    this.oms = new OmsEngine(this.eventEngine);
    const sink = options.logSink;
    if (sink) this.eventEngine.register(EVENT_LOG, (event) => sink(event.data));
    // One line when overload starts and one when it ends, however long it lasts.
    this.eventEngine.onOverload((overloaded, pending) => this.writeLog(this.t(overloaded ? "overloaded" : "caughtUp", { pending }), "EventEngine", overloaded ? ERROR : INFO));
    this.eventEngine.onHandlerError((error, event) => {
      // Report through eLog, except for failures while handling eLog itself (that could loop forever).
      const text = this.t("handlerFailed", { type: event.type, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      if (event.type === EVENT_LOG) console.error(text);
      else this.writeLog(text, "EventEngine", ERROR);
    });
  }

  addGateway<G extends BaseGateway>(gatewayClass: GatewayClass<G>, gatewayName?: string): G {
    const name = gatewayName || gatewayClass.defaultName;
    const gateway = new gatewayClass(this.eventEngine, name, this.language);
    this.gateways.set(name, gateway);
    for (const exchange of gatewayClass.exchanges) if (!this.exchanges.includes(exchange)) this.exchanges.push(exchange);
    return gateway;
  }

  addEngine<E extends BaseEngine>(engineClass: EngineClass<E>): E {
    const engine = new engineClass(this, this.eventEngine);
    this.engines.set(engine.engineName, engine);
    return engine;
  }

  addApp<E extends BaseEngine>(app: AppClass<E>): E {
    this.apps.set(app.appName, app);
    return this.addEngine(app.engineClass);
  }

  /** Adds a check to the order-entry pipeline; lower priority runs first. Returns a function that removes it. */
  addOrderCheck(check: OrderCheck, priority = 0): () => void {
    const entry = { check, priority };
    this.orderChecks = [...this.orderChecks, entry].sort((a, b) => a.priority - b.priority);
    return () => {
      this.orderChecks = this.orderChecks.filter((e) => e !== entry);
    };
  }

  writeLog(msg: string, source = "MainEngine", level: number = INFO): void {
    this.eventEngine.put(new Event(EVENT_LOG, new LogData({ msg: boundLogMessage(msg), gateway_name: source, level })));
  }

  getGateway(gatewayName: string): BaseGateway | null {
    const gateway = this.gateways.get(gatewayName);
    if (!gateway) this.writeLog(this.t("gatewayNotFound", { name: gatewayName }));
    return gateway ?? null;
  }

  getEngine(engineName: string): BaseEngine | null {
    const engine = this.engines.get(engineName);
    if (!engine) this.writeLog(this.t("engineNotFound", { name: engineName }));
    return engine ?? null;
  }

  getDefaultSetting(gatewayName: string): GatewaySetting | null {
    return this.getGateway(gatewayName)?.getDefaultSetting() ?? null;
  }

  getAllGatewayNames(): string[] {
    return [...this.gateways.keys()];
  }

  getAllApps(): AppClass[] {
    return [...this.apps.values()];
  }

  getAllExchanges(): Exchange[] {
    return [...this.exchanges];
  }

  async connect(setting: GatewaySetting, gatewayName: string): Promise<void> {
    this.writeLog(this.t("connect", { gateway: gatewayName }));
    await this.getGateway(gatewayName)?.connect(setting);
  }

  /** Refused with OverloadError while the event queue is overloaded: new market data is the load to shed first. */
  async subscribe(req: SubscribeRequest, gatewayName: string): Promise<void> {
    if (this.eventEngine.overloaded) throw new OverloadError(this.t("refused", { req: req.vt_symbol }));
    this.writeLog(this.t("subscribe", { gateway: gatewayName, req }));
    const gateway = this.getGateway(gatewayName);
    if (!gateway) return;
    let subscribed = this.subscriptions.get(gatewayName);
    if (!subscribed) this.subscriptions.set(gatewayName, (subscribed = new Map()));
    subscribed.set(req.vt_symbol, req);
    await gateway.subscribe(req);
  }

  /** What was subscribed on a gateway through this engine: a gateway connected again asks for it once more. */
  subscriptionsOf(gatewayName: string): SubscribeRequest[] {
    return [...(this.subscriptions.get(gatewayName)?.values() ?? [])];
  }

  /**
   * Sends an order through the pipeline: log, find the gateway, run every order check, then the gateway.
   * Returns the vt_orderid, or "" when the gateway is missing or a check blocked the order (VeighNa's contract).
   */
  async sendOrder(req: OrderRequest, gatewayName: string, origin: OrderOrigin = LOCAL_ORIGIN): Promise<string> {
    return (await this.placeOrder(req, gatewayName, origin)).vt_orderid;
  }

  /** sendOrder that also says why an order was blocked: `block` is set when a check blocked it. */
  async placeOrder(req: OrderRequest, gatewayName: string, origin: OrderOrigin = LOCAL_ORIGIN): Promise<OrderPlacement> {
    this.writeLog(this.t("sendOrder", { gateway: gatewayName, req }));
    const gateway = this.getGateway(gatewayName);
    if (!gateway) return { vt_orderid: "", block: null };
    // The list is replaced, never mutated, when checks are added or removed: this one stays valid across the await.
    const checks = this.orderChecks;
    for (let i = 0; i < checks.length; i++) {
      const block = checks[i]!.check.check(req, gatewayName, origin);
      if (block !== null) {
        this.settle(checks, i, req, gatewayName, origin, "");
        this.eventEngine.put(new Event(EVENT_ORDER_BLOCKED, block));
        return { vt_orderid: "", block };
      }
    }
    let vt_orderid = "";
    const sentAt = performance.now();
    try {
      vt_orderid = await gateway.sendOrder(req);
      if (vt_orderid !== "") this.metrics.orderSent(vt_orderid, sentAt);
    } finally {
      this.settle(checks, checks.length, req, gatewayName, origin, vt_orderid);
    }
    return { vt_orderid, block: null };
  }

  /** Tells the first `count` checks (those that let the order through) how it ended. */
  private settle(
    checks: readonly { check: OrderCheck }[],
    count: number,
    req: OrderRequest,
    gatewayName: string,
    origin: OrderOrigin,
    vt_orderid: string,
  ): void {
    for (let i = 0; i < count; i++) {
      const check = checks[i]!.check;
      if (!check.settled) continue;
      try {
        check.settled(req, gatewayName, origin, vt_orderid);
      } catch (error) {
        // The order has gone (or not) already; a failing listener must not change what the caller is told.
        this.writeLog(this.t("settleFailed", { check: check.name, error: messageOf(error) }), "MainEngine", ERROR);
      }
    }
  }

  /**
   * Runs the order checks alone; the block of the first that blocks, or null. Checks may count what they let
   * through (order flow, duplicates), so this is not a dry run; `settled` is not called.
   */
  blockedReason(req: OrderRequest, gatewayName: string, origin: OrderOrigin = LOCAL_ORIGIN): OrderBlock | null {
    const checks = this.orderChecks;
    for (let i = 0; i < checks.length; i++) {
      const block = checks[i]!.check.check(req, gatewayName, origin);
      if (block !== null) return block;
    }
    return null;
  }

  async cancelOrder(req: CancelRequest, gatewayName: string): Promise<void> {
    this.writeLog(this.t("cancelOrder", { gateway: gatewayName, req }));
    await this.getGateway(gatewayName)?.cancelOrder(req);
  }

  async sendQuote(req: QuoteRequest, gatewayName: string): Promise<string> {
    this.writeLog(this.t("sendQuote", { gateway: gatewayName, req }));
    const gateway = this.getGateway(gatewayName);
    return gateway ? gateway.sendQuote(req) : "";
  }

  async cancelQuote(req: CancelRequest, gatewayName: string): Promise<void> {
    this.writeLog(this.t("cancelQuote", { gateway: gatewayName, req }));
    await this.getGateway(gatewayName)?.cancelQuote(req);
  }

  async queryHistory(req: HistoryRequest, gatewayName: string): Promise<BarData[]> {
    return barList(await this.queryHistorySeries(req, gatewayName));
  }

  /** queryHistory in the gateway's own form (a BarSeries where it has one), for a server that encodes the bars. */
  async queryHistorySeries(req: HistoryRequest, gatewayName: string): Promise<BarData[] | BarSeries> {
    this.writeLog(this.t("queryHistory", { gateway: gatewayName, req }));
    const gateway = this.getGateway(gatewayName);
    return gateway ? gateway.queryHistorySeries(req) : [];
  }

  // The OMS getters, as VeighNa binds them onto MainEngine.
  getTick(vt_symbol: string) { return this.oms.getTick(vt_symbol); }
  getOrder(vt_orderid: string) { return this.oms.getOrder(vt_orderid); }
  getTrade(vt_tradeid: string) { return this.oms.getTrade(vt_tradeid); }
  getPosition(vt_positionid: string) { return this.oms.getPosition(vt_positionid); }
  getAccount(vt_accountid: string) { return this.oms.getAccount(vt_accountid); }
  getContract(vt_symbol: string) { return this.oms.getContract(vt_symbol); }
  getQuote(vt_quoteid: string) { return this.oms.getQuote(vt_quoteid); }
  getAllTicks() { return this.oms.getAllTicks(); }
  getAllOrders() { return this.oms.getAllOrders(); }
  getAllTrades() { return this.oms.getAllTrades(); }
  getAllPositions() { return this.oms.getAllPositions(); }
  getAllAccounts() { return this.oms.getAllAccounts(); }
  getAllContracts() { return this.oms.getAllContracts(); }
  getAllQuotes() { return this.oms.getAllQuotes(); }
  getAllActiveOrders() { return this.oms.getAllActiveOrders(); }
  getAllActiveQuotes() { return this.oms.getAllActiveQuotes(); }

  /** Stops the event engine, then closes every engine and every gateway (VeighNa's order). Idempotent. */
  /**
   * Stops the event engine, then every engine and gateway. `drainBudgetMs`: how long queued events may still be
   * processed (default: all of them); under overload a shutdown gives up on the rest (clients resynchronise).
   */
  async close(options: { drainBudgetMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const left = this.eventEngine.stop(options.drainBudgetMs);
    if (left > 0) console.error(`MainEngine: closing with ${left} events unprocessed (drain budget ${options.drainBudgetMs} ms)`);
    for (const engine of this.engines.values()) await engine.close();
    for (const gateway of this.gateways.values()) await gateway.close();
  }
}

/** CcxtGateway: a crypto exchange through ccxt (spot pairs and linear perpetual swaps) as a VeighNa gateway. */
import type { Exchange, MarketInterface as Market, Order, Trade } from "ccxt";
import {
  AccountData,
  BaseGateway,
  Direction,
  ERROR,
  Exchange as VtExchange,
  INFO,
  Interval,
  PositionData,
  WARNING,
  displayValue,
  type BarData,
  type CancelRequest,
  type GatewaySetting,
  type HistoryRequest,
  type OrderRequest,
  type SubscribeRequest,
  messageOf,
} from "../kernel/index.js";
import { barFrom, CCXT_EXCHANGE, ccxtOrderArgs, contractFromMarket, feeText, marketTypeOf, positionFrom, timeframeOf } from "./convert.js";
import { CcxtError } from "./errors.js";
import { MarketFeeds } from "./feeds.js";
import { OrderMemory } from "./orders.js";
import { quietUnawaitedFutures, trackDelayedCalls } from "./instance.js";
import { classify, isOrderNotFound } from "./rejections.js";
import { CCXT_DEFAULT_SETTING, parseCcxtSetting, type CcxtMarketType, type CcxtSettings } from "./settings.js";
import { rewriteUrlTree } from "./urls.js";

/** ccxt options every exchange gets unless the setting says otherwise (unknown options are ignored by ccxt). */
const DEFAULT_OPTIONS: Readonly<Record<string, unknown>> = {
  // We reconcile open orders of every symbol at once, knowingly (Binance otherwise refuses without a symbol).
  warnOnFetchOpenOrdersWithoutSymbol: false,
  // Positions come from fetchPositions. Left on, ccxt's binance starts a positions snapshot with every order
  // stream that nobody awaits, and a dropped socket then rejects it as an unhandled rejection.
  watchPositions: { fetchPositionsSnapshot: false },
};

/** Candles per history page; the gateway pages until the requested end. */
const HISTORY_PAGE = 1000;
const MAX_HISTORY_PAGES = 1000;
/** A second reconciliation this long after a reconnect covers fills made while the new stream was subscribing. */
const SETTLE_MS = 2000;
const MAX_BACKOFF_MS = 10_000;
/** Up to this many contracts of a market type, open orders are asked for symbol by symbol. */
const PER_SYMBOL_QUERIES = 8;

/**
 * One ccxt exchange (any of ccxt's 100+; tested against Binance spot and USDⓈ-M futures) as a gateway.
 *
 * Settings: see `CCXT_DEFAULT_SETTING` and README "Trade a crypto exchange". Contracts are the exchange's spot
 * markets (Product.SPOT) and linear perpetual swaps (Product.SWAP), `symbol` the ccxt symbol and `exchange`
 * GLOBAL (see `convert.ts` for the vt_symbol scheme). Orders carry our orderid as the client order id, so an
 * order is ours before the exchange answers and can be found again after any failure. Order and fill updates
 * come from `watchOrders`/`watchMyTrades`; after every reconnect, and periodically, a REST reconciliation
 * (`fetchOpenOrders`, `fetchOrder`, `fetchMyTrades`) catches what a dropped socket missed. Keys come from the
 * setting or the environment and appear in no log line.
 */
export class CcxtGateway extends BaseGateway {
  static override readonly defaultName: string = "CCXT";
  static override readonly defaultSetting: Readonly<GatewaySetting> = CCXT_DEFAULT_SETTING;
  static override readonly exchanges: readonly VtExchange[] = [CCXT_EXCHANGE];

  private exchange: Exchange | null = null;
  private settings: CcxtSettings | null = null;
  private feeds: MarketFeeds | null = null;
  private memory = new OrderMemory(this.gatewayName);
  private readonly markets = new Map<string, Market>();
  private running = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private reconciling: Promise<void> | null = null;
  private reconcileAgain = false;
  /** Symbols with orders of ours since the last reconciliation: their fills are fetched. */
  private readonly touchedSymbols = new Set<string>();
  private lastTradeMs = Date.now() - 60_000;
  private readonly positionSymbols = new Set<string>();
  private readonly accountKeys = new Set<string>();
  private accountRefresh: NodeJS.Timeout | undefined;
  private cancelDelayed: () => void = () => undefined;

  get connected(): boolean {
    return this.exchange !== null;
  }

  /** The ccxt instance (for tests and tools); null before connect. */
  get ccxt(): Exchange | null {
    return this.exchange;
  }

  get hasCredentials(): boolean {
    return Boolean(this.settings?.apiKey && this.settings.secret);
  }

  async connect(setting: GatewaySetting): Promise<void> {
    if (this.exchange) return;
    let settings: CcxtSettings;
    try {
      settings = parseCcxtSetting(setting);
    } catch (error) {
      this.writeLog((error as Error).message, ERROR);
      throw error;
    }
    const ccxt = await import("ccxt");
    const classes = ccxt.pro as unknown as Record<string, new (config: object) => Exchange>;
    const restClasses = ccxt as unknown as Record<string, new (config: object) => Exchange>;
    // ccxt.pro's class adds the watch* methods to the REST one; `websocket: false` keeps to REST (polling).
    const known = Object.prototype.hasOwnProperty.call(ccxt.exchanges, settings.exchange);
    const ExchangeClass = !known ? undefined : settings.websocket ? (classes[settings.exchange] ?? restClasses[settings.exchange]) : restClasses[settings.exchange];
    if (!ExchangeClass) {
      const error = new CcxtError("ERR_CCXT_CONNECT", `ccxt has no exchange "${settings.exchange}"`);
      this.writeLog(error.message, ERROR);
      throw error;
    }
    const exchange = new ExchangeClass({
      apiKey: settings.apiKey || undefined,
      secret: settings.secret || undefined,
      password: settings.password || undefined,
      enableRateLimit: true,
      options: { ...DEFAULT_OPTIONS, ...settings.options },
    });
    quietUnawaitedFutures(exchange);
    const cancelDelayed = trackDelayedCalls(exchange);
    if (settings.sandbox) exchange.setSandboxMode(true);
    if (settings.apiOrigin) {
      rewriteUrlTree(exchange.urls["api"] as never, settings.apiOrigin);
      // ccxt opens plain ws:// sockets only with an http agent loaded (it expects them behind proxies).
      if (settings.apiOrigin.startsWith("http:")) await exchange.loadHttpProxyAgent();
    }
    this.settings = settings;
    try {
      await exchange.loadMarkets();
    } catch (error) {
      cancelDelayed();
      await exchange.close().catch(() => undefined);
      this.settings = null;
      const failure = new CcxtError("ERR_CCXT_CONNECT", `${settings.exchange}: cannot load markets: ${this.redact(error)}`, { cause: error });
      this.writeLog(failure.message, ERROR);
      throw failure;
    }
    this.exchange = exchange;
    this.cancelDelayed = cancelDelayed;
    this.running = true;
    this.memory = new OrderMemory(this.gatewayName);
    this.feeds = new MarketFeeds(exchange, this.gatewayName, settings.pollMs, {
      tick: (tick) => this.onTick(tick),
      log: (msg, level) => this.writeLog(msg, level ?? INFO),
    });
    this.loadContracts(exchange, settings);
    this.writeLog(`${settings.exchange}${settings.sandbox ? " (sandbox)" : ""}: ${this.markets.size} contracts (${settings.marketTypes.join(", ")}), market data by ${this.feeds.streaming ? "WebSocket" : `polling every ${settings.pollMs} ms`}`);
    if (!this.hasCredentials) {
      this.writeLog(`${settings.exchange}: no API key; market data only`, WARNING);
      return;
    }
    await this.reconcile();
    await Promise.all([this.queryAccount(), this.queryPosition()]);
    for (const type of settings.marketTypes) this.startPrivateStreams(type);
    // Without order streams, the REST reconciliation is how order updates arrive: at the polling period.
    const streamed = exchange.has["watchOrders"] && exchange.has["watchMyTrades"];
    this.every(streamed ? settings.reconcileMs : Math.min(settings.reconcileMs, settings.pollMs), () => {
      void this.reconcile();
      void this.queryAccount();
      void this.queryPosition();
    });
  }

  async close(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearTimeout(this.accountRefresh);
    this.feeds?.stop();
    this.feeds = null;
    const exchange = this.exchange;
    this.exchange = null;
    this.cancelDelayed();
    this.markets.clear();
    this.positionSymbols.clear();
    this.accountKeys.clear();
    this.touchedSymbols.clear();
    await exchange?.close().catch(() => undefined);
  }

  subscribe(req: SubscribeRequest): void {
    if (!this.feeds) return this.notConnected("subscribe");
    if (!this.markets.has(req.symbol)) return this.writeLog(`subscribe: no contract ${req.vt_symbol} on ${this.gatewayName}`, WARNING);
    this.feeds.subscribe(req.symbol);
  }

  async sendOrder(req: OrderRequest): Promise<string> {
    const exchange = this.exchange;
    if (!exchange) {
      this.notConnected("sendOrder");
      return "";
    }
    const orderid = this.memory.nextOrderid();
    const order = this.memory.add(req, orderid);
    this.onOrder(order);
    const market = this.markets.get(req.symbol);
    const args = ccxtOrderArgs(req.type, this.settings!.postOnly || isPostOnly(req.reference));
    const refusal = !market ? `invalid order: no contract ${req.vt_symbol}` : typeof args === "string" ? `invalid order: ${args}` : !this.hasCredentials ? "authentication failed: no API key configured" : undefined;
    if (refusal || typeof args === "string" || !market) {
      this.rejectOrder(orderid, refusal ?? "invalid order", "INVALID_ORDER");
      return order.vt_orderid;
    }
    this.touchedSymbols.add(req.symbol);
    const side = req.direction === Direction.LONG ? "buy" : "sell";
    const params = { ...args.params, clientOrderId: orderid, ...(market.swap ? { type: "swap" } : {}) };
    // Not awaited by the caller: the order is ours (SUBMITTING) now; the exchange's answer updates it.
    void exchange
      .createOrder(req.symbol, args.type, side, req.volume, args.type === "market" ? undefined : req.price, params)
      .then(
        (result) => this.applyOrders([{ ...result, clientOrderId: result.clientOrderId ?? orderid }]),
        (error: unknown) => this.orderFailed(orderid, error),
      );
    return order.vt_orderid;
  }

  async cancelOrder(req: CancelRequest): Promise<void> {
    const exchange = this.exchange;
    if (!exchange) return this.notConnected("cancelOrder");
    const exchangeId = this.memory.exchangeIdOf(req.orderid);
    const market = this.markets.get(req.symbol);
    try {
      const result = await exchange.cancelOrder(exchangeId ?? "", req.symbol, {
        ...(exchangeId ? {} : { clientOrderId: req.orderid }),
        ...(market?.swap ? { type: "swap" } : {}),
      });
      this.applyOrders([{ ...result, clientOrderId: result.clientOrderId ?? req.orderid }]);
    } catch (error) {
      this.writeLog(`cancel ${this.gatewayName}.${req.orderid} refused: ${classify(error).reason.replace(/^[^:]+: /, "")}`.slice(0, 500), WARNING);
      // The order may have filled or ended meanwhile: ask.
      if (isOrderNotFound(error) || classify(error).ambiguous) void this.refreshOrder(req.orderid, req.symbol);
      else this.redactLog(error);
    }
  }

  async queryAccount(): Promise<void> {
    const exchange = this.exchange;
    if (!exchange || !this.settings || !this.hasCredentials) return;
    for (const type of this.settings.marketTypes) {
      try {
        const balance = await exchange.fetchBalance({ type });
        const total = (balance.total ?? {}) as unknown as Record<string, number | undefined>;
        const used = (balance.used ?? {}) as unknown as Record<string, number | undefined>;
        for (const currency of Object.keys(total)) {
          const accountid = `${type}:${currency}`;
          const amount = total[currency] ?? 0;
          // Every currency the account holds, and a zero for one it held before.
          if (!amount && !this.accountKeys.has(accountid)) continue;
          this.accountKeys.add(accountid);
          this.onAccount(new AccountData({ gateway_name: this.gatewayName, accountid, balance: amount, frozen: used[currency] ?? 0 }));
        }
      } catch (error) {
        this.writeLog(`${type} balance query failed: ${this.redact(error)}`, WARNING);
      }
    }
  }

  async queryPosition(): Promise<void> {
    const exchange = this.exchange;
    if (!exchange || !this.settings?.marketTypes.includes("swap") || !this.hasCredentials || !exchange.has["fetchPositions"]) return;
    const symbols = [...this.markets.values()].filter((m) => m.swap).map((m) => m.symbol);
    if (symbols.length === 0) return;
    try {
      const positions = await exchange.fetchPositions(symbols, { type: "swap" });
      const seen = new Set<string>();
      for (const position of positions) {
        if (!position.symbol || !this.markets.has(position.symbol)) continue;
        seen.add(position.symbol);
        if (!position.contracts && !this.positionSymbols.has(position.symbol)) continue;
        this.positionSymbols.add(position.symbol);
        this.onPosition(positionFrom(position, this.gatewayName));
      }
      // A position closed since the last query: the exchange lists it no more, or lists it empty.
      for (const symbol of this.positionSymbols) {
        if (seen.has(symbol)) continue;
        this.onPosition(new PositionData({ gateway_name: this.gatewayName, symbol, exchange: CCXT_EXCHANGE, direction: Direction.NET, volume: 0 }));
      }
    } catch (error) {
      this.writeLog(`position query failed: ${this.redact(error)}`, WARNING);
    }
  }

  override async queryHistory(req: HistoryRequest): Promise<BarData[]> {
    const exchange = this.exchange;
    if (!exchange) {
      this.notConnected("queryHistory");
      return [];
    }
    const interval = req.interval ?? Interval.MINUTE;
    const timeframe = timeframeOf(interval);
    if (!timeframe || !this.markets.has(req.symbol)) {
      this.writeLog(`history: ${!timeframe ? `interval ${interval} is not supported` : `no contract ${req.vt_symbol}`}`, WARNING);
      return [];
    }
    const stepMs = exchange.parseTimeframe(timeframe) * 1000;
    const endMs = req.end ? Math.floor(req.end.epochMicros() / 1000) : Date.now();
    let since = Math.floor(req.start.epochMicros() / 1000);
    const bars: BarData[] = [];
    try {
      for (let page = 0; page < MAX_HISTORY_PAGES && since <= endMs; page++) {
        const candles = await exchange.fetchOHLCV(req.symbol, timeframe, since, HISTORY_PAGE);
        const fresh = candles.filter((c) => Number(c[0]) >= since && Number(c[0]) <= endMs);
        for (const candle of fresh) bars.push(barFrom(req.symbol, interval, candle, this.gatewayName));
        if (fresh.length === 0) break;
        since = Number(fresh[fresh.length - 1]![0]) + stepMs;
      }
    } catch (error) {
      this.writeLog(`history of ${req.vt_symbol} failed after ${bars.length} bars: ${this.redact(error)}`, WARNING);
    }
    return bars;
  }

  /** Asks the exchange for every order and fill a dropped stream may have missed; one run at a time. */
  reconcile(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      do {
        this.reconcileAgain = false;
        await this.reconcileOnce();
      } while (this.reconcileAgain && this.running);
    })().finally(() => (this.reconciling = null));
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    const exchange = this.exchange;
    const settings = this.settings;
    if (!exchange || !settings || !this.hasCredentials) return;
    const startedMs = Date.now();
    const open = new Set<string>();
    for (const type of settings.marketTypes) {
      // Exchanges weigh an all-symbols query like many single ones (Binance: 16 to 40 times): a few contracts
      // are cheaper asked one by one.
      const symbols = [...this.markets.values()].filter((m) => marketTypeOf(m) === type).map((m) => m.symbol);
      const queries = symbols.length <= PER_SYMBOL_QUERIES ? symbols : [undefined];
      for (const symbol of queries) {
        try {
          const orders = await exchange.fetchOpenOrders(symbol, undefined, undefined, { type });
          for (const order of orders) if (order.id) open.add(order.id);
          this.applyOrders(orders.filter((o) => o.symbol && this.markets.has(o.symbol)));
        } catch (error) {
          this.writeLog(`${type} open orders query failed: ${this.redact(error)}`, WARNING);
        }
      }
    }
    // Ours that are no longer open: they filled or ended while we were not listening.
    for (const order of this.memory.activeOrders()) {
      const exchangeId = this.memory.exchangeIdOf(order.orderid);
      if (exchangeId && open.has(exchangeId)) continue;
      await this.refreshOrder(order.orderid, order.symbol);
    }
    const touched = [...this.touchedSymbols];
    this.touchedSymbols.clear();
    for (const order of this.memory.activeOrders()) this.touchedSymbols.add(order.symbol);
    const since = this.lastTradeMs - 60_000;
    for (const symbol of touched) {
      try {
        const market = this.markets.get(symbol);
        this.applyTrades(await exchange.fetchMyTrades(symbol, since, undefined, market?.swap ? { type: "swap" } : {}));
      } catch (error) {
        this.touchedSymbols.add(symbol);
        this.writeLog(`fills query of ${symbol} failed: ${this.redact(error)}`, WARNING);
      }
    }
    for (const { exchangeId, symbol } of this.memory.orphanOrderIds()) {
      if (!this.markets.has(symbol)) continue;
      try {
        this.applyOrders([await exchange.fetchOrder(exchangeId, symbol, this.typeParams(symbol))]);
      } catch (error) {
        this.writeLog(`order ${exchangeId} of a fill could not be fetched: ${this.redact(error)}`, WARNING);
      }
    }
    this.lastTradeMs = Math.max(this.lastTradeMs, startedMs - 5_000);
  }

  /** Asks the exchange for one of our orders (by client order id when its exchange id is not known yet). */
  private async refreshOrder(orderid: string, symbol: string): Promise<void> {
    const exchange = this.exchange;
    if (!exchange) return;
    const exchangeId = this.memory.exchangeIdOf(orderid);
    try {
      const order = await exchange.fetchOrder(exchangeId ?? "", symbol, {
        ...(exchangeId ? {} : { clientOrderId: orderid }),
        ...this.typeParams(symbol),
      });
      this.applyOrders([{ ...order, clientOrderId: order.clientOrderId ?? orderid }]);
      if ((order.filled ?? 0) > 0) this.touchedSymbols.add(symbol);
    } catch (error) {
      if (isOrderNotFound(error) && !exchangeId) {
        // Sent, the connection failed, and the exchange never got it: the order ends here, with the reason.
        const order = this.memory.get(orderid);
        const reason = (order?.extra?.["pending_reason"] as string | undefined) ?? "network error";
        this.rejectOrder(orderid, `${reason} (the exchange has no such order)`, "NETWORK");
      } else {
        this.writeLog(`order ${this.gatewayName}.${orderid} could not be checked, will retry: ${this.redact(error)}`, WARNING);
      }
    }
  }

  private orderFailed(orderid: string, error: unknown): void {
    const { code, reason, ambiguous } = classify(error);
    if (!ambiguous) {
      this.rejectOrder(orderid, this.redact(reason), code);
      return;
    }
    // A timeout or dropped connection: the exchange may have the order. Ask, and keep asking until it answers.
    this.memory.markUnknown(orderid);
    const order = this.memory.get(orderid);
    if (order) order.extra = { pending_reason: this.redact(reason) };
    this.writeLog(`order ${this.gatewayName}.${orderid}: ${this.redact(reason)}; checking with the exchange`, WARNING);
    void this.refreshOrder(orderid, order?.symbol ?? "");
  }

  private rejectOrder(orderid: string, reason: string, code: string): void {
    const order = this.memory.reject(orderid, reason, code);
    if (!order) return;
    this.writeLog(`Order rejected ${order.vt_orderid} ${order.vt_symbol}: ${reason}`, WARNING);
    this.onOrder(order);
  }

  private applyOrders(orders: Order[]): void {
    for (const update of orders) {
      const change = this.memory.applyOrder(update);
      if (!change) continue;
      if (change.statusChanged) {
        this.writeLog(`Order ${change.order.vt_orderid} ${change.order.vt_symbol} ${displayValue("Status", change.order.status, this.language)} (${this.settings?.exchange} ${change.rawStatus}), traded ${change.order.traded}/${change.order.volume}`);
      }
      this.onOrder(change.order);
      if (change.order.traded > 0) this.touchedSymbols.add(change.order.symbol);
      // Funds move when an order rests, trades or ends.
      if (change.statusChanged) this.scheduleAccountRefresh();
    }
    const released = this.memory.releaseTrades();
    if (released.length) this.applyTrades(released);
  }

  private applyTrades(trades: Trade[]): void {
    let any = false;
    for (const raw of trades) {
      const trade = this.memory.applyTrade(raw);
      if (!trade) continue;
      any = true;
      if (raw.timestamp) this.lastTradeMs = Math.max(this.lastTradeMs, raw.timestamp);
      const fee = feeText(raw);
      this.writeLog(`Trade ${trade.vt_tradeid} ${trade.vt_orderid} ${trade.vt_symbol} ${displayValue("Direction", trade.direction, this.language)} ${trade.volume}@${trade.price}${fee ? ` fee ${fee}` : ""}`);
      this.onTrade(trade);
    }
    if (any) this.scheduleAccountRefresh();
    // A fill of an order we have not seen (placed elsewhere, or overtaken its own update): fetch its order.
    if (this.memory.orphanOrderIds().length > 0) void this.reconcile();
  }

  /** Balances and positions move with orders and fills; one query for a burst of them. */
  private scheduleAccountRefresh(): void {
    if (this.accountRefresh) return;
    this.accountRefresh = setTimeout(() => {
      this.accountRefresh = undefined;
      void this.queryAccount();
      void this.queryPosition();
    }, 200);
  }

  private startPrivateStreams(type: CcxtMarketType): void {
    const exchange = this.exchange!;
    const params = { type };
    if (exchange.has["watchOrders"]) {
      void this.stream(`${type} orders`, () => exchange.watchOrders(undefined, undefined, undefined, params), (orders) => this.applyOrders(orders.filter((o) => o.symbol && this.markets.has(o.symbol))));
    }
    if (exchange.has["watchMyTrades"]) {
      void this.stream(`${type} fills`, () => exchange.watchMyTrades(undefined, undefined, undefined, params), (trades) => this.applyTrades(trades.filter((t) => t.symbol && this.markets.has(t.symbol))));
    }
  }

  /**
   * One private stream: applies each batch; on failure logs, waits, resubscribes and reconciles over REST (now
   * and once more when the new subscription has settled), so a fill made while the socket was down is found.
   */
  private async stream<T>(name: string, watch: () => Promise<T[]>, apply: (items: T[]) => void): Promise<void> {
    // This connection's loop: a close (and a later connect) ends it, whatever it was waiting for.
    const exchange = this.exchange;
    const alive = (): boolean => this.running && this.exchange === exchange;
    let failures = 0;
    while (alive()) {
      try {
        const next = watch();
        if (failures > 0) {
          void this.reconcile();
          this.after(SETTLE_MS, () => void this.reconcile());
        }
        const items = await next;
        if (!alive()) return;
        if (failures > 0) this.writeLog(`${this.gatewayName} ${name} stream is back`);
        failures = 0;
        apply(items);
      } catch (error) {
        if (!alive()) return;
        if (failures === 0) this.writeLog(`${this.gatewayName} ${name} stream dropped, resubscribing: ${this.redact(error)}`, WARNING);
        failures += 1;
        await new Promise<void>((resolve) => this.after(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 7)), resolve));
      }
    }
  }

  private loadContracts(exchange: Exchange, settings: CcxtSettings): void {
    const wanted = new Set(settings.symbols);
    for (const market of Object.values(exchange.markets ?? {}) as Array<Market | undefined>) {
      if (!market) continue;
      const type = marketTypeOf(market);
      if (!type || !settings.marketTypes.includes(type)) continue;
      if (wanted.size > 0 ? !wanted.has(market.symbol) : market.active === false) continue;
      this.markets.set(market.symbol, market);
      this.onContract(contractFromMarket(market, exchange.precisionMode ?? 4, this.gatewayName));
    }
    for (const symbol of wanted) {
      if (!this.markets.has(symbol)) this.writeLog(`${settings.exchange} has no ${settings.marketTypes.join("/")} market ${symbol}`, WARNING);
    }
  }

  private typeParams(symbol: string): Record<string, string> {
    return this.markets.get(symbol)?.swap ? { type: "swap" } : {};
  }

  private every(ms: number, fn: () => void): void {
    const run = (): void => {
      if (!this.running) return;
      fn();
      this.after(ms, run);
    };
    this.after(ms, run);
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** An error's message with the credentials blotted out (exchanges sometimes echo a key back). */
  private redact(error: unknown): string {
    let text = messageOf(error);
    for (const secret of [this.settings?.apiKey, this.settings?.secret, this.settings?.password]) {
      if (secret && secret.length >= 4) text = text.split(secret).join("***");
    }
    return text.length > 500 ? `${text.slice(0, 500)}…` : text;
  }

  private redactLog(error: unknown): void {
    if (!(error instanceof Error)) return;
    this.writeLog(`(${error.name}) ${this.redact(error)}`, INFO);
  }

  private notConnected(action: string): void {
    this.writeLog(`${this.gatewayName} is not connected: ${action} ignored`, WARNING);
  }
}

/** A LIMIT order whose reference carries the word `post_only` (e.g. "mm1 post_only") is sent maker-only. */
export function isPostOnly(reference: string): boolean {
  return /(^|[^A-Za-z0-9_])post_only($|[^A-Za-z0-9_])/i.test(reference);
}

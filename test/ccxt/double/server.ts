/**
 * A local Binance double for the ccxt gateway's tests: the subset of Binance's documented spot and USDⓈ-M
 * futures API that ccxt's `binance` class calls for markets, books, tickers, orders, fills, balances, positions,
 * candles and the user-data streams, over HTTP and WebSocket on one loopback port.
 *
 * ccxt reaches it through the gateway's `api_origin` setting, which rewrites every Binance URL to
 * `<origin>/<original host><original path>`; the double reads the host back from the first path segment
 * (spot: api.binance.com, stream.binance.com:9443, ws-api.binance.com:443; futures: fapi.binance.com,
 * fstream.binance.com). Response shapes follow Binance's API documentation and the payloads ccxt's own parsers
 * document.
 *
 * Signed requests are verified as Binance does: the X-MBX-APIKEY header must be the double's key and
 * `signature` the HMAC-SHA256, with the double's secret, of the rest of the query string or body (WebSocket
 * API: of the other parameters sorted by name). A wrong key or signature gets Binance's -2015/-1022 refusals.
 *
 * The test scripts the market through `venue` (books, balances) and failures through `failNextOrder`,
 * `userStreamsDown` and `dropMarketStreams`.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { Venue, VenueError, LEVERAGE, type DoubleOrder, type DoubleTrade, type Kind, type Level, type MarketSpec, type OrderEvent } from "./venue.js";

export const DOUBLE_API_KEY = "double-api-key-0123456789";
export const DOUBLE_SECRET = "double-secret-abcdefghijklmnopqrstuvwxyz";

export const DEFAULT_MARKETS: { spot: MarketSpec[]; futures: MarketSpec[] } = {
  spot: [
    { id: "BTCUSDT", base: "BTC", quote: "USDT", tickSize: 0.01, stepSize: 0.00001, minQty: 0.00001, refPrice: 60000 },
    { id: "ETHUSDT", base: "ETH", quote: "USDT", tickSize: 0.01, stepSize: 0.0001, minQty: 0.0001, refPrice: 3000 },
  ],
  futures: [{ id: "BTCUSDT", base: "BTC", quote: "USDT", tickSize: 0.1, stepSize: 0.001, minQty: 0.001, refPrice: 60000 }],
};

/** How the next order request of a kind fails. */
export type OrderFailure =
  /** Place the order, then cut the connection before answering: the client cannot know it was placed. */
  | "drop-after-placing"
  /** Cut the connection without placing the order. */
  | "drop-before-placing"
  /** Answer 429 (Binance's request-weight limit) without placing. */
  | "rate-limit";

interface MarketConnection {
  readonly socket: WebSocket;
  readonly kind: Kind;
  readonly streams: Set<string>;
}

interface UserConnection {
  readonly socket: WebSocket;
  readonly kind: Kind;
  /** Spot WebSocket API: events ride as { subscriptionId, event }. */
  readonly subscriptionId?: number;
}

const INTERVALS: Record<string, number> = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000, "1w": 604_800_000 };

const str = (n: number): string => String(Number(n.toFixed(10)));

export class BinanceDouble {
  readonly venue: Venue;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly marketConnections = new Set<MarketConnection>();
  private readonly userConnections = new Set<UserConnection>();
  private readonly listenKeys = new Set<string>();
  private readonly updateIds = new Map<string, number>();
  private readonly failures: Record<Kind, OrderFailure[]> = { spot: [], futures: [] };
  private down = false;
  /** Every request, `METHOD host/path`, for assertions (e.g. which endpoints a feature used). */
  readonly requests: string[] = [];
  /** Every X-MBX-APIKEY value and ws-api apiKey seen (tests check no other secret ever travels). */
  readonly apiKeysSeen = new Set<string>();
  origin = "";

  private constructor(
    markets: { spot: MarketSpec[]; futures: MarketSpec[] },
    private readonly apiKey: string,
    private readonly secret: string,
  ) {
    this.venue = new Venue(markets);
    this.venue.listen({ order: (event) => this.pushOrder(event), book: (kind, symbol) => this.pushBook(kind, symbol) });
    this.http = createServer((req, res) => void this.handle(req, res));
    this.http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  static async start(options: { markets?: typeof DEFAULT_MARKETS; apiKey?: string; secret?: string } = {}): Promise<BinanceDouble> {
    const double = new BinanceDouble(options.markets ?? DEFAULT_MARKETS, options.apiKey ?? DOUBLE_API_KEY, options.secret ?? DOUBLE_SECRET);
    await new Promise<void>((resolve) => double.http.listen(0, "127.0.0.1", resolve));
    double.origin = `http://127.0.0.1:${(double.http.address() as AddressInfo).port}`;
    return double;
  }

  async stop(): Promise<void> {
    for (const c of this.marketConnections) c.socket.terminate();
    for (const c of this.userConnections) c.socket.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** The next order request of `kind` fails this way (once per call). */
  failNextOrder(kind: Kind, failure: OrderFailure): void {
    this.failures[kind].push(failure);
  }

  /**
   * true: cuts every user-data stream and refuses new ones (events meanwhile are lost, as on a dropped socket;
   * REST keeps working). false: accepts them again.
   */
  set userStreamsDown(down: boolean) {
    this.down = down;
    if (down) for (const c of this.userConnections) c.socket.terminate();
  }

  get userStreamCount(): number {
    return [...this.userConnections].filter((c) => c.socket.readyState === c.socket.OPEN).length;
  }

  /** Cuts every market-data stream (clients resubscribe). */
  dropMarketStreams(): void {
    for (const c of this.marketConnections) c.socket.terminate();
  }

  subscribedStreams(): string[] {
    return [...this.marketConnections].flatMap((c) => [...c.streams].map((s) => `${c.kind}:${s}`));
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://double");
    const [, host = "", ...rest] = url.pathname.split("/");
    const path = `/${rest.join("/")}`;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const query = url.search.slice(1);
    const params = new URLSearchParams(query + (query && body ? "&" : "") + body);
    const kind: Kind = host.startsWith("fapi") ? "futures" : "spot";
    this.requests.push(`${req.method} ${host}${path}`);
    if (process.env["DOUBLE_TRACE"]) console.error(Date.now() % 100000, req.method, host + path);
    const send = (status: number, payload: unknown): void => {
      if (res.destroyed) return;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    try {
      const key = req.headers["x-mbx-apikey"];
      if (typeof key === "string") this.apiKeysSeen.add(key);
      const route = this.route(kind, req.method ?? "GET", path);
      if (!route) return send(404, { code: -1, msg: `the double does not implement ${req.method} ${host}${path}` });
      if (route.auth !== "none") this.authenticate(key, route.auth === "signed" ? { query, body } : undefined);
      if (route.order) {
        const failure = this.failures[kind].shift();
        if (failure === "rate-limit") return send(429, { code: -1003, msg: "Too many requests; current limit of IP is 6000 requests per minute." });
        if (failure === "drop-before-placing") return void req.socket.destroy();
        const result = route.run(params);
        if (failure === "drop-after-placing") return void req.socket.destroy();
        return send(200, result);
      }
      send(200, route.run(params));
    } catch (error) {
      if (error instanceof VenueError) return send(error.httpStatus, { code: error.code, msg: error.msg });
      send(500, { code: -1000, msg: `double: ${(error as Error).stack}` });
    }
  }

  private authenticate(key: string | string[] | undefined, signed?: { query: string; body: string }): void {
    if (key !== this.apiKey) throw new VenueError(-2015, "Invalid API-key, IP, or permissions for action.", 401);
    if (!signed) return;
    const raw = signed.body || signed.query;
    const match = /^(.*)&signature=([0-9a-f]+)$/.exec(raw);
    if (!match || !this.validSignature(match[1]!, match[2]!)) throw new VenueError(-1022, "Signature for this request is not valid.");
  }

  private validSignature(payload: string, signature: string): boolean {
    const expected = createHmac("sha256", this.secret).update(payload).digest();
    const given = Buffer.from(signature, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private route(kind: Kind, method: string, path: string): { auth: "none" | "key" | "signed"; order?: boolean; run: (p: URLSearchParams) => unknown } | undefined {
    const v = this.venue;
    const p = kind === "spot" ? "/api/v3" : "/fapi";
    const symbolOf = (params: URLSearchParams): string => params.get("symbol") ?? "";
    const table: Record<string, { auth: "none" | "key" | "signed"; order?: boolean; run: (params: URLSearchParams) => unknown }> = {
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/exchangeInfo`]: { auth: "none", run: () => this.exchangeInfo(kind) },
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/ping`]: { auth: "none", run: () => ({}) },
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/time`]: { auth: "none", run: () => ({ serverTime: Date.now() }) },
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/depth`]: {
        auth: "none",
        run: (q) => {
          const depth = v.depth(kind, symbolOf(q), Number(q.get("limit") ?? 100));
          const lastUpdateId = this.updateIds.get(`${kind}:${symbolOf(q)}`) ?? 1;
          const side = (levels: Level[]): string[][] => levels.map(([price, qty]) => [str(price), str(qty)]);
          return kind === "spot"
            ? { lastUpdateId, bids: side(depth.bids), asks: side(depth.asks) }
            : { lastUpdateId, E: Date.now(), T: Date.now(), bids: side(depth.bids), asks: side(depth.asks) };
        },
      },
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/ticker/24hr`]: { auth: "none", run: (q) => this.ticker24(kind, symbolOf(q)) },
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/klines`]: {
        auth: "none",
        run: (q) => {
          const interval = INTERVALS[q.get("interval") ?? ""];
          if (!interval) throw new VenueError(-1120, "Invalid interval.");
          const limit = Math.min(Number(q.get("limit") ?? 500), kind === "spot" ? 1000 : 1500);
          const start = Number(q.get("startTime") ?? Date.now() - limit * interval);
          const end = Number(q.get("endTime") ?? Date.now());
          return v.klines(kind, symbolOf(q), interval, start, end, limit).map(([t, o, h, l, c, vol]) => [
            t, str(o), str(h), str(l), str(c), str(vol), t + interval - 1, str(vol * c), 10, str(vol / 2), str((vol / 2) * c), "0",
          ]);
        },
      },
      [`POST ${p}${kind === "spot" ? "" : "/v1"}/order`]: {
        auth: "signed",
        order: true,
        run: (q) => {
          const order = v.placeOrder(kind, {
            symbol: symbolOf(q),
            side: (q.get("side") ?? "") as "BUY",
            type: q.get("type") ?? "",
            ...(q.get("timeInForce") ? { timeInForce: q.get("timeInForce")! } : {}),
            ...(q.get("price") ? { price: Number(q.get("price")) } : {}),
            quantity: Number(q.get("quantity") ?? 0),
            clientOrderId: q.get("newClientOrderId") ?? "",
          });
          return kind === "spot" ? { ...this.spotOrder(order), transactTime: order.updateTime, fills: this.fillsOf(order) } : this.futuresOrder(order);
        },
      },
      [`DELETE ${p}${kind === "spot" ? "" : "/v1"}/order`]: {
        auth: "signed",
        run: (q) => {
          const order = v.cancelOrder(kind, symbolOf(q), this.orderRef(q));
          return kind === "spot" ? { ...this.spotOrder(order), origClientOrderId: order.clientOrderId, transactTime: order.updateTime } : this.futuresOrder(order);
        },
      },
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/order`]: {
        auth: "signed",
        run: (q) => {
          const order = v.findOrder(kind, symbolOf(q), this.orderRef(q));
          if (!order) throw new VenueError(-2013, "Order does not exist.");
          return kind === "spot" ? this.spotOrder(order) : this.futuresOrder(order);
        },
      },
      [`GET ${p}${kind === "spot" ? "" : "/v1"}/openOrders`]: {
        auth: "signed",
        run: (q) => v.openOrders(kind, q.get("symbol") ?? undefined).map((o) => (kind === "spot" ? this.spotOrder(o) : this.futuresOrder(o))),
      },
      [`GET ${kind === "spot" ? "/api/v3/myTrades" : "/fapi/v1/userTrades"}`]: {
        auth: "signed",
        run: (q) => {
          const since = Number(q.get("startTime") ?? 0);
          return v.trades
            .filter((t) => t.kind === kind && t.symbol === symbolOf(q) && t.time >= since)
            .map((t) => (kind === "spot" ? this.spotTrade(t) : this.futuresTrade(t)));
        },
      },
      ["GET /api/v3/account"]: {
        auth: "signed",
        run: () => ({
          makerCommission: 0, takerCommission: 0, buyerCommission: 0, sellerCommission: 0,
          canTrade: true, canWithdraw: true, canDeposit: true, brokered: false, requireSelfTradePrevention: false,
          updateTime: Date.now(), accountType: "SPOT",
          balances: [...v.balances].map(([asset, b]) => ({ asset, free: str(b.free), locked: str(b.locked) })),
          permissions: ["SPOT"], uid: 1,
        }),
      },
      ["GET /fapi/v3/account"]: { auth: "signed", run: () => this.futuresAccount() },
      ["GET /fapi/v2/account"]: { auth: "signed", run: () => this.futuresAccount() },
      ["GET /fapi/v3/positionRisk"]: { auth: "signed", run: (q) => this.positionRisk(q.get("symbol") ?? undefined) },
      ["GET /fapi/v2/positionRisk"]: { auth: "signed", run: (q) => this.positionRisk(q.get("symbol") ?? undefined) },
      ["GET /fapi/v1/leverageBracket"]: {
        auth: "signed",
        run: () => [...v.markets.futures.keys()].map((symbol) => ({
          symbol,
          brackets: [{ bracket: 1, initialLeverage: LEVERAGE, notionalCap: 1e9, notionalFloor: 0, maintMarginRatio: 0.004, cum: 0 }],
        })),
      },
      ["GET /fapi/v1/symbolConfig"]: {
        auth: "signed",
        run: () => [...v.markets.futures.keys()].map((symbol) => ({ symbol, marginType: "CROSSED", isAutoAddMargin: "false", leverage: LEVERAGE, maxNotionalValue: "1000000000" })),
      },
      ["POST /fapi/v1/listenKey"]: {
        auth: "key",
        run: () => {
          const listenKey = randomBytes(24).toString("hex");
          this.listenKeys.add(listenKey);
          return { listenKey };
        },
      },
      ["PUT /fapi/v1/listenKey"]: { auth: "key", run: () => ({}) },
      // What ccxt asks for when it is not told which market types to load or has keys: answered empty.
      ["GET /sapi/v1/capital/config/getall"]: { auth: "signed", run: () => [] },
      ["GET /sapi/v1/margin/allPairs"]: { auth: "key", run: () => [] },
      ["GET /sapi/v1/margin/isolated/allPairs"]: { auth: "signed", run: () => [] },
    };
    const found = table[`${method} ${path}`];
    if (found) return found;
    if (method === "GET" && path === "/dapi/v1/exchangeInfo") return { auth: "none", run: () => ({ timezone: "UTC", serverTime: Date.now(), rateLimits: [], exchangeFilters: [], symbols: [] }) };
    return undefined;
  }

  private orderRef(q: URLSearchParams): { orderId?: number; clientOrderId?: string } {
    const orderId = q.get("orderId");
    return orderId ? { orderId: Number(orderId) } : { clientOrderId: q.get("origClientOrderId") ?? "" };
  }

  private exchangeInfo(kind: Kind): unknown {
    const filters = (m: MarketSpec): unknown[] => [
      { filterType: "PRICE_FILTER", minPrice: str(m.tickSize), maxPrice: "1000000", tickSize: str(m.tickSize) },
      { filterType: "LOT_SIZE", minQty: str(m.minQty), maxQty: "9000", stepSize: str(m.stepSize) },
      { filterType: "MARKET_LOT_SIZE", minQty: "0", maxQty: "1000", stepSize: "0" },
      kind === "spot"
        ? { filterType: "NOTIONAL", minNotional: "5", applyMinToMarket: true, maxNotional: "9000000", applyMaxToMarket: false, avgPriceMins: 5 }
        : { filterType: "MIN_NOTIONAL", notional: "5" },
    ];
    const decimals = (step: number): number => Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    const symbols = [...this.venue.markets[kind].values()].map((m) =>
      kind === "spot"
        ? {
            symbol: m.id, status: "TRADING", baseAsset: m.base, baseAssetPrecision: 8, quoteAsset: m.quote, quotePrecision: 8,
            quoteAssetPrecision: 8, baseCommissionPrecision: 8, quoteCommissionPrecision: 8,
            orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            icebergAllowed: true, ocoAllowed: true, otoAllowed: true, quoteOrderQtyMarketAllowed: true, allowTrailingStop: true,
            cancelReplaceAllowed: true, isSpotTradingAllowed: true, isMarginTradingAllowed: false, filters: filters(m),
            permissions: [], permissionSets: [["SPOT"]], defaultSelfTradePreventionMode: "EXPIRE_MAKER",
            allowedSelfTradePreventionModes: ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
          }
        : {
            symbol: m.id, pair: m.id, contractType: "PERPETUAL", deliveryDate: 4133404800000, onboardDate: 1569398400000,
            status: "TRADING", maintMarginPercent: "2.5000", requiredMarginPercent: "5.0000", baseAsset: m.base,
            quoteAsset: m.quote, marginAsset: m.quote, pricePrecision: decimals(m.tickSize), quantityPrecision: decimals(m.stepSize),
            baseAssetPrecision: 8, quotePrecision: 8, underlyingType: "COIN", underlyingSubType: ["PoW"], triggerProtect: "0.0500",
            liquidationFee: "0.012500", marketTakeBound: "0.05", maxMoveOrderLimit: 10000, filters: filters(m),
            orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
            timeInForce: ["GTC", "IOC", "FOK", "GTX", "GTD"],
          },
    );
    return { timezone: "UTC", serverTime: Date.now(), rateLimits: [], exchangeFilters: [], symbols, ...(kind === "futures" ? { assets: [] } : {}) };
  }

  private ticker24(kind: Kind, symbol: string): Record<string, unknown> {
    const depth = this.venue.depth(kind, symbol, 1);
    const last = this.venue.last(kind, symbol);
    const open = this.venue.market(kind, symbol).refPrice;
    const now = Date.now();
    return {
      symbol, priceChange: str(last - open), priceChangePercent: str(((last - open) / open) * 100), weightedAvgPrice: str(last),
      ...(kind === "spot" ? { prevClosePrice: str(open) } : {}), lastPrice: str(last), lastQty: "0",
      ...(kind === "spot"
        ? { bidPrice: str(depth.bids[0]?.[0] ?? 0), bidQty: str(depth.bids[0]?.[1] ?? 0), askPrice: str(depth.asks[0]?.[0] ?? 0), askQty: str(depth.asks[0]?.[1] ?? 0) }
        : {}),
      openPrice: str(open), highPrice: str(Math.max(open, last)), lowPrice: str(Math.min(open, last)), volume: "100", quoteVolume: str(100 * last),
      openTime: now - 86_400_000, closeTime: now, firstId: 1, lastId: 100, count: 100,
    };
  }

  private spotOrder(o: DoubleOrder): Record<string, unknown> {
    return {
      symbol: o.symbol, orderId: o.orderId, orderListId: -1, clientOrderId: o.clientOrderId, price: str(o.price), origQty: str(o.origQty),
      executedQty: str(o.executedQty), cummulativeQuoteQty: str(o.cumQuote), status: o.status, timeInForce: o.type === "MARKET" ? "GTC" : o.timeInForce,
      type: o.type, side: o.side, stopPrice: "0.00000000", icebergQty: "0.00000000", time: o.time, updateTime: o.updateTime,
      isWorking: true, workingTime: o.time, origQuoteOrderQty: "0.00000000", selfTradePreventionMode: "EXPIRE_MAKER",
    };
  }

  private futuresOrder(o: DoubleOrder): Record<string, unknown> {
    return {
      orderId: o.orderId, symbol: o.symbol, status: o.status, clientOrderId: o.clientOrderId, price: str(o.price),
      avgPrice: str(o.executedQty ? o.cumQuote / o.executedQty : 0), origQty: str(o.origQty), executedQty: str(o.executedQty),
      cumQty: str(o.executedQty), cumQuote: str(o.cumQuote), timeInForce: o.timeInForce, type: o.type, reduceOnly: false,
      closePosition: false, side: o.side, positionSide: "BOTH", stopPrice: "0", workingType: "CONTRACT_PRICE", priceProtect: false,
      origType: o.type, priceMatch: "NONE", selfTradePreventionMode: "EXPIRE_MAKER", goodTillDate: 0, time: o.time, updateTime: o.updateTime,
    };
  }

  private fillsOf(o: DoubleOrder): unknown[] {
    return this.venue.trades
      .filter((t) => t.kind === o.kind && t.orderId === o.orderId)
      .map((t) => ({ price: str(t.price), qty: str(t.qty), commission: "0", commissionAsset: this.venue.market(o.kind, o.symbol).quote, tradeId: t.id }));
  }

  private spotTrade(t: DoubleTrade): Record<string, unknown> {
    return {
      symbol: t.symbol, id: t.id, orderId: t.orderId, orderListId: -1, price: str(t.price), qty: str(t.qty), quoteQty: str(t.price * t.qty),
      commission: "0", commissionAsset: this.venue.market("spot", t.symbol).quote, time: t.time, isBuyer: t.side === "BUY", isMaker: t.maker, isBestMatch: true,
    };
  }

  private futuresTrade(t: DoubleTrade): Record<string, unknown> {
    return {
      buyer: t.side === "BUY", commission: "0", commissionAsset: "USDT", id: t.id, maker: t.maker, orderId: t.orderId, price: str(t.price),
      qty: str(t.qty), quoteQty: str(t.price * t.qty), realizedPnl: str(t.realizedPnl), side: t.side, positionSide: "BOTH", symbol: t.symbol, time: t.time,
    };
  }

  private futuresAccount(): unknown {
    const v = this.venue;
    const unrealized = v.futuresUnrealized();
    const used = v.futuresUsedMargin();
    const margin = v.futuresWallet + unrealized;
    return {
      totalInitialMargin: str(used), totalMaintMargin: "0", totalWalletBalance: str(v.futuresWallet), totalUnrealizedProfit: str(unrealized),
      totalMarginBalance: str(margin), totalPositionInitialMargin: str(used), totalOpenOrderInitialMargin: "0", totalCrossWalletBalance: str(v.futuresWallet),
      totalCrossUnPnl: str(unrealized), availableBalance: str(margin - used), maxWithdrawAmount: str(margin - used),
      assets: [{
        asset: "USDT", walletBalance: str(v.futuresWallet), unrealizedProfit: str(unrealized), marginBalance: str(margin), maintMargin: "0",
        initialMargin: str(used), positionInitialMargin: str(used), openOrderInitialMargin: "0", crossWalletBalance: str(v.futuresWallet),
        crossUnPnl: str(unrealized), availableBalance: str(margin - used), maxWithdrawAmount: str(margin - used), updateTime: Date.now(),
      }],
      positions: [],
    };
  }

  private positionRisk(symbol: string | undefined): unknown[] {
    return [...this.venue.positions]
      .filter(([s, p]) => p.amt !== 0 && (symbol === undefined || s === symbol))
      .map(([s, p]) => {
        const mark = this.venue.last("futures", s);
        return {
          symbol: s, positionSide: "BOTH", positionAmt: str(p.amt), entryPrice: str(p.entryPrice), breakEvenPrice: str(p.entryPrice),
          markPrice: str(mark), unRealizedProfit: str(p.amt * (mark - p.entryPrice)), liquidationPrice: "0", isolatedMargin: "0",
          notional: str(p.amt * mark), marginAsset: "USDT", isolatedWallet: "0", initialMargin: str((Math.abs(p.amt) * mark) / LEVERAGE),
          maintMargin: "0", positionInitialMargin: str((Math.abs(p.amt) * mark) / LEVERAGE), openOrderInitialMargin: "0", adl: 0,
          bidNotional: "0", askNotional: "0", updateTime: Date.now(),
        };
      });
  }

  // ---- WebSocket ----

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://double");
    const path = url.pathname;
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    };
    if (path.startsWith("/ws-api.")) {
      if (this.down) return refuse("503 Service Unavailable");
      return this.wss.handleUpgrade(req, socket, head, (ws) => this.serveWsApi(ws));
    }
    if (path.startsWith("/fstream.") && path.includes("/private/")) {
      const listenKey = url.searchParams.get("listenKey") ?? "";
      if (this.down) return refuse("503 Service Unavailable");
      if (!this.listenKeys.has(listenKey)) return refuse("400 Bad Request");
      return this.wss.handleUpgrade(req, socket, head, (ws) => this.addUser({ socket: ws, kind: "futures" }));
    }
    if (path.startsWith("/stream.") || path.startsWith("/fstream.")) {
      const kind: Kind = path.startsWith("/fstream.") ? "futures" : "spot";
      return this.wss.handleUpgrade(req, socket, head, (ws) => this.serveMarket({ socket: ws, kind, streams: new Set() }));
    }
    refuse("404 Not Found");
  }

  private serveMarket(connection: MarketConnection): void {
    this.marketConnections.add(connection);
    connection.socket.on("close", () => this.marketConnections.delete(connection));
    connection.socket.on("message", (data) => {
      let message: { method?: string; params?: string[]; id?: number };
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if (message.method === "SUBSCRIBE" || message.method === "UNSUBSCRIBE") {
        for (const stream of message.params ?? []) {
          if (message.method === "SUBSCRIBE") connection.streams.add(stream);
          else connection.streams.delete(stream);
        }
        connection.socket.send(JSON.stringify({ result: null, id: message.id }));
        // A ticker stream starts with the current ticker, so a watcher has something at once.
        if (message.method === "SUBSCRIBE") {
          for (const stream of message.params ?? []) {
            const [lower, channel] = stream.split("@");
            const symbol = (lower ?? "").toUpperCase();
            if ((channel === "ticker" || channel === "miniTicker") && this.venue.markets[connection.kind].has(symbol)) {
              connection.socket.send(JSON.stringify(this.tickerEvent(connection.kind, symbol, channel)));
            }
          }
        }
      }
    });
  }

  private serveWsApi(socket: WebSocket): void {
    socket.on("message", (data) => {
      let message: { id?: string | number; method?: string; params?: Record<string, string | number> };
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      const reply = (payload: Record<string, unknown>): void => socket.send(JSON.stringify({ id: message.id, ...payload }));
      if (message.method !== "userDataStream.subscribe.signature") {
        return reply({ status: 400, error: { code: -1100, msg: `the double does not implement ${message.method}` } });
      }
      const params = { ...(message.params ?? {}) };
      const signature = String(params["signature"] ?? "");
      delete params["signature"];
      if (typeof params["apiKey"] === "string") this.apiKeysSeen.add(params["apiKey"]);
      const payload = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join("&");
      if (params["apiKey"] !== this.apiKey || !this.validSignature(payload, signature)) {
        return reply({ status: 401, error: { code: -1022, msg: "Signature for this request is not valid." } });
      }
      this.addUser({ socket, kind: "spot", subscriptionId: 0 });
      reply({ status: 200, result: { subscriptionId: 0 } });
    });
  }

  private addUser(connection: UserConnection): void {
    this.userConnections.add(connection);
    connection.socket.on("close", () => this.userConnections.delete(connection));
  }

  private pushOrder(event: OrderEvent): void {
    if (this.down) return;
    const payload = event.order.kind === "spot" ? this.executionReport(event) : this.orderTradeUpdate(event);
    for (const c of this.userConnections) {
      if (c.kind !== event.order.kind || c.socket.readyState !== c.socket.OPEN) continue;
      c.socket.send(JSON.stringify(c.subscriptionId === undefined ? payload : { subscriptionId: c.subscriptionId, event: payload }));
    }
  }

  private executionReport({ order: o, execType, trade }: OrderEvent): Record<string, unknown> {
    const now = Date.now();
    return {
      e: "executionReport", E: now, s: o.symbol, c: o.clientOrderId, S: o.side, o: o.type, f: o.type === "MARKET" ? "GTC" : o.timeInForce,
      q: str(o.origQty), p: str(o.price), P: "0.00000000", F: "0.00000000", g: -1, C: execType === "CANCELED" ? o.clientOrderId : "", x: execType,
      X: o.status, r: "NONE", i: o.orderId, l: str(trade?.qty ?? 0), z: str(o.executedQty), L: str(trade?.price ?? 0), n: "0",
      N: trade ? this.venue.market("spot", o.symbol).quote : null, T: trade?.time ?? o.updateTime, t: trade?.id ?? -1, I: 1, w: o.status === "NEW",
      m: trade?.maker ?? false, M: false, O: o.time, Z: str(o.cumQuote), Y: str(trade ? trade.price * trade.qty : 0), Q: "0.00000000", W: o.time, V: "EXPIRE_MAKER",
    };
  }

  private orderTradeUpdate({ order: o, execType, trade }: OrderEvent): Record<string, unknown> {
    const now = Date.now();
    return {
      e: "ORDER_TRADE_UPDATE", E: now, T: now,
      o: {
        s: o.symbol, c: o.clientOrderId, S: o.side, o: o.type, f: o.timeInForce, q: str(o.origQty), p: str(o.price),
        ap: str(o.executedQty ? o.cumQuote / o.executedQty : 0), sp: "0", x: execType, X: o.status, i: o.orderId,
        l: str(trade?.qty ?? 0), z: str(o.executedQty), L: str(trade?.price ?? 0), N: "USDT", n: "0", T: trade?.time ?? o.updateTime,
        t: trade?.id ?? 0, b: "0", a: "0", m: trade?.maker ?? false, R: false, wt: "CONTRACT_PRICE", ot: o.type, ps: "BOTH",
        cp: false, rp: str(trade?.realizedPnl ?? 0), pP: false, si: 0, ss: 0, V: "EXPIRE_MAKER", pm: "NONE", gtd: 0,
      },
    };
  }

  /** A `<symbol>@ticker` (24hrTicker) or `<symbol>@miniTicker` (24hrMiniTicker) event. */
  private tickerEvent(kind: Kind, symbol: string, channel: string): Record<string, unknown> {
    const t = this.ticker24(kind, symbol);
    if (channel === "miniTicker") {
      return { e: "24hrMiniTicker", E: Date.now(), s: symbol, c: t["lastPrice"], o: t["openPrice"], h: t["highPrice"], l: t["lowPrice"], v: t["volume"], q: t["quoteVolume"] };
    }
    return {
      e: "24hrTicker", E: Date.now(), s: symbol, p: t["priceChange"], P: t["priceChangePercent"], w: t["weightedAvgPrice"],
      x: t["prevClosePrice"] ?? t["openPrice"], c: t["lastPrice"], Q: "0", b: t["bidPrice"] ?? "0", B: t["bidQty"] ?? "0",
      a: t["askPrice"] ?? "0", A: t["askQty"] ?? "0", o: t["openPrice"], h: t["highPrice"], l: t["lowPrice"], v: t["volume"],
      q: t["quoteVolume"], O: t["openTime"], C: t["closeTime"], F: 1, L: 100, n: 100,
    };
  }

  private readonly lastSent = new Map<string, { bids: Map<number, number>; asks: Map<number, number> }>();

  /** A book change: one update id, sent as a diff (levels gone are sent with quantity 0) to depth subscribers. */
  private pushBook(kind: Kind, symbol: string): void {
    const key = `${kind}:${symbol}`;
    const previousId = this.updateIds.get(key) ?? 1;
    const id = previousId + 1;
    this.updateIds.set(key, id);
    const depth = this.venue.depth(kind, symbol, 1000);
    const now = { bids: new Map(depth.bids), asks: new Map(depth.asks) };
    const before = this.lastSent.get(key) ?? { bids: new Map<number, number>(), asks: new Map<number, number>() };
    this.lastSent.set(key, now);
    const diff = (was: Map<number, number>, is: Map<number, number>): string[][] => {
      const out: string[][] = [];
      for (const price of was.keys()) if (!is.has(price)) out.push([str(price), "0"]);
      for (const [price, qty] of is) if (was.get(price) !== qty) out.push([str(price), str(qty)]);
      return out;
    };
    const lower = symbol.toLowerCase();
    const depthEvent = {
      e: "depthUpdate", E: Date.now(), ...(kind === "futures" ? { T: Date.now() } : {}), s: symbol, U: id, u: id,
      ...(kind === "futures" ? { pu: previousId } : {}), b: diff(before.bids, now.bids), a: diff(before.asks, now.asks),
    };
    for (const c of this.marketConnections) {
      if (c.kind !== kind || c.socket.readyState !== c.socket.OPEN) continue;
      if ([...c.streams].some((s) => s.startsWith(`${lower}@depth`))) c.socket.send(JSON.stringify(depthEvent));
      for (const channel of ["ticker", "miniTicker"]) {
        if (c.streams.has(`${lower}@${channel}`)) c.socket.send(JSON.stringify(this.tickerEvent(kind, symbol, channel)));
      }
    }
  }
}

/**
 * SimVenue: the simulated exchange itself, with no event engine in sight. It takes order, cancel and subscribe
 * requests, moves the market on demand (`advance`), and reports every change to a sink.
 *
 * Each action (an order, a cancel, a timer step) collects its changes in a batch; the batch is written to the
 * store in one transaction, and only then are its events handed to the sink, in the order they happened. So a
 * client never sees a state that a crash would take back.
 */
import {
  BarSeries,
  barList,
  Interval,
  OrderType,
  Status,
  TradeData,
  WARNING,
  ERROR,
  INFO,
  DEFAULT_LANGUAGE,
  type AccountData,
  type BarData,
  type CancelRequest,
  type ContractData,
  type HistoryRequest,
  type Language,
  type OrderData,
  type OrderRequest,
  type PositionData,
  type TickData,
} from "../kernel/index.js";
import { admit, sideOf, type RejectCode } from "./admission.js";
import { SimError } from "./errors.js";
import { BAR_PERIODS, historySeriesAsync, type DayBarCache } from "./history.js";
import { Batch, orderFromRow, orderRow, positionRow, snapshotOrder, tradeFromRow, tradeRow } from "./journal.js";
import { closeRuleFor, commissionOf, Funds, marginOf, pnlOf, Portfolio, type CloseAllocation, type LegEntry, type MarkPrice } from "./ledger.js";
import { LiveMarket } from "./market.js";
import { availableVolume, crossResting, isZeroVolume, takeLiquidity } from "./matching.js";
import { memberName, simMessages, type SimTranslator } from "./messages.js";
import { ContractModel, type Book } from "./model.js";
import { specVtSymbol, toContractData, type SimContractSpec } from "./spec.js";
import type { AccountRow, SimStore } from "./store.js";
import { chinaDateTime, dayIndexOf, dayStartMs, instantOf, type SimClock } from "./time.js";

export type { RejectCode } from "./admission.js";

/** Why the venue (not the user) cancelled what was left of an order. */
export type VenueCancelCode = "NO_LIQUIDITY";

/** What `order.extra` holds on a rejected order, or on one the venue cancelled. */
export interface OrderOutcome {
  readonly reason: string;
  readonly code: RejectCode | VenueCancelCode;
}

/** Where the venue reports: SimGateway forwards each call to the matching `on*` method. */
export interface VenueSink {
  contract(contract: ContractData): void;
  order(order: OrderData): void;
  trade(trade: TradeData): void;
  position(position: PositionData): void;
  account(account: AccountData): void;
  tick(tick: TickData): void;
  log(msg: string, level: number): void;
}

export interface VenueOptions {
  readonly gatewayName: string;
  readonly accountid: string;
  /** Balance of a new account; a restored account keeps its own. */
  readonly capital: number;
  readonly seed: number;
  readonly ticksPerSecond: number;
  readonly universe: readonly SimContractSpec[];
  readonly store: SimStore;
  readonly clock: SimClock;
  readonly sink: VenueSink;
  /** What its log lines and rejection reasons are written in (default "en"): the gateway's engine's language. */
  readonly language?: Language;
}

/** Bars one history request may return; a longer span is cut to its most recent part. */
export const MAX_HISTORY_BARS = 100_000;

const PRICE_TOLERANCE = 1e-6; // in ticks

/** An order that can still trade, with what it holds: margin (opens) or position volume (closes). */
interface ActiveOrder {
  readonly seq: number;
  readonly order: OrderData;
  readonly market: LiveMarket<ActiveOrder>;
  readonly legEntry: LegEntry;
  readonly opening: boolean;
  readonly marginPerLot: number;
  readonly allocation: CloseAllocation;
}

type Market = LiveMarket<ActiveOrder>;

export class SimVenue {
  readonly gatewayName: string;
  readonly accountid: string;
  private readonly options: VenueOptions;
  private readonly store: SimStore;
  private readonly clock: SimClock;
  private readonly sink: VenueSink;
  private readonly t: SimTranslator;
  private readonly models = new Map<string, ContractModel>();
  private readonly markets = new Map<string, Market>();
  private readonly active = new Map<string, ActiveOrder>();
  private readonly journaledSpecs = new Set<string>();
  private readonly dayBars = new Map<string, DayBarCache>();
  private readonly portfolio: Portfolio;
  private tradingDay = Number.NaN;
  private nextOrderSeq = 1;
  private nextTradeSeq = 1;
  /** Positions are valued at the running market's last price, or at the path's price if it is not running. */
  private readonly mark: MarkPrice = (model) => {
    const market = this.markets.get(model.vt_symbol);
    return market?.started ? market.last_price : model.roundPrice(model.price(this.clock.now()));
  };

  constructor(options: VenueOptions) {
    this.options = options;
    this.gatewayName = options.gatewayName;
    this.accountid = options.accountid;
    this.store = options.store;
    this.clock = options.clock;
    this.sink = options.sink;
    this.t = simMessages.in(options.language ?? DEFAULT_LANGUAGE);
    this.portfolio = new Portfolio(options.gatewayName, options.accountid, new Funds(options.capital));
  }

  // ---- start -------------------------------------------------------------------------------------------------

  /** Restores the journal and publishes everything: contracts, account, positions, orders, trades. */
  open(): void {
    const now = this.clock.now();
    const state = this.store.load();
    this.buildModels([...this.options.universe, ...state.contracts]);
    for (const spec of state.contracts) this.journaledSpecs.add(specVtSymbol(spec));

    const account = state.account;
    if (account && account.accountid !== this.accountid) {
      throw new SimError(
        "ERR_SIM_STORE",
        `${this.store.path} holds account ${account.accountid}, not ${this.accountid}; use another data_dir or accountid ${account.accountid}`,
      );
    }
    if (account) this.portfolio.funds = new Funds(account.capital, account.cash, account.commission, account.realized);
    this.tradingDay = account ? account.trading_day : dayIndexOf(now);

    for (const row of state.positions) {
      const model = this.models.get(row.vt_symbol);
      if (!model) continue; // every journaled position's spec is journaled too; this only skips a damaged row
      const { leg } = this.portfolio.entry(model, row.direction as LegEntry["direction"]);
      leg.volume = row.volume;
      leg.yd_volume = row.yd_volume;
      leg.price = row.price;
    }

    // Active orders hold again what they held, under the trading day they were placed on; the roll below moves on.
    const orders = state.orders.map((row) => orderFromRow(row, this.gatewayName));
    orders.forEach((order, i) => {
      if (order.isActive()) this.restoreActive(state.orders[i]!.seq, order, now);
    });
    this.nextOrderSeq = (state.orders.at(-1)?.seq ?? 0) + 1;
    this.nextTradeSeq = (state.trades.at(-1)?.seq ?? 0) + 1;

    const batch = new Batch();
    batch.account = !account;
    this.rollDayIfNeeded(now, batch);
    this.commit(batch);

    for (const model of this.models.values()) this.sink.contract(toContractData(model.spec, this.gatewayName));
    this.sink.account(this.portfolio.accountData(this.mark));
    for (const entry of this.portfolio.entries()) this.sink.position(this.portfolio.positionData(entry, this.mark));
    for (const order of orders) this.sink.order(order);
    for (const row of state.trades) this.sink.trade(tradeFromRow(row, this.gatewayName));
    const summary = { contracts: this.models.size, orders: orders.length, active: this.active.size, trades: state.trades.length, path: this.store.path };
    this.sink.log(this.t("connected", summary), INFO);
  }

  /** Models for every spec, options after their underlyings; a later spec of the same vt_symbol is ignored. */
  private buildModels(specs: readonly SimContractSpec[]): void {
    const ordered = [...specs.filter((s) => !s.option), ...specs.filter((s) => s.option)];
    for (const spec of ordered) {
      const vt_symbol = specVtSymbol(spec);
      if (this.models.has(vt_symbol)) continue;
      const underlying = spec.option ? this.models.get(spec.option.underlying) : undefined;
      if (spec.option && !underlying) continue; // checkUniverse guarantees it for files; a stale journal may not
      this.models.set(vt_symbol, new ContractModel(spec, this.options.seed, underlying ?? null));
    }
  }

  private restoreActive(seq: number, order: OrderData, now: number): void {
    const model = this.models.get(order.vt_symbol)!;
    const { opening, legDirection } = sideOf(model.spec, order);
    const legEntry = this.portfolio.entry(model, legDirection);
    const remaining = order.volume - order.traded;
    const active: ActiveOrder = {
      seq,
      order,
      market: this.liveMarket(model, now, null),
      legEntry,
      opening,
      marginPerLot: opening ? marginOf(model.spec, order.price, 1) : 0,
      allocation: opening ? { today: 0, yesterday: 0 } : legEntry.leg.freezeClose(closeRuleFor(model.spec, order.offset), remaining),
    };
    if (opening) this.portfolio.funds.pendingMargin += active.marginPerLot * remaining;
    this.active.set(order.orderid, active);
    active.market.rest(active);
  }

  // ---- requests ----------------------------------------------------------------------------------------------

  get contractCount(): number {
    return this.models.size;
  }

  getSpec(vt_symbol: string): SimContractSpec | undefined {
    return this.models.get(vt_symbol)?.spec;
  }

  /** Starts pushing ticks of a contract, beginning with the current one; false if there is no such contract. */
  subscribe(vt_symbol: string): boolean {
    const model = this.models.get(vt_symbol);
    if (!model) {
      this.sink.log(this.t("subscribeUnknown", { vt_symbol }), WARNING);
      return false;
    }
    const batch = this.begin();
    const market = this.liveMarket(model, this.clock.now(), batch);
    if (!market.subscribed) {
      market.subscribed = true;
      const tick = market.tickData(this.gatewayName);
      batch.events.push(() => this.sink.tick(tick));
    }
    this.commit(batch);
    return true;
  }

  /**
   * Takes an order: SUBMITTING, then REJECTED with a reason, or NOTTRADED and whatever it fills at once; what is
   * left rests (LIMIT) or is cancelled (MARKET, FAK, FOK). Returns the vt_orderid in every case.
   */
  sendOrder(req: OrderRequest): string {
    const now = this.clock.now();
    const batch = this.begin();
    const seq = this.nextOrderSeq++;
    const order = req.createOrderData(String(seq), this.gatewayName);
    order.datetime = chinaDateTime(now);
    this.publishOrder(batch, seq, order);

    const model = this.models.get(order.vt_symbol);
    const admission = admit(order, model, {
      now,
      portfolio: this.portfolio,
      mark: this.mark,
      book: (m) => this.liveMarket(m, now, batch).book,
      t: this.t,
    });
    if (!admission.ok) {
      order.status = Status.REJECTED;
      order.extra = { reason: admission.reason, code: admission.code } satisfies OrderOutcome;
      this.publishOrder(batch, seq, order);
      batch.events.push(() => this.sink.log(this.t("rejected", { vt_orderid: order.vt_orderid, reason: admission.reason }), WARNING));
      this.commit(batch);
      return order.vt_orderid;
    }

    const contract = model!;
    if (order.type !== OrderType.MARKET) order.price = contract.roundPrice(order.price);
    this.journalSpec(contract.spec, batch);
    const legEntry = this.portfolio.entry(contract, admission.legDirection);
    const active: ActiveOrder = {
      seq,
      order,
      market: this.liveMarket(contract, now, batch),
      legEntry,
      opening: admission.opening,
      marginPerLot: admission.opening ? admission.marginPerLot : 0,
      allocation: admission.opening ? { today: 0, yesterday: 0 } : legEntry.leg.freezeClose(admission.rule, order.volume),
    };
    // An open holds margin (the account changes); a close holds volume (the position changes).
    if (active.opening) this.portfolio.funds.pendingMargin += active.marginPerLot * order.volume;
    else batch.legs.add(legEntry);
    batch.account = true;
    this.active.set(order.orderid, active);
    order.status = Status.NOTTRADED;
    this.publishOrder(batch, seq, order);

    this.matchIncoming(active, now, batch);
    this.commit(batch);
    return order.vt_orderid;
  }

  cancelOrder(req: CancelRequest): void {
    const active = this.active.get(req.orderid);
    if (!active) {
      this.sink.log(this.t("cancelUnknown", { orderid: `${this.gatewayName}.${req.orderid}` }), WARNING);
      return;
    }
    const batch = this.begin();
    this.finish(active, Status.CANCELLED, batch, null);
    this.commit(batch);
  }

  /** Markets pushing ticks. */
  get subscribedMarkets(): number {
    let count = 0;
    for (const market of this.markets.values()) if (market.subscribed) count++;
    return count;
  }

  /**
   * Moves every started market to the clock's present: ticks, resting fills, the day roll. `maxTicksPerMarket`:
   * the server is behind, so each market steps only through its last few ticks (1: straight to its present tick).
   */
  advance(maxTicksPerMarket = Number.POSITIVE_INFINITY): void {
    const now = this.clock.now();
    const batch = this.begin();
    for (const market of this.markets.values()) this.catchUp(market, now, batch, maxTicksPerMarket);
    this.commit(batch);
  }

  /**
   * Replaces a contract's current book (until the next tick) and lets resting orders trade against it; a
   * subscribed contract pushes it as a tick. `lastPrice` also moves the last price, which positions are marked
   * to. Tests and replays use it to put the market exactly where they need.
   */
  injectBook(vt_symbol: string, book: Book, lastPrice?: number): void {
    const model = this.models.get(vt_symbol);
    if (!model) throw new RangeError(`unknown contract ${vt_symbol}`);
    const now = this.clock.now();
    const batch = this.begin();
    const market = this.liveMarket(model, now, batch);
    market.book = {
      bids: book.bids.filter((l) => l.volume > 0).map((l) => ({ price: l.price, volume: l.volume })),
      asks: book.asks.filter((l) => l.volume > 0).map((l) => ({ price: l.price, volume: l.volume })),
    };
    if (lastPrice !== undefined) {
      market.last_price = lastPrice;
      market.last_volume = 0;
      // Held positions are valued anew: publish them with the account.
      for (const entry of this.portfolio.entries()) if (entry.vt_symbol === vt_symbol && entry.leg.volume > 0) batch.legs.add(entry);
      batch.account = true;
    }
    if (market.subscribed) {
      const tick = market.tickData(this.gatewayName);
      batch.events.push(() => this.sink.tick(tick));
    }
    this.matchResting(market, now, batch);
    this.commit(batch);
  }

  /**
   * Pushes positions and the account, valued at the latest prices: "held" positions (the periodic refresh),
   * "all" (every position ever held, flat ones included) or "none".
   */
  publishAccount(positions: "held" | "all" | "none" = "held"): void {
    if (positions !== "none") {
      for (const entry of this.portfolio.entries()) {
        if (positions === "all" || entry.leg.volume > 0 || entry.leg.frozen > 0) this.sink.position(this.portfolio.positionData(entry, this.mark));
      }
    }
    this.sink.account(this.portfolio.accountData(this.mark));
  }

  /** Bars of the contract's path (queryHistorySeries as a list). */
  async queryHistory(req: HistoryRequest): Promise<BarData[]> {
    return barList(await this.queryHistorySeries(req));
  }

  /** Bars of the contract's path as columns; long spans yield to the event loop as they go, and day bars are cached. */
  async queryHistorySeries(req: HistoryRequest): Promise<BarData[] | BarSeries> {
    const spec = this.models.get(req.vt_symbol)?.spec;
    if (!spec) {
      this.sink.log(this.t("historyUnknown", { vt_symbol: req.vt_symbol }), WARNING);
      return [];
    }
    const interval = req.interval ?? Interval.MINUTE;
    const period = BAR_PERIODS.get(interval);
    if (!period) return [];
    const now = this.clock.now();
    const end = req.end ? instantOf(req.end) : now;
    let start = instantOf(req.start);
    if ((end - start) / period.approxMs > MAX_HISTORY_BARS) {
      start = end - MAX_HISTORY_BARS * period.approxMs;
      this.sink.log(this.t("historyTruncated", { vt_symbol: req.vt_symbol, count: MAX_HISTORY_BARS }), WARNING);
    }
    let dayCache = this.dayBars.get(req.vt_symbol);
    if (!dayCache) this.dayBars.set(req.vt_symbol, (dayCache = new Map()));
    // A model of its own: a long walk through the past must not disturb the live models' caches.
    return historySeriesAsync(this.freshModel(spec), { interval, startMs: start, endMs: end, nowMs: now, gatewayName: this.gatewayName, dayCache });
  }

  close(): void {
    this.store.close();
  }

  // ---- matching ----------------------------------------------------------------------------------------------

  private matchIncoming(active: ActiveOrder, now: number, batch: Batch): void {
    const { order, market } = active;
    const tolerance = market.model.pricetick * PRICE_TOLERANCE;
    const direction = order.direction!;
    const limit = order.type === OrderType.MARKET ? null : order.price;
    // FOK trades all or nothing: look before taking.
    const allOrNothing = order.type === OrderType.FOK && availableVolume(market.book, direction, limit, tolerance) < order.volume - 1e-9;
    const fills = allOrNothing ? [] : takeLiquidity(market.book, direction, order.volume, limit, tolerance);
    for (const fill of fills) this.fill(active, fill.price, fill.volume, now, batch);
    if (!order.isActive()) return;
    if (order.type === OrderType.LIMIT) {
      market.rest(active);
      return;
    }
    const type_name = memberName("OrderType", order.type);
    const reason = this.t("noLiquidity", { type: order.type, type_name, remaining: order.volume - order.traded });
    this.finish(active, Status.CANCELLED, batch, { reason, code: "NO_LIQUIDITY" });
  }

  /** Resting orders the market has reached trade at their own price, best-priced and oldest first. */
  private matchResting(market: Market, now: number, batch: Batch): void {
    const tolerance = market.model.pricetick * PRICE_TOLERANCE;
    for (const side of [market.buys, market.sells]) {
      while (side.length > 0) {
        const active = side[0]!;
        const order = active.order;
        const filled = crossResting(market.book, order.direction!, order.price, order.volume - order.traded, tolerance);
        if (isZeroVolume(filled)) break; // the next order's price is no better: nothing more can cross
        this.fill(active, order.price, filled, now, batch);
        if (order.isActive()) break; // partly filled: the crossing liquidity is used up
      }
    }
  }

  private fill(active: ActiveOrder, price: number, volume: number, now: number, batch: Batch): void {
    const { order, legEntry } = active;
    const spec = legEntry.model.spec;
    const funds = this.portfolio.funds;
    const leg = legEntry.leg;
    if (active.opening) {
      funds.pendingMargin -= active.marginPerLot * volume;
      leg.addOpen(price, volume);
    } else {
      funds.book(pnlOf(spec, legEntry.direction, leg.price, price, volume));
      leg.removeClose(active.allocation, volume);
    }
    const fee = commissionOf(spec, price, volume);
    funds.pay(fee);

    order.traded += volume;
    const done = order.traded >= order.volume - 1e-9;
    if (done) order.traded = order.volume;
    order.status = done ? Status.ALLTRADED : Status.PARTTRADED;
    this.publishOrder(batch, active.seq, order);

    const tradeSeq = this.nextTradeSeq++;
    const trade = new TradeData({
      gateway_name: this.gatewayName,
      symbol: order.symbol,
      exchange: order.exchange,
      orderid: order.orderid,
      tradeid: String(tradeSeq),
      direction: order.direction,
      offset: order.offset,
      price,
      volume,
      datetime: chinaDateTime(now),
    });
    // The fee travels with the trade (VeighNa's `extra`): the console's account summary sums the day's fees.
    trade.extra = { commission: fee };
    batch.trades.push(tradeRow(tradeSeq, trade, fee));
    batch.events.push(() => this.sink.trade(trade));
    batch.legs.add(legEntry);
    batch.account = true;
    if (done) this.finish(active, Status.ALLTRADED, batch, null);
  }

  /** Ends an order: releases what it still holds and takes it off the book. */
  private finish(active: ActiveOrder, status: Status, batch: Batch, outcome: OrderOutcome | null): void {
    const { order } = active;
    const funds = this.portfolio.funds;
    if (active.opening) funds.pendingMargin -= active.marginPerLot * (order.volume - order.traded);
    else active.legEntry.leg.release(active.allocation);
    this.active.delete(order.orderid);
    if (this.active.size === 0) funds.pendingMargin = 0; // no float dust once nothing is pending
    active.market.unrest(active);
    if (!active.opening) batch.legs.add(active.legEntry); // its frozen volume is released
    batch.account = true;
    if (order.status !== status) {
      order.status = status;
      if (outcome) order.extra = { ...outcome };
      this.publishOrder(batch, active.seq, order);
    }
  }

  // ---- market ------------------------------------------------------------------------------------------------

  /** A contract's market, started if new, else moved to the present (when a batch can take the ticks). */
  private liveMarket(model: ContractModel, now: number, batch: Batch | null): Market {
    let market = this.markets.get(model.vt_symbol);
    if (!market) {
      market = new LiveMarket<ActiveOrder>(model, this.options.ticksPerSecond);
      this.markets.set(model.vt_symbol, market);
    }
    if (!market.started) market.start(now);
    else if (batch) this.catchUp(market, now, batch);
    return market;
  }

  /**
   * Steps a market tick by tick up to `now`, at most one second of ticks (a stalled loop skips, not floods).
   * Every started market steps, watched or not, so positions are always valued at a moving last price.
   */
  private catchUp(market: Market, now: number, batch: Batch, maxTicks = Number.POSITIVE_INFINITY): void {
    const latest = market.indexAt(now);
    if (latest <= market.index) return;
    const window = Math.max(1, Math.min(maxTicks, Math.ceil(market.ticksPerSecond)));
    const first = Math.max(market.index + 1, latest - window + 1);
    for (let index = first; index <= latest; index++) {
      market.step(index);
      if (market.subscribed) {
        const tick = market.tickData(this.gatewayName); // before our fills consume the book
        batch.events.push(() => this.sink.tick(tick));
      }
      if (market.hasResting) this.matchResting(market, market.tickTime, batch);
    }
  }

  private freshModel(spec: SimContractSpec): ContractModel {
    const underlying = spec.option ? this.models.get(spec.option.underlying)!.spec : null;
    return new ContractModel(spec, this.options.seed, underlying ? new ContractModel(underlying, this.options.seed) : null);
  }

  // ---- journal -----------------------------------------------------------------------------------------------

  /** A batch for a new action, after rolling the trading day if midnight has passed. */
  private begin(): Batch {
    const batch = new Batch();
    this.rollDayIfNeeded(this.clock.now(), batch);
    return batch;
  }

  private rollDayIfNeeded(now: number, batch: Batch): void {
    const today = dayIndexOf(now);
    if (!(today > this.tradingDay)) return;
    this.tradingDay = today;
    this.portfolio.rollDay();
    for (const entry of this.portfolio.entries()) batch.legs.add(entry);
    for (const { allocation } of this.active.values()) {
      allocation.yesterday += allocation.today;
      allocation.today = 0;
    }
    batch.account = true;
    const day = chinaDateTime(dayStartMs(today)).toString().slice(0, 10);
    batch.events.push(() => this.sink.log(this.t("dayRolled", { day }), INFO));
  }

  private publishOrder(batch: Batch, seq: number, order: OrderData): void {
    batch.orders.set(seq, orderRow(seq, order));
    const snapshot = snapshotOrder(order);
    batch.events.push(() => this.sink.order(snapshot));
  }

  /** Keeps the spec of a traded contract, so its positions outlive a change of universe. */
  private journalSpec(spec: SimContractSpec, batch: Batch): void {
    const vt_symbol = specVtSymbol(spec);
    if (this.journaledSpecs.has(vt_symbol)) return;
    if (spec.option) this.journalSpec(this.models.get(spec.option.underlying)!.spec, batch);
    this.journaledSpecs.add(vt_symbol);
    batch.contracts.push(spec);
  }

  /** Writes the batch, then publishes its events, positions and account. Nothing is published if the write fails. */
  private commit(batch: Batch): void {
    if (batch.isEmpty) return;
    const funds = this.portfolio.funds;
    const account: AccountRow | null =
      batch.account || batch.legs.size > 0
        ? { accountid: this.accountid, capital: funds.capital, cash: funds.cash, commission: funds.commission, realized: funds.realized, trading_day: this.tradingDay }
        : null;
    try {
      this.store.write({ account, orders: batch.orders.values(), trades: batch.trades, positions: [...batch.legs].map(positionRow), contracts: batch.contracts });
    } catch (error) {
      this.sink.log(this.t("storeFailed", { error: (error as Error).message }), ERROR);
      throw error;
    }
    for (const publish of batch.events) publish();
    for (const entry of batch.legs) this.sink.position(this.portfolio.positionData(entry, this.mark));
    if (account) this.sink.account(this.portfolio.accountData(this.mark));
  }
}

/**
 * SimVenue: the simulated exchange itself, with no event engine in sight. It takes order, cancel and subscribe
 * requests, moves the market on demand (`advance`), and reports every change to a sink.
 *
 * Each action (an order, a cancel, a timer step) collects its changes in a batch; the batch is written to the
 * store in one transaction, and only then are its events handed to the sink, in the order they happened. So a
 * client never sees a state that a crash would take back.
 */
import {
  AccountData,
  CHINA_TZ,
  ContractData,
  DateTime,
  Direction,
  ERROR,
  Interval,
  Offset,
  OrderData,
  OrderType,
  PositionData,
  Status,
  TickData,
  TradeData,
  WARNING,
  type BarData,
  type CancelRequest,
  type Exchange,
  type HistoryRequest,
  type OrderRequest,
} from "../kernel/index.js";
import { SimError } from "./errors.js";
import { BAR_PERIODS, historyBarsAsync, minuteBars, type DayBarCache } from "./history.js";
import { closeRuleFor, commissionOf, Funds, isEquityLike, Leg, marginOf, pnlOf, type CloseAllocation, type CloseRule } from "./ledger.js";
import { availableVolume, crossResting, isZeroVolume, takeLiquidity, worstPriceFor } from "./matching.js";
import { memberName, t } from "./messages.js";
import { ContractModel, type Book } from "./model.js";
import { specVtSymbol, toContractData, type SimContractSpec } from "./spec.js";
import type { AccountRow, OrderRow, PositionRow, SimStore, TradeRow } from "./store.js";
import { chinaDateTime, dayIndexOf, dayStartMs, floorToPeriod, instantOf, MINUTE_MS, type SimClock } from "./time.js";

/** Why an order was rejected; also in `order.extra.code`, for programs. */
export type RejectCode =
  | "UNKNOWN_CONTRACT"
  | "UNSUPPORTED_TYPE"
  | "BAD_DIRECTION"
  | "BAD_VOLUME"
  | "BAD_PRICE"
  | "PRICE_OFF_TICK"
  | "PRICE_OUTSIDE_LIMITS"
  | "SHORT_SELLING"
  | "CLOSE_EXCEEDS_POSITION"
  | "INSUFFICIENT_FUNDS";

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
}

/** Bars one history request may return; a longer span is cut to its most recent part. */
export const MAX_HISTORY_BARS = 100_000;

const PRICE_TOLERANCE = 1e-6; // in ticks
const SUPPORTED_TYPES: ReadonlySet<OrderType> = new Set([OrderType.LIMIT, OrderType.MARKET, OrderType.FAK, OrderType.FOK]);

/** One contract's live market: the current book (consumed by our fills), the day's statistics, resting orders. */
class Market {
  readonly model: ContractModel;
  subscribed = false;
  /** Tick index of `book`; NaN until the market has started. */
  index = Number.NaN;
  book: Book = { bids: [], asks: [] };
  day = Number.NaN;
  last_price = 0;
  last_volume = 0;
  volume = 0;
  turnover = 0;
  open_price = 0;
  high_price = 0;
  low_price = 0;
  /** Resting buys, best price first, then oldest; `sells` likewise. */
  readonly buys: ActiveOrder[] = [];
  readonly sells: ActiveOrder[] = [];

  constructor(model: ContractModel) {
    this.model = model;
  }
}

/** Holds on one position leg. */
interface LegEntry {
  readonly key: string;
  readonly vt_symbol: string;
  readonly model: ContractModel;
  readonly direction: Direction;
  readonly leg: Leg;
}

/** An order that can still trade, with what it holds: margin (opens) or position volume (closes). */
interface ActiveOrder {
  readonly seq: number;
  readonly order: OrderData;
  readonly market: Market;
  readonly legEntry: LegEntry;
  readonly opening: boolean;
  readonly marginPerLot: number;
  readonly allocation: CloseAllocation;
}

type Admission =
  | { readonly ok: false; readonly code: RejectCode; readonly reason: string }
  | { readonly ok: true; readonly model: ContractModel; readonly legEntry: LegEntry; readonly opening: true; readonly marginPerLot: number }
  | { readonly ok: true; readonly model: ContractModel; readonly legEntry: LegEntry; readonly opening: false; readonly rule: CloseRule };

/** Changes of one action: journaled together, then published in order. */
class Batch {
  readonly orders = new Map<number, OrderRow>();
  readonly trades: TradeRow[] = [];
  readonly legs = new Set<LegEntry>();
  readonly contracts: SimContractSpec[] = [];
  account = false;
  readonly events: Array<() => void> = [];

  get isEmpty(): boolean {
    return this.events.length === 0 && this.orders.size === 0 && this.legs.size === 0 && !this.account;
  }
}

function legKey(vt_symbol: string, direction: Direction): string {
  return `${vt_symbol}|${direction}`;
}

/** What an admission check reads when there is no position at all; never written. */
const EMPTY_LEG: Readonly<Leg> = new Leg();

function opposite(direction: Direction): Direction {
  return direction === Direction.LONG ? Direction.SHORT : Direction.LONG;
}

function money(value: number): number {
  return Math.round(value * 100) / 100;
}

function snapshotOrder(order: OrderData): OrderData {
  const copy = new OrderData({
    gateway_name: order.gateway_name,
    symbol: order.symbol,
    exchange: order.exchange,
    orderid: order.orderid,
    type: order.type,
    direction: order.direction,
    offset: order.offset,
    price: order.price,
    volume: order.volume,
    traded: order.traded,
    status: order.status,
    datetime: order.datetime,
    reference: order.reference,
  });
  if (order.extra !== undefined) copy.extra = order.extra === null ? null : { ...order.extra };
  return copy;
}

export class SimVenue {
  readonly gatewayName: string;
  readonly accountid: string;
  private readonly options: VenueOptions;
  private readonly store: SimStore;
  private readonly clock: SimClock;
  private readonly sink: VenueSink;
  private readonly rate: number;
  private readonly models = new Map<string, ContractModel>();
  private readonly markets = new Map<string, Market>();
  private readonly legs = new Map<string, LegEntry>();
  private readonly active = new Map<string, ActiveOrder>();
  private readonly journaledSpecs = new Set<string>();
  private readonly dayBars = new Map<string, DayBarCache>();
  private funds: Funds;
  private tradingDay = Number.NaN;
  private nextOrderSeq = 1;
  private nextTradeSeq = 1;

  constructor(options: VenueOptions) {
    this.options = options;
    this.gatewayName = options.gatewayName;
    this.accountid = options.accountid;
    this.store = options.store;
    this.clock = options.clock;
    this.sink = options.sink;
    this.rate = options.ticksPerSecond;
    this.funds = new Funds(options.capital);
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
    this.funds = account ? new Funds(account.capital, account.cash, account.commission, account.realized) : new Funds(this.options.capital);
    this.tradingDay = account ? account.trading_day : dayIndexOf(now);

    for (const row of state.positions) {
      const model = this.models.get(row.vt_symbol);
      if (!model) continue; // buildModels keeps every journaled spec, so this only skips a corrupt row
      const entry = this.legEntry(model, row.direction as Direction);
      entry.leg.volume = row.volume;
      entry.leg.yd_volume = row.yd_volume;
      entry.leg.price = row.price;
    }

    const orders = state.orders.map((row) => this.orderFromRow(row));
    for (let i = 0; i < orders.length; i++) {
      const order = orders[i]!;
      if (order.isActive()) this.restoreActive(state.orders[i]!.seq, order, now);
    }
    this.nextOrderSeq = (state.orders.at(-1)?.seq ?? 0) + 1;
    this.nextTradeSeq = (state.trades.at(-1)?.seq ?? 0) + 1;

    const batch = new Batch();
    if (!account) batch.account = true;
    this.rollDayIfNeeded(now, batch);
    this.commit(batch);

    for (const model of this.models.values()) this.sink.contract(toContractData(model.spec, this.gatewayName));
    this.sink.account(this.accountSnapshot());
    for (const entry of this.legs.values()) this.sink.position(this.positionSnapshot(entry));
    for (const order of orders) this.sink.order(order);
    for (const row of state.trades) this.sink.trade(this.tradeFromRow(row));
    this.sink.log(
      t("connected", {
        contracts: this.models.size,
        orders: orders.length,
        active: this.active.size,
        trades: state.trades.length,
        path: this.store.path,
      }),
      20,
    );
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
    const { opening, legDirection } = this.sideOf(model.spec, order);
    const entry = this.legEntry(model, legDirection);
    const remaining = order.volume - order.traded;
    const active: ActiveOrder = {
      seq,
      order,
      market: this.liveMarket(model, now, null),
      legEntry: entry,
      opening,
      marginPerLot: opening ? marginOf(model.spec, order.price, 1) : 0,
      allocation: opening ? { today: 0, yesterday: 0 } : entry.leg.freezeClose(closeRuleFor(model.spec, order.offset), remaining),
    };
    if (opening) this.funds.pendingMargin += active.marginPerLot * remaining;
    this.rest(active);
  }

  // ---- requests ----------------------------------------------------------------------------------------------

  get contractCount(): number {
    return this.models.size;
  }

  getSpec(vt_symbol: string): SimContractSpec | undefined {
    return this.models.get(vt_symbol)?.spec;
  }

  /** Starts pushing ticks of a contract; false if there is no such contract. */
  subscribe(vt_symbol: string): boolean {
    const model = this.models.get(vt_symbol);
    if (!model) {
      this.sink.log(t("subscribeUnknown", { vt_symbol }), WARNING);
      return false;
    }
    const batch = new Batch();
    const now = this.clock.now();
    this.rollDayIfNeeded(now, batch);
    const market = this.liveMarket(model, now, batch);
    if (!market.subscribed) {
      market.subscribed = true;
      batch.events.push(() => this.sink.tick(this.tickSnapshot(market, market.index * (1000 / this.rate))));
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
    const batch = new Batch();
    this.rollDayIfNeeded(now, batch);
    const seq = this.nextOrderSeq++;
    const order = req.createOrderData(String(seq), this.gatewayName);
    order.datetime = chinaDateTime(now);
    this.publishOrder(batch, seq, order);

    const admission = this.admit(order, now, batch);
    if (!admission.ok) {
      order.status = Status.REJECTED;
      order.extra = { reason: admission.reason, code: admission.code } satisfies OrderOutcome;
      this.publishOrder(batch, seq, order);
      batch.events.push(() => this.sink.log(t("rejected", { vt_orderid: order.vt_orderid, reason: admission.reason }), WARNING));
      this.commit(batch);
      return order.vt_orderid;
    }

    const { model, legEntry } = admission;
    if (order.type !== OrderType.MARKET) order.price = model.roundPrice(order.price);
    this.journalSpec(model.spec, batch);
    const market = this.liveMarket(model, now, batch);
    const active: ActiveOrder = {
      seq,
      order,
      market,
      legEntry,
      opening: admission.opening,
      marginPerLot: admission.opening ? admission.marginPerLot : 0,
      allocation: admission.opening ? { today: 0, yesterday: 0 } : legEntry.leg.freezeClose(admission.rule, order.volume),
    };
    if (active.opening) {
      this.funds.pendingMargin += active.marginPerLot * order.volume;
      batch.account = true;
    } else batch.legs.add(legEntry);
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
      this.sink.log(t("cancelUnknown", { orderid: `${this.gatewayName}.${req.orderid}` }), WARNING);
      return;
    }
    const batch = new Batch();
    this.rollDayIfNeeded(this.clock.now(), batch);
    this.finish(active, Status.CANCELLED, batch, null);
    this.commit(batch);
  }

  /** Moves every live market to the clock's present: ticks, resting fills, the day roll. */
  advance(): void {
    const now = this.clock.now();
    const batch = new Batch();
    this.rollDayIfNeeded(now, batch);
    for (const market of this.markets.values()) this.catchUp(market, now, batch);
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
    const batch = new Batch();
    this.rollDayIfNeeded(now, batch);
    const market = this.liveMarket(model, now, batch);
    market.book = {
      bids: book.bids.filter((l) => l.volume > 0).map((l) => ({ price: l.price, volume: l.volume })),
      asks: book.asks.filter((l) => l.volume > 0).map((l) => ({ price: l.price, volume: l.volume })),
    };
    if (lastPrice !== undefined) {
      market.last_price = lastPrice;
      market.last_volume = 0;
      // Held positions are re-marked: the price they are valued at just moved.
      for (const entry of this.legs.values()) if (entry.vt_symbol === vt_symbol && entry.leg.volume > 0) batch.legs.add(entry);
      batch.account = true;
    }
    const tickTime = market.index * (1000 / this.rate);
    if (market.subscribed) {
      const tick = this.tickSnapshot(market, tickTime);
      batch.events.push(() => this.sink.tick(tick));
    }
    this.matchResting(market, now, batch);
    this.commit(batch);
  }

  /**
   * Pushes positions and the account, marked to the latest prices: "held" positions (the periodic refresh),
   * "all" (every position ever held, flat ones included) or "none".
   */
  publishAccount(positions: "held" | "all" | "none" = "held"): void {
    if (positions !== "none") {
      for (const entry of this.legs.values()) {
        if (positions === "all" || entry.leg.volume > 0 || entry.leg.frozen > 0) this.sink.position(this.positionSnapshot(entry));
      }
    }
    this.sink.account(this.accountSnapshot());
  }

  /** Bars of the contract's path; long spans yield to the event loop as they go, and day bars are cached. */
  async queryHistory(req: HistoryRequest): Promise<BarData[]> {
    const spec = this.models.get(req.vt_symbol)?.spec;
    if (!spec) {
      this.sink.log(t("historyUnknown", { vt_symbol: req.vt_symbol }), WARNING);
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
      this.sink.log(t("historyTruncated", { vt_symbol: req.vt_symbol, count: MAX_HISTORY_BARS }), WARNING);
    }
    let dayCache = this.dayBars.get(req.vt_symbol);
    if (!dayCache) this.dayBars.set(req.vt_symbol, (dayCache = new Map()));
    // A model of its own: a long walk through the past must not disturb the live models' caches.
    return historyBarsAsync(this.freshModel(spec), { interval, startMs: start, endMs: end, nowMs: now, gatewayName: this.gatewayName, dayCache });
  }

  close(): void {
    this.store.close();
  }

  // ---- admission ---------------------------------------------------------------------------------------------

  /** Which leg an order works on, and whether it opens. Equities: LONG buys, SHORT sells what is held. */
  private sideOf(spec: SimContractSpec, order: OrderData): { opening: boolean; legDirection: Direction } {
    const opening = order.offset === Offset.OPEN || order.offset === Offset.NONE;
    if (isEquityLike(spec) && order.direction === Direction.SHORT && order.offset === Offset.NONE) {
      return { opening: false, legDirection: Direction.LONG };
    }
    return { opening, legDirection: opening ? order.direction! : opposite(order.direction!) };
  }

  private admit(order: OrderData, now: number, batch: Batch): Admission {
    const model = this.models.get(order.vt_symbol);
    if (!model) return { ok: false, code: "UNKNOWN_CONTRACT", reason: t("unknownContract", { vt_symbol: order.vt_symbol }) };
    const spec = model.spec;
    if (!SUPPORTED_TYPES.has(order.type)) return { ok: false, code: "UNSUPPORTED_TYPE", reason: t("unsupportedType", { type: order.type, type_name: memberName("OrderType", order.type) }) };
    if (order.direction !== Direction.LONG && order.direction !== Direction.SHORT) {
      return { ok: false, code: "BAD_DIRECTION", reason: t("badDirection", { direction: String(order.direction), direction_name: memberName("Direction", order.direction) }) };
    }

    const lots = order.volume / spec.min_volume;
    if (!Number.isFinite(lots) || lots <= 0 || Math.abs(lots - Math.round(lots)) > 1e-9 * Math.max(1, lots)) {
      return { ok: false, code: "BAD_VOLUME", reason: t("badVolume", { volume: order.volume, min_volume: spec.min_volume }) };
    }
    if (spec.max_volume !== null && order.volume > spec.max_volume) {
      return { ok: false, code: "BAD_VOLUME", reason: t("volumeAboveMax", { volume: order.volume, max_volume: spec.max_volume }) };
    }

    const limits = model.dayLimits(dayIndexOf(now));
    if (order.type !== OrderType.MARKET) {
      if (!Number.isFinite(order.price)) return { ok: false, code: "BAD_PRICE", reason: t("badPrice", { price: order.price }) };
      if (!model.isOnTick(order.price)) {
        return { ok: false, code: "PRICE_OFF_TICK", reason: t("priceOffTick", { price: order.price, pricetick: spec.pricetick }) };
      }
      const ticks = order.price / spec.pricetick;
      const up = limits.limit_up / spec.pricetick;
      const down = limits.limit_down / spec.pricetick;
      if (ticks > up + PRICE_TOLERANCE || ticks < down - PRICE_TOLERANCE) {
        return { ok: false, code: "PRICE_OUTSIDE_LIMITS", reason: t("priceOutsideLimits", { price: order.price, ...limits }) };
      }
    }

    if (isEquityLike(spec) && order.direction === Direction.SHORT && order.offset === Offset.OPEN) {
      return { ok: false, code: "SHORT_SELLING", reason: t("shortSelling", { vt_symbol: order.vt_symbol }) };
    }
    const { opening, legDirection } = this.sideOf(spec, order);

    if (!opening) {
      const rule = closeRuleFor(spec, order.offset);
      const leg = this.legs.get(legKey(model.vt_symbol, legDirection))?.leg ?? EMPTY_LEG;
      const closable = leg.closable(rule);
      if (order.volume > closable + 1e-9) {
        const detail = isEquityLike(spec) && legDirection === Direction.LONG
          ? t("closeDetailTPlusOne")
          : rule === "todayOnly"
            ? t("closeDetailToday", { exchange: spec.exchange })
            : rule === "yesterdayOnly"
              ? t("closeDetailYesterday", { exchange: spec.exchange, offset: order.offset || Offset.CLOSE, offset_name: memberName("Offset", order.offset || Offset.CLOSE) })
              : t("closeDetailAny", { volume: leg.volume, frozen: leg.frozen });
        return {
          ok: false,
          code: "CLOSE_EXCEEDS_POSITION",
          reason: t("closeExceeds", {
            volume: order.volume,
            closable: Math.max(0, closable),
            direction: legDirection,
            direction_name: memberName("Direction", legDirection, true),
            detail,
          }),
        };
      }
      return { ok: true, model, legEntry: this.legEntry(model, legDirection), opening: false, rule };
    }

    // Opening: the margin held is priced at the limit, or at the worst level a market order would reach.
    let price = order.price;
    if (order.type === OrderType.MARKET) {
      const market = this.liveMarket(model, now, batch);
      price = worstPriceFor(market.book, order.direction, order.volume)
        ?? (order.direction === Direction.LONG ? limits.limit_up : limits.limit_down);
    }
    const marginPerLot = marginOf(spec, price, 1);
    const margin = marginPerLot * order.volume;
    const fee = commissionOf(spec, price, order.volume);
    const available = this.available();
    if (margin + fee > available + 1e-6) {
      return {
        ok: false,
        code: "INSUFFICIENT_FUNDS",
        reason: t("insufficientFunds", {
          required: (margin + fee).toFixed(2),
          margin: margin.toFixed(2),
          fee: fee.toFixed(2),
          available: available.toFixed(2),
        }),
      };
    }
    return { ok: true, model, legEntry: this.legEntry(model, legDirection), opening: true, marginPerLot };
  }

  // ---- matching ----------------------------------------------------------------------------------------------

  private matchIncoming(active: ActiveOrder, now: number, batch: Batch): void {
    const { order, market } = active;
    const tolerance = market.model.pricetick * PRICE_TOLERANCE;
    const direction = order.direction!;
    const limit = order.type === OrderType.MARKET ? null : order.price;
    const remaining = order.volume;
    // FOK trades all or nothing: look before taking.
    const fills = order.type === OrderType.FOK && availableVolume(market.book, direction, limit, tolerance) < remaining - 1e-9
      ? []
      : takeLiquidity(market.book, direction, remaining, limit, tolerance);
    for (const fill of fills) this.fill(active, fill.price, fill.volume, now, batch);
    if (!order.isActive()) return;
    if (order.type === OrderType.LIMIT) this.rest(active);
    else {
      const reason = t("noLiquidity", { type: order.type, type_name: memberName("OrderType", order.type), remaining: order.volume - order.traded });
      this.finish(active, Status.CANCELLED, batch, { reason, code: "NO_LIQUIDITY" });
    }
  }

  /** Resting orders the market has reached trade at their own price, best-priced and oldest first. */
  private matchResting(market: Market, now: number, batch: Batch): void {
    const tolerance = market.model.pricetick * PRICE_TOLERANCE;
    for (const side of [market.buys, market.sells]) {
      let i = 0;
      while (i < side.length) {
        const active = side[i]!;
        const order = active.order;
        const filled = crossResting(market.book, order.direction!, order.price, order.volume - order.traded, tolerance);
        if (isZeroVolume(filled)) break; // the next order's price is no better: nothing more can cross
        this.fill(active, order.price, filled, now, batch);
        if (order.isActive()) break; // partly filled: the crossing liquidity is used up
      }
    }
  }

  private rest(active: ActiveOrder): void {
    const { order, market } = active;
    this.active.set(order.orderid, active);
    const buy = order.direction === Direction.LONG;
    const side = buy ? market.buys : market.sells;
    let i = side.length;
    while (i > 0) {
      const other = side[i - 1]!.order.price;
      const better = buy ? order.price > other : order.price < other;
      if (!better) break;
      i--;
    }
    side.splice(i, 0, active);
  }

  private fill(active: ActiveOrder, price: number, volume: number, now: number, batch: Batch): void {
    const { order, legEntry } = active;
    const spec = legEntry.model.spec;
    const leg = legEntry.leg;
    if (active.opening) {
      this.funds.pendingMargin -= active.marginPerLot * volume;
      leg.addOpen(price, volume);
    } else {
      this.funds.book(pnlOf(spec, legEntry.direction, leg.price, price, volume));
      leg.removeClose(active.allocation, volume);
    }
    const fee = commissionOf(spec, price, volume);
    this.funds.pay(fee);

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
    batch.trades.push({
      seq: tradeSeq,
      tradeid: trade.tradeid,
      orderid: trade.orderid,
      symbol: trade.symbol,
      exchange: trade.exchange,
      direction: trade.direction!,
      offset: trade.offset,
      price,
      volume,
      datetime: trade.datetime!.toISOString(),
      commission: fee,
    });
    batch.events.push(() => this.sink.trade(trade));
    batch.legs.add(legEntry);
    batch.account = true;
    if (done) this.finish(active, Status.ALLTRADED, batch, null);
  }

  /** Ends an order: releases what it still holds and takes it off the book. */
  private finish(active: ActiveOrder, status: Status, batch: Batch, outcome: OrderOutcome | null): void {
    const { order, market } = active;
    const remaining = order.volume - order.traded;
    if (active.opening) this.funds.pendingMargin -= active.marginPerLot * remaining;
    else active.legEntry.leg.release(active.allocation);
    this.active.delete(order.orderid);
    if (this.active.size === 0) this.funds.pendingMargin = 0; // no float dust once nothing is pending
    const side = order.direction === Direction.LONG ? market.buys : market.sells;
    const at = side.indexOf(active);
    if (at >= 0) side.splice(at, 1);
    batch.legs.add(active.legEntry);
    batch.account = true;
    if (order.status !== status) {
      order.status = status;
      if (outcome) order.extra = { ...outcome };
      this.publishOrder(batch, active.seq, order);
    }
  }

  // ---- market ------------------------------------------------------------------------------------------------

  /** A contract's market, started (day statistics from the path) and moved to the present. */
  private liveMarket(model: ContractModel, now: number, batch: Batch | null): Market {
    let market = this.markets.get(model.vt_symbol);
    if (!market) {
      market = new Market(model);
      this.markets.set(model.vt_symbol, market);
    }
    if (Number.isNaN(market.index)) this.startMarket(market, now);
    else if (batch) this.catchUp(market, now, batch);
    return market;
  }

  private startMarket(market: Market, now: number): void {
    const model = market.model;
    const index = Math.floor((now * this.rate) / 1000);
    const tickTime = index * (1000 / this.rate);
    this.startDay(market, dayIndexOf(tickTime));
    // The day so far, from the same minute bars history serves: the tick's open/high/low/volume agree with them.
    const dayStart = dayStartMs(market.day);
    for (const bar of minuteBars(model, dayStart, floorToPeriod(tickTime, MINUTE_MS))) {
      if (bar.high > market.high_price) market.high_price = bar.high;
      if (bar.low < market.low_price) market.low_price = bar.low;
      market.volume += bar.volume;
      market.turnover += bar.turnover;
    }
    market.last_price = model.roundPrice(model.price(tickTime));
    market.high_price = Math.max(market.high_price, market.last_price);
    market.low_price = Math.min(market.low_price, market.last_price);
    market.index = index;
    market.book = model.bookAt(tickTime, index);
  }

  private startDay(market: Market, day: number): void {
    market.day = day;
    const open = market.model.dayLimits(day).pre_close;
    market.open_price = open;
    market.high_price = open;
    market.low_price = open;
    market.volume = 0;
    market.turnover = 0;
  }

  /**
   * Steps a market tick by tick up to `now`, at most one second of ticks (a stalled loop skips, not floods).
   * Every started market steps, watched or not, so positions are always marked to a moving last price.
   */
  private catchUp(market: Market, now: number, batch: Batch): void {
    const latest = Math.floor((now * this.rate) / 1000);
    if (latest <= market.index) return;
    const first = Math.max(market.index + 1, latest - Math.max(1, Math.ceil(this.rate)) + 1);
    for (let index = first; index <= latest; index++) this.step(market, index, batch);
  }

  private step(market: Market, index: number, batch: Batch): void {
    const model = market.model;
    const interval = 1000 / this.rate;
    const tickTime = index * interval;
    const day = dayIndexOf(tickTime);
    if (day !== market.day) this.startDay(market, day);
    market.index = index;
    market.book = model.bookAt(tickTime, index);
    const print = model.printAt(tickTime, index, interval);
    market.last_volume = print.volume;
    if (print.volume > 0) {
      const best = print.side > 0 ? (market.book.asks[0] ?? market.book.bids[0]) : (market.book.bids[0] ?? market.book.asks[0]);
      if (best) market.last_price = best.price;
      market.volume += print.volume;
      market.turnover += print.volume * market.last_price * model.spec.size;
      if (market.last_price > market.high_price) market.high_price = market.last_price;
      if (market.last_price < market.low_price) market.low_price = market.last_price;
    }
    if (market.subscribed) {
      const tick = this.tickSnapshot(market, tickTime); // before our fills consume the book
      batch.events.push(() => this.sink.tick(tick));
    }
    if (market.buys.length > 0 || market.sells.length > 0) this.matchResting(market, tickTime, batch);
  }

  private tickSnapshot(market: Market, tickTime: number): TickData {
    const model = market.model;
    const { bids, asks } = market.book;
    const limits = model.dayLimits(market.day);
    return new TickData({
      gateway_name: this.gatewayName,
      symbol: model.spec.symbol,
      exchange: model.spec.exchange,
      datetime: chinaDateTime(tickTime),
      name: model.spec.name,
      volume: market.volume,
      turnover: market.turnover,
      open_interest: model.openInterestAt(tickTime),
      last_price: market.last_price,
      last_volume: market.last_volume,
      limit_up: limits.limit_up,
      limit_down: limits.limit_down,
      open_price: market.open_price,
      high_price: market.high_price,
      low_price: market.low_price,
      pre_close: limits.pre_close,
      bid_price_1: bids[0]?.price ?? 0,
      bid_price_2: bids[1]?.price ?? 0,
      bid_price_3: bids[2]?.price ?? 0,
      bid_price_4: bids[3]?.price ?? 0,
      bid_price_5: bids[4]?.price ?? 0,
      ask_price_1: asks[0]?.price ?? 0,
      ask_price_2: asks[1]?.price ?? 0,
      ask_price_3: asks[2]?.price ?? 0,
      ask_price_4: asks[3]?.price ?? 0,
      ask_price_5: asks[4]?.price ?? 0,
      bid_volume_1: bids[0]?.volume ?? 0,
      bid_volume_2: bids[1]?.volume ?? 0,
      bid_volume_3: bids[2]?.volume ?? 0,
      bid_volume_4: bids[3]?.volume ?? 0,
      bid_volume_5: bids[4]?.volume ?? 0,
      ask_volume_1: asks[0]?.volume ?? 0,
      ask_volume_2: asks[1]?.volume ?? 0,
      ask_volume_3: asks[2]?.volume ?? 0,
      ask_volume_4: asks[3]?.volume ?? 0,
      ask_volume_5: asks[4]?.volume ?? 0,
    });
  }

  private freshModel(spec: SimContractSpec): ContractModel {
    const underlying = spec.option ? this.models.get(spec.option.underlying)!.spec : null;
    return new ContractModel(spec, this.options.seed, underlying ? new ContractModel(underlying, this.options.seed) : null);
  }

  // ---- positions and account ---------------------------------------------------------------------------------

  private legEntry(model: ContractModel, direction: Direction): LegEntry {
    const key = legKey(model.vt_symbol, direction);
    let entry = this.legs.get(key);
    if (!entry) {
      entry = { key, vt_symbol: model.vt_symbol, model, direction, leg: new Leg() };
      this.legs.set(key, entry);
    }
    return entry;
  }

  /** The price positions are marked to: the market's last price, or the path's price if it is not running. */
  private markPrice(model: ContractModel): number {
    const market = this.markets.get(model.vt_symbol);
    if (market && !Number.isNaN(market.index)) return market.last_price;
    return model.roundPrice(model.price(this.clock.now()));
  }

  private positionMargin(): number {
    let margin = 0;
    for (const { model, leg } of this.legs.values()) if (leg.volume > 0) margin += marginOf(model.spec, leg.price, leg.volume);
    return margin;
  }

  private floatingPnl(): number {
    let pnl = 0;
    for (const { model, direction, leg } of this.legs.values()) {
      if (leg.volume > 0) pnl += pnlOf(model.spec, direction, leg.price, this.markPrice(model), leg.volume);
    }
    return pnl;
  }

  /** Balance (cash + floating P&L) minus margin held by positions and by pending opens. */
  private available(): number {
    return this.funds.cash + this.floatingPnl() - this.positionMargin() - this.funds.pendingMargin;
  }

  private accountSnapshot(): AccountData {
    return new AccountData({
      gateway_name: this.gatewayName,
      accountid: this.accountid,
      balance: money(this.funds.cash + this.floatingPnl()),
      frozen: money(this.positionMargin() + this.funds.pendingMargin),
    });
  }

  private positionSnapshot(entry: LegEntry): PositionData {
    const { model, direction, leg } = entry;
    return new PositionData({
      gateway_name: this.gatewayName,
      symbol: model.spec.symbol,
      exchange: model.spec.exchange,
      direction,
      volume: leg.volume,
      frozen: leg.frozen,
      price: leg.price,
      pnl: leg.volume > 0 ? money(pnlOf(model.spec, direction, leg.price, this.markPrice(model), leg.volume)) : 0,
      yd_volume: leg.yd_volume,
    });
  }

  private rollDayIfNeeded(now: number, batch: Batch): void {
    const today = dayIndexOf(now);
    if (!(today > this.tradingDay)) return;
    this.tradingDay = today;
    for (const entry of this.legs.values()) {
      entry.leg.rollDay();
      batch.legs.add(entry);
    }
    for (const active of this.active.values()) {
      active.allocation.yesterday += active.allocation.today;
      active.allocation.today = 0;
    }
    batch.account = true;
    const day = chinaDateTime(dayStartMs(today));
    batch.events.push(() => this.sink.log(t("dayRolled", { day: `${day.year}-${String(day.month).padStart(2, "0")}-${String(day.day).padStart(2, "0")}` }), 20));
  }

  // ---- journal -----------------------------------------------------------------------------------------------

  private publishOrder(batch: Batch, seq: number, order: OrderData): void {
    const outcome = order.extra as Partial<OrderOutcome> | undefined;
    batch.orders.set(seq, {
      seq,
      orderid: order.orderid,
      symbol: order.symbol,
      exchange: order.exchange,
      type: order.type,
      direction: order.direction ?? "",
      offset: order.offset,
      price: Number.isFinite(order.price) ? order.price : null,
      volume: Number.isFinite(order.volume) ? order.volume : null,
      traded: order.traded,
      status: order.status,
      datetime: order.datetime!.toISOString(),
      reference: order.reference,
      reason: outcome?.reason ?? null,
      reason_code: outcome?.code ?? null,
    });
    const snapshot = snapshotOrder(order);
    batch.events.push(() => this.sink.order(snapshot));
  }

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
    const positions: PositionRow[] = [];
    for (const entry of batch.legs) {
      positions.push({ vt_symbol: entry.vt_symbol, direction: entry.direction, volume: entry.leg.volume, yd_volume: entry.leg.yd_volume, price: entry.leg.price });
    }
    const account: AccountRow | null =
      batch.account || positions.length > 0
        ? {
            accountid: this.accountid,
            capital: this.funds.capital,
            cash: this.funds.cash,
            commission: this.funds.commission,
            realized: this.funds.realized,
            trading_day: this.tradingDay,
          }
        : null;
    try {
      this.store.write({ account, orders: batch.orders.values(), trades: batch.trades, positions, contracts: batch.contracts });
    } catch (error) {
      this.sink.log(t("storeFailed", { error: (error as Error).message }), ERROR);
      throw error;
    }
    for (const publish of batch.events) publish();
    for (const entry of batch.legs) this.sink.position(this.positionSnapshot(entry));
    if (account) this.sink.account(this.accountSnapshot());
  }

  private orderFromRow(row: OrderRow): OrderData {
    const order = new OrderData({
      gateway_name: this.gatewayName,
      symbol: row.symbol,
      exchange: row.exchange as Exchange,
      orderid: row.orderid,
      type: row.type as OrderType,
      direction: (row.direction || null) as Direction | null,
      offset: row.offset as Offset,
      price: row.price ?? Number.NaN,
      volume: row.volume ?? Number.NaN,
      traded: row.traded,
      status: row.status as Status,
      datetime: DateTime.parse(row.datetime, CHINA_TZ),
      reference: row.reference,
    });
    if (row.reason !== null) order.extra = { reason: row.reason, code: row.reason_code };
    return order;
  }

  private tradeFromRow(row: TradeRow): TradeData {
    return new TradeData({
      gateway_name: this.gatewayName,
      symbol: row.symbol,
      exchange: row.exchange as Exchange,
      orderid: row.orderid,
      tradeid: row.tradeid,
      direction: row.direction as Direction,
      offset: row.offset as Offset,
      price: row.price,
      volume: row.volume,
      datetime: DateTime.parse(row.datetime, CHINA_TZ),
    });
  }
}

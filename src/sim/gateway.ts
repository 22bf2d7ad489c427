/** SimGateway: the embedded simulated exchange, plugged into the kernel as a VeighNa gateway. */
import { resolve } from "node:path";
import {
  BarSeries,
  barList,
  BaseGateway,
  ERROR,
  EVENT_TIMER,
  Exchange,
  WARNING,
  type BarData,
  type CancelRequest,
  type EventHandler,
  type GatewaySetting,
  type HistoryRequest,
  type OrderRequest,
  type SubscribeRequest,
} from "../kernel/index.js";
import { SimError } from "./errors.js";
import { simMessages } from "./messages.js";
import type { Book } from "./model.js";
import { parseSimSetting, SIM_DEFAULT_SETTING, type SimSettings } from "./settings.js";
import { loadContractsFile } from "./spec.js";
import { MEMORY_STORE, SimStore } from "./store.js";
import { SYSTEM_CLOCK, type SimClock } from "./time.js";
import { defaultUniverse } from "./universe.js";
import { SimVenue, type VenueSink } from "./venue.js";

/** Shortest timer period: above 100 ticks/s one timer firing emits several ticks per contract. */
const MIN_TIMER_MS = 10;
/** Events waiting in the EventEngine past which the venue takes no step at all. */
const PACE_PENDING = 2_000;
/** Events still waiting at the next step that count as "the server kept up". */
const PACE_KEPT_UP = 100;
/** Bounds of the ticks one step may push. */
const MIN_TICK_BUDGET = 100;
const MAX_TICK_BUDGET = 100_000;

/**
 * A paper-trading venue that behaves like a Chinese futures/equity exchange: a realistic contract universe,
 * random-walk markets with a 5-level book, order matching, positions with today/yesterday volume, margin and
 * fees, price histories, and a journal that survives restarts and crashes.
 *
 * Settings (`connect(setting)`, defaults in `SimGateway.defaultSetting`):
 * - `data_dir` (".rpcservice/sim"): folder of the venue database `sim.db` (account, positions, orders, trades),
 *   relative to the working directory; ":memory:" keeps nothing.
 * - `contracts_file` (""): a JSON file of contracts to trade instead of the built-in universe (format:
 *   `parseContractSpecs`); the built-in one is futures of SHFE/DCE/CZCE/CFFEX/INE, A-shares, an ETF and IO options.
 * - `ticks_per_second` (2): ticks per second for each subscribed contract, 0.1 to 10,000; one timer drives every
 *   contract and emits several ticks per firing at high rates.
 * - `seed` (1): the market is a pure function of seed, contract and time, so two runs with the same seed see the
 *   same prices at the same instants, and history bars agree with the live ticks.
 * - `capital` (1,000,000): balance of a new account; an existing account keeps its balance.
 * - `accountid` ("SIM001").
 * - `fsync` (false): synchronous=FULL, to survive power loss too (default survives crashes and `kill -9`).
 *
 * Rejected orders carry `extra = { reason, code }` (see `RejectCode`) and are logged at WARNING with their
 * vt_orderid. The venue trades around the clock and rolls its trading day at midnight, Asia/Shanghai; the
 * built-in universe is chosen at connect from the date (contract months roll on the next connect).
 *
 * Tests and replays: `useClock(new ManualClock(t))` before connect stops the timer, `pump()` then moves the
 * market to the clock, and `injectBook()` puts a book exactly where a test needs it.
 */
export class SimGateway extends BaseGateway {
  static override readonly defaultName: string = "SIM";
  static override readonly defaultSetting: Readonly<GatewaySetting> = SIM_DEFAULT_SETTING;
  static override readonly exchanges: readonly Exchange[] = [
    Exchange.CFFEX,
    Exchange.SHFE,
    Exchange.CZCE,
    Exchange.DCE,
    Exchange.INE,
    Exchange.SSE,
    Exchange.SZSE,
  ];

  private venue: SimVenue | null = null;
  private clock: SimClock = SYSTEM_CLOCK;
  private clockDriven = true;
  private timer: NodeJS.Timeout | undefined;
  /** Ticks one timer step may push (adapted to what the server publishes, see pacedPump). */
  private tickBudget = MIN_TICK_BUDGET;
  private pacedPumps = 0;
  private activeSettings: SimSettings | null = null;
  private readonly t = simMessages.in(this.language);
  private readonly onTimer: EventHandler = () => this.venue?.publishAccount();
  private readonly sink: VenueSink = {
    contract: (contract) => this.onContract(contract),
    order: (order) => this.onOrder(order),
    trade: (trade) => this.onTrade(trade),
    position: (position) => this.onPosition(position),
    account: (account) => this.onAccount(account),
    tick: (tick) => this.onTick(tick),
    log: (msg, level) => this.writeLog(msg, level),
  };

  /**
   * Replaces the venue's clock (before `connect`). The market then moves only when `pump()` is called, so a
   * test or a replay decides exactly which ticks happen.
   */
  useClock(clock: SimClock): void {
    if (this.venue) throw new SimError("ERR_SIM_SETTING", "useClock must be called before connect");
    this.clock = clock;
    this.clockDriven = false;
  }

  get connected(): boolean {
    return this.venue !== null;
  }

  /** The settings of the current connection, validated. */
  get settings(): SimSettings | null {
    return this.activeSettings;
  }

  connect(setting: GatewaySetting): void {
    if (this.venue) return;
    let settings: SimSettings;
    let store: SimStore | null = null;
    try {
      settings = parseSimSetting(setting);
      const seed = settings.seed;
      const universe = settings.contracts_file
        ? loadContractsFile(resolve(settings.contracts_file))
        : defaultUniverse(this.clock.now(), seed);
      const dataDir = settings.data_dir === MEMORY_STORE ? MEMORY_STORE : resolve(settings.data_dir);
      store = new SimStore(dataDir, { fsync: settings.fsync });
      const venue = new SimVenue({
        gatewayName: this.gatewayName,
        accountid: settings.accountid,
        capital: settings.capital,
        seed,
        ticksPerSecond: settings.ticks_per_second,
        universe,
        store,
        clock: this.clock,
        sink: this.sink,
        language: this.language,
      });
      venue.open();
      this.venue = venue;
    } catch (error) {
      store?.close();
      this.writeLog((error as Error).message, ERROR);
      throw error;
    }
    this.activeSettings = settings;
    this.eventEngine.register(EVENT_TIMER, this.onTimer);
    if (this.clockDriven) {
      const period = Math.max(MIN_TIMER_MS, 1000 / settings.ticks_per_second);
      this.timer = setInterval(() => this.pacedPump(), period);
    }
  }

  /** Timer steps skipped because the server had not yet published the previous ones. */
  get paced(): number {
    return this.pacedPumps;
  }

  /**
   * The timer's step, paced to what the server publishes. Each step may push about `tickBudget` ticks, shared by
   * the subscribed markets (each steps through its last ticks only, at least its present one); the budget grows
   * while the server has published everything by the next step and halves when it has not; while many events still
   * wait, no step is taken at all. Prices stay a function of time; only ticks nobody could have received in time
   * are skipped (resting orders fill at the next step).
   */
  private pacedPump(): void {
    const pending = this.eventEngine.pending;
    // Additive increase, multiplicative decrease (as TCP): probe for capacity while the server keeps up, back off
    // at once when it does not.
    this.tickBudget = pending <= PACE_KEPT_UP ? Math.min(MAX_TICK_BUDGET, this.tickBudget + MIN_TICK_BUDGET) : Math.max(MIN_TICK_BUDGET, this.tickBudget / 2);
    if (pending > PACE_PENDING) {
      this.pacedPumps++;
      return;
    }
    const markets = this.venue?.subscribedMarkets ?? 0;
    const perMarket = markets === 0 ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(this.tickBudget / markets));
    this.pump(perMarket);
  }

  /** Moves the market to the clock's present: ticks for subscribed contracts, resting orders filled. */
  pump(maxTicksPerMarket = Number.POSITIVE_INFINITY): void {
    try {
      this.venue?.advance(maxTicksPerMarket);
    } catch (error) {
      // A failed journal write is already logged; the next pump retries with the market state it left.
      if (!(error instanceof SimError)) this.writeLog(`SIM market step failed: ${(error as Error).stack ?? error}`, ERROR);
    }
  }

  /**
   * Puts a contract's book (and optionally its last price) where a test needs it until the next tick; resting
   * orders trade against it.
   */
  injectBook(vt_symbol: string, book: Book, lastPrice?: number): void {
    this.requireVenue("injectBook").injectBook(vt_symbol, book, lastPrice);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.eventEngine.unregister(EVENT_TIMER, this.onTimer);
    this.venue?.close();
    this.venue = null;
    this.activeSettings = null;
  }

  subscribe(req: SubscribeRequest): void {
    if (!this.venue) return this.notConnected("subscribe");
    this.venue.subscribe(req.vt_symbol);
  }

  sendOrder(req: OrderRequest): string {
    if (!this.venue) {
      this.notConnected("sendOrder");
      return "";
    }
    return this.venue.sendOrder(req);
  }

  cancelOrder(req: CancelRequest): void {
    if (!this.venue) return this.notConnected("cancelOrder");
    this.venue.cancelOrder(req);
  }

  queryAccount(): void {
    this.venue?.publishAccount("none");
  }

  queryPosition(): void {
    this.venue?.publishAccount("all");
  }

  override async queryHistory(req: HistoryRequest): Promise<BarData[]> {
    return barList(await this.queryHistorySeries(req));
  }

  override async queryHistorySeries(req: HistoryRequest): Promise<BarData[] | BarSeries> {
    if (!this.venue) {
      this.notConnected("queryHistory");
      return [];
    }
    return this.venue.queryHistorySeries(req);
  }

  private requireVenue(action: string): SimVenue {
    if (!this.venue) throw new SimError("ERR_SIM_NOT_CONNECTED", this.t("notConnected", { action }));
    return this.venue;
  }

  private notConnected(action: string): void {
    this.writeLog(this.t("notConnected", { action }), WARNING);
  }
}

/**
 * BaseGateway: what every connection to a venue looks like to the engine (vnpy/trader/gateway.py).
 *
 * A gateway pushes data through `on*` methods, which emit the generic event (`eTick.`) and then the specific one
 * (`eTick.rb2501.SHFE`), and takes requests through the abstract methods. Requests may complete asynchronously:
 * a remote gateway has to ask its server.
 */
import type { Exchange } from "./constants.js";
import type { BarSeries } from "./bar-series.js";
import { Event, type EventEngine } from "./event.js";
import { DEFAULT_LANGUAGE, type Language } from "./locale.js";
import { boundLogMessage } from "./log-text.js";
import {
  EVENT_ACCOUNT,
  EVENT_CONTRACT,
  EVENT_LOG,
  EVENT_ORDER,
  EVENT_POSITION,
  EVENT_QUOTE,
  EVENT_TICK,
  EVENT_TRADE,
} from "./event-types.js";
import {
  INFO,
  LogData,
  type AccountData,
  type BarData,
  type CancelRequest,
  type ContractData,
  type HistoryRequest,
  type OrderData,
  type OrderRequest,
  type PositionData,
  type QuoteData,
  type QuoteRequest,
  type SubscribeRequest,
  type TickData,
  type TradeData,
} from "./objects.js";

export type SettingValue = string | number | boolean | string[];
export type GatewaySetting = Record<string, SettingValue>;

/** The static side of a gateway class: what `MainEngine.addGateway` needs to know before constructing it. */
export interface GatewayClass<G extends BaseGateway = BaseGateway> {
  new (eventEngine: EventEngine, gatewayName: string, language?: Language): G;
  readonly defaultName: string;
  readonly defaultSetting: Readonly<GatewaySetting>;
  readonly exchanges: readonly Exchange[];
}

type MaybePromise<T> = T | Promise<T>;

export abstract class BaseGateway {
  static readonly defaultName: string = "";
  static readonly defaultSetting: Readonly<GatewaySetting> = {};
  static readonly exchanges: readonly Exchange[] = [];

  readonly eventEngine: EventEngine;
  readonly gatewayName: string;
  /** What the gateway's log lines and texts are written in: its MainEngine's language (`addGateway` passes it). */
  readonly language: Language;

  constructor(eventEngine: EventEngine, gatewayName: string, language: Language = DEFAULT_LANGUAGE) {
    this.eventEngine = eventEngine;
    this.gatewayName = gatewayName;
    this.language = language;
  }

  onEvent(type: string, data: unknown = null): void {
    this.eventEngine.put(new Event(type, data));
  }

  /** Handled (and published) before the gateway goes on to its next tick when nothing else waits: see EventEngine.deliver. */
  onTick(tick: TickData): void {
    this.eventEngine.deliver(this.putTick, tick);
  }

  private readonly putTick = (tick: TickData): void => {
    this.onEvent(EVENT_TICK, tick);
    this.onEvent(tickTwinType(tick.vt_symbol), tick);
  };

  onTrade(trade: TradeData): void {
    this.onEvent(EVENT_TRADE, trade);
    this.onEvent(EVENT_TRADE + trade.vt_symbol, trade);
  }

  onOrder(order: OrderData): void {
    this.onEvent(EVENT_ORDER, order);
    this.onEvent(EVENT_ORDER + order.vt_orderid, order);
  }

  onPosition(position: PositionData): void {
    this.onEvent(EVENT_POSITION, position);
    this.onEvent(EVENT_POSITION + position.vt_symbol, position);
  }

  onAccount(account: AccountData): void {
    this.onEvent(EVENT_ACCOUNT, account);
    this.onEvent(EVENT_ACCOUNT + account.vt_accountid, account);
  }

  onQuote(quote: QuoteData): void {
    this.onEvent(EVENT_QUOTE, quote);
    this.onEvent(EVENT_QUOTE + quote.vt_symbol, quote);
  }

  onLog(log: LogData): void {
    this.onEvent(EVENT_LOG, log);
  }

  onContract(contract: ContractData): void {
    this.onEvent(EVENT_CONTRACT, contract);
  }

  writeLog(msg: string, level: number = INFO): void {
    this.onLog(new LogData({ gateway_name: this.gatewayName, msg: boundLogMessage(msg), level }));
  }

  /** Logs in and queries contracts, account, positions, orders and trades. */
  abstract connect(setting: GatewaySetting): MaybePromise<void>;
  abstract close(): MaybePromise<void>;
  abstract subscribe(req: SubscribeRequest): MaybePromise<void>;
  /** Returns the new order's vt_orderid, or "" when it could not be sent. */
  abstract sendOrder(req: OrderRequest): MaybePromise<string>;
  abstract cancelOrder(req: CancelRequest): MaybePromise<void>;
  abstract queryAccount(): MaybePromise<void>;
  abstract queryPosition(): MaybePromise<void>;

  queryHistory(_req: HistoryRequest): MaybePromise<BarData[]> {
    return [];
  }

  /**
   * History in the gateway's own form: a BarSeries where it can build one (columns: cheap to hold while a server
   * encodes the reply), else queryHistory's list. Override both, or neither.
   */
  queryHistorySeries(req: HistoryRequest): MaybePromise<BarData[] | BarSeries> {
    return this.queryHistory(req);
  }

  sendQuote(_req: QuoteRequest): MaybePromise<string> {
    return "";
  }

  cancelQuote(_req: CancelRequest): MaybePromise<void> {}

  getDefaultSetting(): GatewaySetting {
    return { ...(this.constructor as GatewayClass).defaultSetting };
  }
}

/** Twin types of ticks by vt_symbol, kept: made afresh, each tick's type would be a new string to hash at every lookup. */
const tickTwinTypes = new Map<string, string>();
/** Symbols a feed may name (a full exchange's contracts); past this the table starts afresh. */
const MAX_TICK_TWIN_TYPES = 20_000;

/** `eTick.<vt_symbol>`, the specific event every tick is put as too. */
function tickTwinType(vt_symbol: string): string {
  let type = tickTwinTypes.get(vt_symbol);
  if (type === undefined) {
    if (tickTwinTypes.size >= MAX_TICK_TWIN_TYPES) tickTwinTypes.clear();
    type = EVENT_TICK + vt_symbol;
    tickTwinTypes.set(vt_symbol, type);
  }
  return type;
}

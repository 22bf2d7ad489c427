/**
 * VeighNa's data model (vnpy/trader/object.py): the objects every gateway, engine and client exchanges.
 *
 * Field names are VeighNa's (snake_case) because they travel on the wire as they are. Fields are declared in
 * VeighNa's order, so an instance's own keys come out in the order of the Python instance `__dict__`:
 * constructor fields first, then the derived ids that `__post_init__` computes. `extra` is declared but not
 * defined, so, as in Python, it exists only once something assigns it.
 */
import { Direction, Exchange, Interval, Offset, OptionType, OrderType, Product, Status, enumMemberByValue, type EnumName } from "./constants.js";
import { DateTime } from "./datetime.js";

export const INFO = 20;
export const WARNING = 30;
export const ERROR = 40;

export const ACTIVE_STATUSES: ReadonlySet<Status> = new Set([Status.SUBMITTING, Status.NOTTRADED, Status.PARTTRADED]);

/** What a field holds when it is not a plain number, string or bool: the codec needs it to write enums. */
export type FieldKind = EnumName | "datetime";
export type FieldKinds = Readonly<Record<string, FieldKind>>;

/**
 * Assigns the keys of `init` that are not undefined, keeping defaults for the rest. for-in, not Object.entries: no
 * array per object built (a history query builds thousands of bars; their garbage lengthens every GC pause).
 */
function assignDefined(target: object, init: object): void {
  const source = init as Record<string, unknown>;
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}

/** An instance's data fields (its methods left out). */
type DataFields<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

/**
 * A data class's constructor argument, derived from the class so the fields are declared once: the `Required`
 * fields, every other data field optional (it has a default), the ids the constructor derives and `extra` left out.
 */
export type InitOf<T, Required extends keyof T, Derived extends keyof T> = Pick<T, Required> &
  Partial<Omit<DataFields<T>, Required | Derived | "extra">>;

export abstract class BaseData {
  gateway_name: string;
  /** Gateway-specific attributes; absent unless assigned (VeighNa: `field(default=None, init=False)`). */
  declare extra?: Record<string, unknown> | null;

  constructor(gateway_name: string) {
    this.gateway_name = gateway_name;
  }
}

export type TickDataInit = InitOf<TickData, "gateway_name" | "symbol" | "exchange" | "datetime", "vt_symbol">;

/** Market data: the latest trade and a 5-level book. */
export class TickData extends BaseData {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange", datetime: "datetime", localtime: "datetime" };

  symbol!: string;
  exchange!: Exchange;
  datetime!: DateTime;
  name = "";
  volume = 0;
  turnover = 0;
  open_interest = 0;
  last_price = 0;
  last_volume = 0;
  limit_up = 0;
  limit_down = 0;
  open_price = 0;
  high_price = 0;
  low_price = 0;
  pre_close = 0;
  bid_price_1 = 0;
  bid_price_2 = 0;
  bid_price_3 = 0;
  bid_price_4 = 0;
  bid_price_5 = 0;
  ask_price_1 = 0;
  ask_price_2 = 0;
  ask_price_3 = 0;
  ask_price_4 = 0;
  ask_price_5 = 0;
  bid_volume_1 = 0;
  bid_volume_2 = 0;
  bid_volume_3 = 0;
  bid_volume_4 = 0;
  bid_volume_5 = 0;
  ask_volume_1 = 0;
  ask_volume_2 = 0;
  ask_volume_3 = 0;
  ask_volume_4 = 0;
  ask_volume_5 = 0;
  localtime: DateTime | null = null;
  vt_symbol!: string;

  constructor(init: TickDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }
}

export type BarDataInit = InitOf<BarData, "gateway_name" | "symbol" | "exchange" | "datetime", "vt_symbol">;

/** A candlestick of a given interval. */
export class BarData extends BaseData {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange", datetime: "datetime", interval: "Interval" };

  symbol!: string;
  exchange!: Exchange;
  datetime!: DateTime;
  interval: Interval | null = null;
  volume = 0;
  turnover = 0;
  open_interest = 0;
  open_price = 0;
  high_price = 0;
  low_price = 0;
  close_price = 0;
  vt_symbol!: string;

  constructor(init: BarDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }
}

export type OrderDataInit = InitOf<OrderData, "gateway_name" | "symbol" | "exchange" | "orderid", "vt_symbol" | "vt_orderid">;

/** The latest state of one order. */
export class OrderData extends BaseData {
  static readonly fieldKinds: FieldKinds = {
    exchange: "Exchange",
    type: "OrderType",
    direction: "Direction",
    offset: "Offset",
    status: "Status",
    datetime: "datetime",
  };

  symbol!: string;
  exchange!: Exchange;
  orderid!: string;
  type: OrderType = OrderType.LIMIT;
  direction: Direction | null = null;
  offset: Offset = Offset.NONE;
  price = 0;
  volume = 0;
  traded = 0;
  status: Status = Status.SUBMITTING;
  datetime: DateTime | null = null;
  reference = "";
  vt_symbol!: string;
  vt_orderid!: string;

  constructor(init: OrderDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
    this.vt_orderid = `${this.gateway_name}.${this.orderid}`;
  }

  isActive(): boolean {
    return ACTIVE_STATUSES.has(this.status);
  }

  createCancelRequest(): CancelRequest {
    return new CancelRequest({ orderid: this.orderid, symbol: this.symbol, exchange: this.exchange });
  }
}

export type TradeDataInit = InitOf<TradeData, "gateway_name" | "symbol" | "exchange" | "orderid" | "tradeid", "vt_symbol" | "vt_orderid" | "vt_tradeid">;

/** One fill of an order. */
export class TradeData extends BaseData {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange", direction: "Direction", offset: "Offset", datetime: "datetime" };

  symbol!: string;
  exchange!: Exchange;
  orderid!: string;
  tradeid!: string;
  direction: Direction | null = null;
  offset: Offset = Offset.NONE;
  price = 0;
  volume = 0;
  datetime: DateTime | null = null;
  vt_symbol!: string;
  vt_orderid!: string;
  vt_tradeid!: string;

  constructor(init: TradeDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
    this.vt_orderid = `${this.gateway_name}.${this.orderid}`;
    this.vt_tradeid = `${this.gateway_name}.${this.tradeid}`;
  }
}

export type PositionDataInit = InitOf<PositionData, "gateway_name" | "symbol" | "exchange" | "direction", "vt_symbol" | "vt_positionid">;

/** Holdings of one contract in one direction. */
export class PositionData extends BaseData {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange", direction: "Direction" };

  symbol!: string;
  exchange!: Exchange;
  direction!: Direction;
  volume = 0;
  frozen = 0;
  price = 0;
  pnl = 0;
  yd_volume = 0;
  vt_symbol!: string;
  vt_positionid!: string;

  constructor(init: PositionDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
    this.vt_positionid = `${this.gateway_name}.${this.vt_symbol}.${this.direction}`;
  }
}

export type AccountDataInit = InitOf<AccountData, "gateway_name" | "accountid", "available" | "vt_accountid">;

/** Balance and frozen funds of one account. */
export class AccountData extends BaseData {
  static readonly fieldKinds: FieldKinds = {};

  accountid!: string;
  balance = 0;
  frozen = 0;
  available!: number;
  vt_accountid!: string;

  constructor(init: AccountDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.available = this.balance - this.frozen;
    this.vt_accountid = `${this.gateway_name}.${this.accountid}`;
  }
}

export type LogDataInit = InitOf<LogData, "gateway_name" | "msg", never>;

/** A log line. */
export class LogData extends BaseData {
  static readonly fieldKinds: FieldKinds = { time: "datetime" };

  msg!: string;
  level: number = INFO;
  /** Defaults to now, naive local time, as VeighNa's `datetime.now()`. */
  time!: DateTime;

  constructor(init: LogDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.time ??= DateTime.now(null);
  }
}

export type ContractDataInit = InitOf<ContractData, "gateway_name" | "symbol" | "exchange" | "name" | "product" | "size" | "pricetick", "vt_symbol">;

/** What can be traded: size, tick, limits, option details. */
export class ContractData extends BaseData {
  static readonly fieldKinds: FieldKinds = {
    exchange: "Exchange",
    product: "Product",
    option_type: "OptionType",
    option_listed: "datetime",
    option_expiry: "datetime",
  };

  symbol!: string;
  exchange!: Exchange;
  name!: string;
  product!: Product;
  size!: number;
  pricetick!: number;
  min_volume = 1;
  max_volume: number | null = null;
  stop_supported = false;
  net_position = false;
  history_data = false;
  option_strike: number | null = null;
  option_underlying: string | null = null;
  option_type: OptionType | null = null;
  option_listed: DateTime | null = null;
  option_expiry: DateTime | null = null;
  option_portfolio: string | null = null;
  option_index: string | null = null;
  vt_symbol!: string;

  constructor(init: ContractDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }
}

export type QuoteDataInit = InitOf<QuoteData, "gateway_name" | "symbol" | "exchange" | "quoteid", "vt_symbol" | "vt_quoteid">;

/** A two-sided quote (market making). */
export class QuoteData extends BaseData {
  static readonly fieldKinds: FieldKinds = {
    exchange: "Exchange",
    bid_offset: "Offset",
    ask_offset: "Offset",
    status: "Status",
    datetime: "datetime",
  };

  symbol!: string;
  exchange!: Exchange;
  quoteid!: string;
  bid_price = 0.0;
  bid_volume = 0;
  ask_price = 0.0;
  ask_volume = 0;
  bid_offset: Offset = Offset.NONE;
  ask_offset: Offset = Offset.NONE;
  status: Status = Status.SUBMITTING;
  datetime: DateTime | null = null;
  reference = "";
  vt_symbol!: string;
  vt_quoteid!: string;

  constructor(init: QuoteDataInit) {
    super(init.gateway_name);
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
    this.vt_quoteid = `${this.gateway_name}.${this.quoteid}`;
  }

  isActive(): boolean {
    return ACTIVE_STATUSES.has(this.status);
  }

  createCancelRequest(): CancelRequest {
    return new CancelRequest({ orderid: this.quoteid, symbol: this.symbol, exchange: this.exchange });
  }
}

export type SubscribeRequestInit = InitOf<SubscribeRequest, "symbol" | "exchange", "vt_symbol">;

/** Ask a gateway for market data of one contract. */
export class SubscribeRequest {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange" };

  symbol!: string;
  exchange!: Exchange;
  vt_symbol!: string;

  constructor(init: SubscribeRequestInit) {
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }

  toString(): string {
    return pythonRepr("SubscribeRequest", this, SubscribeRequest.fieldKinds, ["symbol", "exchange"]);
  }
}

export type OrderRequestInit = InitOf<OrderRequest, "symbol" | "exchange" | "direction" | "type" | "volume", "vt_symbol">;

/** A new order, as a strategy asks for it. */
export class OrderRequest {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange", direction: "Direction", type: "OrderType", offset: "Offset" };

  symbol!: string;
  exchange!: Exchange;
  direction!: Direction;
  type!: OrderType;
  volume!: number;
  price = 0;
  offset: Offset = Offset.NONE;
  reference = "";
  vt_symbol!: string;

  constructor(init: OrderRequestInit) {
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }

  createOrderData(orderid: string, gateway_name: string): OrderData {
    return new OrderData({
      gateway_name,
      symbol: this.symbol,
      exchange: this.exchange,
      orderid,
      type: this.type,
      direction: this.direction,
      offset: this.offset,
      price: this.price,
      volume: this.volume,
      reference: this.reference,
    });
  }

  toString(): string {
    return pythonRepr("OrderRequest", this, OrderRequest.fieldKinds, [
      "symbol", "exchange", "direction", "type", "volume", "price", "offset", "reference",
    ]);
  }
}

export type CancelRequestInit = InitOf<CancelRequest, "orderid" | "symbol" | "exchange", "vt_symbol">;

/** Cancel one order (or quote): `orderid` is the gateway-local id, not the vt_orderid. */
export class CancelRequest {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange" };

  orderid!: string;
  symbol!: string;
  exchange!: Exchange;
  vt_symbol!: string;

  constructor(init: CancelRequestInit) {
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }

  toString(): string {
    return pythonRepr("CancelRequest", this, CancelRequest.fieldKinds, ["orderid", "symbol", "exchange"]);
  }
}

export type HistoryRequestInit = InitOf<HistoryRequest, "symbol" | "exchange" | "start", "vt_symbol">;

/** Ask for bars between two datetimes. */
export class HistoryRequest {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange", start: "datetime", end: "datetime", interval: "Interval" };

  symbol!: string;
  exchange!: Exchange;
  start!: DateTime;
  end: DateTime | null = null;
  interval: Interval | null = null;
  vt_symbol!: string;

  constructor(init: HistoryRequestInit) {
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }

  toString(): string {
    return pythonRepr("HistoryRequest", this, HistoryRequest.fieldKinds, ["symbol", "exchange", "start", "end", "interval"]);
  }
}

export type QuoteRequestInit = InitOf<QuoteRequest, "symbol" | "exchange" | "bid_price" | "bid_volume" | "ask_price" | "ask_volume", "vt_symbol">;

/** A new two-sided quote. */
export class QuoteRequest {
  static readonly fieldKinds: FieldKinds = { exchange: "Exchange", bid_offset: "Offset", ask_offset: "Offset" };

  symbol!: string;
  exchange!: Exchange;
  bid_price!: number;
  bid_volume!: number;
  ask_price!: number;
  ask_volume!: number;
  bid_offset: Offset = Offset.NONE;
  ask_offset: Offset = Offset.NONE;
  reference = "";
  vt_symbol!: string;

  constructor(init: QuoteRequestInit) {
    assignDefined(this, init);
    this.vt_symbol = `${this.symbol}.${this.exchange}`;
  }

  createQuoteData(quoteid: string, gateway_name: string): QuoteData {
    return new QuoteData({
      gateway_name,
      symbol: this.symbol,
      exchange: this.exchange,
      quoteid,
      bid_price: this.bid_price,
      bid_volume: this.bid_volume,
      ask_price: this.ask_price,
      ask_volume: this.ask_volume,
      bid_offset: this.bid_offset,
      ask_offset: this.ask_offset,
      reference: this.reference,
    });
  }

  toString(): string {
    return pythonRepr("QuoteRequest", this, QuoteRequest.fieldKinds, [
      "symbol", "exchange", "bid_price", "bid_volume", "ask_price", "ask_volume", "bid_offset", "ask_offset", "reference",
    ]);
  }
}

/** Every class of vnpy.trader.object, by its Python class name. */
export const DATA_CLASSES = {
  TickData,
  BarData,
  OrderData,
  TradeData,
  PositionData,
  AccountData,
  LogData,
  ContractData,
  QuoteData,
  SubscribeRequest,
  OrderRequest,
  CancelRequest,
  HistoryRequest,
  QuoteRequest,
} as const;

export type DataClassName = keyof typeof DATA_CLASSES;
export type DataObject = InstanceType<(typeof DATA_CLASSES)[DataClassName]>;

/** The Python class name of a data object (e.g. "OrderData"), or undefined for anything else. */
export function dataClassName(value: unknown): DataClassName | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const name = (value.constructor as { name?: string } | undefined)?.name;
  return name !== undefined && Object.prototype.hasOwnProperty.call(DATA_CLASSES, name) &&
    DATA_CLASSES[name as DataClassName] === value.constructor
    ? (name as DataClassName)
    : undefined;
}

/** Python's dataclass repr, as VeighNa's log lines show requests: `OrderRequest(symbol='rb2501', ...)`. */
function pythonRepr(className: string, obj: object, kinds: FieldKinds, fields: readonly string[]): string {
  const record = obj as Record<string, unknown>;
  const parts = fields.map((field) => `${field}=${reprValue(record[field], kinds[field])}`);
  return `${className}(${parts.join(", ")})`;
}

function reprValue(value: unknown, kind: FieldKind | undefined): string {
  if (value === null || value === undefined) return "None";
  if (kind && kind !== "datetime" && typeof value === "string") {
    const member = enumMemberByValue(kind, value);
    return member === undefined ? `'${value}'` : `<${kind}.${member}: '${value}'>`;
  }
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value instanceof DateTime) return `datetime(${value.toISOString()})`;
  return String(value);
}


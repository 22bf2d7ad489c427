/**
 * VeighNa's enums (vnpy/trader/constant.py) with the exact member names and values.
 *
 * Values are the untranslated (Chinese) strings that vnpy uses in a source tree, on Windows or with LANG=C.
 * A peer running vnpy in an English locale sends the English values instead: `ENGLISH_VALUES` maps them,
 * and `enumMemberByValue` accepts either language.
 */
import type { Language } from "./locale.js";

export enum Direction {
  LONG = "多",
  SHORT = "空",
  NET = "净",
}

export enum Offset {
  NONE = "",
  OPEN = "开",
  CLOSE = "平",
  CLOSETODAY = "平今",
  CLOSEYESTERDAY = "平昨",
}

export enum Status {
  SUBMITTING = "提交中",
  NOTTRADED = "未成交",
  PARTTRADED = "部分成交",
  ALLTRADED = "全部成交",
  CANCELLED = "已撤销",
  REJECTED = "拒单",
}

export enum Product {
  EQUITY = "股票",
  FUTURES = "期货",
  OPTION = "期权",
  INDEX = "指数",
  FOREX = "外汇",
  SPOT = "现货",
  ETF = "ETF",
  BOND = "债券",
  WARRANT = "权证",
  SPREAD = "价差",
  FUND = "基金",
  CFD = "CFD",
  SWAP = "互换",
}

export enum OrderType {
  LIMIT = "限价",
  MARKET = "市价",
  STOP = "STOP",
  FAK = "FAK",
  FOK = "FOK",
  RFQ = "询价",
  ETF = "ETF",
}

export enum OptionType {
  CALL = "看涨期权",
  PUT = "看跌期权",
}

export enum Exchange {
  // Chinese
  CFFEX = "CFFEX",
  SHFE = "SHFE",
  CZCE = "CZCE",
  DCE = "DCE",
  INE = "INE",
  GFEX = "GFEX",
  SSE = "SSE",
  SZSE = "SZSE",
  BSE = "BSE",
  SHHK = "SHHK",
  SZHK = "SZHK",
  SGE = "SGE",
  WXE = "WXE",
  CFETS = "CFETS",
  XBOND = "XBOND",
  // Global
  SMART = "SMART",
  NYSE = "NYSE",
  NASDAQ = "NASDAQ",
  ARCA = "ARCA",
  EDGEA = "EDGEA",
  ISLAND = "ISLAND",
  BATS = "BATS",
  IEX = "IEX",
  AMEX = "AMEX",
  TSE = "TSE",
  NYMEX = "NYMEX",
  COMEX = "COMEX",
  GLOBEX = "GLOBEX",
  IDEALPRO = "IDEALPRO",
  CME = "CME",
  ICE = "ICE",
  SEHK = "SEHK",
  HKFE = "HKFE",
  SGX = "SGX",
  CBOT = "CBOT",
  CBOE = "CBOE",
  CFE = "CFE",
  DME = "DME",
  EUREX = "EUX",
  APEX = "APEX",
  LME = "LME",
  BMD = "BMD",
  TOCOM = "TOCOM",
  EUNX = "EUNX",
  KRX = "KRX",
  OTC = "OTC",
  IBKRATS = "IBKRATS",
  // Special
  LOCAL = "LOCAL",
  GLOBAL = "GLOBAL",
}

export enum Currency {
  USD = "USD",
  HKD = "HKD",
  CNY = "CNY",
  CAD = "CAD",
}

export enum Interval {
  MINUTE = "1m",
  HOUR = "1h",
  DAILY = "d",
  WEEKLY = "w",
  TICK = "tick",
}

/** Every enum of vnpy.trader.constant, by its Python class name. */
export const ENUMS = {
  Direction,
  Offset,
  Status,
  Product,
  OrderType,
  OptionType,
  Exchange,
  Currency,
  Interval,
} as const;

export type EnumName = keyof typeof ENUMS;
export type EnumValue = Direction | Offset | Status | Product | OrderType | OptionType | Exchange | Currency | Interval;

/** The values vnpy's English catalogue (locale/en/LC_MESSAGES/vnpy.po) gives; members not listed keep their value. */
export const ENGLISH_VALUES: { readonly [E in EnumName]?: Readonly<Record<string, string>> } = {
  Direction: { LONG: "Long", SHORT: "Short", NET: "Net" },
  Offset: { NONE: "", OPEN: "Open", CLOSE: "Close", CLOSETODAY: "Close Today", CLOSEYESTERDAY: "Close Yesterday" },
  Status: {
    SUBMITTING: "Submitting",
    NOTTRADED: "Not Traded",
    PARTTRADED: "Part Traded",
    ALLTRADED: "All Traded",
    CANCELLED: "Cancelled",
    REJECTED: "Rejected",
  },
  Product: {
    EQUITY: "Stock",
    FUTURES: "Futures",
    OPTION: "Option",
    INDEX: "Index",
    FOREX: "Forex",
    SPOT: "Spot",
    BOND: "Bond",
    WARRANT: "Warrant",
    SPREAD: "Spread",
    FUND: "Fund",
    SWAP: "Swap",
  },
  OrderType: { LIMIT: "Limit", MARKET: "Market", RFQ: "RFQ" },
  OptionType: { CALL: "Call", PUT: "Put" },
};

export function isEnumName(name: string): name is EnumName {
  return Object.prototype.hasOwnProperty.call(ENUMS, name);
}

/** Member names of an enum, in declaration order. */
export function enumMemberNames(enumName: EnumName): string[] {
  return Object.keys(ENUMS[enumName]);
}

/** The value of `enumName.memberName`, or undefined when there is no such member. */
export function enumValueByName(enumName: EnumName, memberName: string): EnumValue | undefined {
  const table = ENUMS[enumName] as Record<string, EnumValue>;
  return Object.prototype.hasOwnProperty.call(table, memberName) ? table[memberName] : undefined;
}

/** The member name holding `value`; accepts the Chinese value and the English one. */
export function enumMemberByValue(enumName: EnumName, value: string): string | undefined {
  const table = ENUMS[enumName] as Record<string, string>;
  for (const name of Object.keys(table)) if (table[name] === value) return name;
  const english = ENGLISH_VALUES[enumName];
  if (english) for (const name of Object.keys(english)) if (english[name] === value) return name;
  return undefined;
}

/** The member name of a value known to belong to `enumName` (throws on a foreign value). */
export function enumMemberName(enumName: EnumName, value: EnumValue): string {
  const name = enumMemberByValue(enumName, value);
  if (name === undefined) throw new TypeError(`${JSON.stringify(value)} is not a ${enumName}`);
  return name;
}

/** The English value of a member (for display in an English locale). */
export function englishValue(enumName: EnumName, value: EnumValue): string {
  const name = enumMemberName(enumName, value);
  return ENGLISH_VALUES[enumName]?.[name] ?? value;
}

/** A member's value for people to read in `language`: English, or VeighNa's Chinese (the value itself). */
export function displayValue(enumName: EnumName, value: EnumValue | null | undefined, language: Language): string {
  if (value === null || value === undefined) return "";
  return language === "en" ? englishValue(enumName, value) : value;
}

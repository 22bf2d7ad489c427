/**
 * The default universe: what a new user can trade without writing a contracts file. Futures of the five Chinese
 * futures exchanges (two listed months each, named from the current date), A-shares and an ETF, and an IO
 * (CSI 300 index option) chain on the front IF month with strikes around the simulated IF price.
 * Sizes, ticks, margins, fees and limits are close to the real ones; prices are reference levels.
 */
import { Exchange, OptionType, Product } from "../kernel/index.js";
import { ContractModel } from "./model.js";
import type { SimContractSpec } from "./spec.js";
import { chinaDateTime, dayIndexOf, dayStartMs } from "./time.js";

/** One futures product: the spec fields its contracts share, plus how its contract months are named. */
interface FuturesTemplate
  extends Pick<
    SimContractSpec,
    | "exchange"
    | "name"
    | "size"
    | "pricetick"
    | "price"
    | "margin_rate"
    | "commission_rate"
    | "commission_per_lot"
    | "volatility"
    | "limit_pct"
    | "depth"
    | "daily_volume"
    | "open_interest"
  > {
  readonly code: string;
  /** Months with a liquid contract; `null` means every month. */
  readonly months: readonly number[] | null;
}

const FUTURES: readonly FuturesTemplate[] = [
  { code: "rb", exchange: Exchange.SHFE, name: "螺纹钢", size: 10, pricetick: 1, price: 3300, margin_rate: 0.1, commission_rate: 0.0001, commission_per_lot: 0, volatility: 0.2, limit_pct: 0.07, depth: 300, daily_volume: 1_000_000, open_interest: 1_800_000, months: [1, 5, 10] },
  { code: "hc", exchange: Exchange.SHFE, name: "热轧卷板", size: 10, pricetick: 1, price: 3450, margin_rate: 0.1, commission_rate: 0.0001, commission_per_lot: 0, volatility: 0.2, limit_pct: 0.07, depth: 150, daily_volume: 400_000, open_interest: 1_200_000, months: [1, 5, 10] },
  { code: "cu", exchange: Exchange.SHFE, name: "沪铜", size: 5, pricetick: 10, price: 76_000, margin_rate: 0.1, commission_rate: 0.00005, commission_per_lot: 0, volatility: 0.16, limit_pct: 0.07, depth: 20, daily_volume: 80_000, open_interest: 200_000, months: null },
  { code: "au", exchange: Exchange.SHFE, name: "黄金", size: 1000, pricetick: 0.02, price: 620, margin_rate: 0.12, commission_rate: 0, commission_per_lot: 10, volatility: 0.15, limit_pct: 0.07, depth: 30, daily_volume: 200_000, open_interest: 200_000, months: [6, 12] },
  { code: "ag", exchange: Exchange.SHFE, name: "白银", size: 15, pricetick: 1, price: 7800, margin_rate: 0.12, commission_rate: 0.00005, commission_per_lot: 0, volatility: 0.25, limit_pct: 0.08, depth: 100, daily_volume: 900_000, open_interest: 700_000, months: [6, 12] },
  { code: "i", exchange: Exchange.DCE, name: "铁矿石", size: 100, pricetick: 0.5, price: 780, margin_rate: 0.13, commission_rate: 0.0001, commission_per_lot: 0, volatility: 0.3, limit_pct: 0.08, depth: 100, daily_volume: 400_000, open_interest: 700_000, months: [1, 5, 9] },
  { code: "m", exchange: Exchange.DCE, name: "豆粕", size: 10, pricetick: 1, price: 2950, margin_rate: 0.08, commission_rate: 0, commission_per_lot: 1.5, volatility: 0.18, limit_pct: 0.06, depth: 500, daily_volume: 1_000_000, open_interest: 1_800_000, months: [1, 5, 9] },
  { code: "y", exchange: Exchange.DCE, name: "豆油", size: 10, pricetick: 2, price: 7800, margin_rate: 0.08, commission_rate: 0, commission_per_lot: 2.5, volatility: 0.2, limit_pct: 0.06, depth: 100, daily_volume: 400_000, open_interest: 500_000, months: [1, 5, 9] },
  { code: "SR", exchange: Exchange.CZCE, name: "白糖", size: 10, pricetick: 1, price: 5800, margin_rate: 0.08, commission_rate: 0, commission_per_lot: 3, volatility: 0.14, limit_pct: 0.06, depth: 100, daily_volume: 300_000, open_interest: 500_000, months: [1, 5, 9] },
  { code: "CF", exchange: Exchange.CZCE, name: "棉花", size: 5, pricetick: 5, price: 13_800, margin_rate: 0.08, commission_rate: 0, commission_per_lot: 4.3, volatility: 0.16, limit_pct: 0.06, depth: 80, daily_volume: 300_000, open_interest: 500_000, months: [1, 5, 9] },
  { code: "TA", exchange: Exchange.CZCE, name: "PTA", size: 5, pricetick: 2, price: 4900, margin_rate: 0.08, commission_rate: 0, commission_per_lot: 3, volatility: 0.22, limit_pct: 0.06, depth: 300, daily_volume: 1_000_000, open_interest: 1_200_000, months: [1, 5, 9] },
  { code: "IF", exchange: Exchange.CFFEX, name: "沪深300", size: 300, pricetick: 0.2, price: 3900, margin_rate: 0.12, commission_rate: 0.000023, commission_per_lot: 0, volatility: 0.2, limit_pct: 0.1, depth: 5, daily_volume: 80_000, open_interest: 200_000, months: null },
  { code: "IC", exchange: Exchange.CFFEX, name: "中证500", size: 200, pricetick: 0.2, price: 5800, margin_rate: 0.14, commission_rate: 0.000023, commission_per_lot: 0, volatility: 0.25, limit_pct: 0.1, depth: 4, daily_volume: 70_000, open_interest: 200_000, months: null },
  { code: "IH", exchange: Exchange.CFFEX, name: "上证50", size: 300, pricetick: 0.2, price: 2700, margin_rate: 0.12, commission_rate: 0.000023, commission_per_lot: 0, volatility: 0.18, limit_pct: 0.1, depth: 4, daily_volume: 40_000, open_interest: 100_000, months: null },
  { code: "sc", exchange: Exchange.INE, name: "原油", size: 1000, pricetick: 0.1, price: 560, margin_rate: 0.1, commission_rate: 0, commission_per_lot: 20, volatility: 0.35, limit_pct: 0.08, depth: 10, daily_volume: 150_000, open_interest: 40_000, months: null },
];

interface EquityTemplate {
  readonly symbol: string;
  readonly exchange: Exchange;
  readonly name: string;
  readonly price: number;
  readonly volatility: number;
  readonly limit_pct: number;
  readonly product?: Product;
  readonly pricetick?: number;
}

const EQUITIES: readonly EquityTemplate[] = [
  { symbol: "600519", exchange: Exchange.SSE, name: "贵州茅台", price: 1500, volatility: 0.28, limit_pct: 0.1 },
  { symbol: "601318", exchange: Exchange.SSE, name: "中国平安", price: 50, volatility: 0.25, limit_pct: 0.1 },
  { symbol: "600036", exchange: Exchange.SSE, name: "招商银行", price: 35, volatility: 0.22, limit_pct: 0.1 },
  { symbol: "000001", exchange: Exchange.SZSE, name: "平安银行", price: 11, volatility: 0.25, limit_pct: 0.1 },
  { symbol: "000858", exchange: Exchange.SZSE, name: "五粮液", price: 130, volatility: 0.3, limit_pct: 0.1 },
  { symbol: "300750", exchange: Exchange.SZSE, name: "宁德时代", price: 250, volatility: 0.4, limit_pct: 0.2 },
  { symbol: "510300", exchange: Exchange.SSE, name: "沪深300ETF", price: 3.9, volatility: 0.2, limit_pct: 0.1, product: Product.ETF, pricetick: 0.001 },
];

/** IO chain parameters: strikes every 50 points, four either side of the at-the-money strike. */
const IO_STRIKE_STEP = 50;
const IO_STRIKES_EACH_SIDE = 4;

/** A futures contract month: `year` full, `month` 1..12. */
interface ContractMonth {
  readonly year: number;
  readonly month: number;
}

function symbolFor(template: FuturesTemplate, m: ContractMonth): string {
  const mm = String(m.month).padStart(2, "0");
  // CZCE writes one year digit (SR505); the other exchanges write two (rb2505, IF2506).
  if (template.exchange === Exchange.CZCE) return `${template.code}${m.year % 10}${mm}`;
  return `${template.code}${String(m.year % 100).padStart(2, "0")}${mm}`;
}

/** Third Friday of a month, 15:00 Shanghai: when CFFEX index futures and options expire. */
function thirdFridayClose(m: ContractMonth): number {
  const first = dayIndexOf(Date.UTC(m.year, m.month - 1, 1, 12));
  const weekday = (first + 4) % 7; // 0 = Sunday; 1970-01-01 was a Thursday
  const firstFriday = first + ((5 - weekday + 7) % 7);
  return dayStartMs(firstFriday + 14) + 15 * 3_600_000;
}

/** Last trading instant of a commodity month: the 15th, 15:00 (close enough to the exchanges' rules). */
function fifteenthClose(m: ContractMonth): number {
  return dayStartMs(dayIndexOf(Date.UTC(m.year, m.month - 1, 15, 12))) + 15 * 3_600_000;
}

function expiryOf(template: FuturesTemplate, m: ContractMonth): number {
  return template.exchange === Exchange.CFFEX ? thirdFridayClose(m) : fifteenthClose(m);
}

/** The next `count` listed months of a product that have not expired at `nowMs`. */
function activeMonths(template: FuturesTemplate, nowMs: number, count: number): ContractMonth[] {
  const today = chinaDateTime(nowMs);
  const result: ContractMonth[] = [];
  let year = today.year;
  let month = today.month;
  for (let guard = 0; result.length < count && guard < 36; guard++) {
    const candidate = { year, month };
    const listed = template.months === null || template.months.includes(month);
    if (listed && expiryOf(template, candidate) > nowMs) result.push(candidate);
    month = month === 12 ? 1 : month + 1;
    if (month === 1) year++;
  }
  return result;
}

function futuresSpec(template: FuturesTemplate, m: ContractMonth): SimContractSpec {
  const symbol = symbolFor(template, m);
  return {
    symbol,
    exchange: template.exchange,
    name: `${template.name}${symbol.replace(/^[A-Za-z]+/, "")}`,
    product: Product.FUTURES,
    size: template.size,
    pricetick: template.pricetick,
    min_volume: 1,
    max_volume: template.exchange === Exchange.CFFEX ? 20 : 500,
    price: template.price,
    margin_rate: template.margin_rate,
    commission_rate: template.commission_rate,
    commission_per_lot: template.commission_per_lot,
    volatility: template.volatility,
    limit_pct: template.limit_pct,
    depth: template.depth,
    daily_volume: template.daily_volume,
    open_interest: template.open_interest,
    option: null,
  };
}

function equitySpec(template: EquityTemplate): SimContractSpec {
  return {
    symbol: template.symbol,
    exchange: template.exchange,
    name: template.name,
    product: template.product ?? Product.EQUITY,
    size: 1,
    pricetick: template.pricetick ?? 0.01,
    min_volume: 100,
    max_volume: 1_000_000,
    price: template.price,
    margin_rate: 1,
    commission_rate: 0.0003,
    commission_per_lot: 0,
    volatility: template.volatility,
    limit_pct: template.limit_pct,
    depth: 20_000,
    daily_volume: 10_000_000,
    open_interest: 0,
    option: null,
  };
}

function ioChain(underlying: SimContractSpec, m: ContractMonth, seed: number, nowMs: number): SimContractSpec[] {
  const expiryMs = thirdFridayClose(m);
  const atm = Math.round(new ContractModel(underlying, seed).price(nowMs) / IO_STRIKE_STEP) * IO_STRIKE_STEP;
  const month = underlying.symbol.slice(2);
  const specs: SimContractSpec[] = [];
  for (let i = -IO_STRIKES_EACH_SIDE; i <= IO_STRIKES_EACH_SIDE; i++) {
    const strike = atm + i * IO_STRIKE_STEP;
    for (const [type, letter, label] of [[OptionType.CALL, "C", "购"], [OptionType.PUT, "P", "沽"]] as const) {
      specs.push({
        symbol: `IO${month}-${letter}-${strike}`,
        exchange: Exchange.CFFEX,
        name: `沪深300${label}${month}-${strike}`,
        product: Product.OPTION,
        size: 100,
        pricetick: 0.2,
        min_volume: 1,
        max_volume: 20,
        price: 0,
        margin_rate: 1,
        commission_rate: 0,
        commission_per_lot: 15,
        volatility: 0.18,
        limit_pct: 0.1,
        depth: 10,
        daily_volume: 20_000,
        open_interest: 10_000,
        option: {
          underlying: `${underlying.symbol}.${underlying.exchange}`,
          type,
          strike,
          expiry: chinaDateTime(expiryMs),
          listed: chinaDateTime(dayStartMs(dayIndexOf(expiryMs) - 56)),
          portfolio: "IO",
          index: String(strike),
        },
      });
    }
  }
  return specs;
}

/**
 * The built-in universe at an instant: contract months roll with the date, and the IO strikes centre on the
 * simulated IF price, so the same (date, seed) always gives the same contracts.
 */
export function defaultUniverse(nowMs: number, seed: number): SimContractSpec[] {
  const specs: SimContractSpec[] = [];
  let ifFront: { spec: SimContractSpec; month: ContractMonth } | null = null;
  for (const template of FUTURES) {
    for (const m of activeMonths(template, nowMs, 2)) {
      const spec = futuresSpec(template, m);
      specs.push(spec);
      if (template.code === "IF" && !ifFront) ifFront = { spec, month: m };
    }
  }
  for (const template of EQUITIES) specs.push(equitySpec(template));
  if (ifFront) specs.push(...ioChain(ifFront.spec, ifFront.month, seed, nowMs));
  return specs;
}


/**
 * One contract's running market: the current book (which our fills consume until the next tick), the day's
 * statistics a tick reports, and the orders resting on it in price-time priority.
 *
 * Ticks sit on a grid shared by every contract: tick `index` happens at `index / rate` seconds since the epoch,
 * so a market started late, or stepped after a pause, lands on the same ticks as one that never stopped.
 */
import { Direction, TickData, type OrderData } from "../kernel/index.js";
import { minuteBars } from "./history.js";
import type { Book, ContractModel } from "./model.js";
import { chinaDateTime, dayIndexOf, dayStartMs, floorToPeriod, MINUTE_MS } from "./time.js";

/** What the market needs to know of an order resting on it. */
export interface RestingOrder {
  readonly order: OrderData;
}

export class LiveMarket<R extends RestingOrder = RestingOrder> {
  readonly model: ContractModel;
  readonly ticksPerSecond: number;
  /** Milliseconds between ticks. */
  readonly interval: number;
  subscribed = false;
  /** Tick index of `book`; NaN until started. */
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
  /** Resting buys, best (highest) price first, then oldest; `sells` lowest first. */
  readonly buys: R[] = [];
  readonly sells: R[] = [];

  constructor(model: ContractModel, ticksPerSecond: number) {
    this.model = model;
    this.ticksPerSecond = ticksPerSecond;
    this.interval = 1000 / ticksPerSecond;
  }

  get started(): boolean {
    return !Number.isNaN(this.index);
  }

  /** The tick index in force at an instant. */
  indexAt(epochMs: number): number {
    return Math.floor((epochMs * this.ticksPerSecond) / 1000);
  }

  /** Starts at the tick in force at `now`, with the day so far taken from the minute bars history serves. */
  start(now: number): void {
    const model = this.model;
    const index = this.indexAt(now);
    const tickTime = index * this.interval;
    this.startDay(dayIndexOf(tickTime));
    for (const bar of minuteBars(model, dayStartMs(this.day), floorToPeriod(tickTime, MINUTE_MS))) {
      if (bar.high > this.high_price) this.high_price = bar.high;
      if (bar.low < this.low_price) this.low_price = bar.low;
      this.volume += bar.volume;
      this.turnover += bar.turnover;
    }
    this.last_price = model.roundPrice(model.price(tickTime));
    this.high_price = Math.max(this.high_price, this.last_price);
    this.low_price = Math.min(this.low_price, this.last_price);
    this.index = index;
    this.book = model.bookAt(tickTime, index);
  }

  /** Moves to tick `index`: a fresh book, the tick's trade print, the day's statistics. */
  step(index: number): void {
    const model = this.model;
    const tickTime = index * this.interval;
    const day = dayIndexOf(tickTime);
    if (day !== this.day) this.startDay(day);
    this.index = index;
    this.book = model.bookAt(tickTime, index);
    const print = model.printAt(tickTime, index, this.interval);
    this.last_volume = print.volume;
    if (print.volume === 0) return;
    const { bids, asks } = this.book;
    const best = print.side > 0 ? (asks[0] ?? bids[0]) : (bids[0] ?? asks[0]);
    if (best) this.last_price = best.price;
    this.volume += print.volume;
    this.turnover += print.volume * this.last_price * model.spec.size;
    if (this.last_price > this.high_price) this.high_price = this.last_price;
    if (this.last_price < this.low_price) this.low_price = this.last_price;
  }

  private startDay(day: number): void {
    this.day = day;
    const open = this.model.dayLimits(day).pre_close;
    this.open_price = open;
    this.high_price = open;
    this.low_price = open;
    this.volume = 0;
    this.turnover = 0;
  }

  /** Time of the current tick (epoch ms). */
  get tickTime(): number {
    return this.index * this.interval;
  }

  /** The current tick as VeighNa's TickData (take it before fills consume the book). */
  tickData(gatewayName: string): TickData {
    const model = this.model;
    const { bids, asks } = this.book;
    const limits = model.dayLimits(this.day);
    const tickTime = this.tickTime;
    return new TickData({
      gateway_name: gatewayName,
      symbol: model.spec.symbol,
      exchange: model.spec.exchange,
      datetime: chinaDateTime(tickTime),
      name: model.spec.name,
      volume: this.volume,
      turnover: this.turnover,
      open_interest: model.openInterestAt(tickTime),
      last_price: this.last_price,
      last_volume: this.last_volume,
      limit_up: limits.limit_up,
      limit_down: limits.limit_down,
      open_price: this.open_price,
      high_price: this.high_price,
      low_price: this.low_price,
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

  get hasResting(): boolean {
    return this.buys.length > 0 || this.sells.length > 0;
  }

  /** Puts an order on its side, behind orders at a better or the same price. */
  rest(resting: R): void {
    const buy = resting.order.direction === Direction.LONG;
    const side = buy ? this.buys : this.sells;
    const price = resting.order.price;
    let i = side.length;
    while (i > 0 && (buy ? price > side[i - 1]!.order.price : price < side[i - 1]!.order.price)) i--;
    side.splice(i, 0, resting);
  }

  unrest(resting: R): void {
    const side = resting.order.direction === Direction.LONG ? this.buys : this.sells;
    const at = side.indexOf(resting);
    if (at >= 0) side.splice(at, 1);
  }
}

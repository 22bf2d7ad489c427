/**
 * The order management system: the latest state of every tick, order, trade, position, account, contract and
 * quote, kept from the generic events. It is what `get_*` answers from, locally and for remote clients.
 */
import type { EventEngine } from "./event.js";
import {
  EVENT_ACCOUNT,
  EVENT_CONTRACT,
  EVENT_ORDER,
  EVENT_POSITION,
  EVENT_QUOTE,
  EVENT_TICK,
  EVENT_TRADE,
} from "./event-types.js";
import type {
  AccountData,
  ContractData,
  OrderData,
  PositionData,
  QuoteData,
  TickData,
  TradeData,
} from "./objects.js";

export class OmsEngine {
  readonly engineName = "oms";
  readonly ticks = new Map<string, TickData>();
  readonly orders = new Map<string, OrderData>();
  readonly trades = new Map<string, TradeData>();
  readonly positions = new Map<string, PositionData>();
  readonly accounts = new Map<string, AccountData>();
  readonly contracts = new Map<string, ContractData>();
  readonly quotes = new Map<string, QuoteData>();
  readonly activeOrders = new Map<string, OrderData>();
  readonly activeQuotes = new Map<string, QuoteData>();

  constructor(eventEngine: EventEngine) {
    eventEngine.register(EVENT_TICK, (e) => this.put(this.ticks, e.data.vt_symbol, e.data));
    eventEngine.register(EVENT_ORDER, (e) => this.processOrder(e.data));
    eventEngine.register(EVENT_TRADE, (e) => this.put(this.trades, e.data.vt_tradeid, e.data));
    eventEngine.register(EVENT_POSITION, (e) => this.put(this.positions, e.data.vt_positionid, e.data));
    eventEngine.register(EVENT_ACCOUNT, (e) => this.put(this.accounts, e.data.vt_accountid, e.data));
    eventEngine.register(EVENT_CONTRACT, (e) => this.put(this.contracts, e.data.vt_symbol, e.data));
    eventEngine.register(EVENT_QUOTE, (e) => this.processQuote(e.data));
  }

  private put<T>(map: Map<string, T>, key: string, value: T): void {
    map.set(key, value);
  }

  private processOrder(order: OrderData): void {
    this.orders.set(order.vt_orderid, order);
    if (order.isActive()) this.activeOrders.set(order.vt_orderid, order);
    else this.activeOrders.delete(order.vt_orderid);
  }

  private processQuote(quote: QuoteData): void {
    this.quotes.set(quote.vt_quoteid, quote);
    if (quote.isActive()) this.activeQuotes.set(quote.vt_quoteid, quote);
    else this.activeQuotes.delete(quote.vt_quoteid);
  }

  getTick(vt_symbol: string): TickData | null {
    return this.ticks.get(vt_symbol) ?? null;
  }
  getOrder(vt_orderid: string): OrderData | null {
    return this.orders.get(vt_orderid) ?? null;
  }
  getTrade(vt_tradeid: string): TradeData | null {
    return this.trades.get(vt_tradeid) ?? null;
  }
  getPosition(vt_positionid: string): PositionData | null {
    return this.positions.get(vt_positionid) ?? null;
  }
  getAccount(vt_accountid: string): AccountData | null {
    return this.accounts.get(vt_accountid) ?? null;
  }
  getContract(vt_symbol: string): ContractData | null {
    return this.contracts.get(vt_symbol) ?? null;
  }
  getQuote(vt_quoteid: string): QuoteData | null {
    return this.quotes.get(vt_quoteid) ?? null;
  }
  getAllTicks(): TickData[] {
    return [...this.ticks.values()];
  }
  getAllOrders(): OrderData[] {
    return [...this.orders.values()];
  }
  getAllTrades(): TradeData[] {
    return [...this.trades.values()];
  }
  getAllPositions(): PositionData[] {
    return [...this.positions.values()];
  }
  getAllAccounts(): AccountData[] {
    return [...this.accounts.values()];
  }
  getAllContracts(): ContractData[] {
    return [...this.contracts.values()];
  }
  getAllQuotes(): QuoteData[] {
    return [...this.quotes.values()];
  }
  getAllActiveOrders(): OrderData[] {
    return [...this.activeOrders.values()];
  }
  getAllActiveQuotes(): QuoteData[] {
    return [...this.activeQuotes.values()];
  }
}

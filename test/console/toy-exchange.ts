/**
 * A small exchange for the console tests until the simulated exchange (src/sim) is merged: two contracts,
 * ticks on a timer for subscribed symbols, limit orders that fill when they cross the book and rest otherwise.
 */
import {
  AccountData,
  BaseGateway,
  CHINA_TZ,
  ContractData,
  DateTime,
  Direction,
  Exchange,
  Offset,
  OrderData,
  PositionData,
  Product,
  Status,
  TickData,
  TradeData,
  type CancelRequest,
  type GatewaySetting,
  type OrderRequest,
  type SubscribeRequest,
} from "../../src/kernel/index.js";

interface Book {
  contract: ContractData;
  last: number;
}

export class ToyGateway extends BaseGateway {
  static override readonly defaultName = "TOY";
  static override readonly exchanges = [Exchange.SHFE];

  private readonly books = new Map<string, Book>();
  private readonly subscribed = new Set<string>();
  private readonly resting = new Map<string, OrderData>();
  private readonly positions = new Map<string, PositionData>();
  private timer: NodeJS.Timeout | undefined;
  private nextOrder = 1;
  private nextTrade = 1;
  private step = 0;
  private balance = 1_000_000;

  connect(_setting: GatewaySetting): void {
    for (const [symbol, name, last] of [["rb2501", "Rebar 2501", 3500], ["ag2502", "Silver 2502", 7600]] as const) {
      const contract = new ContractData({ gateway_name: this.gatewayName, symbol, exchange: Exchange.SHFE, name, product: Product.FUTURES, size: 10, pricetick: 1 });
      this.books.set(contract.vt_symbol, { contract, last });
      this.onContract(contract);
    }
    this.queryAccount();
    this.timer = setInterval(() => this.tickAll(), 100);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  subscribe(req: SubscribeRequest): void {
    if (this.books.has(req.vt_symbol)) this.subscribed.add(req.vt_symbol);
  }

  sendOrder(req: OrderRequest): string {
    const order = req.createOrderData(String(this.nextOrder++), this.gatewayName);
    order.datetime = DateTime.now(CHINA_TZ);
    const book = this.books.get(req.vt_symbol);
    if (!book) {
      order.status = Status.REJECTED;
      this.onOrder(order);
      return order.vt_orderid;
    }
    order.status = Status.NOTTRADED;
    this.onOrder(order);
    this.resting.set(order.vt_orderid, order);
    this.match(book);
    return order.vt_orderid;
  }

  cancelOrder(req: CancelRequest): void {
    const order = this.resting.get(`${this.gatewayName}.${req.orderid}`);
    if (!order) return;
    this.resting.delete(order.vt_orderid);
    this.onOrder(Object.assign(copy(order), { status: Status.CANCELLED }));
  }

  queryAccount(): void {
    this.onAccount(new AccountData({ gateway_name: this.gatewayName, accountid: "TOY-1", balance: this.balance, frozen: 0 }));
  }

  queryPosition(): void {
    for (const position of this.positions.values()) this.onPosition(position);
  }

  private tickAll(): void {
    this.step++;
    for (const vtSymbol of this.subscribed) {
      const book = this.books.get(vtSymbol)!;
      // A bounded deterministic wiggle: ticks always move, and prices stay near where they started.
      book.last += [1, 2, -1, -2, 1, -1][this.step % 6]!;
      const tick = new TickData({
        gateway_name: this.gatewayName,
        symbol: book.contract.symbol,
        exchange: book.contract.exchange,
        datetime: DateTime.now(CHINA_TZ),
        name: book.contract.name,
        last_price: book.last,
        volume: this.step * 3,
        open_price: 3500,
        pre_close: book.contract.symbol === "rb2501" ? 3490 : 7580,
        high_price: book.last + 5,
        low_price: book.last - 5,
        bid_price_1: book.last - 1,
        ask_price_1: book.last + 1,
        bid_volume_1: 10 + (this.step % 7),
        ask_volume_1: 12 + (this.step % 5),
      });
      this.onTick(tick);
      this.match(book);
    }
  }

  /** Fills every resting order of the book that crosses the current bid/ask, at its own price. */
  private match(book: Book): void {
    const bid = book.last - 1;
    const ask = book.last + 1;
    for (const order of [...this.resting.values()]) {
      if (order.vt_symbol !== book.contract.vt_symbol) continue;
      const crosses = order.direction === Direction.LONG ? order.price >= ask : order.price <= bid;
      if (!crosses) continue;
      this.resting.delete(order.vt_orderid);
      this.onOrder(Object.assign(copy(order), { traded: order.volume, status: Status.ALLTRADED }));
      this.onTrade(
        new TradeData({
          gateway_name: this.gatewayName,
          symbol: order.symbol,
          exchange: order.exchange,
          orderid: order.orderid,
          tradeid: String(this.nextTrade++),
          direction: order.direction,
          offset: order.offset,
          price: order.price,
          volume: order.volume,
          datetime: DateTime.now(CHINA_TZ),
        }),
      );
      this.movePosition(order);
    }
  }

  private movePosition(order: OrderData): void {
    const opening = order.offset === Offset.OPEN || order.offset === Offset.NONE;
    // Opening adds to the order's side; closing takes from the other side.
    const side = opening ? order.direction! : order.direction === Direction.LONG ? Direction.SHORT : Direction.LONG;
    const key = `${order.vt_symbol}.${side}`;
    const position =
      this.positions.get(key) ?? new PositionData({ gateway_name: this.gatewayName, symbol: order.symbol, exchange: order.exchange, direction: side });
    const volume = position.volume + (opening ? order.volume : -order.volume);
    const price = opening && volume > 0 ? (position.price * position.volume + order.price * order.volume) / volume : position.price;
    const next = new PositionData({ gateway_name: this.gatewayName, symbol: order.symbol, exchange: order.exchange, direction: side, volume: Math.max(0, volume), price });
    this.positions.set(key, next);
    this.onPosition(next);
  }
}

function copy(order: OrderData): OrderData {
  return Object.assign(Object.create(OrderData.prototype) as OrderData, order);
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AccountData,
  BarData,
  CancelRequest,
  CHINA_TZ,
  ContractData,
  DateTime,
  Direction,
  Exchange,
  HistoryRequest,
  Interval,
  LogData,
  Offset,
  OrderData,
  OrderRequest,
  OrderType,
  PositionData,
  Product,
  QuoteData,
  QuoteRequest,
  Status,
  SubscribeRequest,
  TickData,
  TradeData,
  dataClassName,
  enumMemberByValue,
  englishValue,
} from "../../src/kernel/index.js";

const when = new DateTime({ year: 2025, month: 3, day: 3, hour: 9, minute: 30, second: 1, microsecond: 500_000 }, CHINA_TZ);

const order = () =>
  new OrderData({ gateway_name: "CTP", symbol: "rb2505", exchange: Exchange.SHFE, orderid: "1_-123_7", direction: Direction.LONG, price: 3500, volume: 2, datetime: when });

describe("VeighNa identifiers", () => {
  test("vt_* ids are formed as VeighNa forms them", () => {
    assert.equal(order().vt_symbol, "rb2505.SHFE");
    assert.equal(order().vt_orderid, "CTP.1_-123_7");
    const trade = new TradeData({ gateway_name: "CTP", symbol: "rb2505", exchange: Exchange.SHFE, orderid: "1", tradeid: "  195674" });
    assert.equal(trade.vt_tradeid, "CTP.  195674", "the tradeid is kept exactly, spaces included");
    const position = new PositionData({ gateway_name: "CTP", symbol: "rb2505", exchange: Exchange.SHFE, direction: Direction.SHORT });
    assert.equal(position.vt_positionid, "CTP.rb2505.SHFE.空");
    assert.equal(new AccountData({ gateway_name: "CTP", accountid: "0001234" }).vt_accountid, "CTP.0001234");
    assert.equal(new QuoteData({ gateway_name: "G", symbol: "IO", exchange: Exchange.CFFEX, quoteid: "q1" }).vt_quoteid, "G.q1");
    assert.equal(new SubscribeRequest({ symbol: "FDAX", exchange: Exchange.EUREX }).vt_symbol, "FDAX.EUX");
  });

  test("a symbol with dots keeps them; vt_orderid splits on its first dot", () => {
    const dotted = new OrderData({ gateway_name: "RPC", symbol: "BTC.USDT", exchange: Exchange.OTC, orderid: "a.b" });
    assert.equal(dotted.vt_symbol, "BTC.USDT.OTC");
    const [gateway, ...rest] = dotted.vt_orderid.split(".");
    assert.deepEqual([gateway, rest.join(".")], ["RPC", "a.b"]);
  });

  test("account available is balance minus frozen", () => {
    assert.equal(new AccountData({ gateway_name: "G", accountid: "A", balance: 1000, frozen: 250.5 }).available, 749.5);
  });
});

describe("field order and extra", () => {
  test("own keys come out in VeighNa's __dict__ order: gateway_name, fields, then derived ids", () => {
    assert.deepEqual(Object.keys(order()), [
      "gateway_name", "symbol", "exchange", "orderid", "type", "direction", "offset", "price", "volume", "traded",
      "status", "datetime", "reference", "vt_symbol", "vt_orderid",
    ]);
    const tick = new TickData({ gateway_name: "G", symbol: "s", exchange: Exchange.SSE, datetime: when });
    const keys = Object.keys(tick);
    assert.deepEqual(keys.slice(0, 6), ["gateway_name", "symbol", "exchange", "datetime", "name", "volume"]);
    assert.deepEqual(keys.slice(-3), ["ask_volume_5", "localtime", "vt_symbol"]);
    assert.equal(keys.length, 38);
    assert.deepEqual(Object.keys(new TradeData({ gateway_name: "G", symbol: "s", exchange: Exchange.SSE, orderid: "o", tradeid: "t" })), [
      "gateway_name", "symbol", "exchange", "orderid", "tradeid", "direction", "offset", "price", "volume", "datetime",
      "vt_symbol", "vt_orderid", "vt_tradeid",
    ]);
    assert.deepEqual(Object.keys(new PositionData({ gateway_name: "G", symbol: "s", exchange: Exchange.SSE, direction: Direction.LONG })), [
      "gateway_name", "symbol", "exchange", "direction", "volume", "frozen", "price", "pnl", "yd_volume", "vt_symbol", "vt_positionid",
    ]);
    assert.deepEqual(Object.keys(new AccountData({ gateway_name: "G", accountid: "A" })), ["gateway_name", "accountid", "balance", "frozen", "available", "vt_accountid"]);
    assert.deepEqual(Object.keys(new LogData({ gateway_name: "G", msg: "m" })), ["gateway_name", "msg", "level", "time"]);
    assert.deepEqual(Object.keys(new BarData({ gateway_name: "G", symbol: "s", exchange: Exchange.SSE, datetime: when })), [
      "gateway_name", "symbol", "exchange", "datetime", "interval", "volume", "turnover", "open_interest", "open_price",
      "high_price", "low_price", "close_price", "vt_symbol",
    ]);
    const contract = new ContractData({ gateway_name: "G", symbol: "s", exchange: Exchange.SSE, name: "n", product: Product.EQUITY, size: 1, pricetick: 0.01 });
    assert.deepEqual(Object.keys(contract).slice(-4), ["option_expiry", "option_portfolio", "option_index", "vt_symbol"]);
  });

  test("extra is absent until assigned, like VeighNa's init=False field", () => {
    const o = order();
    assert.equal("extra" in o, false);
    assert.equal(Object.keys(o).includes("extra"), false);
    o.extra = { reason: "x" };
    assert.equal(Object.keys(o).at(-1), "extra");
  });

  test("unset optional fields keep VeighNa's defaults", () => {
    const o = new OrderData({ gateway_name: "G", symbol: "s", exchange: Exchange.SSE, orderid: "1", price: undefined as unknown as number }); // a JavaScript caller's explicit undefined
    assert.deepEqual([o.type, o.direction, o.offset, o.price, o.status, o.datetime, o.reference], [OrderType.LIMIT, null, Offset.NONE, 0, Status.SUBMITTING, null, ""]);
    assert.equal(new LogData({ gateway_name: "G", msg: "m" }).time.isAware, false, "log time is naive local time");
  });
});

describe("requests and helpers", () => {
  test("an order request becomes order data, and order data a cancel request", () => {
    const req = new OrderRequest({ symbol: "rb2505", exchange: Exchange.SHFE, direction: Direction.SHORT, type: OrderType.FAK, volume: 3, price: 3510, offset: Offset.CLOSETODAY, reference: "s1" });
    const data = req.createOrderData("42", "SIM");
    assert.deepEqual(
      [data.vt_orderid, data.direction, data.type, data.offset, data.price, data.volume, data.traded, data.status, data.reference],
      ["SIM.42", Direction.SHORT, OrderType.FAK, Offset.CLOSETODAY, 3510, 3, 0, Status.SUBMITTING, "s1"],
    );
    assert.equal(data.isActive(), true);
    data.status = Status.CANCELLED;
    assert.equal(data.isActive(), false);
    assert.deepEqual({ ...data.createCancelRequest() }, { orderid: "42", symbol: "rb2505", exchange: Exchange.SHFE, vt_symbol: "rb2505.SHFE" });
    const quote = new QuoteRequest({ symbol: "IO", exchange: Exchange.CFFEX, bid_price: 1, bid_volume: 2, ask_price: 3, ask_volume: 4 }).createQuoteData("q", "G");
    assert.deepEqual({ ...quote.createCancelRequest() }, { orderid: "q", symbol: "IO", exchange: Exchange.CFFEX, vt_symbol: "IO.CFFEX" });
  });

  test("requests print as Python's dataclass repr, as VeighNa logs them", () => {
    const req = new OrderRequest({ symbol: "rb2505", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 3500, offset: Offset.OPEN, reference: "it's" });
    assert.equal(
      String(req),
      "OrderRequest(symbol='rb2505', exchange=<Exchange.SHFE: 'SHFE'>, direction=<Direction.LONG: '多'>, type=<OrderType.LIMIT: '限价'>, volume=1, price=3500, offset=<Offset.OPEN: '开'>, reference='it\\'s')",
    );
    assert.equal(String(new CancelRequest({ orderid: "7", symbol: "a", exchange: Exchange.DCE })), "CancelRequest(orderid='7', symbol='a', exchange=<Exchange.DCE: 'DCE'>)");
    assert.equal(
      String(new HistoryRequest({ symbol: "a", exchange: Exchange.DCE, start: when, interval: Interval.MINUTE })),
      "HistoryRequest(symbol='a', exchange=<Exchange.DCE: 'DCE'>, start=datetime(2025-03-03T09:30:01.500000+08:00), end=None, interval=<Interval.MINUTE: '1m'>)",
    );
  });

  test("data objects know their Python class name; other values have none", () => {
    assert.equal(dataClassName(order()), "OrderData");
    assert.equal(dataClassName({ vt_orderid: "x" }), undefined);
    assert.equal(dataClassName(null), undefined);
  });

  test("enum values are looked up in either language", () => {
    assert.equal(enumMemberByValue("Status", "全部成交"), "ALLTRADED");
    assert.equal(enumMemberByValue("Status", "All Traded"), "ALLTRADED");
    assert.equal(enumMemberByValue("Exchange", "EUX"), "EUREX");
    assert.equal(englishValue("Direction", Direction.SHORT), "Short");
    assert.equal(englishValue("OrderType", OrderType.FAK), "FAK");
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CancelRequest, Direction, Exchange, Offset, OrderType, Status } from "../../src/kernel/index.js";
import type { OrderOutcome } from "../../src/sim/venue.js";
import { book, CAPITAL, openVenue, orderRequest, preClose, T0, type TestVenue } from "./helpers.js";

const RB = "rb2505.SHFE"; // size 10, margin 10%, fee 0.01% of turnover, SHFE close-today rules
const M = "m2505.DCE"; // size 10, margin 8%, fee 1.5 per lot
const STOCK = "600000.SSE"; // size 1, lots of 100, T+1
const IO = "IO2503-C-3900.CFFEX"; // size 100, premium paid in full
const { LONG, SHORT } = Direction;
const NEXT_DAY = T0 + 24 * 3_600_000;

const rbFee = (price: number, volume: number) => price * volume * 10 * 0.0001;

function near(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 0.011, `${message ?? ""} expected ${expected}, got ${actual}`);
}

/** Buys (or sells) `volume` against a book holding exactly that much at `price`. */
function trade(v: TestVenue, vt_symbol: string, direction: Direction, volume: number, price: number, offset: Offset): string {
  const level: [number, number][] = [[price, volume]];
  v.venue.injectBook(vt_symbol, direction === LONG ? book([], level) : book(level, []));
  const vt_orderid = v.venue.sendOrder(orderRequest(vt_symbol, direction, OrderType.LIMIT, volume, price, offset));
  return vt_orderid;
}

function cancel(v: TestVenue, vt_orderid: string, vt_symbol: string): void {
  const [symbol, exchange] = [vt_symbol.slice(0, vt_symbol.lastIndexOf(".")), vt_symbol.slice(vt_symbol.lastIndexOf(".") + 1)];
  v.venue.cancelOrder(new CancelRequest({ orderid: vt_orderid.split(".")[1]!, symbol, exchange: exchange as Exchange }));
}

function nextDay(v: TestVenue): void {
  v.clock.set(NEXT_DAY);
  v.venue.advance();
}

describe("positions and account", () => {
  test("an open sets the average price, holds margin, pays the fee and is marked to the last price", () => {
    const v = openVenue();
    const P = preClose(RB);
    v.venue.injectBook(RB, book([], [[P + 1, 5], [P + 2, 5]]));
    v.venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 6, P + 2));
    const average = (5 * (P + 1) + (P + 2)) / 6;
    const fee = rbFee(P + 1, 5) + rbFee(P + 2, 1);

    v.venue.injectBook(RB, book([], []), P + 11);
    const position = v.sink.lastPosition(RB, LONG);
    assert.deepEqual([position.volume, position.yd_volume, position.frozen], [6, 0, 0]);
    near(position.price, average);
    near(position.pnl, (P + 11 - average) * 6 * 10, "pnl");
    const account = v.sink.lastAccount();
    near(account.balance, CAPITAL - fee + (P + 11 - average) * 60, "balance");
    near(account.frozen, average * 60 * 0.1, "frozen = margin in use");
    near(account.available, account.balance - account.frozen);
    v.venue.close();
  });

  test("a pending open holds its margin until cancelled, then the account is whole again", () => {
    const v = openVenue();
    const P = preClose(RB);
    v.venue.injectBook(RB, book([[P - 1, 5]], [[P + 1, 5]]));
    const vt_orderid = v.venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 2, P - 5));
    near(v.sink.lastAccount().frozen, (P - 5) * 2 * 10 * 0.1);
    cancel(v, vt_orderid, RB);
    assert.equal(v.sink.lastAccount().frozen, 0);
    assert.equal(v.sink.lastAccount().balance, CAPITAL);
    v.venue.close();
  });

  test("SHFE: CLOSETODAY closes today's volume; CLOSE and CLOSEYESTERDAY need yesterday's", () => {
    const v = openVenue();
    const P = preClose(RB);
    trade(v, RB, LONG, 3, P + 1, Offset.OPEN);
    for (const offset of [Offset.CLOSE, Offset.CLOSEYESTERDAY]) {
      const rejected = v.venue.sendOrder(orderRequest(RB, SHORT, OrderType.LIMIT, 1, P + 6, offset));
      assert.equal(v.sink.lastOrder(rejected).status, Status.REJECTED);
      assert.match((v.sink.lastOrder(rejected).extra as unknown as OrderOutcome).reason, /takes yesterday's volume on SHFE/);
    }
    const closed = trade(v, RB, SHORT, 1, P + 6, Offset.CLOSETODAY);
    assert.equal(v.sink.lastOrder(closed).status, Status.ALLTRADED);
    v.venue.injectBook(RB, book([], []), P + 6);
    const position = v.sink.lastPosition(RB, LONG);
    assert.deepEqual([position.volume, position.yd_volume], [2, 0]);
    near(position.price, P + 1, "a close keeps the open price of what is left");
    const fees = rbFee(P + 1, 3) + rbFee(P + 6, 1);
    near(v.sink.lastAccount().balance, CAPITAL - fees + 5 * 10 /* realised */ + 5 * 2 * 10 /* floating */);
    v.venue.close();
  });

  test("a new trading day turns today's volume into yesterday's", () => {
    const v = openVenue();
    trade(v, RB, LONG, 2, preClose(RB) + 1, Offset.OPEN);
    nextDay(v);
    const rolled = v.sink.lastPosition(RB, LONG);
    assert.deepEqual([rolled.volume, rolled.yd_volume], [2, 2]);
    assert.ok(v.sink.logs.some((l) => l.msg === "new trading day 2025-03-04: today's positions became yesterday's"));
    const P2 = preClose(RB, NEXT_DAY);
    const today = v.venue.sendOrder(orderRequest(RB, SHORT, OrderType.LIMIT, 1, P2, Offset.CLOSETODAY));
    assert.equal(v.sink.lastOrder(today).status, Status.REJECTED);
    trade(v, RB, SHORT, 1, P2, Offset.CLOSE);
    const after = v.sink.lastPosition(RB, LONG);
    assert.deepEqual([after.volume, after.yd_volume], [1, 1]);
    v.venue.close();
  });

  test("DCE: a close takes yesterday's volume first, then today's; fees per lot", () => {
    const v = openVenue();
    const a = preClose(M) + 1;
    trade(v, M, LONG, 2, a, Offset.OPEN);
    nextDay(v);
    const b = preClose(M, NEXT_DAY) + 1;
    trade(v, M, LONG, 1, b, Offset.OPEN);
    assert.deepEqual([v.sink.lastPosition(M, LONG).volume, v.sink.lastPosition(M, LONG).yd_volume], [3, 2]);

    const c = b + 10;
    trade(v, M, SHORT, 2, c, Offset.CLOSE);
    assert.deepEqual([v.sink.lastPosition(M, LONG).volume, v.sink.lastPosition(M, LONG).yd_volume], [1, 0]);
    trade(v, M, SHORT, 1, c, Offset.CLOSE);
    const flat = v.sink.lastPosition(M, LONG);
    assert.deepEqual([flat.volume, flat.yd_volume, flat.price, flat.pnl], [0, 0, 0, 0]);

    const average = (2 * a + b) / 3;
    const fees = 6 * 1.5;
    const account = v.sink.lastAccount();
    near(account.balance, CAPITAL - fees + (c - average) * 3 * 10);
    assert.equal(account.frozen, 0);
    v.venue.close();
  });

  test("a pending close freezes position volume; a cancel releases it", () => {
    const v = openVenue();
    const P = preClose(RB);
    trade(v, RB, LONG, 3, P + 1, Offset.OPEN);
    v.venue.injectBook(RB, book([[P, 5]], [[P + 2, 5]]));
    const resting = v.venue.sendOrder(orderRequest(RB, SHORT, OrderType.LIMIT, 2, P + 20, Offset.CLOSETODAY));
    assert.equal(v.sink.lastPosition(RB, LONG).frozen, 2);
    const tooMuch = v.venue.sendOrder(orderRequest(RB, SHORT, OrderType.LIMIT, 2, P + 20, Offset.CLOSETODAY));
    assert.match((v.sink.lastOrder(tooMuch).extra as unknown as OrderOutcome).reason, /exceeds the closable 1/);
    cancel(v, resting, RB);
    assert.equal(v.sink.lastPosition(RB, LONG).frozen, 0);
    v.venue.close();
  });

  test("a short position gains when the price falls, and buying it back realises the gain", () => {
    const v = openVenue();
    const P = preClose(RB);
    trade(v, RB, SHORT, 1, P - 1, Offset.OPEN);
    v.venue.injectBook(RB, book([], []), P - 11);
    near(v.sink.lastPosition(RB, SHORT).pnl, 100);
    trade(v, RB, LONG, 1, P - 11, Offset.CLOSETODAY);
    const fees = rbFee(P - 1, 1) + rbFee(P - 11, 1);
    near(v.sink.lastAccount().balance, CAPITAL - fees + 100);
    assert.equal(v.sink.lastPosition(RB, SHORT).volume, 0);
    v.venue.close();
  });

  test("equities are T+1: shares bought today can be sold tomorrow", () => {
    const v = openVenue();
    const P = preClose(STOCK);
    trade(v, STOCK, LONG, 200, P, Offset.NONE);
    const sameDay = v.venue.sendOrder(orderRequest(STOCK, SHORT, OrderType.LIMIT, 100, P, Offset.NONE));
    assert.match((v.sink.lastOrder(sameDay).extra as unknown as OrderOutcome).reason, /\(T\+1\)/);
    nextDay(v);
    const sold = trade(v, STOCK, SHORT, 100, preClose(STOCK, NEXT_DAY), Offset.NONE);
    assert.equal(v.sink.lastOrder(sold).status, Status.ALLTRADED);
    assert.deepEqual([v.sink.lastPosition(STOCK, LONG).volume, v.sink.lastPosition(STOCK, LONG).yd_volume], [100, 100]);
    v.venue.close();
  });

  test("an option's premium is held in full", () => {
    const v = openVenue();
    const premium = preClose(IO);
    trade(v, IO, LONG, 2, premium, Offset.OPEN);
    near(v.sink.lastAccount().frozen, premium * 2 * 100);
    v.venue.close();
  });

  test("the funds check counts margin held by positions and by pending orders", () => {
    const v = openVenue({ capital: 50_000 });
    const P = preClose(RB);
    const perLot = (P + 1) * 10 * 0.1;
    const lots = Math.floor(40_000 / perLot);
    trade(v, RB, LONG, lots, P + 1, Offset.OPEN);
    v.venue.injectBook(RB, book([[P - 1, 5]], [[P + 1, 5]]));
    const pending = v.venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 1, P - 1));
    assert.equal(v.sink.lastOrder(pending).status, Status.NOTTRADED);
    const left = v.sink.lastAccount().available;
    const tooBig = Math.ceil(left / perLot) + 1;
    const rejected = v.venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, tooBig, P - 1));
    assert.equal((v.sink.lastOrder(rejected).extra as unknown as OrderOutcome).code, "INSUFFICIENT_FUNDS");
    v.venue.close();
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Direction, Offset, OrderType, Status, WARNING } from "../../src/kernel/index.js";
import type { OrderOutcome } from "../../src/sim/venue.js";
import { book, openVenue, orderRequest, preClose } from "./helpers.js";

const RB = "rb2505.SHFE";
const P = preClose(RB);
const { LONG, SHORT } = Direction;
const { SUBMITTING, NOTTRADED, PARTTRADED, ALLTRADED, CANCELLED, REJECTED } = Status;

/** Prices are offsets from the pre-close, so the table reads the same whatever the path's level is. */
interface MatchCase {
  readonly name: string;
  readonly bids: [number, number][];
  readonly asks: [number, number][];
  readonly direction: Direction;
  readonly type: OrderType;
  readonly volume: number;
  /** Offset from the pre-close; ignored for MARKET. */
  readonly price?: number;
  readonly statuses: Status[];
  readonly fills: [number, number][];
  readonly cancelledBy?: OrderOutcome["code"];
}

const ASKS: [number, number][] = [[1, 2], [2, 3], [3, 10]];
const BIDS: [number, number][] = [[0, 2], [-1, 5]];

const cases: MatchCase[] = [
  { name: "limit buy inside the best level fills at once", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.LIMIT, volume: 2, price: 1, statuses: [SUBMITTING, NOTTRADED, ALLTRADED], fills: [[1, 2]] },
  { name: "limit buy walks levels at each level's price", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.LIMIT, volume: 4, price: 2, statuses: [SUBMITTING, NOTTRADED, PARTTRADED, ALLTRADED], fills: [[1, 2], [2, 2]] },
  { name: "limit buy above the book fills at the book, not at its limit", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.LIMIT, volume: 1, price: 50, statuses: [SUBMITTING, NOTTRADED, ALLTRADED], fills: [[1, 1]] },
  { name: "limit buy larger than the levels within its price rests part-traded", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.LIMIT, volume: 10, price: 2, statuses: [SUBMITTING, NOTTRADED, PARTTRADED, PARTTRADED], fills: [[1, 2], [2, 3]] },
  { name: "limit buy below the ask rests untraded", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.LIMIT, volume: 5, price: -1, statuses: [SUBMITTING, NOTTRADED], fills: [] },
  { name: "limit sell walks the bids downward", bids: BIDS, asks: ASKS, direction: SHORT, type: OrderType.LIMIT, volume: 3, price: -1, statuses: [SUBMITTING, NOTTRADED, PARTTRADED, ALLTRADED], fills: [[0, 2], [-1, 1]] },
  { name: "market buy walks every level it needs", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.MARKET, volume: 4, statuses: [SUBMITTING, NOTTRADED, PARTTRADED, ALLTRADED], fills: [[1, 2], [2, 2]] },
  { name: "market buy larger than the book is cancelled for the rest", bids: BIDS, asks: [[1, 2], [2, 3]], direction: LONG, type: OrderType.MARKET, volume: 8, statuses: [SUBMITTING, NOTTRADED, PARTTRADED, PARTTRADED, CANCELLED], fills: [[1, 2], [2, 3]], cancelledBy: "NO_LIQUIDITY" },
  { name: "market sell into an empty bid side is cancelled untraded", bids: [], asks: ASKS, direction: SHORT, type: OrderType.MARKET, volume: 1, statuses: [SUBMITTING, NOTTRADED, CANCELLED], fills: [], cancelledBy: "NO_LIQUIDITY" },
  { name: "FAK fills what its price reaches and cancels the rest", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.FAK, volume: 10, price: 2, statuses: [SUBMITTING, NOTTRADED, PARTTRADED, PARTTRADED, CANCELLED], fills: [[1, 2], [2, 3]], cancelledBy: "NO_LIQUIDITY" },
  { name: "FAK that reaches nothing is cancelled untraded", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.FAK, volume: 1, price: 0, statuses: [SUBMITTING, NOTTRADED, CANCELLED], fills: [], cancelledBy: "NO_LIQUIDITY" },
  { name: "FOK with enough volume within its price fills completely", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.FOK, volume: 5, price: 2, statuses: [SUBMITTING, NOTTRADED, PARTTRADED, ALLTRADED], fills: [[1, 2], [2, 3]] },
  { name: "FOK short of volume by one lot trades nothing", bids: BIDS, asks: ASKS, direction: LONG, type: OrderType.FOK, volume: 6, price: 2, statuses: [SUBMITTING, NOTTRADED, CANCELLED], fills: [], cancelledBy: "NO_LIQUIDITY" },
];

describe("matching against the book", () => {
  for (const c of cases) {
    test(c.name, () => {
      const { venue, sink } = openVenue();
      venue.injectBook(RB, book(c.bids.map(([p, v]) => [P + p, v]), c.asks.map(([p, v]) => [P + p, v])));
      const price = c.type === OrderType.MARKET ? 0 : P + (c.price ?? 0);
      const vt_orderid = venue.sendOrder(orderRequest(RB, c.direction, c.type, c.volume, price));
      assert.deepEqual(sink.statuses(vt_orderid), c.statuses);
      assert.deepEqual(sink.tradesOf(vt_orderid), c.fills.map(([p, v]) => ({ price: P + p, volume: v })));
      const last = sink.lastOrder(vt_orderid);
      assert.equal(last.traded, c.fills.reduce((sum, [, v]) => sum + v, 0));
      if (c.cancelledBy) assert.equal((last.extra as unknown as OrderOutcome).code, c.cancelledBy);
      else assert.equal("extra" in last, false, "only rejected and venue-cancelled orders carry extra");
      venue.close();
    });
  }

  test("an order's fill is published as order, then trade, then position and account", () => {
    const { venue, sink } = openVenue();
    venue.injectBook(RB, book([], [[P + 1, 5]]));
    sink.clear();
    venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 1, P + 1));
    assert.deepEqual(sink.sequence, [`order:${SUBMITTING}`, `order:${NOTTRADED}`, `order:${ALLTRADED}`, "trade", "position", "account"]);
    venue.close();
  });

  test("liquidity taken by one order is gone for the next order in the same tick", () => {
    const { venue, sink } = openVenue();
    venue.injectBook(RB, book([], [[P + 1, 3], [P + 2, 10]]));
    const first = venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 2, P + 1));
    const second = venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 2, P + 2));
    assert.deepEqual(sink.tradesOf(first), [{ price: P + 1, volume: 2 }]);
    assert.deepEqual(sink.tradesOf(second), [{ price: P + 1, volume: 1 }, { price: P + 2, volume: 1 }]);
    venue.close();
  });

  test("a resting order fills at its own price when the market comes to it, best price and oldest first", () => {
    const { venue, sink } = openVenue();
    venue.injectBook(RB, book([[P - 5, 5]], [[P + 5, 5]]));
    const low = venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 2, P - 2));
    const highOld = venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 2, P));
    const highNew = venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 2, P));
    // The ask drops through both prices: 3 lots available at or below P.
    venue.injectBook(RB, book([], [[P - 3, 3], [P + 1, 10]]));
    assert.deepEqual(sink.tradesOf(highOld), [{ price: P, volume: 2 }]);
    assert.deepEqual(sink.tradesOf(highNew), [{ price: P, volume: 1 }]);
    assert.deepEqual(sink.tradesOf(low), [], "liquidity ran out before the lower bid");
    assert.equal(sink.lastOrder(highNew).status, PARTTRADED);
    assert.equal(sink.lastOrder(low).status, NOTTRADED);
    venue.close();
  });

  test("a cancel ends a resting order, and a second cancel is only logged", () => {
    const { venue, sink } = openVenue();
    venue.injectBook(RB, book([[P - 1, 5]], [[P + 1, 5]]));
    const vt_orderid = venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 3, P - 1 - 3));
    const orderid = vt_orderid.split(".")[1]!;
    const cancel = { orderid, symbol: "rb2505", exchange: "SHFE" } as Parameters<typeof venue.cancelOrder>[0];
    venue.cancelOrder(cancel);
    assert.deepEqual(sink.statuses(vt_orderid), [SUBMITTING, NOTTRADED, CANCELLED]);
    venue.cancelOrder(cancel);
    assert.deepEqual(sink.statuses(vt_orderid), [SUBMITTING, NOTTRADED, CANCELLED]);
    assert.match(sink.logs.at(-1)!.msg, new RegExp(`no order SIM\\.${orderid}`));
    assert.equal(sink.logs.at(-1)!.level, WARNING);
    venue.close();
  });

  test("a part-traded order, cancelled, keeps its fills and releases the margin of the rest", () => {
    const { venue, sink } = openVenue();
    venue.injectBook(RB, book([], [[P + 1, 2]]));
    const vt_orderid = venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 5, P + 1));
    const pendingMargin = (P + 1) * 3 * 10 * 0.1;
    const positionMargin = (P + 1) * 2 * 10 * 0.1;
    assert.ok(Math.abs(sink.lastAccount().frozen - (pendingMargin + positionMargin)) < 0.01);
    venue.cancelOrder({ orderid: vt_orderid.split(".")[1]!, symbol: "rb2505", exchange: "SHFE" } as Parameters<typeof venue.cancelOrder>[0]);
    assert.deepEqual(sink.statuses(vt_orderid), [SUBMITTING, NOTTRADED, PARTTRADED, CANCELLED]);
    assert.equal(sink.lastOrder(vt_orderid).traded, 2);
    assert.ok(Math.abs(sink.lastAccount().frozen - positionMargin) < 0.01);
    venue.close();
  });

  test("order ids contain no dot, so vt_orderid splits on its first dot", () => {
    const { venue } = openVenue();
    const ids = [1, 2, 3].map(() => venue.sendOrder(orderRequest(RB, LONG, OrderType.LIMIT, 1, P - 10)));
    for (const id of ids) {
      const [gateway, orderid, ...rest] = id.split(".");
      assert.equal(gateway, "SIM");
      assert.match(orderid!, /^\d+$/);
      assert.deepEqual(rest, []);
    }
    assert.equal(new Set(ids).size, 3);
    venue.close();
  });
});

interface RejectCase {
  readonly name: string;
  readonly code: OrderOutcome["code"];
  readonly vt_symbol?: string;
  readonly direction?: Direction;
  readonly type?: OrderType;
  readonly volume?: number;
  readonly price?: (pre: number) => number;
  readonly offset?: Offset;
  readonly capital?: number;
  readonly reason: RegExp;
}

const rejections: RejectCase[] = [
  { name: "unknown contract", code: "UNKNOWN_CONTRACT", vt_symbol: "xx9999.SHFE", reason: /unknown contract xx9999\.SHFE/ },
  { name: "STOP orders", code: "UNSUPPORTED_TYPE", type: OrderType.STOP, reason: /order type STOP is not supported/ },
  { name: "NET direction", code: "BAD_DIRECTION", direction: Direction.NET, reason: /direction NET is not supported/ },
  { name: "zero volume", code: "BAD_VOLUME", volume: 0, reason: /volume 0 must be a positive multiple of min_volume 1/ },
  { name: "negative volume", code: "BAD_VOLUME", volume: -2, reason: /volume -2 must be a positive multiple/ },
  { name: "NaN volume", code: "BAD_VOLUME", volume: Number.NaN, reason: /volume NaN must be a positive multiple/ },
  { name: "fractional lots", code: "BAD_VOLUME", volume: 1.5, reason: /volume 1\.5 must be a positive multiple of min_volume 1/ },
  { name: "shares not in board lots", code: "BAD_VOLUME", vt_symbol: "600000.SSE", volume: 150, price: (p) => p, reason: /min_volume 100/ },
  { name: "volume above max_volume", code: "BAD_VOLUME", volume: 501, reason: /volume 501 exceeds max_volume 500/ },
  { name: "price off the tick", code: "PRICE_OFF_TICK", price: (p) => p + 0.5, reason: /is not a multiple of pricetick 1/ },
  { name: "NaN price", code: "BAD_PRICE", price: () => Number.NaN, reason: /price NaN is not a finite number/ },
  { name: "price above limit up", code: "PRICE_OUTSIDE_LIMITS", price: (p) => Math.round(p * 1.2), reason: /outside today's limits/ },
  { name: "price below limit down", code: "PRICE_OUTSIDE_LIMITS", direction: SHORT, price: (p) => Math.round(p * 0.8), reason: /outside today's limits/ },
  { name: "short selling shares", code: "SHORT_SELLING", vt_symbol: "600000.SSE", direction: SHORT, volume: 100, price: (p) => p, reason: /short selling 600000\.SSE/ },
  { name: "closing more than held", code: "CLOSE_EXCEEDS_POSITION", direction: SHORT, offset: Offset.CLOSETODAY, reason: /closing 1 exceeds the closable 0 of the long position \(CLOSETODAY takes today's volume on SHFE\)/ },
  { name: "insufficient funds", code: "INSUFFICIENT_FUNDS", volume: 100, capital: 10_000, reason: /insufficient funds: needs \d+\.\d\d \(margin/ },
];

describe("rejections: each reason is on the order and in a warning naming it", () => {
  for (const r of rejections) {
    test(r.name, () => {
      const { venue, sink } = openVenue({ capital: r.capital ?? 1_000_000 });
      const vt_symbol = r.vt_symbol ?? RB;
      const pre = vt_symbol === "xx9999.SHFE" ? 100 : preClose(vt_symbol);
      const req = orderRequest(vt_symbol, r.direction ?? LONG, r.type ?? OrderType.LIMIT, r.volume ?? 1, r.price ? r.price(pre) : pre, r.offset ?? Offset.OPEN);
      const vt_orderid = venue.sendOrder(req);
      assert.match(vt_orderid, /^SIM\.\d+$/, "a rejected order still gets its vt_orderid");
      assert.deepEqual(sink.statuses(vt_orderid), [SUBMITTING, REJECTED]);
      const extra = sink.lastOrder(vt_orderid).extra as unknown as OrderOutcome;
      assert.equal(extra.code, r.code);
      assert.match(extra.reason, r.reason);
      const warning = sink.logs.find((l) => l.level === WARNING && l.msg.includes(vt_orderid));
      assert.ok(warning, "a WARNING log line names the order");
      assert.ok(warning.msg.includes(extra.reason));
      assert.deepEqual(sink.trades, []);
      venue.close();
    });
  }
});

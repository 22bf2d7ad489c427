/** OwnOrders: an order counts from acceptance to its end, once, whichever comes first, the answer or the event. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Direction, Event, EventEngine, EVENT_ORDER, OmsEngine, OrderType, Status, type OrderData, type OrderRequest } from "../../src/kernel/index.js";
import { OwnOrders } from "../../src/risk/index.js";
import { order } from "./helpers.js";

function setup() {
  const events = new EventEngine();
  const oms = new OmsEngine(events);
  const own = new OwnOrders(oms);
  /** What the engine sees of an event: the OMS first (registered first), then the book. */
  const report = (data: OrderData) => {
    events.put(new Event(EVENT_ORDER, data));
    events.flush();
    own.onOrder(data, 0);
  };
  const reported = (req: OrderRequest, id: number, status: Status) => {
    const data = req.createOrderData(String(id), "G");
    data.status = status;
    return data;
  };
  return { oms, own, report, reported };
}

const counts = (own: OwnOrders) => ({ active: own.activeCount, inFlight: own.inFlightCount, forSymbol: own.inFlightFor("rb2501.SHFE") });

test("answer first, then events: pending → awaiting its event → working → gone", () => {
  const { own, report, reported } = setup();
  const req = order();
  own.accept(req, 0);
  assert.deepEqual(counts(own), { active: 1, inFlight: 1, forSymbol: 1 });
  own.settle(req, "G.1", 0);
  assert.deepEqual(counts(own), { active: 1, inFlight: 1, forSymbol: 1 });
  report(reported(req, 1, Status.NOTTRADED));
  assert.deepEqual(counts(own), { active: 1, inFlight: 0, forSymbol: 0 });
  assert.deepEqual(own.ids(), ["G.1"]);
  report(reported(req, 1, Status.ALLTRADED));
  assert.deepEqual(counts(own), { active: 0, inFlight: 0, forSymbol: 0 });
});

test("event first, then the answer: counted once", () => {
  const { own, report, reported } = setup();
  const req = order();
  own.accept(req, 0);
  report(reported(req, 1, Status.NOTTRADED));
  assert.equal(own.activeCount, 2, "until the answer, the book cannot tell that the event is this request's");
  own.settle(req, "G.1", 0);
  assert.deepEqual(counts(own), { active: 1, inFlight: 0, forSymbol: 0 });
});

test("an order rejected before its answer arrives leaves nothing behind", () => {
  const { own, report, reported } = setup();
  const req = order();
  own.accept(req, 0);
  report(reported(req, 1, Status.REJECTED));
  own.settle(req, "G.1", 0);
  assert.deepEqual(counts(own), { active: 0, inFlight: 0, forSymbol: 0 });
});

test("an order that did not go out ('') stops counting at once", () => {
  const { own } = setup();
  const req = order();
  own.accept(req, 0);
  own.settle(req, "", 0);
  assert.deepEqual(counts(own), { active: 0, inFlight: 0, forSymbol: 0 });
});

test("stale pending and unreported orders are pruned after the timeout", () => {
  const { own } = setup();
  const never = order({ price: 3400 });
  const unreported = order({ price: 3401 });
  own.accept(never, 0);
  own.accept(unreported, 0);
  own.settle(unreported, "G.9", 10);
  assert.equal(own.prune(1_000, 1_000), 0);
  assert.equal(own.prune(1_001, 1_000), 1);
  assert.equal(own.prune(1_011, 1_000), 1);
  assert.deepEqual(counts(own), { active: 0, inFlight: 0, forSymbol: 0 });
});

test("best own bid and ask cover working and pending orders; market orders cross everything", () => {
  const { own, report, reported } = setup();
  assert.equal(own.bestBid("rb2501.SHFE"), Number.NEGATIVE_INFINITY);
  assert.equal(own.bestAsk("rb2501.SHFE"), Number.POSITIVE_INFINITY);
  const working = order({ price: 3490 });
  own.accept(working, 0);
  own.settle(working, "G.1", 0);
  report(reported(working, 1, Status.NOTTRADED));
  own.accept(order({ price: 3495 }), 0);
  own.accept(order({ direction: Direction.SHORT, price: 3510 }), 0);
  own.accept(order({ direction: Direction.SHORT, price: 3505 }), 0);
  assert.equal(own.bestBid("rb2501.SHFE"), 3495);
  assert.equal(own.bestAsk("rb2501.SHFE"), 3505);
  assert.equal(own.bestBid("rb2505.SHFE"), Number.NEGATIVE_INFINITY);
  own.accept(order({ direction: Direction.SHORT, type: OrderType.MARKET, price: 0 }), 0);
  assert.equal(own.bestAsk("rb2501.SHFE"), Number.NEGATIVE_INFINITY);
});

test("orders already active in the OMS when the book is created count", () => {
  const events = new EventEngine();
  const oms = new OmsEngine(events);
  const data = order().createOrderData("1", "G");
  data.status = Status.PARTTRADED;
  events.put(new Event(EVENT_ORDER, data));
  events.flush();
  const own = new OwnOrders(oms);
  assert.equal(own.activeCount, 1);
  assert.equal(own.bestBid("rb2501.SHFE"), 3500);
});

/**
 * End to end through MainEngine with the simulated exchange (SimGateway): orders blocked and allowed, and the
 * risk counters following the venue's own order, cancel, fill and position events.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import {
  Direction,
  EVENT_LOG,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Status,
  SubscribeRequest,
  type LogData,
} from "../../src/kernel/index.js";
import { riskManagerApp } from "../../src/risk/index.js";
import { ManualClock, SimGateway } from "../../src/sim/index.js";
import { tempHome } from "./helpers.js";

test("SimGateway end to end: rules block before the venue, counters follow the venue's events", async () => {
  const home = tempHome();
  const clock = new ManualClock(Date.parse("2025-01-06T10:00:00+08:00"));
  const mainEngine = new MainEngine({ home });
  const blocked: string[] = [];
  mainEngine.eventEngine.register(EVENT_LOG, (event) => {
    const log = event.data as LogData;
    if (log.gateway_name === "RiskManager" && log.level === 40) blocked.push(log.msg);
  });
  try {
    const sim = mainEngine.addGateway(SimGateway);
    sim.useClock(clock);
    const risk = mainEngine.addApp(riskManagerApp({ now: () => clock.now(), rulesFolder: null }));
    await mainEngine.connect({ data_dir: ":memory:" }, "SIM");
    mainEngine.eventEngine.flush();

    const contract = mainEngine.getAllContracts().find((c) => c.symbol.startsWith("rb"));
    assert.ok(contract, "the built-in universe has rebar");
    const { symbol, exchange, vt_symbol } = contract;
    await mainEngine.subscribe(new SubscribeRequest({ symbol, exchange }), "SIM");
    mainEngine.eventEngine.flush();
    const P = mainEngine.getTick(vt_symbol)!.last_price;
    sim.injectBook(vt_symbol, { bids: [{ price: P - 1, volume: 100 }], asks: [{ price: P + 1, volume: 100 }] });
    mainEngine.eventEngine.flush();

    const send = async (direction: Direction, price: number, offset = Offset.OPEN, volume = 1): Promise<string> => {
      const req = new OrderRequest({ symbol, exchange, direction, type: OrderType.LIMIT, volume, price, offset });
      const id = await mainEngine.sendOrder(req, "SIM", { kind: "rpc", clientId: "zmq:1" });
      mainEngine.eventEngine.flush();
      return id;
    };
    const daily = () => risk.getRule("daily_limit").variables;

    const restingBuy = await send(Direction.LONG, P - 5);
    assert.equal(mainEngine.getOrder(restingBuy)!.status, Status.NOTTRADED);
    assert.equal(risk.getRule("active_order").variables["active_order_count"], 1);

    assert.equal(await send(Direction.SHORT, P - 5), "", "would trade with our own bid");
    assert.match(blocked.at(-1)!, /^Order blocked: sell price \d+ is at or below our own resting bid \d+, a possible self-trade/);

    assert.equal(await send(Direction.LONG, P - 5, Offset.OPEN, 100), "");
    assert.match(blocked.at(-1)!, /^Order blocked: order value \d+ exceeds the limit 1000000/);

    const restingSell = await send(Direction.SHORT, P + 5);
    assert.notEqual(restingSell, "");
    await mainEngine.cancelOrder(mainEngine.getOrder(restingSell)!.createCancelRequest(), "SIM");
    mainEngine.eventEngine.flush();
    assert.equal(mainEngine.getOrder(restingSell)!.status, Status.CANCELLED);
    assert.equal(daily()["total_cancel_count"], 1);
    assert.deepEqual(daily()["contract_cancel_count"], { [vt_symbol]: 1 });
    assert.equal(risk.getRule("active_order").variables["active_order_count"], 1);

    risk.updateRule("daily_limit", { contract_trade_limit: 1 });
    const filled = await send(Direction.LONG, P + 1);
    assert.equal(mainEngine.getOrder(filled)!.status, Status.ALLTRADED, "crossed the injected ask");
    assert.equal(daily()["total_trade_count"], 1);
    assert.equal(await send(Direction.LONG, P - 6), "");
    assert.match(blocked.at(-1)!, /contract trade count 1 reached the limit 1/);
    risk.updateRule("daily_limit", { contract_trade_limit: 1_000 });

    // Reduce-only with the venue's positions: the long lot may be closed once; the second close finds it frozen.
    risk.setTradingState("REDUCING");
    assert.equal(await send(Direction.LONG, P - 6), "");
    assert.match(blocked.at(-1)!, /reduce-only: volume 1 exceeds the closable position 0/);
    assert.notEqual(await send(Direction.SHORT, P + 5, Offset.CLOSETODAY), "");
    assert.equal(await send(Direction.SHORT, P + 6, Offset.CLOSETODAY), "");
    assert.match(blocked.at(-1)!, /reduce-only: volume 1 exceeds the closable position 0/);

    const sent = mainEngine.getAllOrders();
    assert.equal(sent.length, 4, "blocked orders never reached the venue");
    assert.equal(daily()["total_order_count"], 4);
    assert.deepEqual(daily()["contract_order_count"], { [vt_symbol]: 4 });
    assert.equal(risk.ownOrders.inFlightCount, 0);
    assert.equal(risk.ownOrders.activeCount, mainEngine.getAllActiveOrders().length);
  } finally {
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  AccountData,
  Direction,
  ERROR,
  EVENT_ACCOUNT,
  EVENT_LOG,
  EVENT_ORDER,
  EVENT_POSITION,
  EVENT_TICK,
  EVENT_TIMER,
  EVENT_TRADE,
  Event,
  EventEngine,
  Exchange,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Status,
  SubscribeRequest,
  WARNING,
  type LogData,
  type OrderData,
  type PositionData,
  type TickData,
  type TradeData,
} from "../../src/kernel/index.js";
import { SimError } from "../../src/sim/errors.js";
import { SimGateway } from "../../src/sim/gateway.js";
import { parseSimSetting } from "../../src/sim/settings.js";
import { ManualClock } from "../../src/sim/time.js";
import { T0, tempDir } from "./helpers.js";

/** Waits for the first event of `type` that satisfies `accept`; fails after `ms`. */
function nextEvent<T>(mainEngine: MainEngine, type: string, accept: (data: T) => boolean = () => true, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      mainEngine.eventEngine.unregister(type, handler);
      reject(new Error(`no ${type} event within ${ms} ms`));
    }, ms);
    const handler = (event: Event) => {
      const data = event.data as T;
      if (!accept(data)) return;
      clearTimeout(timer);
      mainEngine.eventEngine.unregister(type, handler);
      resolve(data);
    };
    mainEngine.eventEngine.register(type, handler);
  });
}

describe("SimGateway through MainEngine", () => {
  test("a strategy subscribes, takes the offer, sees the fill, its position and account, then rests and cancels an order", async () => {
    const dir = tempDir("e2e");
    const mainEngine = new MainEngine({ home: dir.path });
    mainEngine.addGateway(SimGateway);
    try {
      await mainEngine.connect({ data_dir: join(dir.path, "sim"), ticks_per_second: 20 }, "SIM");
      const firstAccount = await nextEvent<AccountData>(mainEngine, EVENT_ACCOUNT);
      assert.equal(firstAccount.balance, 1_000_000);
      const rb = mainEngine.getAllContracts().find((c) => /^rb\d+$/.test(c.symbol))!;
      assert.ok(rb, "the built-in universe has rebar");

      // Market data: ticks keep coming on the timer.
      const ticks: TickData[] = [];
      mainEngine.eventEngine.register(EVENT_TICK + rb.vt_symbol, (event) => ticks.push(event.data as TickData));
      await mainEngine.subscribe(new SubscribeRequest({ symbol: rb.symbol, exchange: rb.exchange }), "SIM");
      await nextEvent<TickData>(mainEngine, EVENT_TICK, () => ticks.length >= 3);
      const tick = ticks.at(-1)!;
      assert.equal(mainEngine.getTick(rb.vt_symbol), tick);

      // A crossing limit order: fills at once against the book.
      const buy = new OrderRequest({
        symbol: rb.symbol,
        exchange: rb.exchange,
        direction: Direction.LONG,
        type: OrderType.LIMIT,
        volume: 1,
        price: Math.min(tick.ask_price_1 + 5 * rb.pricetick, tick.limit_up),
        offset: Offset.OPEN,
      });
      const statuses: Status[] = [];
      mainEngine.eventEngine.register(EVENT_ORDER, (event) => statuses.push(event.data.status));
      const traded = nextEvent<TradeData>(mainEngine, EVENT_TRADE);
      const position = nextEvent<PositionData>(mainEngine, EVENT_POSITION, (p) => p.vt_symbol === rb.vt_symbol && p.volume === 1);
      const account = nextEvent<AccountData>(mainEngine, EVENT_ACCOUNT, (a) => a.frozen > 0);
      const vt_orderid = await mainEngine.sendOrder(buy, "SIM");
      assert.match(vt_orderid, /^SIM\.\d+$/);
      const trade = await traded;
      assert.equal(trade.vt_orderid, vt_orderid);
      assert.ok(trade.price <= buy.price);
      assert.deepEqual(statuses, [Status.SUBMITTING, Status.NOTTRADED, Status.ALLTRADED]);
      assert.equal((await position).price, trade.price);
      const after = await account;
      assert.ok(Math.abs(after.frozen - trade.price * rb.size * 0.1) < 0.01, "rebar margin is 10% of notional");
      assert.equal(after.available, after.balance - after.frozen);
      assert.equal(mainEngine.getOrder(vt_orderid)!.status, Status.ALLTRADED);

      // A resting order, then its cancel.
      const rest = new OrderRequest({ ...buy, price: Math.max(tick.bid_price_1 - 50 * rb.pricetick, tick.limit_down) });
      const resting = await mainEngine.sendOrder(rest, "SIM");
      await nextEvent<OrderData>(mainEngine, EVENT_ORDER, (o) => o.vt_orderid === resting && o.status === Status.NOTTRADED);
      assert.deepEqual(mainEngine.getAllActiveOrders().map((o) => o.vt_orderid), [resting]);
      const cancelled = nextEvent<OrderData>(mainEngine, EVENT_ORDER + resting, (o) => o.status === Status.CANCELLED);
      await mainEngine.cancelOrder(mainEngine.getOrder(resting)!.createCancelRequest(), "SIM");
      await cancelled;
      assert.deepEqual(mainEngine.getAllActiveOrders(), []);
      assert.equal(mainEngine.getPosition(`SIM.${rb.vt_symbol}.${Direction.LONG}`)!.volume, 1);
    } finally {
      await mainEngine.close();
      dir.remove();
    }
  });

  test("a strategy that trades from its tick handler (run while SIM hands the tick over) gets every order filled, in order", async () => {
    const dir = tempDir("reentry");
    const mainEngine = new MainEngine({ home: dir.path });
    mainEngine.addGateway(SimGateway);
    const problems: string[] = [];
    mainEngine.eventEngine.register(EVENT_LOG, (event) => {
      if (event.data.level >= ERROR) problems.push(event.data.msg);
    });
    try {
      await mainEngine.connect({ data_dir: join(dir.path, "sim"), ticks_per_second: 20 }, "SIM");
      await nextEvent<AccountData>(mainEngine, EVENT_ACCOUNT);
      const rb = mainEngine.getAllContracts().find((c) => /^rb\d+$/.test(c.symbol))!;
      const sent: Promise<string>[] = [];
      const trades: TradeData[] = [];
      mainEngine.eventEngine.register(EVENT_TRADE, (event) => trades.push(event.data));
      // Ticks are delivered (EventEngine.deliver): this handler runs inside SIM's feed, and its sendOrder goes back
      // into SIM there, synchronously, crossing the book each time.
      mainEngine.eventEngine.register(EVENT_TICK + rb.vt_symbol, (event) => {
        const tick = event.data as TickData;
        if (sent.length === 3) return;
        const price = Math.min(tick.ask_price_1 + 5 * rb.pricetick, tick.limit_up);
        sent.push(mainEngine.sendOrder(new OrderRequest({ symbol: rb.symbol, exchange: rb.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price, offset: Offset.OPEN }), "SIM"));
      });
      await mainEngine.subscribe(new SubscribeRequest({ symbol: rb.symbol, exchange: rb.exchange }), "SIM");
      await nextEvent<PositionData>(mainEngine, EVENT_POSITION, (p) => p.vt_symbol === rb.vt_symbol && p.volume === 3, 10_000);
      const ids = await Promise.all(sent);
      assert.deepEqual(ids, ["SIM.1", "SIM.2", "SIM.3"]);
      assert.deepEqual(trades.map((t) => t.vt_orderid), ids, "one fill each, in the order sent");
      for (const id of ids) assert.equal(mainEngine.getOrder(id)!.status, Status.ALLTRADED);
      assert.deepEqual(problems, []);
    } finally {
      await mainEngine.close();
      dir.remove();
    }
  });

  test("the timer refreshes the account and held positions on every eTimer", () => {
    const dir = tempDir("timer");
    const eventEngine = new EventEngine();
    const gateway = new SimGateway(eventEngine, "SIM");
    gateway.useClock(new ManualClock(T0));
    gateway.connect({ data_dir: dir.path });
    const accounts: AccountData[] = [];
    eventEngine.register(EVENT_ACCOUNT, (event) => accounts.push(event.data));
    eventEngine.flush();
    accounts.length = 0;
    eventEngine.put(new Event(EVENT_TIMER));
    eventEngine.flush(); // also runs what the timer handler queues
    assert.equal(accounts.length, 1);
    gateway.close();
    eventEngine.put(new Event(EVENT_TIMER));
    eventEngine.flush();
    assert.equal(accounts.length, 1, "a closed gateway no longer listens to the timer");
    dir.remove();
  });

  test("bad settings are refused with a typed error and an ERROR log; unknown keys too", () => {
    const eventEngine = new EventEngine();
    const logs: LogData[] = [];
    eventEngine.register(EVENT_LOG, (event) => logs.push(event.data));
    const gateway = new SimGateway(eventEngine, "SIM");
    for (const [setting, message] of [
      [{ ticks_per_second: 0 }, /"ticks_per_second" must be between 0\.1 and 10000, got 0/],
      [{ seed: 1.5 }, /"seed" must be an integer/],
      [{ capital: "lots" }, /"capital" must be a positive number, got "lots"/],
      [{ data_dir: "" }, /"data_dir" must name a folder/],
      [{ tick_rate: 5 }, /"tick_rate" is unknown; known settings: data_dir, contracts_file, ticks_per_second/],
    ] as const) {
      assert.throws(() => gateway.connect(setting), (error: unknown) => error instanceof SimError && error.code === "ERR_SIM_SETTING" && message.test(error.message));
    }
    eventEngine.flush();
    assert.equal(logs.length, 5);
    assert.ok(logs.every((log) => log.level === ERROR && log.gateway_name === "SIM"));
    assert.equal(gateway.connected, false);
  });

  test("settings typed into a UI as text are accepted", () => {
    const settings = parseSimSetting({ ticks_per_second: "250", seed: "42", capital: "5e5", fsync: "true" });
    assert.deepEqual([settings.ticks_per_second, settings.seed, settings.capital, settings.fsync], [250, 42, 500_000, true]);
    assert.equal(settings.data_dir, ".rpcservice/sim");
  });

  test("before connect, requests are answered with a warning and an empty id", () => {
    const eventEngine = new EventEngine();
    const logs: LogData[] = [];
    eventEngine.register(EVENT_LOG, (event) => logs.push(event.data));
    const gateway = new SimGateway(eventEngine, "SIM");
    const id = gateway.sendOrder(new OrderRequest({ symbol: "rb2505", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 1 }));
    assert.equal(id, "");
    eventEngine.flush();
    assert.equal(logs[0]!.level, WARNING);
    assert.match(logs[0]!.msg, /sendOrder ignored: the SIM gateway is not connected/);
  });

  test("the class describes itself to MainEngine as VeighNa gateways do", () => {
    assert.equal(SimGateway.defaultName, "SIM");
    assert.deepEqual(Object.keys(SimGateway.defaultSetting), ["data_dir", "contracts_file", "ticks_per_second", "seed", "capital", "accountid", "fsync"]);
    const mainEngine = new MainEngine({ home: "unused" });
    mainEngine.addGateway(SimGateway);
    assert.deepEqual(mainEngine.getAllGatewayNames(), ["SIM"]);
    assert.deepEqual(mainEngine.getDefaultSetting("SIM"), { ...SimGateway.defaultSetting });
    assert.ok(mainEngine.getAllExchanges().includes(Exchange.SHFE));
    void mainEngine.close();
  });

  test("a clock can be swapped in only before connect", () => {
    const dir = tempDir("clock");
    const gateway = new SimGateway(new EventEngine(), "SIM");
    gateway.connect({ data_dir: dir.path });
    assert.throws(() => gateway.useClock(new ManualClock(T0)), (error: unknown) => error instanceof SimError && error.code === "ERR_SIM_SETTING");
    gateway.close();
    dir.remove();
  });
});

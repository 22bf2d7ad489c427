import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BaseGateway,
  EVENT_TICK,
  EVENT_TIMER,
  Event,
  EventEngine,
  Exchange,
  TickData,
  CHINA_TZ,
  DateTime,
  type EventHandler,
} from "../../src/kernel/index.js";

/** A gateway whose requests do nothing: these tests only use its push helpers. */
class PushOnlyGateway extends BaseGateway {
  connect(): void {}
  close(): void {}
  subscribe(): void {}
  sendOrder(): string {
    return "";
  }
  cancelOrder(): void {}
  queryAccount(): void {}
  queryPosition(): void {}
}

function recorder(log: string[], name: string): EventHandler {
  return (event) => log.push(`${name}:${event.type}`);
}

describe("EventEngine", () => {
  test("a type's handlers run in registration order, then the general handlers", () => {
    const engine = new EventEngine();
    const log: string[] = [];
    engine.registerGeneral(recorder(log, "general"));
    engine.register("a", recorder(log, "a1"));
    engine.register("a", recorder(log, "a2"));
    engine.register("b", recorder(log, "b1"));
    engine.put(new Event("a"));
    engine.put(new Event("b"));
    engine.put(new Event("c"));
    engine.flush();
    assert.deepEqual(log, ["a1:a", "a2:a", "general:a", "b1:b", "general:b", "general:c"]);
  });

  test("a gateway puts the generic event before the specific one", () => {
    const engine = new EventEngine();
    const types: string[] = [];
    engine.registerGeneral((event) => types.push(event.type));
    const gateway = new PushOnlyGateway(engine, "G");
    const tick = new TickData({ gateway_name: "G", symbol: "rb2505", exchange: Exchange.SHFE, datetime: new DateTime({ year: 2025, month: 3, day: 3 }, CHINA_TZ) });
    gateway.onTick(tick);
    gateway.writeLog("hello");
    engine.flush();
    assert.deepEqual(types, [EVENT_TICK, `${EVENT_TICK}rb2505.SHFE`, "eLog"]);
  });

  test("every tick's specific event names its own symbol, for as many symbols as a whole exchange lists", () => {
    const engine = new EventEngine();
    const wrong: string[] = [];
    let specific = 0;
    engine.registerGeneral((event) => {
      if (event.type === EVENT_TICK) return;
      specific++;
      const tick = event.data as TickData;
      if (event.type !== `${EVENT_TICK}${tick.vt_symbol}`) wrong.push(`${event.type} for ${tick.vt_symbol}`);
    });
    const gateway = new PushOnlyGateway(engine, "G");
    const datetime = new DateTime({ year: 2025, month: 3, day: 3 }, CHINA_TZ);
    // Past the 20,000 twin types kept, and the first symbols again after the table started afresh.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20_050; i++) gateway.onTick(new TickData({ gateway_name: "G", symbol: `s${i}`, exchange: Exchange.SHFE, datetime }));
      engine.flush();
    }
    assert.equal(specific, 40_100);
    assert.deepEqual(wrong, []);
  });

  test("registering twice has no effect, and unregistering removes the handler", () => {
    const engine = new EventEngine();
    const log: string[] = [];
    const handler = recorder(log, "h");
    const general = recorder(log, "g");
    engine.register("a", handler);
    engine.register("a", handler);
    engine.registerGeneral(general);
    engine.registerGeneral(general);
    engine.put(new Event("a"));
    engine.flush();
    assert.deepEqual(log, ["h:a", "g:a"]);
    engine.unregister("a", handler);
    engine.unregisterGeneral(general);
    engine.put(new Event("a"));
    engine.flush();
    assert.deepEqual(log, ["h:a", "g:a"]);
  });

  test("a throwing handler is reported and the engine goes on with the next handler and event", () => {
    const engine = new EventEngine();
    const log: string[] = [];
    const failures: string[] = [];
    engine.onHandlerError((error, event) => failures.push(`${event.type}:${(error as Error).message}`));
    engine.register("a", () => {
      throw new Error("boom");
    });
    engine.register("a", recorder(log, "after"));
    engine.register("b", recorder(log, "b"));
    engine.put(new Event("a"));
    engine.put(new Event("b"));
    engine.flush();
    assert.deepEqual(failures, ["a:boom"]);
    assert.deepEqual(log, ["after:a", "b:b"]);
  });

  test("a throwing error listener does not stop the engine either", () => {
    const engine = new EventEngine();
    const log: string[] = [];
    engine.onHandlerError(() => {
      throw new Error("listener broke");
    });
    engine.register("a", () => {
      throw new Error("boom");
    });
    engine.register("b", recorder(log, "b"));
    engine.put(new Event("a"));
    engine.put(new Event("b"));
    engine.flush();
    assert.deepEqual(log, ["b:b"]);
  });

  test("events put by a handler are processed after the ones already queued", () => {
    const engine = new EventEngine();
    const log: string[] = [];
    engine.register("first", (event) => {
      log.push(event.type);
      engine.put(new Event("third"));
    });
    engine.registerGeneral((event) => {
      if (event.type !== "first") log.push(event.type);
    });
    engine.put(new Event("first"));
    engine.put(new Event("second"));
    engine.flush();
    assert.deepEqual(log, ["first", "second", "third"]);
    assert.equal(engine.processed, 3);
    assert.equal(engine.pending, 0);
  });

  /** Busy for `ms`: a handler slow enough that 256 of them overrun the 20 ms turn budget on any machine. */
  const spin = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  const nextTurns = async (turns: number, until: () => boolean) => {
    for (let i = 0; i < turns && !until(); i++) await new Promise((resolve) => setImmediate(resolve));
  };
  /** An engine whose "x" handler is slow (0.1 ms), and how many "x" it has handled. */
  const slowEngine = () => {
    const engine = new EventEngine();
    const handled = { count: 0 };
    engine.register("x", () => {
      handled.count++;
      spin(0.1);
    });
    return { engine, handled };
  };

  test("a queued batch of slow handlers stops at the turn's time budget (looked at every 256 events); the rest waits for the next turn", async () => {
    const { engine, handled } = slowEngine();
    engine.start();
    for (let i = 0; i < 1000; i++) engine.put(new Event("x"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(handled.count, 255, "the first look at the clock, after 255 events (25 ms), ends the turn");
    await nextTurns(20, () => handled.count === 1000);
    assert.equal(handled.count, 1000);
    engine.stop();
  });

  test("a deliver whose handlers put a flood of slow events still yields to I/O, though its short drain reads no clock at first", async () => {
    const { engine, handled } = slowEngine();
    engine.register("start", () => {
      for (let i = 0; i < 1000; i++) engine.put(new Event("x"));
    });
    engine.start();
    engine.flush();
    engine.deliver(() => engine.put(new Event("start")));
    assert.ok(handled.count > 0 && handled.count < 1000, `the deliver's drain ended at the budget, not at the end of the flood (processed ${handled.count})`);
    await nextTurns(20, () => handled.count === 1000);
    assert.equal(handled.count, 1000);
    engine.stop();
  });

  test("a started engine processes on its own, in batches that yield to I/O", async () => {
    const engine = new EventEngine({ batchSize: 100 });
    let count = 0;
    engine.register("x", () => count++);
    engine.start();
    for (let i = 0; i < 1000; i++) engine.put(new Event("x"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(count > 0 && count < 1000, `a turn processes one batch, not everything (processed ${count})`);
    for (let i = 0; i < 50 && count < 1000; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(count, 1000);
    engine.stop();
  });

  test("a put is handled after the caller's promise chain: a handler registered after `await` still sees the event", async () => {
    // What `const id = await gateway.sendOrder(req); register("eOrder." + id, …)` relies on, locally (SIM fills
    // inside sendOrder and puts the order's events before it returns).
    const engine = new EventEngine();
    engine.start();
    const seen: string[] = [];
    const sendOrder = async (): Promise<string> => {
      engine.put(new Event("eOrder.SIM.1"));
      return "SIM.1";
    };
    const id = await sendOrder();
    await Promise.resolve(); // a few more links of the caller's chain
    engine.register(`eOrder.${id}`, (event) => seen.push(event.type));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["eOrder.SIM.1"]);
    engine.stop();
  });

  test("deliver handles what its source put before the caller goes on, in order, never inside the source", () => {
    const engine = new EventEngine();
    engine.start();
    const log: string[] = [];
    engine.register("tick", (event) => log.push(`handled ${(event.data as number).toString()}`));
    for (let read = 1; read <= 2; read++) {
      engine.deliver(() => {
        engine.put(new Event("tick", read));
        log.push(`put ${read}`); // the handler has not run inside the source
      });
      log.push(`decoding the next after ${read}`);
    }
    assert.deepEqual(log, ["put 1", "handled 1", "decoding the next after 1", "put 2", "handled 2", "decoding the next after 2"]);
    assert.equal(engine.pending, 0);
    engine.stop();
  });

  test("deliver waits like put when events already wait: a sendOrder's events are not handled under its caller", async () => {
    const engine = new EventEngine();
    engine.start();
    const log: string[] = [];
    engine.registerGeneral((event) => log.push(event.type));
    // A local venue fills inside sendOrder: the order's events, then the tick its trade printed.
    const sendOrder = async (): Promise<string> => {
      engine.put(new Event("eOrder.SIM.1"));
      engine.deliver(() => engine.put(new Event("eTick.")));
      return "SIM.1";
    };
    const id = await sendOrder();
    assert.equal(log.length, 0, "nothing handled before the caller went on");
    engine.register(`eOrder.${id}`, () => log.push("the caller's handler"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ["the caller's handler", "eOrder.SIM.1", "eTick."]); // a type's handlers, then general ones
    engine.stop();
  });

  test("deliver inside a handler (or another deliver) only queues: one handler at a time, in order", () => {
    const engine = new EventEngine();
    engine.start();
    const log: string[] = [];
    engine.register("outer", () => {
      engine.deliver(() => engine.put(new Event("inner")));
      log.push("outer done");
    });
    engine.register("inner", () => log.push("inner"));
    engine.register("next", () => log.push("next"));
    engine.deliver(() => {
      engine.put(new Event("outer"));
      engine.deliver(() => engine.put(new Event("next")));
      assert.equal(engine.processed, 0, "nested: nothing handled yet");
    });
    assert.deepEqual(log, ["outer done", "next", "inner"]);
    engine.stop();
  });

  test("deliver still handles what was put when its source throws, and on a stopped engine only queues", () => {
    const engine = new EventEngine();
    let count = 0;
    engine.register("x", () => count++);
    engine.deliver(() => engine.put(new Event("x")));
    assert.equal(count, 0, "not started: it waits, as put does");
    engine.start();
    engine.flush();
    assert.equal(count, 1);
    assert.throws(() =>
      engine.deliver(() => {
        engine.put(new Event("x"));
        throw new Error("undecodable");
      }),
    );
    assert.equal(count, 2);
    engine.stop();
  });

  test("stop processes what is queued, and a stopped engine waits for flush", () => {
    const engine = new EventEngine();
    let count = 0;
    engine.register("x", () => count++);
    engine.start();
    engine.put(new Event("x"));
    engine.put(new Event("x"));
    engine.stop();
    assert.equal(count, 2);
    engine.put(new Event("x"));
    assert.equal(engine.pending, 1);
    engine.flush();
    assert.equal(count, 3);
  });

  test("the timer puts eTimer events every interval while started", async () => {
    const engine = new EventEngine({ interval: 0.02 });
    let timers = 0;
    engine.register(EVENT_TIMER, (event) => {
      assert.equal(event.data, null);
      timers++;
    });
    engine.start();
    for (let i = 0; i < 200 && timers < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    engine.stop();
    assert.ok(timers >= 3, `got ${timers} timer events`);
    const stoppedAt = timers;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(timers, stoppedAt, "no timer events after stop");
  });

  test("an interval that is not positive is refused", () => {
    assert.throws(() => new EventEngine({ interval: 0 }), RangeError);
  });
});

describe("EventEngine under overload", () => {
  const tick = (symbol: string, price: number) =>
    new TickData({ gateway_name: "SIM", symbol, exchange: Exchange.SHFE, datetime: DateTime.fromEpochMicros(0, CHINA_TZ), last_price: price });

  test("past its bound, a tick replaces the waiting tick of its type and symbol; other events are never replaced", () => {
    const engine = new EventEngine({ conflateAbove: 4, maxQueued: 1_000 });
    const gateway = new PushOnlyGateway(engine, "SIM");
    const seen: string[] = [];
    engine.registerGeneral((event) => {
      if (event.type === EVENT_TICK) seen.push(`${(event.data as TickData).symbol}@${(event.data as TickData).last_price}`);
      else if (event.type === "eOrder.") seen.push("order");
    });
    // Not started: nothing drains, as when the loop is busy.
    for (let price = 1; price <= 1_000; price++) {
      gateway.onTick(tick("rb2701", price));
      gateway.onTick(tick("cu2701", price));
      if (price % 100 === 0) engine.put(new Event("eOrder.", null));
    }
    assert.ok(engine.pending < 40, `pending ${engine.pending}: ticks were conflated`);
    assert.ok(engine.conflated > 3_900, `conflated ${engine.conflated}`);
    engine.flush();
    assert.equal(seen.filter((s) => s === "order").length, 10, "every order event survives");
    assert.ok(seen.includes("rb2701@1000") && seen.includes("cu2701@1000"), "the latest tick of each symbol is delivered");
    const rb = seen.filter((s) => s.startsWith("rb2701@")).map((s) => Number(s.split("@")[1]));
    assert.deepEqual(rb, [...rb].sort((a, b) => a - b), "ticks of one symbol stay in order");
  });

  test("an emptied queue starts again from its first slot: a shorter second burst conflates right and nothing runs twice", () => {
    const engine = new EventEngine({ conflateAbove: 4, maxQueued: 1_000 });
    const gateway = new PushOnlyGateway(engine, "SIM");
    const seen: string[] = [];
    engine.register(EVENT_TICK, (event) => seen.push(`${(event.data as TickData).symbol}@${(event.data as TickData).last_price}`));
    engine.register("eOrder.", (event) => seen.push(`order ${String(event.data)}`));
    for (let price = 1; price <= 50; price++) gateway.onTick(tick("rb2701", price));
    engine.put(new Event("eOrder.", 1));
    engine.flush();
    assert.equal(engine.pending, 0);
    seen.length = 0;
    // The array the first burst grew is kept; the second burst is shorter, so slots past it hold nothing.
    engine.put(new Event("eOrder.", 2));
    for (let price = 101; price <= 110; price++) gateway.onTick(tick("cu2701", price));
    engine.put(new Event("eOrder.", 3));
    engine.flush();
    assert.deepEqual(seen.filter((s) => s.startsWith("order")), ["order 2", "order 3"]);
    assert.ok(!seen.some((s) => s.startsWith("rb2701")), "nothing of the first burst runs again");
    const cu = seen.filter((s) => s.startsWith("cu2701@")).map((s) => Number(s.split("@")[1]));
    assert.equal(cu.at(-1), 110, "the latest tick is delivered");
    assert.deepEqual(cu, [...cu].sort((a, b) => a - b), "in order");
    assert.ok(cu.length < 10, `conflated past the bound (${cu.length} of 10 delivered)`);
    engine.flush();
    assert.equal(seen.length, cu.length + 2, "a flush of an empty queue handles nothing");
  });

  test("below the bound every tick is delivered", () => {
    const engine = new EventEngine({ conflateAbove: 10_000 });
    const gateway = new PushOnlyGateway(engine, "SIM");
    let ticks = 0;
    engine.register(EVENT_TICK, () => ticks++);
    for (let price = 1; price <= 500; price++) gateway.onTick(tick("rb2701", price));
    engine.flush();
    assert.equal(ticks, 500);
    assert.equal(engine.conflated, 0);
  });

  test("events that may not be dropped past maxQueued put the engine in overload, reported once each way", () => {
    const engine = new EventEngine({ maxQueued: 100 });
    const reports: Array<[boolean, number]> = [];
    engine.onOverload((overloaded, pending) => reports.push([overloaded, pending]));
    for (let i = 0; i < 500; i++) engine.put(new Event("eOrder.", i));
    assert.equal(engine.overloaded, true);
    assert.equal(engine.pending, 500, "nothing is dropped");
    engine.flush();
    assert.equal(engine.overloaded, false);
    assert.deepEqual(reports, [[true, 101], [false, 0]]);
  });
});

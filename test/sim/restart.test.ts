import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, test } from "node:test";
import { CancelRequest, Direction, Exchange, Offset, OrderType, Status } from "../../src/kernel/index.js";
import { SimError } from "../../src/sim/errors.js";
import { SimStore } from "../../src/sim/store.js";
import { ManualClock } from "../../src/sim/time.js";
import { SimVenue } from "../../src/sim/venue.js";
import { book, openVenue, orderRequest, preClose, RecordingSink, T0, tempDir, testSpecs } from "./helpers.js";

const RB = "rb2505.SHFE";
const TRADER = fileURLToPath(new URL("./fixtures/trader.js", import.meta.url));

describe("restart", () => {
  test("a reopened venue publishes the account, positions, orders and trades it had, and resting orders trade again", () => {
    const dir = tempDir("restart");
    const P = preClose(RB);
    const first = openVenue({ dataDir: dir.path });
    first.venue.injectBook(RB, book([[P - 1, 10]], [[P + 1, 3], [P + 2, 10]]));
    const filled = first.venue.sendOrder(orderRequest(RB, Direction.LONG, OrderType.LIMIT, 5, P + 2));
    const resting = first.venue.sendOrder(orderRequest(RB, Direction.SHORT, OrderType.LIMIT, 2, P + 30, Offset.CLOSETODAY));
    const rejected = first.venue.sendOrder(orderRequest(RB, Direction.LONG, OrderType.LIMIT, 1, P + 0.5));
    const cancelled = first.venue.sendOrder(orderRequest(RB, Direction.LONG, OrderType.LIMIT, 1, P - 20));
    first.venue.cancelOrder(new CancelRequest({ orderid: cancelled.split(".")[1]!, symbol: "rb2505", exchange: Exchange.SHFE }));
    const before = {
      account: first.sink.lastAccount(),
      position: first.sink.lastPosition(RB, Direction.LONG),
      orders: [filled, resting, rejected, cancelled].map((id) => first.sink.lastOrder(id)),
      trades: first.sink.trades,
    };
    first.venue.close();

    const second = openVenue({ dataDir: dir.path, clock: new ManualClock(T0 + 1000) });
    const kinds = second.sink.sequence.map((kind) => kind.split(":")[0]!).filter((kind, i, all) => kind !== all[i - 1]);
    assert.deepEqual(kinds, ["contract", "account", "position", "order", "trade"], "published in VeighNa's connect order");
    assert.equal(second.sink.contracts.length, 5);
    assert.equal(second.sink.lastAccount().balance, before.account.balance);
    assert.equal(second.sink.lastAccount().frozen, before.account.frozen);
    const position = second.sink.lastPosition(RB, Direction.LONG);
    assert.deepEqual([position.volume, position.yd_volume, position.frozen, position.price], [5, 0, 2, before.position.price]);
    assert.deepEqual(second.sink.orders, before.orders);
    assert.deepEqual(second.sink.trades, before.trades);

    // Ids continue, and the resting close still holds its volume and trades when the market reaches it.
    const next = second.venue.sendOrder(orderRequest(RB, Direction.LONG, OrderType.LIMIT, 1, P - 20));
    assert.equal(Number(next.split(".")[1]), 5);
    second.venue.injectBook(RB, book([[P + 30, 2]], []));
    assert.equal(second.sink.lastOrder(resting).status, Status.ALLTRADED);
    assert.deepEqual(second.sink.tradesOf(resting), [{ price: P + 30, volume: 2 }]);
    second.venue.close();
    dir.remove();
  });

  test("a restart on a later day finds yesterday's positions", () => {
    const dir = tempDir("restart-day");
    const P = preClose(RB);
    const first = openVenue({ dataDir: dir.path });
    first.venue.injectBook(RB, book([], [[P + 1, 3]]));
    first.venue.sendOrder(orderRequest(RB, Direction.LONG, OrderType.LIMIT, 3, P + 1));
    first.venue.close();
    const second = openVenue({ dataDir: dir.path, clock: new ManualClock(T0 + 3 * 86_400_000) });
    const position = second.sink.lastPosition(RB, Direction.LONG);
    assert.deepEqual([position.volume, position.yd_volume], [3, 3]);
    second.venue.close();
    dir.remove();
  });

  test("a data dir of another account, or of an unknown schema, is refused", () => {
    const dir = tempDir("restart-refuse");
    openVenue({ dataDir: dir.path }).venue.close();
    const store = new SimStore(dir.path);
    const venue = new SimVenue({
      gatewayName: "SIM",
      accountid: "SOMEONE-ELSE",
      capital: 1,
      seed: 1,
      ticksPerSecond: 1,
      universe: testSpecs(),
      store,
      clock: new ManualClock(T0),
      sink: new RecordingSink(),
    });
    assert.throws(() => venue.open(), (error: unknown) => error instanceof SimError && error.code === "ERR_SIM_STORE" && /holds account T1/.test(error.message));
    store.close();

    const db = new Database(join(dir.path, "sim.db"));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema'").run();
    db.close();
    assert.throws(() => new SimStore(dir.path), (error: unknown) => error instanceof SimError && error.code === "ERR_SIM_STORE" && /has schema 99/.test(error.message));
    dir.remove();
  });

  test("kill -9 in the middle of trading loses no fill the trader was told about", { timeout: 60_000 }, async () => {
    const dir = tempDir("crash");
    const reported = new Map<string, { price: number; volume: number }>();
    let resting = "";
    const child = spawn(process.execPath, [TRADER, "trade", dir.path], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    const killedAfter = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${reported.size} fills in 30 s`)), 30_000);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const [kind, a, , price, volume] = line.split(" ");
        if (kind === "RESTING") resting = a!;
        if (kind !== "TRADE") return;
        reported.set(a!, { price: Number(price), volume: Number(volume) });
        if (reported.size === 40) {
          child.kill("SIGKILL"); // mid-stream: the trader is sending an order every turn of its loop
          clearTimeout(timer);
          resolve(reported.size);
        }
      });
    });
    assert.equal(await exited, "SIGKILL");
    assert.ok(resting);

    const verify = spawn(process.execPath, [TRADER, "verify", dir.path], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    verify.stdout!.on("data", (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => verify.on("exit", resolve));
    assert.equal(code, 0);
    const restored = JSON.parse(output.trim().split("\n").at(-1)!) as {
      trades: { vt_tradeid: string; vt_orderid: string; direction: string; offset: string; price: number; volume: number }[];
      orders: { vt_orderid: string; status: string; volume: number; traded: number }[];
      positions: { direction: string; volume: number; frozen: number }[];
      active: string[];
      restingFilled: boolean;
    };

    const trades = new Map(restored.trades.map((t) => [t.vt_tradeid, t]));
    assert.ok(trades.size >= killedAfter);
    for (const [vt_tradeid, fill] of reported) {
      const found = trades.get(vt_tradeid);
      assert.ok(found, `reported fill ${vt_tradeid} survived`);
      assert.deepEqual({ price: found.price, volume: found.volume }, fill);
    }
    // The journal is consistent with itself: orders' traded volumes, and the position, match the trades.
    for (const order of restored.orders) {
      const volume = restored.trades.filter((t) => t.vt_orderid === order.vt_orderid).reduce((sum, t) => sum + t.volume, 0);
      assert.equal(order.traded, volume, `traded of ${order.vt_orderid}`);
      assert.notEqual(order.status, Status.SUBMITTING);
    }
    const net = restored.trades.reduce((sum, t) => sum + (t.offset === Offset.OPEN ? t.volume : -t.volume), 0);
    assert.equal(restored.positions.find((p) => p.direction === Direction.LONG)?.volume ?? 0, net);
    assert.deepEqual(restored.active, [resting], "the resting order is live again after the restart");
    assert.equal(restored.restingFilled, true);
    dir.remove();
  });
});

/**
 * retypePublishedEvent writes an event's twin (same data, another type) from the first frame's bytes: whenever it
 * answers, the answer must be exactly what encoding the twin afresh gives; it must answer for ordinary ticks (the
 * server relies on it to encode each tick once); and it must decline wherever splicing could differ.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AccountData,
  DateTime,
  Direction,
  Event,
  Exchange,
  OrderData,
  OrderType,
  Status,
  TickData,
  decodePublish,
  encodePublish,
  retypePublishedEvent,
} from "../../src/index.js";
import { fixturesDir, loadFixtures } from "./helpers.js";

const EPOCH = "0123456789abcdef";

function frame(type: string, data: unknown, seq?: number): Buffer {
  const event = new Event(type, data);
  return encodePublish("", seq === undefined ? event : Object.assign(event, { seq, epoch: EPOCH }));
}

function tick(extra?: Record<string, unknown>): TickData {
  const made = new TickData({
    gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE, datetime: DateTime.now(), name: "螺纹钢2501",
    last_price: 3501.5, volume: 12, bid_price_1: 3501, ask_price_1: 3502, bid_volume_1: 3, ask_volume_1: 4,
  });
  if (extra) made.extra = extra;
  return made;
}

/** The twin as retyped, checked against a fresh encode whenever it is given. */
function checkTwin(generic: Buffer, twinType: string, fresh: Buffer): Buffer | undefined {
  const twin = retypePublishedEvent(generic, twinType);
  if (twin !== undefined) assert.ok(twin.equals(fresh), `retyped ${twinType} differs from a fresh encode`);
  return twin;
}

describe("retypePublishedEvent", () => {
  it("turns the captured VeighNa eTick. frame into the captured eTick.<vt_symbol> frame, byte for byte", () => {
    const fixtures = loadFixtures(fixturesDir);
    const generic = fixtures.find((f) => f.name === "pub_tick")!.bytes;
    const specific = fixtures.find((f) => f.name === "pub_tick_vt_symbol")!.bytes;
    const { data } = decodePublish(specific);
    const twin = retypePublishedEvent(generic, (data as Event).type);
    assert.ok(twin !== undefined && twin.equals(specific));
  });

  it("gives a fresh encode's bytes for ticks, orders and accounts at any seq width, and answers for ordinary ticks", () => {
    const order = new OrderData({
      gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE, orderid: "42", type: OrderType.LIMIT,
      direction: Direction.LONG, price: 3500, volume: 2, status: Status.NOTTRADED, datetime: DateTime.now(),
    });
    const account = new AccountData({ gateway_name: "SIM", accountid: "A1", balance: 1e6, frozen: 10 });
    const cases: [string, string, unknown][] = [
      ["eTick.", "eTick.rb2501.SHFE", tick()],
      ["eTick.", "eTick.rb2501.SHFE", tick({ seq: 5, t: 1.5 })],
      ["eOrder.", "eOrder.SIM.42", order],
      ["eAccount.", "eAccount.SIM.A1", account],
    ];
    for (const [type, twinType, data] of cases) {
      for (const seq of [undefined, 0, 255, 256, 65_535, 65_536, 2 ** 31]) {
        const twin = checkTwin(frame(type, data, seq), twinType, frame(twinType, data, seq));
        if (data instanceof TickData) assert.ok(twin !== undefined, `a tick at seq ${String(seq)} was not retyped`);
      }
    }
  });

  it("declines, or still matches, when the data holds either type string", () => {
    for (const extra of [{ note: "eTick." }, { note: "eTick.rb2501.SHFE" }, { "eTick.": 1 }, { a: "eTick.", b: "eTick." }]) {
      const data = tick(extra);
      checkTwin(frame("eTick.", data, 9), "eTick.rb2501.SHFE", frame("eTick.rb2501.SHFE", data, 9));
      checkTwin(frame("eTick.rb2501.SHFE", data, 9), "eTick.", frame("eTick.", data, 9));
    }
  });

  it("declines types it cannot write as short ASCII, frames of other shapes, and data past one pickle frame", () => {
    const data = tick();
    assert.equal(retypePublishedEvent(frame("eTick.", data, 1), "eTick.螺纹"), undefined);
    assert.equal(retypePublishedEvent(frame("eTick.", data, 1), "e".repeat(256)), undefined);
    assert.equal(retypePublishedEvent(encodePublish("heartbeat", 1.5), "eTick."), undefined);
    const big = tick({ blob: "x".repeat(70_000) });
    checkTwin(frame("eTick.", big, 1), "eTick.rb2501.SHFE", frame("eTick.rb2501.SHFE", big, 1));
    const nearEdge = tick({ blob: "y".repeat(65_536 - 1_100) });
    for (let pad = 0; pad < 40; pad += 3) {
      const data2 = tick({ blob: "y".repeat(65_536 - 1_100 + pad * 10) });
      checkTwin(frame("eTick.", data2, 1), "eTick.rb2501.SHFE.with.a.longer.name", frame("eTick.rb2501.SHFE.with.a.longer.name", data2, 1));
    }
    checkTwin(frame("eTick.", nearEdge, 1), "eTick.rb2501.SHFE", frame("eTick.rb2501.SHFE", nearEdge, 1));
  });

  it("keeps the frame length field right when the twin's type is shorter or longer", () => {
    const data = tick();
    for (const [from, to] of [["eTick.rb2501.SHFE", "eTick."], ["eTick.", "eTick." + "z".repeat(200)]] as const) {
      const twin = checkTwin(frame(from, data, 3), to, frame(to, data, 3));
      assert.ok(twin !== undefined);
      assert.equal((decodePublish(twin).data as Event).type, to);
    }
  });
});

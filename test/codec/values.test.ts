/** How Python values map to JS values and back, and the VeighNa message helpers. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CHINA_TZ,
  DateTime,
  Direction,
  Event,
  Exchange,
  HINTS,
  MessageShapeError,
  OrderData,
  OrderRequest,
  OrderType,
  PickleEncodeError,
  PyEnum,
  PyFloat,
  Status,
  TickData,
  Tuple,
  decodePickle,
  decodePublish,
  decodeReply,
  decodeRequest,
  encodePickle,
  encodePublish,
  encodeReply,
  encodeRequest,
  floatSlots,
  isFloatSlot,
  markFloat,
  tuple,
} from "../../src/index.js";
import { OP, global, loadFixtures, pickle } from "./helpers.js";

const roundTrip = (value: unknown): unknown => decodePickle(encodePickle(value), { mode: "event" });
const fixture = (name: string): Buffer => loadFixtures().find((f) => f.name === name)!.bytes;
/** The single value opcode of a tiny pickle (after PROTO and FRAME). */
const firstOp = (bytes: Buffer): number => bytes[bytes[2] === 0x95 ? 11 : 2]!;

describe("numbers", () => {
  it("pickles integral JS numbers as ints and the rest as floats", () => {
    assert.equal(firstOp(encodePickle(3)), OP.BININT1);
    assert.equal(firstOp(encodePickle(-5)), OP.BININT);
    assert.equal(firstOp(encodePickle(2 ** 40)), OP.LONG1);
    for (const f of [3.5, -0, NaN, Infinity, 2 ** 60, Number.MAX_VALUE]) assert.equal(firstOp(encodePickle(f)), OP.BINFLOAT, String(f));
    assert.equal(firstOp(encodePickle(new PyFloat(3))), OP.BINFLOAT);
    assert.equal(firstOp(encodePickle(2n ** 70n)), OP.LONG1);
  });

  it("decodes ints to numbers while safe and to bigints beyond", () => {
    assert.equal(decodePickle(encodePickle(2n ** 53n - 1n), { mode: "request" }), 2 ** 53 - 1);
    assert.equal(decodePickle(encodePickle(2n ** 53n), { mode: "request" }), 2n ** 53n);
    assert.equal(decodePickle(encodePickle(-(2n ** 64n) - 1n), { mode: "request" }), -(2n ** 64n) - 1n);
  });

  it("keeps Python's int/float choice of a decoded object, while its fields stay plain numbers", () => {
    const event = (decodePickle(fixture("pub_tick"), { mode: "event" }) as unknown[])[1] as Event<TickData>;
    const tick = event.data;
    assert.equal(typeof tick.last_price, "number");
    assert.equal(tick.last_price, 3512); // 3512.0 on the wire
    assert.equal(tick.last_volume, 12); // 12 on the wire
    assert.ok(isFloatSlot(tick, "last_price", tick.last_price));
    assert.ok(!isFloatSlot(tick, "last_volume", tick.last_volume));
    assert.ok(!Object.keys(tick).includes(String(HINTS)));
    assert.equal(JSON.stringify(tick).includes("pickle"), false);
  });

  it("lets our own code mark an integral value as a float", () => {
    const row: Record<string, number> = { volume: 100, count: 100 };
    markFloat(row, "volume");
    assert.deepEqual(floatSlots(row), ["volume"]);
    const back = roundTrip(row) as Record<string, number>;
    assert.ok(isFloatSlot(back, "volume", 100));
    assert.ok(!isFloatSlot(back, "count", 100));
  });
});

describe("containers", () => {
  it("tells tuples from lists", () => {
    const value = roundTrip([tuple(1, 2), [1, 2], tuple()]) as unknown[];
    assert.ok(value[0] instanceof Tuple && Array.isArray(value[0]));
    assert.ok(!(value[1] instanceof Tuple));
    assert.ok(value[2] instanceof Tuple);
    assert.ok(!(tuple(1, 2).map((x) => x) instanceof Tuple));
  });

  it("decodes a dict with str keys to a plain object, and with other keys (or index-like ones) to a Map", () => {
    assert.deepEqual(roundTrip({ b: 1, a: 2 }), { b: 1, a: 2 });
    const mixed = roundTrip(new Map<unknown, unknown>([[1, "one"], [tuple(1, 2), "pair"]])) as Map<unknown, unknown>;
    assert.ok(mixed instanceof Map);
    assert.deepEqual([...mixed.values()], ["one", "pair"]);
    const indexLike = roundTrip(new Map([["b", 1], ["1", 2]])) as Map<string, number>;
    assert.ok(indexLike instanceof Map, "a plain object would move '1' first");
    assert.deepEqual([...indexLike.keys()], ["b", "1"]);
  });

  it("keeps shared references shared", () => {
    const shared = { x: 1 };
    const value = roundTrip([shared, shared]) as unknown[];
    assert.equal(value[0], value[1]);
  });

  it("decodes each string by its bytes, whichever string followed the same one in earlier frames", () => {
    // The decoder first tries the string that came after the previous one last time: same length, other bytes.
    const orders = [["abc", "xyz", "k1"], ["abc", "xyw", "k1"], ["abc", "xyz", "k2"], ["abd", "xyz", "k1"], ["abc", "\u00e9yz", "k1"]];
    for (let round = 0; round < 3; round++) {
      for (const order of orders) assert.deepEqual(roundTrip(order), order);
    }
  });

  it("round-trips sets, bytes, lone surrogates and the protocol-5 header", () => {
    assert.deepEqual(roundTrip(new Set([1, "a"])), new Set([1, "a"]));
    assert.deepEqual(roundTrip(Buffer.from([0, 255])), Buffer.from([0, 255]));
    assert.equal(roundTrip("a\ud800b"), "a\ud800b");
    assert.equal(encodePickle(null, { protocol: 5 })[1], 5);
  });
});

describe("kernel objects", () => {
  it("decodes data objects without running constructors: own keys are the pickled __dict__, extra only if sent", () => {
    const [, event] = decodePickle(fixture("pub_tick"), { mode: "event" }) as [string, Event<TickData>];
    assert.ok(event instanceof Event && event.data instanceof TickData);
    assert.equal("extra" in event.data && event.data.extra !== undefined, false);
    assert.equal(Object.keys(event.data).at(-1), "vt_symbol");
    assert.ok(event.data.datetime instanceof DateTime);
    assert.equal(event.data.datetime.toISOString(), "2024-12-31T09:30:15.123456+08:00");
    assert.equal(event.data.localtime?.tzinfo, null);
    const [, bench] = decodePickle(fixture("pub_bench_tick"), { mode: "event" }) as [string, Event<TickData>];
    assert.equal(typeof bench.data.extra, "object");
  });

  it("decodes data objects of any shape: extra attributes, missing fields, over 1000 attributes", () => {
    const tick = new TickData({ gateway_name: "SIM", symbol: "IF2501", exchange: Exchange.CFFEX, datetime: DateTime.now(CHINA_TZ) });
    const record = tick as unknown as Record<string, unknown>;
    for (let i = 0; i < 1500; i++) record[`attr_${i}`] = i; // two SETITEMS batches
    const wide = roundTrip(tick) as Record<string, unknown>;
    assert.ok(wide instanceof TickData);
    assert.deepEqual(Object.keys(wide), Object.keys(tick));
    assert.equal(wide.attr_1499, 1499);
    delete record.name; // an older peer without a field
    for (let i = 0; i < 1500; i++) delete record[`attr_${i}`];
    const narrow = roundTrip(tick) as Record<string, unknown>;
    assert.deepEqual(Object.keys(narrow), Object.keys(tick));
    const usual = roundTrip(new TickData({ gateway_name: "SIM", symbol: "IF2501", exchange: Exchange.CFFEX, datetime: DateTime.now(CHINA_TZ) }));
    assert.ok(!Object.keys(usual as object).includes("attr_0"));
  });

  it("an object made before its class's shape changed within the same pickle gets exactly its own keys", () => {
    const make = () => new TickData({ gateway_name: "SIM", symbol: "IF2501", exchange: Exchange.CFFEX, datetime: DateTime.now(CHINA_TZ) });
    // The class's template learns a shape with one attribute more: "attr_x".
    const earlier = make() as unknown as Record<string, unknown>;
    earlier.attr_x = 1;
    roundTrip(earlier);
    // As many keys, one of them another: "extra", holding a tick of that shape too. The inner object's state comes
    // first and moves the template to it; the outer one was made from the template before.
    const inner = make() as unknown as Record<string, unknown>;
    inner.extra = null;
    const outer = make() as unknown as Record<string, unknown>;
    outer.extra = inner;
    const back = roundTrip(outer) as Record<string, unknown>;
    assert.deepEqual(Object.keys(back), Object.keys(outer));
    assert.deepEqual(Object.keys(back.extra as object), Object.keys(inner));
  });

  it("gives enum fields plain kernel values and other enums a PyEnum identity", () => {
    const [, orders] = decodePickle(fixture("rep_get_all_orders"), { mode: "event" }) as [boolean, OrderData[]];
    assert.equal(orders[0]!.status, Status.PARTTRADED);
    const [, all] = decodePickle(fixture("rep_all_enums"), { mode: "event" }) as [boolean, Record<string, PyEnum[]>];
    assert.equal(all.Direction![0], PyEnum.of("Direction", "LONG"));
    assert.equal(all.Direction![0]!.value, Direction.LONG);
  });

  it("accepts enums by value in the English locale too", () => {
    const english = pickle(global("vnpy.trader.constant", "Direction"), "Long", OP.TUPLE1, OP.REDUCE);
    assert.equal(decodePickle(english, { mode: "request" }), PyEnum.of("Direction", "LONG"));
  });

  it("refuses an enum field holding something that is no member of its enum", () => {
    const order = new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1 });
    (order as unknown as Record<string, unknown>).direction = "sideways";
    assert.throws(() => encodePickle(order), (e: unknown) => e instanceof PickleEncodeError && e.code === "ERR_CODEC_BAD_ENUM_VALUE");
  });

  it("refuses JS values with no Python counterpart", () => {
    for (const bad of [() => 1, Symbol("s"), new Date(), new (class Foo {})()]) {
      assert.throws(() => encodePickle(bad), (e: unknown) => e instanceof PickleEncodeError && e.code === "ERR_CODEC_UNSUPPORTED_TYPE");
    }
  });

  it("keeps a datetime's zone, µs and fold", () => {
    const dt = new DateTime({ year: 2024, month: 12, day: 31, hour: 9, microsecond: 7, fold: 1 }, CHINA_TZ);
    const back = roundTrip(dt) as DateTime;
    assert.ok(back.equals(dt));
    assert.equal(back.fold, 1);
  });
});

describe("VeighNa messages", () => {
  it("reads the captured requests", () => {
    const request = decodeRequest(fixture("req_send_order"));
    assert.equal(request.name, "send_order");
    assert.ok(request.args instanceof Tuple);
    assert.ok(request.args[0] instanceof OrderRequest);
    assert.equal(request.args[1], "CTP");
    assert.deepEqual(request.kwargs, {});
    const kw = decodeRequest(fixture("req_send_order_kwargs"));
    assert.deepEqual(Object.keys(kw.kwargs), ["req", "gateway_name"]);
  });

  it("writes requests exactly as vnpy's RpcClient does", () => {
    assert.ok(encodeRequest("get_all_contracts").equals(fixture("req_get_all_contracts")));
    assert.ok(encodeRequest("get_tick", ["rb2501.SHFE"]).equals(fixture("req_get_tick")));
  });

  it("reads and writes replies and publishes", () => {
    assert.deepEqual(decodeReply(fixture("rep_send_order")), { ok: true, result: "CTP.1_-1234567_3" });
    const error = decodeReply(fixture("rep_error_unknown_function"));
    assert.equal(error.ok, false);
    assert.match(error.ok ? "" : error.traceback, /KeyError: 'no_such_function'/);
    assert.ok(encodeReply(true, "CTP.1_-1234567_3").equals(fixture("rep_send_order")));
    assert.ok(encodeReply(true, null).equals(fixture("rep_none")));
    const heartbeat = decodePublish(fixture("pub_heartbeat"));
    assert.equal(heartbeat.topic, "heartbeat");
    assert.equal(typeof heartbeat.data, "number");
    assert.deepEqual(decodePublish(encodePublish("t", [1])), { topic: "t", data: [1] });
  });

  it("refuses messages of the wrong shape with a typed error", () => {
    const shapes = [encodePickle("get_tick"), encodePickle(["get_tick", tuple()]), encodePickle([1, tuple(), {}]),
      encodePickle(["f", 1, {}]), encodePickle(["f", tuple(), new Map([[1, 2]])])];
    for (const bytes of shapes) {
      assert.throws(() => decodeRequest(bytes), (e: unknown) => e instanceof MessageShapeError && e.code === "ERR_CODEC_BAD_MESSAGE");
    }
    assert.throws(() => decodeReply(encodePickle([false, 1])), MessageShapeError);
    assert.throws(() => decodePublish(encodePickle([1, 2])), MessageShapeError);
    assert.throws(() => encodeReply(false, 42 as unknown as string), TypeError);
  });

  it("is strict for requests and lenient for replies", () => {
    const withRule = pickle(OP.EMPTY_LIST, OP.MARK, OP.NEWTRUE, global("vnpy_x", "Rule"), OP.EMPTY_TUPLE, OP.REDUCE, OP.APPENDS);
    assert.equal(decodeReply(withRule).ok, true);
    const request = pickle(OP.EMPTY_LIST, OP.MARK, "f", global("vnpy_x", "Rule"), OP.EMPTY_TUPLE, OP.REDUCE, OP.TUPLE1, OP.EMPTY_DICT, OP.APPENDS);
    assert.throws(() => decodeRequest(request), /global 'vnpy_x\.Rule' is not allowed/);
  });
});

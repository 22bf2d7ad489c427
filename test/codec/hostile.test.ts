/**
 * Hostile and malformed input: every case ends in a typed error (or an inert value in event mode), fast,
 * without executing anything, polluting a prototype, or growing beyond the input.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  PickleDecodeError,
  PickleEncodeError,
  PickleSecurityError,
  PyGlobal,
  PyObject,
  Tuple,
  decodePickle,
  encodePickle,
  type DecodeMode,
  type PickleDecodeErrorCode,
} from "../../src/index.js";
import { OP, global, loadFixtures, pickle, u32, u64 } from "./helpers.js";

function decodeError(bytes: Buffer, mode: DecodeMode = "request", limits?: Parameters<typeof decodePickle>[1]["limits"]): PickleDecodeError {
  try {
    decodePickle(bytes, limits ? { mode, limits } : { mode });
  } catch (error) {
    assert.ok(error instanceof PickleDecodeError, `not a PickleDecodeError: ${String(error)}`);
    return error;
  }
  assert.fail("decoded without an error");
}

function expectCode(bytes: Buffer, code: PickleDecodeErrorCode, mode: DecodeMode = "request", limits?: Parameters<typeof decodePickle>[1]["limits"]): void {
  assert.equal(decodeError(bytes, mode, limits).code, code);
}

/** os.system("echo pwned") as protocol 0 and protocol 4 write it. */
const osSystemP0 = Buffer.from("cos\nsystem\n(S'echo pwned'\ntR.", "latin1");
const osSystemP4 = pickle(global("os", "system"), "echo pwned", OP.TUPLE1, OP.REDUCE);

describe("security: only allow-listed globals mean anything", () => {
  it("refuses os.system in request mode, naming it", () => {
    for (const bytes of [osSystemP0, osSystemP4]) {
      const error = decodeError(bytes, "request");
      assert.ok(error instanceof PickleSecurityError);
      assert.equal(error.code, "ERR_CODEC_GLOBAL_NOT_ALLOWED");
      assert.equal(error.global, "os.system");
      assert.match(error.message, /global 'os\.system' is not allowed/);
    }
  });

  it("turns os.system into an inert placeholder in event mode: nothing is called", () => {
    const value = decodePickle(osSystemP4, { mode: "event" });
    assert.ok(value instanceof PyObject);
    assert.equal(value.class, "os.system");
    assert.deepEqual([...value.args], ["echo pwned"]);
    // and it pickles back into the very same call, for relaying
    const relayed = decodePickle(encodePickle(value), { mode: "event" }) as PyObject;
    assert.equal(relayed.class, "os.system");
    assert.deepEqual([...relayed.args], ["echo pwned"]);
  });

  it("refuses attribute access beyond the allow-list, even on allowed globals", () => {
    const fromIso = pickle(global("builtins", "getattr"), global("datetime", "datetime"), "fromisoformat", OP.TUPLE2, OP.REDUCE);
    const error = decodeError(fromIso);
    assert.ok(error instanceof PickleSecurityError);
    assert.equal(error.global, "datetime.datetime.fromisoformat");
    const dunder = pickle(global("builtins", "getattr"), global("vnpy.trader.constant", "Direction"), "__class__", OP.TUPLE2, OP.REDUCE);
    assert.equal(decodeError(dunder).code, "ERR_CODEC_BAD_VALUE");
  });

  it("refuses a data class called directly (only NEWOBJ + BUILD rebuilds one), and never runs a constructor", () => {
    const call = pickle(global("vnpy.trader.object", "TickData"), "CTP", OP.TUPLE1, OP.REDUCE);
    assert.equal(decodeError(call).code, "ERR_CODEC_UNSUPPORTED_CALL");
  });

  it("never lets a '__proto__' key touch a prototype", () => {
    const dict = pickle(OP.EMPTY_DICT, "__proto__", OP.EMPTY_DICT, "polluted", OP.NEWTRUE, OP.SETITEM, OP.SETITEM);
    const value = decodePickle(dict, { mode: "request" }) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const tick = pickle(global("vnpy.trader.object", "TickData"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, "__proto__", OP.NONE, OP.SETITEM, OP.BUILD);
    const decoded = decodePickle(tick, { mode: "request" }) as object;
    assert.equal(Object.getPrototypeOf(decoded).constructor.name, "TickData");
    assert.ok(Object.prototype.hasOwnProperty.call(decoded, "__proto__"));
  });
});

describe("bounds: hostile sizes fail fast with a typed error", () => {
  it("shares references instead of copying them: a memo bomb stays linear, decoded and encoded", () => {
    // level k = [level k-1, level k-1]: 2**60 leaves reachable, 60 lists on the wire.
    const parts: (number | Buffer)[] = [OP.EMPTY_LIST, OP.MEMOIZE];
    for (let level = 1; level <= 60; level++) {
      parts.push(OP.EMPTY_LIST, OP.MARK, OP.LONG_BINGET, u32(level - 1), OP.LONG_BINGET, u32(level - 1), OP.APPENDS, OP.MEMOIZE);
    }
    const bomb = pickle(...parts);
    const value = decodePickle(bomb, { mode: "request" }) as unknown[];
    assert.equal(value[0], value[1]);
    const encoded = encodePickle(value);
    assert.ok(encoded.length < 1000, `encoded to ${encoded.length} bytes`);
    const again = decodePickle(encoded, { mode: "request" }) as unknown[];
    assert.equal(again[0], again[1]);
  });

  it("stops 100,000-deep nesting at the depth limit, with constant stack (TUPLE1 chains) or not (lists)", () => {
    const tuples = pickle(OP.NONE, Buffer.alloc(100_000, OP.TUPLE1));
    expectCode(tuples, "ERR_CODEC_DEPTH_EXCEEDED");
    const lists = pickle(Buffer.alloc(100_000, OP.EMPTY_LIST), Buffer.alloc(99_999, OP.APPEND));
    expectCode(lists, "ERR_CODEC_DEPTH_EXCEEDED");
  });

  it("decodes deep nesting iteratively when allowed, and the encoder refuses it with a typed error", () => {
    const tuples = pickle(OP.NONE, Buffer.alloc(100_000, OP.TUPLE1));
    const value = decodePickle(tuples, { mode: "request", limits: { maxDepth: 200_000 } });
    assert.ok(value instanceof Tuple);
    assert.throws(() => encodePickle(value), (error: unknown) => error instanceof PickleEncodeError && error.code === "ERR_CODEC_DEPTH_EXCEEDED");
  });

  it("refuses a LONG4 longer than the integer limit before reading it", () => {
    expectCode(pickle(OP.LONG4, u32(0x7fffffff)), "ERR_CODEC_INT_TOO_LARGE");
    expectCode(pickle(OP.LONG4, u32(2000), Buffer.alloc(2000, 1)), "ERR_CODEC_INT_TOO_LARGE");
    expectCode(pickle(OP.LONG4, u32(0xffffffff)), "ERR_CODEC_MALFORMED"); // negative size
    assert.equal(decodePickle(pickle(OP.LONG4, u32(3), [1, 0, 0x80]), { mode: "request" }), -(0x800000 - 1));
  });

  it("reports every truncation of a real frame as TRUNCATED", () => {
    const tick = loadFixtures().find((f) => f.name === "pub_tick")!.bytes;
    for (let length = 0; length < tick.length; length++) expectCode(tick.subarray(0, length), "ERR_CODEC_TRUNCATED", "event");
  });

  it("does not trust declared lengths: huge strings, bytes and frames fail without allocating", () => {
    expectCode(pickle(OP.BINUNICODE8, u64(1n << 62n)), "ERR_CODEC_TRUNCATED");
    expectCode(pickle(OP.BINUNICODE, u32(0xffffffff)), "ERR_CODEC_TRUNCATED");
    expectCode(pickle(OP.BINBYTES, u32(0xffffffff)), "ERR_CODEC_TRUNCATED");
    expectCode(pickle(OP.FRAME, u64((1n << 64n) - 1n)), "ERR_CODEC_TRUNCATED");
    expectCode(pickle(OP.NONE), "ERR_CODEC_TOO_LARGE", "request", { maxBytes: 3 });
  });

  it("bounds the memo and container sizes", () => {
    expectCode(pickle(OP.NONE, OP.LONG_BINPUT, u32(0xffffffff)), "ERR_CODEC_MEMO_LIMIT");
    expectCode(pickle(OP.BINGET, 7), "ERR_CODEC_MALFORMED");
    const eleven = pickle(OP.EMPTY_LIST, OP.MARK, Buffer.alloc(11, OP.NONE), OP.APPENDS);
    expectCode(eleven, "ERR_CODEC_CONTAINER_TOO_LARGE", "request", { maxContainerLength: 10 });
    assert.equal((decodePickle(eleven, { mode: "request" }) as unknown[]).length, 11);
  });

  it("rejects unknown opcodes, persistent ids, newer protocols and broken programs", () => {
    expectCode(pickle(0xff), "ERR_CODEC_UNKNOWN_OPCODE");
    expectCode(Buffer.from("Pfoo\n.", "latin1"), "ERR_CODEC_UNKNOWN_OPCODE");
    expectCode(Buffer.from([OP.PROTO, 6, OP.NONE, OP.STOP]), "ERR_CODEC_UNSUPPORTED_PROTOCOL");
    expectCode(pickle(OP.APPEND), "ERR_CODEC_MALFORMED");
    expectCode(pickle(OP.SETITEMS), "ERR_CODEC_MALFORMED");
    expectCode(pickle(OP.NONE, OP.NONE, OP.STACK_GLOBAL), "ERR_CODEC_MALFORMED");
    expectCode(pickle(OP.NONE, OP.NONE, OP.REDUCE), "ERR_CODEC_MALFORMED");
    expectCode(Buffer.from([OP.PROTO, 4]), "ERR_CODEC_TRUNCATED");
  });

  it("rejects values Python itself would reject", () => {
    const month13 = pickle(global("datetime", "datetime"), OP.SHORT_BINBYTES, 10, [7, 232, 13, 1, 0, 0, 0, 0, 0, 0], OP.TUPLE1, OP.REDUCE);
    expectCode(month13, "ERR_CODEC_BAD_VALUE");
    const mars = pickle(global("builtins", "getattr"), global("zoneinfo", "ZoneInfo"), "_unpickle", OP.TUPLE2, OP.REDUCE, "Mars/Olympus_Mons", OP.BININT1, 1, OP.TUPLE2, OP.REDUCE);
    expectCode(mars, "ERR_CODEC_BAD_VALUE");
    const badEnum = pickle(global("vnpy.trader.constant", "Direction"), "sideways", OP.TUPLE1, OP.REDUCE);
    expectCode(badEnum, "ERR_CODEC_BAD_VALUE");
    expectCode(pickle(OP.SHORT_BINUNICODE, 2, [0xc3, 0x28]), "ERR_CODEC_BAD_VALUE"); // invalid UTF-8
  });
});

describe("event mode keeps unknown app payloads flowing, inertly", () => {
  it("makes placeholders of unknown classes (NEWOBJ + BUILD) and keeps their state", () => {
    const rule = pickle(global("vnpy_riskmanager.rules", "OrderSizeRule"), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT, "limit", OP.BININT1, 5, OP.SETITEM, OP.BUILD);
    assert.throws(() => decodePickle(rule, { mode: "request" }), PickleSecurityError);
    const value = decodePickle(rule, { mode: "event" });
    assert.ok(value instanceof PyObject);
    assert.equal(value.class, "vnpy_riskmanager.rules.OrderSizeRule");
    assert.equal(value.via, "newobj");
    assert.deepEqual(value.state, { limit: 5 });
    const relayed = decodePickle(encodePickle(value), { mode: "event" }) as PyObject;
    assert.equal(relayed.class, value.class);
    assert.equal(relayed.via, "newobj");
    assert.deepEqual(relayed.state, { limit: 5 });
  });

  it("keeps an unknown enum member as an inert global reference", () => {
    const member = pickle(global("builtins", "getattr"), global("vnpy_riskmanager.base", "RuleStatus"), "ACTIVE", OP.TUPLE2, OP.REDUCE);
    const value = decodePickle(member, { mode: "event" });
    assert.ok(value instanceof PyGlobal);
    assert.equal(value.toString(), "vnpy_riskmanager.base.RuleStatus.ACTIVE");
  });

  it("decodes collections.defaultdict and OrderedDict as plain dicts, dropping the factory", () => {
    const dd = pickle(global("collections", "defaultdict"), global("builtins", "list"), OP.TUPLE1, OP.REDUCE, "a", OP.EMPTY_LIST, OP.SETITEM);
    assert.deepEqual(decodePickle(dd, { mode: "request" }), { a: [] });
    const od = pickle(global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK, "b", OP.BININT1, 1, "a", OP.BININT1, 2, OP.SETITEMS);
    assert.deepEqual(Object.keys(decodePickle(od, { mode: "request" }) as object), ["b", "a"]);
  });
});

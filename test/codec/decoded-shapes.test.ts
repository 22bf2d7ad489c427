/**
 * The decoder makes kernel instances with a constructor and a state writer compiled per key set (shapes.ts), so
 * that its inline caches stay monomorphic in a process that decodes many classes. Only keys that are plain
 * identifiers are ever compiled; any other key, a peer cycling through more shapes than a class keeps, and a process
 * where code generation is off take the template path instead. Both paths must give the same objects, and the same
 * bytes when those objects are encoded again.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import {
  DateTime,
  Event,
  TickData,
  Tuple,
  decodePickle,
  encodePickle,
  encodePublish,
  markFloat,
  tuple,
} from "../../src/index.js";
import { shapeOf } from "../../src/codec/shapes.js";
import { oneOfEachDataClass, testTick } from "./helpers.js";

const decode = (bytes: Buffer): unknown => decodePickle(bytes, { mode: "event" });
const tick = (fields: object = {}): TickData => testTick("rb2501", 3500, fields);

/** Decoded twice: the first decode may learn the shape, the second makes its instance from what was learned. */
function twice(value: unknown): [unknown, unknown, Buffer] {
  const bytes = encodePickle(value);
  return [decode(bytes), decode(bytes), bytes];
}

function assertSameObject(decoded: unknown, original: object): void {
  assert.equal(Object.getPrototypeOf(decoded), Object.getPrototypeOf(original));
  assert.deepEqual(Object.keys(decoded as object), Object.keys(original));
  for (const key of Object.keys(original)) {
    const want = (original as Record<string, unknown>)[key];
    const got = (decoded as Record<string, unknown>)[key];
    if (want instanceof DateTime) assert.ok(want.equals(got as DateTime), key);
    else assert.deepEqual(got, want, key);
  }
}

describe("decoded data objects: compiled makers and writers per key set", () => {
  it("rebuilds every kernel class as it was encoded, and encodes it back to the same bytes", () => {
    const objects = Object.values({ ...oneOfEachDataClass(), tick: tick({ extra: { seq: 1, t: 1.5 } }) });
    for (const original of objects) {
      const [first, second, bytes] = twice(original);
      assertSameObject(first, original);
      assertSameObject(second, original);
      assert.ok(encodePickle(second).equals(bytes), `${original.constructor.name} re-encoded`);
      assert.ok(shapeOf(Object.getPrototypeOf(original) as object)?.make, `${original.constructor.name} has a compiled maker`);
    }
  });

  it("stores a tuple as a Tuple and keeps float hints through the writer", () => {
    const original = tick({ name: tuple<unknown>("a", 1), extra: null });
    markFloat(original as unknown as Record<string, unknown>, "last_price");
    const [, decoded, bytes] = twice(original);
    const back = decoded as unknown as Record<string, unknown>;
    assert.ok(back.name instanceof Tuple);
    assert.deepEqual([...(back.name as Tuple)], ["a", 1]);
    assert.ok(encodePickle(decoded).equals(bytes), "3500.0 stays a float on the way back");
  });

  it("never compiles a key that is not a plain identifier; such a state decodes the same, and no code runs", () => {
    const hostile = ["x; globalThis.pwned = 1; //", "a-b", "__proto__", "constructor\n}", "ü"];
    for (const key of hostile) {
      const original = tick({ [key]: 5 });
      // Object.assign would set a __proto__ key as the prototype: define it as an own property instead.
      if (key === "__proto__") Object.defineProperty(original, key, { value: 5, enumerable: true, writable: true, configurable: true });
      const [first, second] = twice(original);
      assertSameObject(first, original);
      assertSameObject(second, original);
      assert.equal(shapeOf(TickData.prototype)!.make, undefined, JSON.stringify(key));
    }
    assert.equal((globalThis as Record<string, unknown>).pwned, undefined);
    assert.equal(Object.getPrototypeOf(decode(encodePickle(tick())) as object), TickData.prototype);
  });

  it("decodes a peer that cycles through more shapes than a class compiles, each exactly", () => {
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 10; k++) {
        const original = tick({ [`attr_${k}`]: k, extra: { k } });
        const [first, second] = twice(new Event("eTick.", original));
        assertSameObject((first as Event).data as object, original);
        assertSameObject((second as Event).data as object, original);
      }
    }
    // A class keeps four key sets: the shapes past them are decoded through the template, never compiled.
    assert.equal(shapeOf(TickData.prototype)!.make, undefined);
  });

  it("decodes a stream alternating two shapes of a class, each object with its own keys, and keeps them fast", () => {
    const frames = [tick(), tick({ extra: { seq: 2 } })].map((t) => encodePublish("", new Event("eTick.", t)));
    const expected = [tick(), tick({ extra: { seq: 2 } })].map((t) => Object.keys(t));
    for (let i = 0; i < 6; i++) {
      const [, event] = decode(frames[i % 2]!) as [string, Event<TickData>];
      assert.deepEqual(Object.keys(event.data), expected[i % 2], `decode ${i}`);
      assert.equal(event.data.last_price, 3500);
    }
    // Reshaping an instance made in the other shape's keys removes the keys it does not share from the end, which
    // V8 undoes without turning the object into a slow dictionary: checked where V8 can be asked.
    const index = new URL("../../src/codec/index.js", import.meta.url).href;
    const script = `
      const { decodePublish } = await import(${JSON.stringify(index)});
      const frames = ${JSON.stringify(frames.map((f) => f.toString("base64")))}.map((b) => Buffer.from(b, "base64"));
      const fast = [];
      for (let i = 0; i < 6; i++) fast.push(%HasFastProperties(decodePublish(frames[i % 2]).data.data));
      process.stdout.write(JSON.stringify(fast));
    `;
    const run = spawnSync(process.execPath, ["--allow-natives-syntax", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [true, true, true, true, true, true]);
  });

  it("decodes the same in a process where code generation from strings is disallowed (the codec layer alone)", () => {
    const frame = encodePublish("", new Event("eTick.", tick({ extra: { seq: 3 } })));
    const index = new URL("../../src/codec/index.js", import.meta.url).href;
    const script = `
      const { decodePublish, encodePickle } = await import(${JSON.stringify(index)});
      const frame = Buffer.from(${JSON.stringify(frame.toString("base64"))}, "base64");
      const data = [decodePublish(frame).data, decodePublish(frame).data].map((event) => event.data);
      let compiled = true;
      try { new Function("return 1"); } catch { compiled = false; }
      process.stdout.write(JSON.stringify({ compiled, keys: data.map((t) => Object.keys(t)), name: data[1].constructor.name, again: encodePickle(data[1]).toString("base64") }));
    `;
    const run = spawnSync(process.execPath, ["--disallow-code-generation-from-strings", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { compiled: boolean; keys: string[][]; name: string; again: string };
    assert.equal(out.compiled, false);
    const here = [decode(frame), decode(frame)].map((message) => ((message as [string, Event])[1].data as object));
    assert.deepEqual(out.keys, here.map((t) => Object.keys(t)));
    assert.equal(out.name, "TickData");
    assert.equal(out.again, encodePickle(here[1]).toString("base64"));
  });
});

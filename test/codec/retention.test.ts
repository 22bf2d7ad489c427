/**
 * The codec keeps nothing of one encode or decode alive into the next. A bug once did: the encoder's identity memo
 * was a long-lived Map emptied with clear(), and V8's clear() links the old hash table to the new one (allocated in
 * old space once the first was). Every later encode's values then survived young collections and were promoted,
 * found only by full collections: one every 0.2 s at 10,000 ticks/s, about 40% of the server's CPU per tick.
 * Measured here the way it hurt: old-space growth while fresh values are encoded between young collections.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { DateTime, Event, Exchange, TickData, decodePublish, encodePickle, encodePublish } from "../../src/index.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as (options?: { type: "minor" | "major" }) => void;

const oldSpaceUsed = (): number => v8.getHeapSpaceStatistics().find((space) => space.space_name === "old_space")!.space_used_size;

/** Old-space bytes gained per operation over `count` operations, with a young collection every 500. */
function promotedPerOperation(operation: (i: number) => void, count: number): number {
  for (let i = 0; i < 2_000; i++) operation(i); // warm: code, feedback and the memo tables settle first
  gc();
  gc();
  const before = oldSpaceUsed();
  for (let i = 0; i < count; i++) {
    operation(i);
    if (i % 500 === 0) gc({ type: "minor" });
  }
  return (oldSpaceUsed() - before) / count;
}

const freshTick = (i: number, symbol = "rb2501", name = ""): TickData =>
  new TickData({ gateway_name: "SIM", symbol, name, exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: 3500 + (i % 7) });

describe("codec retention", () => {
  it("an encode keeps none of its values alive: fresh ticks are not promoted", () => {
    // Before the fix: about 590 bytes per encode (all of it); after: a few.
    const perEncode = promotedPerOperation((i) => encodePickle(freshTick(i)), 20_000);
    assert.ok(perEncode < 60, `old space grew ${perEncode.toFixed(0)} bytes per encode`);
  });

  it("a decode keeps none of its values alive: decoded events are not promoted", () => {
    // Names long enough to miss the decoder's string cache: each decode makes new strings. Before: ~180 bytes each.
    const frames = Array.from({ length: 100 }, (_, i) =>
      encodePublish("", new Event("eTick.", freshTick(i, `rb${i}`, `a contract name the string cache does not hold ${i}`))),
    );
    const perDecode = promotedPerOperation((i) => decodePublish(frames[i % frames.length]!), 20_000);
    assert.ok(perDecode < 40, `old space grew ${perDecode.toFixed(0)} bytes per decode`);
  });
});

/** The venue under a server that cannot keep up: it steps through fewer ticks, never through a backlog. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { T0, openVenue } from "./helpers.js";

test("a step limited to N ticks per market emits only each market's last N ticks, ending at the present one", () => {
  const { venue, sink, clock, store } = openVenue({ ticksPerSecond: 100 });
  try {
    venue.subscribe("rb2505.SHFE");
    venue.subscribe("m2505.DCE");
    sink.ticks.length = 0;
    assert.equal(venue.subscribedMarkets, 2);

    clock.advance(500); // 50 ticks due per market
    venue.advance(1);
    assert.deepEqual(sink.ticks.map((t) => t.vt_symbol).sort(), ["m2505.DCE", "rb2505.SHFE"], "one tick per market");
    const present = sink.ticks.map((t) => t.datetime.toDate().getTime());

    sink.ticks.length = 0;
    clock.advance(500);
    venue.advance(5);
    assert.equal(sink.ticks.length, 10, "five per market");
    sink.ticks.length = 0;
    clock.advance(500);
    venue.advance();
    assert.equal(sink.ticks.length, 100, "unlimited: every tick since the last step");
    assert.deepEqual(present, [T0 + 500, T0 + 500], "the one tick is the present one");
  } finally {
    store.close();
  }
});

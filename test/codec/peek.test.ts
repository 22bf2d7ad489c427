/**
 * peekPublishedEventType reads an Event's type from a publish frame's first bytes: it must agree with a full
 * decode on every frame real VeighNa published, and answer "don't know" (never throw, never guess) otherwise.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DateTime, Event, Exchange, TickData, decodePublish, encodePublish, peekPublishedEventType } from "../../src/index.js";
import { fixturesDir, loadFixtures, py313Dir } from "./helpers.js";

const published = [...loadFixtures(fixturesDir), ...loadFixtures(py313Dir)].filter((f) => f.name.startsWith("pub_"));

describe("peekPublishedEventType", () => {
  it("agrees with a full decode on every captured VeighNa publish frame", () => {
    let events = 0;
    for (const fixture of published) {
      const { data } = decodePublish(fixture.bytes);
      const expected = data instanceof Event ? data.type : undefined;
      if (expected !== undefined) events++;
      assert.equal(peekPublishedEventType(fixture.bytes), expected, fixture.name);
    }
    assert.ok(events >= 10, `only ${events} captured events`);
  });

  it("reads our encoder's frames, sequenced or not, with a non-ASCII type", () => {
    const tick = new TickData({ gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE, datetime: DateTime.now() });
    const sequenced = Object.assign(new Event("eTick.rb2501.SHFE", tick), { seq: 7, epoch: "0123456789abcdef" });
    assert.equal(peekPublishedEventType(encodePublish("", sequenced)), "eTick.rb2501.SHFE");
    assert.equal(peekPublishedEventType(encodePublish("topic", new Event("e行情", null))), "e行情");
  });

  it("answers undefined for frames that are not [topic, Event], and for every truncation of one", () => {
    assert.equal(peekPublishedEventType(encodePublish("heartbeat", 1.5)), undefined);
    assert.equal(peekPublishedEventType(encodePublish("", { type: "eTick." })), undefined);
    assert.equal(peekPublishedEventType(Buffer.alloc(0)), undefined);
    // A type whose bytes are not UTF-8: the decode refuses the frame, so the peek does not guess a text for it.
    const invalid = Buffer.from(encodePublish("", new Event("eTick.", null)));
    invalid[invalid.indexOf("eTick.", 0, "latin1") + 5] = 0xff;
    assert.throws(() => decodePublish(invalid));
    assert.equal(peekPublishedEventType(invalid), undefined);
    const frame = encodePublish("", new Event("eTick.", null));
    const full = peekPublishedEventType(frame);
    for (let length = 0; length < frame.length; length++) {
      const peeked = peekPublishedEventType(frame.subarray(0, length));
      // Once the type's bytes are all there the answer is already right; before that it is "don't know".
      assert.ok(peeked === undefined || peeked === full, `length ${length}: ${String(peeked)}`);
    }
  });
});

/** ClientLimits.refusal: what admit() would refuse, said without admitting, counted as a refusal. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClientLimits } from "../../src/service/index.js";

describe("ClientLimits.refusal", () => {
  it("refuses exactly when admit() would, counts the refusal, and admits nothing", () => {
    const now = 1_000;
    const limits = new ClientLimits({ calls_per_second: 0, burst: 1, calls_in_flight: 2, subscriptions: 0 }, () => now);
    assert.equal(limits.refusal("a"), undefined, "a client never seen has its whole allowance");
    const first = limits.admit("a");
    assert.equal(limits.refusal("a"), undefined);
    assert.equal(limits.inFlight("a"), 1, "refusal() admits nothing");
    const second = limits.admit("a");
    assert.match(String(limits.refusal("a")), /rate limited: 2 calls already running \(limit 2\)/);
    assert.throws(() => limits.admit("a"), /rate limited: 2 calls already running/);
    assert.equal(limits.rateLimitedCount("a"), 2, "both refusals counted");
    assert.equal(limits.refusal("b"), undefined, "another client is unaffected");
    first.release();
    second.release();
    assert.equal(limits.refusal("a"), undefined);
  });

  it("follows the calls-per-second bucket as admit() does", () => {
    let now = 1_000;
    const limits = new ClientLimits({ calls_per_second: 10, burst: 2, calls_in_flight: 0, subscriptions: 0 }, () => now);
    limits.admit("a").release();
    limits.admit("a").release();
    assert.match(String(limits.refusal("a")), /more than 10 calls per second \(burst 2\)/);
    now += 100; // one token back
    assert.equal(limits.refusal("a"), undefined);
    limits.admit("a").release();
    assert.ok(limits.refusal("a"));
    assert.equal(limits.rateLimitedCount("a"), 2);
  });
});

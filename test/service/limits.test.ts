/** ClientLimits.refusal: what admit() would refuse, said without admitting, counted as a refusal. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClientLimits, DEFAULT_CLIENT_LIMITS, parseClientLimits } from "../../src/service/index.js";

describe("ClientLimits", () => {
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

  it("heavy calls take a token from their own bucket too: refused past heavy_burst while light calls pass, back at the heavy rate", () => {
    let now = 1_000;
    const limits = new ClientLimits({ calls_per_second: 100, burst: 100, calls_in_flight: 0, subscriptions: 0, heavy_calls_per_second: 2, heavy_burst: 2 }, () => now);
    limits.admit("a", undefined, true).release();
    limits.admit("a", undefined, true).release();
    assert.match(String(limits.refusal("a", true)), /more than 2 heavy calls \(history queries\) per second \(burst 2\)/);
    assert.throws(() => limits.admit("a", undefined, true), /more than 2 heavy calls/);
    assert.equal(limits.refusal("a"), undefined, "a light call is not held by the heavy bucket");
    limits.admit("a").release();
    assert.equal(limits.refusal("b", true), undefined, "another client has its own bucket");
    now += 500; // one heavy token back
    limits.admit("a", undefined, true).release();
    assert.ok(limits.refusal("a", true));
    assert.equal(limits.rateLimitedCount("a"), 3);
  });

  it("settings left out take their defaults, and 0 turns the heavy budget off", () => {
    assert.equal(new ClientLimits({ calls_in_flight: 5 }).current.heavy_burst, DEFAULT_CLIENT_LIMITS.heavy_burst);
    const limits = new ClientLimits({ calls_per_second: 0, calls_in_flight: 0, heavy_calls_per_second: 0, heavy_burst: 1 }, () => 1_000);
    for (let i = 0; i < 50; i++) limits.admit("a", undefined, true).release();
    assert.equal(limits.rateLimitedCount("a"), 0);
    assert.deepEqual(parseClientLimits({ heavy_calls_per_second: 5, heavy_burst: -1 }, []).heavy_calls_per_second, 5);
    const problems: string[] = [];
    assert.equal(parseClientLimits({ heavy_burst: -1 }, problems).heavy_burst, DEFAULT_CLIENT_LIMITS.heavy_burst);
    assert.deepEqual(problems, ["client_limits.heavy_burst must be a number >= 0"]);
  });
});

/**
 * A call passes its gate (roles, limits, audit) through settleGated: refused before its function runs, its outcome
 * reported to the gate exactly once, and settled at once, with no promise on the way, when the function answers at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runGated, settleGated, type CallGate, type CallOutcome, type GatedCall } from "../../src/rpc/gate.js";
import type { CallContext } from "../../src/rpc/endpoint.js";

const context: CallContext = { clientId: "c1", endpoint: "zmq" };
const call: GatedCall = { name: "get_tick", args: [], context };

/** A gate that records what it is told, and refuses when asked to. */
function recordingGate(refuse?: Error): { gate: CallGate; outcomes: CallOutcome[]; entered: string[] } {
  const outcomes: CallOutcome[] = [];
  const entered: string[] = [];
  const gate: CallGate = {
    enter: (c) => {
      if (refuse) throw refuse;
      entered.push(c.name);
      return { context: Object.assign({}, c.context, { role: "trader" }), done: (outcome) => outcomes.push(outcome) };
    },
  };
  return { gate, outcomes, entered };
}

test("a function that answers at once is settled before settleGated returns, with the gate's context, and reported once", () => {
  const { gate, outcomes } = recordingGate();
  const settled: [boolean, unknown][] = [];
  let seen: CallContext | undefined;
  settleGated(gate, call, (gated) => ((seen = gated), 42), (ok, value) => settled.push([ok, value]));
  assert.deepEqual(settled, [[true, 42]]);
  assert.deepEqual(outcomes, [{ ok: true, value: 42 }]);
  assert.equal((seen as { role?: string } | undefined)?.role, "trader");
});

test("a promise is settled when it resolves or rejects, and reported once either way", async () => {
  const { gate, outcomes } = recordingGate();
  const settled: [boolean, unknown][] = [];
  const failure = new Error("no such order");
  settleGated(gate, call, async () => "SIM.1", (ok, value) => settled.push([ok, value]));
  settleGated(gate, call, () => Promise.reject(failure), (ok, value) => settled.push([ok, value]));
  assert.deepEqual(settled, [], "not before the promise settles");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(settled, [[true, "SIM.1"], [false, failure]]);
  assert.deepEqual(outcomes, [{ ok: true, value: "SIM.1" }, { ok: false, error: failure }]);
});

test("a throwing function or a refusing gate settles false once; a refused function never runs", async () => {
  const thrown = new Error("bad volume");
  const { gate, outcomes } = recordingGate();
  const settled: [boolean, unknown][] = [];
  settleGated(gate, call, () => {
    throw thrown;
  }, (ok, value) => settled.push([ok, value]));
  assert.deepEqual(settled, [[false, thrown]]);
  assert.deepEqual(outcomes, [{ ok: false, error: thrown }]);

  const refusal = new Error("rate limited");
  const refusing = recordingGate(refusal);
  let ran = false;
  await assert.rejects(
    runGated(refusing.gate, call, () => (ran = true)),
    (error) => error === refusal,
  );
  assert.equal(ran, false);
  assert.deepEqual(refusing.outcomes, []);
});

test("without a gate the function runs with the call's own context; runGated resolves with its value", async () => {
  let seen: CallContext | undefined;
  assert.equal(await runGated(undefined, call, (gated) => ((seen = gated), "ok")), "ok");
  assert.equal(seen, context);
});

/** SliceScheduler: long tasks share each event-loop turn's budget in turn, and let other work run between turns. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SliceScheduler } from "../../src/kernel/index.js";

function* steps(log: string[], name: string, count: number): Generator<void, string, void> {
  for (let i = 0; i < count; i++) {
    log.push(`${name}${i}`);
    yield;
  }
  return `${name} done`;
}

describe("SliceScheduler", () => {
  it("runs the tasks' steps in turn (round robin), one step a turn at budget 0, with other work between turns", async () => {
    const slices = new SliceScheduler(0);
    const log: string[] = [];
    let stop = false;
    const tick = (): void => {
      if (stop) return;
      log.push("|");
      setImmediate(tick);
    };
    setImmediate(tick);
    const a = slices.run(steps(log, "a", 3));
    const b = slices.run(steps(log, "b", 2));
    assert.equal(slices.pending, 2);
    assert.deepEqual(await Promise.all([a, b]), ["a done", "b done"]);
    stop = true;
    const work = log.filter((entry) => entry !== "|");
    assert.deepEqual(work, ["a0", "b0", "a1", "b1", "a2"], "in turn, not one task after the other");
    // Between two steps, other work ran: never two steps in one turn.
    for (let i = 1; i < log.length; i++) assert.ok(log[i] === "|" || log[i - 1] === "|", `two steps in one turn: ${log.join(" ")}`);
    assert.equal(slices.pending, 0);
  });

  it("a task that throws is rejected and the others go on", async () => {
    const slices = new SliceScheduler(1);
    const log: string[] = [];
    function* failing(): Generator<void, never, void> {
      yield;
      throw new RangeError("boom");
    }
    const bad = slices.run(failing());
    const good = slices.run(steps(log, "g", 5));
    await assert.rejects(bad, /boom/);
    assert.equal(await good, "g done");
    assert.equal(log.length, 5);
  });
});

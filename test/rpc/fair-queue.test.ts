/** Long calls take turns between clients: bounded concurrency, round robin, nothing run after its caller's deadline. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FairQueue } from "../../src/rpc/index.js";

/** A task that runs until the test lets it finish. */
function gated(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { task: async () => (log.push(name), await done, name), finish: () => finish() };
}

/** Waits (bounded) until `condition` holds, letting immediates and microtasks run. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), what);
}

describe("FairQueue", () => {
  it("runs at most `concurrency` at once and starts the waiting ones from each client in turn, not by arrival", async () => {
    const queue = new FairQueue(1);
    const started: string[] = [];
    const tasks = new Map<string, ReturnType<typeof gated>>();
    const results: Promise<string>[] = [];
    const submit = (client: string, name: string) => {
      const t = gated(started, name);
      tasks.set(name, t);
      results.push(queue.run(client, t.task));
    };
    for (const name of ["a1", "a2", "a3", "a4"]) submit("A", name); // one client floods
    submit("B", "b1");
    submit("B", "b2");
    submit("C", "c1");
    await until(() => started.length === 1, "the first call starts at once");
    assert.equal(queue.queued, 6);
    const order = ["a1", "a2", "b1", "c1", "a3", "b2", "a4"];
    for (let i = 0; i < order.length; i++) {
      await until(() => started.length === i + 1, `${order[i]} started`);
      assert.equal(started.length, i + 1, "never two at once");
      tasks.get(started[i]!)!.finish();
    }
    assert.deepEqual(started, order);
    assert.deepEqual((await Promise.all(results)).sort(), [...order].sort());
  });

  it("a call whose caller gave up while it waited is refused without running; a failing task frees its slot", async () => {
    const queue = new FairQueue(1);
    const started: string[] = [];
    const first = gated(started, "first");
    const running = queue.run("A", first.task);
    let ran = false;
    const expired = queue.run("B", () => (ran = true), () => {
      throw new Error("deadline passed");
    });
    const failing = queue.run("C", () => Promise.reject(new Error("boom")));
    const after = queue.run("D", () => "after");
    first.finish();
    await running;
    await assert.rejects(expired, /deadline passed/);
    assert.equal(ran, false);
    await assert.rejects(failing, /boom/);
    assert.equal(await after, "after");
    assert.equal(queue.queued, 0);
  });
});

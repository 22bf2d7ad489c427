/** The small parts every RpcCaller is built from: call table, lock-step queue, stream tracker, state machine. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  CallTable,
  ConnectionStateMachine,
  LockStepQueue,
  RpcClosedError,
  RpcConnectionLostError,
  RpcDisconnectedError,
  RpcTimeoutError,
  StreamTracker,
  type CallResult,
  type ConnectionState,
  type PendingCall,
} from "../../src/rpc/index.js";

function pending(name: string, timeout: number): { call: PendingCall; result: Promise<CallResult<unknown>> } {
  let call!: PendingCall;
  const result = new Promise<CallResult<unknown>>((resolve, reject) => (call = { name, timeout, resolve, reject }));
  return { call, result };
}

describe("CallTable", () => {
  it("a timeout names the call and its timeout; with callerStacks its stack also shows who made the call", async () => {
    const plain = new CallTable();
    const unnamed = pending("get_all_accounts", 10);
    plain.add(unnamed.call);
    await assert.rejects(unnamed.result, (error: unknown) => error instanceof RpcTimeoutError && /get_all_accounts\(\)/.test(error.message) && /10ms/.test(error.message));
    const table = new CallTable({ callerStacks: true });
    let result!: Promise<CallResult<unknown>>;
    function placeOrderFromStrategy(): void {
      const made = pending("send_order", 20);
      table.add(made.call);
      result = made.result;
    }
    placeOrderFromStrategy();
    await assert.rejects(result, (error: unknown) => {
      return error instanceof RpcTimeoutError && /placeOrderFromStrategy/.test(error.stack ?? "") && /send_order\(\)/.test(error.message);
    });
    assert.equal(table.size, 0);
  });

  it("a reply after the timeout finds nothing (it is dropped); a reply in time resolves its own call", async () => {
    const table = new CallTable();
    const late = pending("slow", 10);
    const lateId = table.add(late.call);
    await assert.rejects(late.result, RpcTimeoutError);
    assert.equal(table.take(lateId), undefined);
    const quick = pending("quick", 5_000);
    const id = table.add(quick.call);
    assert.notEqual(id, lateId);
    table.take(id)!.resolve({ value: 42, position: null });
    assert.deepEqual(await quick.result, { value: 42, position: null });
  });

  it("calls of mixed timeouts expire in deadline order, each with its own error; answered calls never do", async () => {
    const table = new CallTable();
    const expired: string[] = [];
    const made = [
      ["slow", 60],
      ["fast", 10],
      ["answered", 20],
      ["middle", 30],
      ["fast-too", 10],
    ] as const;
    const ids = new Map<string, number>();
    const results = made.map(([name, timeout]) => {
      const { call, result } = pending(name, timeout);
      ids.set(name, table.add(call));
      return result.then(
        () => name,
        (error: unknown) => {
          assert.ok(error instanceof RpcTimeoutError && error.message.includes(`${name}()`) && error.message.includes(`${timeout}ms`));
          expired.push(name);
          return name;
        },
      );
    });
    table.take(ids.get("answered")!)!.resolve({ value: 1, position: null });
    await Promise.all(results);
    assert.deepEqual(expired, ["fast", "fast-too", "middle", "slow"]);
    assert.equal(table.size, 0);
  });

  it("an empty table holds no process open, though its deadline timer stays armed", async () => {
    const module = new URL("../../src/rpc/call-table.js", import.meta.url).href;
    const script = `
      const { CallTable } = await import(${JSON.stringify(module)});
      const table = new CallTable();
      const id = table.add({ name: "x", timeout: 60_000, resolve() {}, reject() {} });
      table.take(id);`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 30_000 });
    assert.equal(child.status, 0, `exited by itself (signal ${child.signal}): ${child.stderr}`);
  });

  it("failAll rejects every call with the error made for it", async () => {
    const table = new CallTable();
    const a = pending("a", 5_000);
    const b = pending("b", 5_000);
    table.add(a.call);
    table.add(b.call);
    table.failAll((name) => new RpcConnectionLostError(name));
    await assert.rejects(a.result, (e: unknown) => e instanceof RpcConnectionLostError && /^a\(\)/.test(e.message));
    await assert.rejects(b.result, (e: unknown) => e instanceof RpcConnectionLostError && /^b\(\)/.test(e.message));
  });
});

describe("LockStepQueue", () => {
  it("sends one call at a time in order; a call that times out on the wire replaces the socket and the next one goes", async () => {
    const sent: string[] = [];
    let stuck = 0;
    const queue = new LockStepQueue({
      send: async (body) => void sent.push(body.toString()),
      stuck: () => stuck++,
      unsent: (call) => call.reject(new RpcDisconnectedError(call.name)),
    });
    const first = pending("first", 30);
    const second = pending("second", 5_000);
    queue.enqueue(first.call, Buffer.from("first"));
    queue.enqueue(second.call, Buffer.from("second"));
    assert.deepEqual(sent, ["first"]);
    await assert.rejects(first.result, RpcTimeoutError);
    assert.equal(stuck, 1);
    assert.deepEqual(sent, ["first", "second"]);
    assert.ok(queue.reply((call) => call.resolve({ value: "two", position: null })));
    assert.equal((await second.result).value, "two");
    assert.equal(queue.reply(() => assert.fail("no call on the wire")), false);
  });

  it("a call without a deadline (Infinity, or past setTimeout's 24.8 days) waits for its answer, in the queue and the table", async () => {
    // setTimeout fires at once past 2^31-1 ms: armed as is, these calls timed out in the lock-step queue after 1 ms.
    const queue = new LockStepQueue({ send: async () => {}, stuck: () => {}, unsent: () => {} });
    const table = new CallTable();
    const calls = [pending("forever", Number.POSITIVE_INFINITY), pending("a month", 30 * 86_400_000)];
    const settled: string[] = [];
    for (const { call, result } of calls) void result.then(() => settled.push(`${call.name} answered`), () => settled.push(`${call.name} failed`));
    queue.enqueue(calls[0]!.call, Buffer.from("forever"));
    const id = table.add(calls[1]!.call);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(settled, []);
    } finally {
      queue.failAll((name) => new RpcClosedError(name));
      table.take(id)?.resolve({ value: 1, position: null });
    }
    await Promise.allSettled(calls.map((c) => c.result));
    assert.deepEqual(settled.sort(), ["a month answered", "forever failed"]);
  });

  it("a lost connection fails the call on the wire (outcome unknown) and sends the next", async () => {
    const sent: string[] = [];
    const queue = new LockStepQueue({ send: async (body) => void sent.push(body.toString()), stuck: () => {}, unsent: () => {} });
    const first = pending("first", 5_000);
    const second = pending("second", 5_000);
    queue.enqueue(first.call, Buffer.from("first"));
    queue.enqueue(second.call, Buffer.from("second"));
    queue.lost((name) => new RpcConnectionLostError(name));
    await assert.rejects(first.result, RpcConnectionLostError);
    assert.deepEqual(sent, ["first", "second"]);
    queue.failAll((name) => new RpcClosedError(name));
    await assert.rejects(second.result, RpcClosedError);
  });

  it("a request the transport refuses is reported unsent and the queue moves on", async () => {
    const unsent: string[] = [];
    const queue = new LockStepQueue({
      send: (body) => (body.toString() === "refused" ? Promise.reject(new Error("no peer")) : Promise.resolve()),
      stuck: () => {},
      unsent: (call) => {
        unsent.push(call.name);
        call.reject(new RpcDisconnectedError(call.name));
      },
    });
    const refused = pending("refused", 5_000);
    const next = pending("next", 5_000);
    queue.enqueue(refused.call, Buffer.from("refused"));
    queue.enqueue(next.call, Buffer.from("next"));
    await assert.rejects(refused.result, RpcDisconnectedError);
    assert.deepEqual(unsent, ["refused"]);
    assert.ok(queue.busy, "the next call is on the wire");
    queue.failAll((name) => new RpcClosedError(name));
    await assert.rejects(next.result, RpcClosedError);
  });
});

describe("StreamTracker", () => {
  it("on a contiguous stream a jump is a gap and a new epoch a restart", () => {
    const tracker = new StreamTracker(true);
    tracker.adopt("e1", 10);
    assert.equal(tracker.observe("e1", 11), null);
    assert.deepEqual(tracker.observe("e1", 14), { reason: "gap", detail: "events 12..13 missed" });
    assert.deepEqual(tracker.observe("e2", 1), { reason: "restart", detail: "server epoch e2" });
    assert.deepEqual(tracker.position, { epoch: "e2", seq: 1 });
  });

  it("counts skipped events, and a hello proves a lost tail of the stream", () => {
    const tracker = new StreamTracker(true);
    tracker.adopt("e1", 0);
    tracker.skipped();
    assert.equal(tracker.observe("e1", 2, true), null);
    assert.equal(tracker.hello("e1", 5), null); // events 3..5 may still be on their way
    assert.deepEqual(tracker.hello("e1", 6), { reason: "gap", detail: "3 event(s) before seq 5 never arrived" });
    assert.deepEqual(tracker.hello("e9", 0), { reason: "restart", detail: "server epoch e9" });
  });

  it("on a filtered stream jumps are normal", () => {
    const tracker = new StreamTracker(false);
    tracker.adopt("e1", 1);
    assert.equal(tracker.observe("e1", 40, true), null);
    assert.equal(tracker.hello("e1", 50), null);
    assert.equal(tracker.hello("e1", 60), null);
  });
});

describe("ConnectionStateMachine", () => {
  it("reports each change once and answers waitConnected", async () => {
    const changes: string[] = [];
    const machine = new ConnectionStateMachine((state, previous, reason) => changes.push(`${previous}->${state} (${reason})`));
    const waited = machine.waitConnected(5_000, "tcp://127.0.0.1:1");
    machine.set("connecting", "starting");
    machine.set("connecting", "again");
    machine.set("connected", "hello answered");
    await waited;
    assert.deepEqual(changes, ["disconnected->connecting (starting)", "connecting->connected (hello answered)"]);
    assert.ok(machine.usable);
  });

  it("a wait that times out names the address and the state; close fails the waiters", async () => {
    const machine = new ConnectionStateMachine(() => {});
    machine.set("connecting", "starting");
    await assert.rejects(machine.waitConnected(20, "tcp://127.0.0.1:1"), (error: unknown) => {
      return error instanceof RpcDisconnectedError && /tcp:\/\/127\.0\.0\.1:1 within 20 ms \(connecting: starting\)/.test(error.message);
    });
    const waited = machine.waitConnected(5_000, "tcp://127.0.0.1:1");
    machine.close();
    await assert.rejects(waited, RpcClosedError);
    assert.equal(machine.state as ConnectionState, "disconnected");
  });
});

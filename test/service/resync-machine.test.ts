/**
 * ResyncMachine against a scripted caller: a failed snapshot is retried with backoff until it succeeds, a
 * reconnect of the caller always leads to a new snapshot, and every outcome is a state the user sees.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import {
  RpcDisconnectedError,
  type CallResult,
  type ConnectionState,
  type RpcCaller,
  type RpcCallerEvents,
} from "../../src/rpc/index.js";
import { GatewayNotReadyError, ResyncMachine, type ResyncCause, type SyncStatus } from "../../src/service/resync.js";
import { until } from "./helpers.js";

/** Only what ResyncMachine uses: state, its events, the next attempt. */
class ScriptedCaller extends EventEmitter<RpcCallerEvents> implements RpcCaller {
  readonly address = "tcp://127.0.0.1:1";
  state: ConnectionState = "disconnected";
  readonly serverKind = "rpcservice" as const;
  readonly streamPosition = { epoch: null, seq: null };
  nextAttemptAt: number | null = null;
  start(): void {}
  waitConnected(): Promise<void> {
    return Promise.resolve();
  }
  call<T>(): Promise<T> {
    return Promise.reject(new Error("not used"));
  }
  callWithPosition<T>(): Promise<CallResult<T>> {
    return Promise.reject(new Error("not used"));
  }
  async close(): Promise<void> {}

  become(state: ConnectionState, reason = "test"): void {
    const previous = this.state;
    this.state = state;
    this.emit("state", state, previous, reason);
  }
}

function harness(snapshot: (cause: ResyncCause) => Promise<void>) {
  const caller = new ScriptedCaller();
  const statuses: SyncStatus[] = [];
  const machine = new ResyncMachine(caller, snapshot, (status) => statuses.push(status), { backoff: 10, maxBackoff: 40 });
  const states = () => statuses.map((s) => s.state);
  return { caller, machine, statuses, states };
}

describe("ResyncMachine", () => {
  it("goes connecting -> connected -> syncing -> synced on the first connection, with one snapshot", async () => {
    const causes: ResyncCause[] = [];
    const { caller, machine, states } = harness(async (cause) => void causes.push(cause));
    caller.become("connecting");
    caller.become("connected");
    caller.emit("resync", "connected", "first connection");
    await machine.ready(5_000);
    assert.deepEqual(states(), ["connecting", "connected", "syncing", "synced"]);
    assert.deepEqual(causes.map((c) => c.reason), ["connected"]);
    machine.close();
  });

  it("retries a snapshot whose calls were not sent (the server's request socket not back yet) until it succeeds", async () => {
    let attempts = 0;
    const { caller, machine, statuses, states } = harness(async () => {
      attempts++;
      if (attempts <= 3) throw new RpcDisconnectedError("get_all_contracts", "the connection to the server is down");
    });
    caller.become("connected");
    caller.emit("resync", "restart", "server epoch b");
    await machine.ready(5_000);
    assert.equal(attempts, 4);
    const stale = statuses.filter((s) => s.state === "stale");
    assert.equal(stale.length, 3, states().join(" -> "));
    for (const status of stale) {
      assert.match(status.reason, /snapshot failed: get_all_contracts\(\) not sent/);
      assert.ok(status.nextRetry !== null && status.nextRetry >= Date.now() - 1_000, "a failed snapshot says when it retries");
    }
    assert.equal(states().at(-1), "synced");
    machine.close();
  });

  it("takes a snapshot after a reconnect even when the snapshot failed while the connection was down", async () => {
    let failing = true;
    let runs = 0;
    const { caller, machine, states } = harness(async () => {
      runs++;
      if (failing) throw new RpcDisconnectedError("get_all_orders");
    });
    caller.become("connected");
    caller.emit("resync", "gap", "events 4..5 missed");
    await until(() => runs >= 1, 5_000, "first attempt");
    caller.become("disconnected", "no message from the server for 3000 ms");
    const before = runs;
    failing = false;
    // No retries while disconnected: the connection coming back runs it, with no resync request needed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(runs, before);
    caller.become("connected");
    await machine.ready(5_000);
    assert.ok(states().includes("disconnected"));
    assert.equal(states().at(-1), "synced");
    machine.close();
  });

  it("a resync asked while a snapshot runs runs another one afterwards", async () => {
    let release: (() => void) | undefined;
    const causes: string[] = [];
    const { caller, machine } = harness(async (cause) => {
      causes.push(cause.reason);
      if (causes.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    caller.become("connected");
    caller.emit("resync", "connected", "first");
    await until(() => release !== undefined, 5_000, "first snapshot running");
    caller.emit("resync", "reconnected", "subscriber socket reconnected");
    release!();
    await until(() => causes.length === 2, 5_000, "second snapshot");
    await machine.ready(5_000);
    assert.deepEqual(causes, ["connected", "reconnected"]);
    machine.close();
  });

  it("a lost connection is shown as disconnected with its reason and when the client tries again", async () => {
    const { caller, machine, statuses } = harness(async () => {});
    caller.become("connected");
    caller.emit("resync", "connected", "first");
    await machine.ready(5_000);
    caller.nextAttemptAt = Date.now() + 250;
    caller.become("disconnected", "no message from the server for 3000 ms");
    const lost = statuses.at(-1)!;
    assert.deepEqual([lost.state, lost.previous, lost.reason], ["disconnected", "synced", "no message from the server for 3000 ms"]);
    assert.equal(lost.nextRetry, caller.nextAttemptAt);
    machine.close();
  });

  it("ready() rejects with the state and the last failure when not synced in time", async () => {
    const { caller, machine } = harness(async () => {
      throw new RpcDisconnectedError("get_all_contracts");
    });
    caller.become("connected");
    caller.emit("resync", "connected", "first");
    await assert.rejects(machine.ready(200), (error: unknown) => {
      return error instanceof GatewayNotReadyError && error.state === "stale" && /get_all_contracts\(\) not sent/.test(error.message);
    });
    machine.close();
  });

  it("keeps orders open while the same run's stream resyncs, and closes them when a restart arrives mid-resync", async () => {
    const gates: (() => void)[] = [];
    const { caller, machine, statuses } = harness(() => new Promise<void>((resolve) => gates.push(resolve)));
    const open = () => statuses.map((s) => `${s.state}:${s.ordersOpen ? "open" : "closed"}`);
    caller.become("connecting");
    caller.become("connected");
    caller.emit("resync", "connected", "first connection");
    await until(() => gates.length === 1, 5_000, "first snapshot started");
    gates.shift()!();
    await machine.ready(5_000);
    // The subscriber socket reconnects late: a resync of the same run, orders stay open.
    caller.emit("resync", "reconnected", "subscriber socket reconnected");
    await until(() => gates.length === 1, 5_000, "stream resync started");
    // The hello finds a new server run while that resync is still running: orders close at once.
    caller.emit("resync", "restart", "server epoch 2");
    gates.shift()!();
    await until(() => gates.length === 1, 5_000, "restart snapshot started");
    gates.shift()!();
    await machine.ready(5_000);
    assert.deepEqual(open(), ["connecting:closed", "connected:closed", "syncing:closed", "synced:open", "syncing:open", "syncing:closed", "synced:open"]);
    // A lost link closes them too, and only the next snapshot opens them again.
    caller.become("disconnected");
    caller.become("connected");
    caller.emit("resync", "reconnected", "connection re-established");
    await until(() => gates.length === 1, 5_000, "snapshot after the reconnect");
    assert.deepEqual(open().slice(7), ["disconnected:closed", "connected:closed", "syncing:closed"]);
    gates.shift()!();
    await machine.ready(5_000);
    machine.close();
  });
});

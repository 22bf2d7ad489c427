/**
 * ConnectionStateMachine: a client's connection state, its "state" events and the waits on it, in one place
 * (nats.js keeps its status the same way, apart from the transport). Transitions are the client's to decide;
 * this only records them, reports each change once, and answers `waitConnected`.
 */
import type { ConnectionState } from "./caller.js";
import { RpcClosedError, RpcDisconnectedError } from "./errors.js";

type Listener = (state: ConnectionState, previous: ConnectionState, reason: string) => void;

export class ConnectionStateMachine {
  private current: ConnectionState = "disconnected";
  private reasonText = "not started";
  private closedFlag = false;
  private readonly waiters = new Set<{ resolve(): void; reject(error: Error): void; timer: NodeJS.Timeout }>();

  /** `emit` reports each change (the client's "state" event). */
  constructor(private readonly emit: Listener) {}

  get state(): ConnectionState {
    return this.current;
  }

  get reason(): string {
    return this.reasonText;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Whether a call may go out now ("stale" still answers, slowly). */
  get usable(): boolean {
    return this.current === "connected" || this.current === "stale";
  }

  set(state: ConnectionState, reason: string): void {
    const previous = this.current;
    if (previous === state) return;
    this.current = state;
    this.reasonText = reason;
    if (state === "connected") this.settleWaiters(null);
    this.emit(state, previous, reason);
  }

  /** Final: waiters fail, and the state becomes "disconnected" ("closed"). */
  close(): void {
    this.closedFlag = true;
    this.settleWaiters(new RpcClosedError("connect"));
    this.set("disconnected", "closed");
  }

  /** Resolves once connected; rejects with RpcDisconnectedError after `timeout` ms (naming `address`). */
  waitConnected(timeout: number, address: string): Promise<void> {
    if (this.closedFlag) return Promise.reject(new RpcClosedError("connect"));
    if (this.current === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new RpcDisconnectedError("connect", `no connection to ${address} within ${timeout} ms (${this.current}: ${this.reasonText})`));
        }, timeout),
      };
      this.waiters.add(waiter);
    });
  }

  private settleWaiters(error: Error | null): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
    this.waiters.clear();
  }
}

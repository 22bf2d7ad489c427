/**
 * ResyncMachine: when RpcGateway takes a snapshot, retries it until it succeeds, and tells the user where it stands.
 *
 * States (what `eRpcConnection` carries):
 *
 *   connecting ──> connected ──> syncing ──> synced
 *        ^                         │  ^         │ resync asked (reconnect of any socket, restart, gap)
 *        │                         │  └─────────┘
 *        │             snapshot failed: stale (reason, next_retry) ──backoff──> syncing
 *   disconnected (reason, next_retry) <── the caller lost its server, from any state
 *
 * It cannot get stuck: a resync wanted stays wanted until a snapshot succeeds after it was asked for; a failure
 * schedules a retry with backoff while connected, and any (re)connection of the caller runs it at once. Every
 * decision is taken in `kick`, called on each input (a request, a caller state change, a timer, a finished run).
 */
import { messageOf } from "../kernel/index.js";
import type { ConnectionState, ResyncReason, RpcCaller } from "../rpc/index.js";

export type SyncState = "connecting" | "connected" | "syncing" | "synced" | "stale" | "disconnected";

export interface SyncStatus {
  readonly state: SyncState;
  readonly previous: SyncState;
  readonly reason: string;
  /** When the next attempt (connection or snapshot) is due, epoch ms; null if none is scheduled. */
  readonly nextRetry: number | null;
  /**
   * Orders may be routed: synced, or resyncing the event stream of the server run last synced with (a socket
   * reconnected, a gap) while the request link is up. A new run (restart) or a lost link closes them until synced.
   */
  readonly ordersOpen: boolean;
}

export interface ResyncCause {
  readonly reason: ResyncReason | "retry";
  readonly detail: string;
}

export interface ResyncOptions {
  /** First retry delay after a failed snapshot, ms (doubles up to `maxBackoff`). */
  backoff?: number;
  maxBackoff?: number;
}

/** The gateway is not synced within the time given to `ready`, or was closed before. */
export class GatewayNotReadyError extends Error {
  readonly code = "ERR_RPC_NOT_READY";
  readonly state: SyncState;
  constructor(message: string, state: SyncState) {
    super(message);
    this.name = "GatewayNotReadyError";
    this.state = state;
  }
}

export class ResyncMachine {
  private wanted: ResyncCause | null = null;
  private running = false;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt: number | null = null;
  private lastError = "";
  private current: SyncState = "disconnected";
  private readonly backoff: number;
  private readonly maxBackoff: number;
  private readonly waiters = new Set<() => void>();
  /** The last snapshot is of the server's current run, and the link has not been lost since. */
  private runHeld = false;
  private ordersOpen = false;

  /**
   * `snapshot` takes one full snapshot (throws on failure); `report` publishes each state change.
   */
  constructor(
    private readonly caller: RpcCaller,
    private readonly snapshot: (cause: ResyncCause) => Promise<void>,
    private readonly report: (status: SyncStatus) => void,
    options: ResyncOptions = {},
  ) {
    this.backoff = options.backoff ?? 250;
    this.maxBackoff = options.maxBackoff ?? 5_000;
    caller.on("state", (state, _previous, reason) => this.onCallerState(state, reason));
    caller.on("resync", (reason, detail) => this.request({ reason, detail }));
  }

  get state(): SyncState {
    return this.current;
  }

  /** A snapshot is needed (the newest cause wins); runs now if it can. */
  request(cause: ResyncCause): void {
    if (this.closed) return;
    this.wanted = cause;
    if (cause.reason === "restart" && this.runHeld) {
      this.runHeld = false;
      if (this.current === "syncing") this.show("syncing", `${cause.reason}: ${cause.detail}`, null); // closes orders
    }
    // A new cause (e.g. a reconnect) is worth trying at once, not after a backoff meant for the last failure.
    this.clearRetry();
    this.kick();
  }

  /** Resolves once synced; rejects with GatewayNotReadyError after `timeout` ms or when closed. */
  ready(timeout: number): Promise<void> {
    if (this.current === "synced") return Promise.resolve();
    if (this.closed) return Promise.reject(new GatewayNotReadyError("the gateway was closed", this.current));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        if (this.current === "synced") resolve();
        else reject(new GatewayNotReadyError(`closed while ${this.current}`, this.current));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        const detail = this.lastError ? `; last snapshot error: ${this.lastError}` : "";
        reject(
          new GatewayNotReadyError(
            `not synced with ${this.caller.address} within ${timeout} ms (${this.current}: ${this.caller.state}${detail})`,
            this.current,
          ),
        );
      }, timeout);
      this.waiters.add(done);
    });
  }

  close(): void {
    this.closed = true;
    this.clearRetry();
    for (const waiter of [...this.waiters]) waiter();
  }

  private onCallerState(state: ConnectionState, reason: string): void {
    if (this.closed) return; // the gateway closed it: nothing more to report
    if (state !== "connected") this.runHeld = false;
    if (state === "connecting" || state === "disconnected") {
      // Whatever we hold may be out of date by the time we are back: the next connection must take a snapshot
      // even if the caller's own resync request is lost in a race.
      this.wanted ??= { reason: "reconnected", detail: reason };
      this.clearRetry();
      this.show(state, reason, state === "disconnected" ? this.caller.nextAttemptAt : null);
      return;
    }
    if (state === "stale") {
      this.show("stale", reason, null);
      return;
    }
    // connected (at first, again, or traffic resumed after stale)
    if (this.current === "stale" || this.current === "connecting" || this.current === "disconnected") {
      this.show(this.wanted ? "connected" : "synced", reason, null);
    }
    // The caller reports the connection's resync cause right after this state change: let it land first, so
    // one connection makes one snapshot, under its own cause.
    queueMicrotask(() => this.kick());
  }

  private kick(): void {
    if (this.closed || this.running || !this.wanted || this.retryTimer) return;
    if (this.caller.state !== "connected" && this.caller.state !== "stale") return; // the next connection kicks
    void this.run(this.wanted);
  }

  private async run(cause: ResyncCause): Promise<void> {
    this.running = true;
    this.wanted = null;
    this.show("syncing", `${cause.reason}: ${cause.detail}`, null);
    let failure: unknown = null;
    try {
      await this.snapshot(cause);
    } catch (error) {
      failure = error ?? new Error("snapshot failed");
    } finally {
      this.running = false;
    }
    if (this.closed) return;
    if (failure === null) {
      this.failures = 0;
      this.lastError = "";
      if (this.wanted) this.kick();
      else if (this.caller.state === "connected") this.show("synced", `${cause.reason}: ${cause.detail}`, null);
      else this.show(this.caller.state, "snapshot taken; the server is quiet", this.caller.nextAttemptAt);
      return;
    }
    this.lastError = messageOf(failure);
    this.wanted ??= { reason: "retry", detail: `after: ${this.lastError}` };
    if (this.caller.state !== "connected" && this.caller.state !== "stale") return; // the next connection retries
    const delay = Math.min(this.maxBackoff, this.backoff * 2 ** this.failures);
    this.failures++;
    this.retryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = null;
      this.kick();
    }, delay);
    this.show("stale", `snapshot failed: ${this.lastError}`, this.retryAt);
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAt = null;
  }

  private show(state: SyncState, reason: string, nextRetry: number | null): void {
    const previous = this.current;
    if (state === "synced") this.runHeld = true;
    const ordersOpen = state === "synced" || (state === "syncing" && this.runHeld);
    if (previous === state && ordersOpen === this.ordersOpen && state !== "stale" && state !== "disconnected") return;
    this.current = state;
    this.ordersOpen = ordersOpen;
    this.report({ state, previous, reason, nextRetry, ordersOpen });
    if (state === "synced") for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * CallTable: calls in flight, matched to their replies by id, each with its own deadline (nats.js keeps the same
 * job in `request.ts` + `muxsubscription.ts`). A transport only sends bodies and hands replies back by id.
 *
 * Deadlines share one timer, armed for the earliest: a timer per call (setTimeout, then clearTimeout when the reply
 * comes) and a copy of the call object with its timer cost more than the rest of a call's bookkeeping. Calls are
 * kept in one queue per timeout value, where deadlines only grow, so finding what expired never scans the calls
 * still waiting. The timeout error is built when the deadline passes (a stack capture costs ~3 µs);
 * `callerStacks` builds it at the call instead, so its stack shows the caller rather than a timer callback.
 */
import type { CallResult } from "./caller.js";
import { RpcTimeoutError } from "./errors.js";

/** One call waiting for its reply. */
export interface PendingCall {
  readonly name: string;
  readonly timeout: number;
  resolve(result: CallResult<unknown>): void;
  reject(error: Error): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  readonly call: PendingCall;
  /** performance.now() ms. */
  readonly deadline: number;
  /** Built at the call with `callerStacks`. */
  readonly error: RpcTimeoutError | undefined;
}

/** Ids of calls made with one timeout value, oldest first (their deadlines in order); replied ids are skipped lazily. */
class DeadlineQueue {
  private ids: number[] = [];
  private head = 0;

  push(id: number): void {
    this.ids.push(id);
  }

  /** The oldest id still in `live`, dropping those that are not; undefined when none is left. */
  first(live: ReadonlyMap<number, Entry>): number | undefined {
    while (this.head < this.ids.length) {
      const id = this.ids[this.head]!;
      if (live.has(id)) return id;
      this.head++;
    }
    this.ids = [];
    this.head = 0;
    return undefined;
  }

  shift(): void {
    this.head++;
    // Keep the array from growing without end under a steady stream of calls.
    if (this.head > 1024 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
  }
}

/** Arms a call's timer; `expire` runs when it fires, with the timeout error for that call. */
export function armDeadline(
  name: string,
  timeout: number,
  expire: (error: RpcTimeoutError) => void,
  callerStack = false,
): NodeJS.Timeout | undefined {
  // setTimeout fires at once past 2^31-1 ms (~24.8 days): Infinity is no deadline (as in CallTable), and so is a
  // finite one that far.
  if (timeout > MAX_TIMER_MS) return undefined;
  if (callerStack) {
    const error = new RpcTimeoutError(name, timeout);
    return setTimeout(() => expire(error), timeout);
  }
  return setTimeout(() => expire(new RpcTimeoutError(name, timeout)), timeout);
}

export interface CallTableOptions {
  /** Timeout errors carry the stack of the code that made the call (costs ~3 µs a call). Default false. */
  callerStacks?: boolean;
}

export class CallTable {
  private readonly calls = new Map<number, Entry>();
  private readonly queues = new Map<number, DeadlineQueue>();
  private nextId = 1;
  private readonly callerStacks: boolean;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(options: CallTableOptions = {}) {
    this.callerStacks = options.callerStacks === true;
  }

  get size(): number {
    return this.calls.size;
  }

  /** Registers a call and starts its deadline; returns its id (1..2^32-1, wrapping). */
  add(call: PendingCall): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    const deadline = performance.now() + call.timeout;
    this.calls.set(id, { call, deadline, error: this.callerStacks ? new RpcTimeoutError(call.name, call.timeout) : undefined });
    if (deadline === Number.POSITIVE_INFINITY) return id; // no deadline
    let queue = this.queues.get(call.timeout);
    if (queue === undefined) this.queues.set(call.timeout, (queue = new DeadlineQueue()));
    queue.push(id);
    if (deadline < this.timerAt) this.arm(deadline);
    else if (!this.timer!.hasRef()) this.timer!.ref();
    return id;
  }

  /** Removes a call (its reply came, or it could not be sent); undefined if gone already. */
  take(id: number): PendingCall | undefined {
    const entry = this.calls.get(id);
    if (!entry) return undefined;
    this.calls.delete(id);
    // The timer stays armed (re-arming it per call is what this avoids): when it fires it finds the call gone. With
    // no call left it must not hold the process open, as no per-call timer would have.
    if (this.calls.size === 0) this.timer?.unref();
    return entry.call;
  }

  /** Fails every call with the error `make` builds for it. */
  failAll(make: (name: string) => Error): void {
    const entries = [...this.calls.values()];
    this.calls.clear();
    this.queues.clear();
    this.disarm();
    for (const entry of entries) entry.call.reject(make(entry.call.name));
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    // setTimeout takes at most 2^31-1 ms (longer fires at once): a later deadline is looked at again then.
    this.timer = setTimeout(() => this.expire(), Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - performance.now()))));
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** Fails the calls whose deadline passed, then arms the timer for the earliest one left. */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const expired: Entry[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [timeout, queue] of this.queues) {
      let id = queue.first(this.calls);
      while (id !== undefined && this.calls.get(id)!.deadline <= now) {
        expired.push(this.calls.get(id)!);
        this.calls.delete(id);
        queue.shift();
        id = queue.first(this.calls);
      }
      if (id === undefined) this.queues.delete(timeout);
      else next = Math.min(next, this.calls.get(id)!.deadline);
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    for (const entry of expired) entry.call.reject(entry.error ?? new RpcTimeoutError(entry.call.name, entry.call.timeout));
  }
}

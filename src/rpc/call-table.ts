/**
 * CallTable: calls in flight, matched to their replies by id, each with its own deadline (nats.js keeps the same
 * job in `request.ts` + `muxsubscription.ts`). A transport only sends bodies and hands replies back by id.
 *
 * The timeout error is built when the deadline passes, not when the call is made: capturing a stack costs ~3 µs,
 * more than the rest of a call's bookkeeping, and the error's message already names the function and the timeout.
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

interface Entry extends PendingCall {
  timer: NodeJS.Timeout;
}

/** Arms a call's timer; `expire` runs when it fires, with the timeout error for that call. */
export function armDeadline(
  name: string,
  timeout: number,
  expire: (error: RpcTimeoutError) => void,
  callerStack = false,
): NodeJS.Timeout {
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
  private nextId = 1;
  private readonly callerStacks: boolean;

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
    const timer = armDeadline(call.name, call.timeout, (error) => {
      if (this.calls.get(id) !== entry) return;
      this.calls.delete(id);
      call.reject(error);
    }, this.callerStacks);
    const entry: Entry = { ...call, timer };
    this.calls.set(id, entry);
    return id;
  }

  /** The id the next `add` will use (for transports that write it into the body first). */
  peekId(): number {
    return this.nextId;
  }

  /** Removes a call (its reply came, or it could not be sent) and stops its deadline; undefined if gone already. */
  take(id: number): PendingCall | undefined {
    const entry = this.calls.get(id);
    if (!entry) return undefined;
    this.calls.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }

  /** Fails every call with the error `make` builds for it. */
  failAll(make: (name: string) => Error): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(make(call.name));
    }
  }
}

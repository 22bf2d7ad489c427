/**
 * LockStepQueue: one call on the wire at a time, in order, as a REQ/REP server (Python VeighNa) requires.
 *
 * A call that times out while on the wire may still be answered later; the owner's `stuck` hook replaces the
 * socket so that late reply can never be taken for the next call's. Calls waiting their turn keep their own
 * deadlines (armed when the call was made).
 */
import { armDeadline, type CallTableOptions, type PendingCall } from "./call-table.js";

interface Queued extends PendingCall {
  readonly body: Buffer;
  timer: NodeJS.Timeout | undefined;
}

export interface LockStepWire {
  /** Sends one request; rejects when the transport refused it (not sent). */
  send(body: Buffer): Promise<void>;
  /** The call on the wire timed out: make sure its late reply goes nowhere. */
  stuck(): void;
  /** The request could not be sent. */
  unsent(call: PendingCall): void;
}

export class LockStepQueue {
  private inFlight: Queued | null = null;
  private readonly waiting: Queued[] = [];

  private readonly callerStacks: boolean;

  constructor(
    private readonly wire: LockStepWire,
    options: CallTableOptions = {},
  ) {
    this.callerStacks = options.callerStacks === true;
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  enqueue(call: PendingCall, body: Buffer): void {
    // Object.assign rather than `{ ...call, body, timer }`, a slow path on Node 20's V8 (bench/call-overhead).
    const queued: Queued = Object.assign({}, call, {
      body,
      timer: armDeadline(call.name, call.timeout, (error) => this.expire(queued, error), this.callerStacks),
    });
    this.waiting.push(queued);
    this.pump();
  }

  /** The reply to the call on the wire; false if none is on the wire (a stray reply). */
  reply(deliver: (call: PendingCall) => void): boolean {
    const call = this.inFlight;
    if (!call) return false;
    this.inFlight = null;
    clearTimeout(call.timer);
    deliver(call);
    this.pump();
    return true;
  }

  /** The connection under the call on the wire went away: its reply will never come. */
  lost(make: (name: string) => Error): void {
    const call = this.inFlight;
    if (!call) return;
    this.inFlight = null;
    clearTimeout(call.timer);
    call.reject(make(call.name));
    this.pump();
  }

  /** Sends the next call if none is on the wire. */
  pump(): void {
    if (this.inFlight) return;
    const call = this.waiting.shift();
    if (!call) return;
    this.inFlight = call;
    this.wire.send(call.body).catch(() => {
      if (this.inFlight !== call) return;
      this.inFlight = null;
      clearTimeout(call.timer);
      this.wire.unsent(call);
      this.pump();
    });
  }

  failAll(make: (name: string) => Error): void {
    const calls = this.inFlight ? [this.inFlight, ...this.waiting] : [...this.waiting];
    this.inFlight = null;
    this.waiting.length = 0;
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(make(call.name));
    }
  }

  private expire(call: Queued, error: Error): void {
    if (this.inFlight === call) {
      this.inFlight = null;
      this.wire.stuck();
    } else {
      const index = this.waiting.indexOf(call);
      if (index < 0) return;
      this.waiting.splice(index, 1);
    }
    call.reject(error);
    this.pump();
  }
}

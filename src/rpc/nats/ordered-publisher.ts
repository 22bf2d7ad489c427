/**
 * Writes events into a JetStream stream exactly once and in order, through node failures and leader elections.
 *
 * Each message carries `Nats-Msg-Id` (epoch:seq) and expects the id of the one before it as the stream's last
 * (`Nats-Expected-Last-Msg-Id`). So when a publish fails (no stream leader for a moment, a timeout, the node we
 * talk to killed), every later one in flight is refused too instead of overtaking it; the publisher then sends
 * again from the first unacknowledged message. A message that was stored but whose ack got lost comes back as a
 * duplicate (the id check runs first), which counts as stored. Up to `window` messages are in flight.
 */
import type { JetStreamClient, JetStreamPublishOptions } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

export interface OrderedEntry {
  readonly subject: string;
  readonly data: string;
  readonly headers: MsgHdrs;
  readonly msgId: string;
}

export interface OrderedPublisherOptions {
  /** Messages in flight at once. */
  window?: number;
  /** Unacknowledged messages kept before the oldest are dropped (and reported). */
  maxQueued?: number;
  /** Ack timeout of one publish, ms. */
  ackTimeout?: number;
  /** Called with a reason when a round failed (rate-limited by the caller), or messages were dropped. */
  onProblem?: (message: string) => void;
}

interface Slot {
  readonly entry: OrderedEntry;
  acked: boolean;
  sent: boolean;
}

/** JetStream's "wrong last msg ID" API error code. */
const WRONG_LAST_MSG_ID = 10070;

export class OrderedPublisher {
  private readonly js: JetStreamClient;
  private readonly window: number;
  private readonly maxQueued: number;
  private readonly ackTimeout: number;
  private readonly onProblem: (message: string) => void;
  private readonly queue: Slot[] = [];
  /** The id of the last message the stream acknowledged (what the next round expects). */
  private lastAcked: string | undefined;
  private inflight = 0;
  private failed = false;
  private retryDelay = 100;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: Array<() => void> = [];
  stored = 0;
  dropped = 0;

  constructor(js: JetStreamClient, options: OrderedPublisherOptions = {}) {
    this.js = js;
    this.window = options.window ?? 256;
    this.maxQueued = options.maxQueued ?? 100_000;
    this.ackTimeout = options.ackTimeout ?? 5_000;
    this.onProblem = options.onProblem ?? (() => {});
  }

  /** Messages not yet acknowledged by the stream. */
  get backlog(): number {
    return this.queue.length;
  }

  push(entry: OrderedEntry): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueued) {
      // Never block the trading process: past the bound the oldest unsent message goes, loudly.
      const index = this.queue.findIndex((slot) => !slot.sent);
      if (index >= 0) {
        this.queue.splice(index, 1);
        this.dropped++;
        this.onProblem(`JetStream backlog full (${this.maxQueued}): dropped ${entry.subject}`);
      }
    }
    this.queue.push({ entry, acked: false, sent: false });
    this.pump();
  }

  /** Resolves when everything pushed so far is stored (or `timeout` ms passed: false). */
  drain(timeout = 10_000): Promise<boolean> {
    if (this.queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idle = this.idle.filter((f) => f !== done);
        resolve(false);
      }, timeout);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idle.push(done);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private pump(): void {
    if (this.failed || this.closed) return;
    for (let i = 0; i < this.queue.length && this.inflight < this.window; i++) {
      const slot = this.queue[i]!;
      if (slot.sent) continue;
      const previous = i === 0 ? this.lastAcked : this.queue[i - 1]!.entry.msgId;
      this.send(slot, previous);
    }
  }

  private send(slot: Slot, previous: string | undefined): void {
    slot.sent = true;
    this.inflight++;
    const options: Partial<JetStreamPublishOptions> = { msgID: slot.entry.msgId, headers: slot.entry.headers, timeout: this.ackTimeout };
    if (previous !== undefined) options.expect = { lastMsgID: previous };
    this.js.publish(slot.entry.subject, slot.entry.data, options).then(
      () => this.settled(slot, undefined),
      (error: unknown) => this.settled(slot, error),
    );
  }

  private settled(slot: Slot, error: unknown): void {
    this.inflight--;
    if (error === undefined) {
      slot.acked = true;
      this.stored++;
      this.retryDelay = 100;
    } else if (!this.failed) {
      this.failed = true;
      const code = (error as { code?: unknown; api_error?: { err_code?: unknown } }).api_error?.err_code ?? (error as { code?: unknown }).code;
      // The head refused only for its expectation, with nothing before it pending: the stream lost track of
      // our last id (recreated, or purged by an operator). Start a new chain rather than retry forever.
      if (code === WRONG_LAST_MSG_ID && this.queue[0] === slot) this.lastAcked = undefined;
      this.onProblem(`JetStream publish of ${slot.entry.subject} failed (${(error as Error).message}); resending in order`);
    }
    while (this.queue.length > 0 && this.queue[0]!.acked) this.lastAcked = this.queue.shift()!.entry.msgId;
    if (this.failed) {
      if (this.inflight > 0) return;
      // Every send of the round has settled: mark the rest for sending again, after a pause.
      for (const s of this.queue) if (!s.acked) s.sent = false;
      this.failed = false;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.pump(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 2_000);
      return;
    }
    if (this.queue.length === 0) {
      const idle = this.idle;
      this.idle = [];
      for (const done of idle) done();
    }
    this.pump();
  }
}

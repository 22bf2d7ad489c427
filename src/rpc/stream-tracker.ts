/**
 * StreamTracker: where the server's event stream stands for this client (epoch of the server run, seq of the
 * last event), and what a new event or hello says about it: nothing, a restart (new epoch) or a gap.
 *
 * `contiguous` streams number every event this client should see (ZeroMQ: every event is broadcast), so a jump
 * is a loss. A filtered stream (WebSocket with a subscription filter) skips numbers by design: only the epoch is
 * checked there, and the server itself replays what a reconnect missed.
 */
import type { ResyncReason } from "./caller.js";

export interface StreamVerdict {
  readonly reason: Extract<ResyncReason, "restart" | "gap">;
  readonly detail: string;
}

export class StreamTracker {
  private epochValue: string | null = null;
  private seqValue: number | null = null;
  /** The seq the previous hello reported: events up to it should have arrived by the next hello. */
  private helloSeq: number | null = null;

  constructor(private readonly contiguous: boolean) {}

  get position(): { epoch: string | null; seq: number | null } {
    return { epoch: this.epochValue, seq: this.seqValue };
  }

  get epoch(): string | null {
    return this.epochValue;
  }

  /** Takes a position as the new baseline (a hello, a subscribe reply): the next event should carry seq + 1. */
  adopt(epoch: string, seq: number): void {
    this.epochValue = epoch;
    this.seqValue = seq;
    this.helloSeq = null;
  }

  /** An event the owner skipped undecoded: it still counts one. */
  skipped(): void {
    if (this.seqValue !== null) this.seqValue++;
  }

  /**
   * A decoded event. `estimated`: the count since the last decoded event includes skipped ones, so a seq below it
   * is the truth rather than a duplicate.
   */
  observe(epoch: string, seq: number, estimated = false): StreamVerdict | null {
    if (this.epochValue !== null && epoch !== this.epochValue) {
      this.adopt(epoch, seq);
      return { reason: "restart", detail: `server epoch ${epoch}` };
    }
    if (this.epochValue === null || this.seqValue === null) {
      this.adopt(epoch, seq);
      return null;
    }
    const last = this.seqValue;
    this.seqValue = estimated ? seq : Math.max(last, seq);
    if (this.contiguous && seq > last + 1) return { reason: "gap", detail: `events ${last + 1}..${seq - 1} missed` };
    return null;
  }

  /** A hello's report of the server's position: a restart, or a tail of the stream that never arrived. */
  hello(epoch: string, seq: number): StreamVerdict | null {
    if (this.epochValue !== null && epoch !== this.epochValue) {
      this.adopt(epoch, seq);
      return { reason: "restart", detail: `server epoch ${epoch}` };
    }
    if (this.epochValue === null) {
      this.adopt(epoch, seq);
      return null;
    }
    const previous = this.helloSeq;
    this.helloSeq = seq;
    const have = this.seqValue ?? 0;
    if (this.contiguous && previous !== null && have < previous) {
      this.seqValue = seq;
      return { reason: "gap", detail: `${previous - have} event(s) before seq ${previous} never arrived` };
    }
    return null;
  }
}

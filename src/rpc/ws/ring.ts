/**
 * The last N published events, so a client that reconnects can resume from its last sequence number.
 * Memory is bounded in events (the capacity) and in bytes of JSON held (`maxBytes`: the oldest go first); each
 * event's JSON is made at most once, by whoever needs it first.
 */
import type { PublishedEvent } from "../endpoint.js";
import { eventToJson } from "./json-wire.js";

export class PublishedEntry {
  readonly published: PublishedEvent;
  private json: Buffer | undefined;
  private onEncoded: ((size: number) => void) | undefined;

  constructor(published: PublishedEvent, onEncoded?: (size: number) => void) {
    this.published = published;
    this.onEncoded = onEncoded;
  }

  /** Left the ring: its size no longer counts there. */
  detach(): void {
    this.onEncoded = undefined;
  }

  /** Bytes of JSON this entry holds (0 until encoded). */
  get size(): number {
    return this.json?.length ?? 0;
  }

  /** The event's wire text, encoded once and shared by every client it goes to. */
  bytes(): Buffer {
    if (this.json === undefined) {
      const { seq, epoch, event } = this.published;
      this.json = Buffer.from(eventToJson(seq, epoch, event));
      this.onEncoded?.(this.json.length);
    }
    return this.json;
  }
}

export type ReplayAnswer =
  | { readonly ok: true; readonly entries: PublishedEntry[] }
  | { readonly ok: false; readonly reason: string };

export class EventRing {
  readonly capacity: number;
  readonly maxBytes: number;
  private readonly slots: (PublishedEntry | undefined)[];
  private next = 0;
  private size = 0;
  private heldBytes = 0;
  private epochValue = "";
  private lastSeqValue = 0;
  private readonly encoded = (size: number): void => {
    this.heldBytes += size;
  };

  constructor(capacity: number, maxBytes: number = 64 << 20) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    if (!(maxBytes > 0)) throw new RangeError(`ring maxBytes must be positive, got ${maxBytes}`);
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.slots = new Array<PublishedEntry | undefined>(capacity);
  }

  /** Bytes of JSON the ring holds. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Events held. */
  get length(): number {
    return this.size;
  }

  get epoch(): string {
    return this.epochValue;
  }

  /** The last sequence number seen (0 before the first event of an epoch). */
  get lastSeq(): number {
    return this.lastSeqValue;
  }

  /** The oldest sequence number still held, or lastSeq + 1 when empty. */
  get firstSeq(): number {
    if (this.size === 0) return this.lastSeqValue + 1;
    return this.slots[(this.next - this.size + this.capacity) % this.capacity]!.published.seq;
  }

  push(published: PublishedEvent): PublishedEntry {
    if (published.epoch !== this.epochValue) {
      // A new server run: the old events belong to another numbering and can never be resumed from.
      for (const slot of this.slots) slot?.detach();
      this.slots.fill(undefined);
      this.size = 0;
      this.heldBytes = 0;
      this.epochValue = published.epoch;
    }
    // Over the byte bound (JSON made since the last push): the oldest go, as if the ring were smaller.
    while (this.heldBytes > this.maxBytes && this.size > 0) this.dropOldest();
    if (this.size === this.capacity) this.dropOldest();
    const entry = new PublishedEntry(published, this.encoded);
    this.slots[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.size++;
    this.lastSeqValue = published.seq;
    return entry;
  }

  private dropOldest(): void {
    const index = (this.next - this.size + this.capacity) % this.capacity;
    const oldest = this.slots[index];
    this.slots[index] = undefined;
    this.size--;
    if (oldest) {
      this.heldBytes -= oldest.size;
      oldest.detach();
    }
  }

  /** The events after `seq` of `epoch`, or why they cannot be replayed (the client must then resnapshot). */
  since(epoch: string, seq: number): ReplayAnswer {
    if (epoch !== this.epochValue) return { ok: false, reason: `epoch changed (server restarted): now ${JSON.stringify(this.epochValue)}` };
    if (seq > this.lastSeqValue) return { ok: false, reason: `seq ${seq} is ahead of the server (${this.lastSeqValue})` };
    if (seq + 1 < this.firstSeq) return { ok: false, reason: `too far behind: events after ${seq} are gone (oldest kept: ${this.firstSeq})` };
    const entries: PublishedEntry[] = [];
    for (let i = 0; i < this.size; i++) {
      const entry = this.slots[(this.next - this.size + i + this.capacity) % this.capacity]!;
      if (entry.published.seq > seq) entries.push(entry);
    }
    return { ok: true, entries };
  }
}

/**
 * A per-peer send backlog bounded in messages and bytes, where a message given a conflation key replaces an unsent
 * older one with the same key: the older one is dropped and the latest goes to the end, so messages still leave in
 * the order they were published (a gap, never a reordering). Messages without a key are never replaced or dropped
 * here: when they would break the bound, `push` says so and the owner cuts the peer.
 *
 * Generic on purpose: the publisher knows nothing of ticks; its caller chooses which messages may be conflated.
 */

export interface BacklogLimits {
  readonly messages: number;
  readonly bytes: number;
}

interface Entry {
  /** null once replaced by a newer message with the same key (skipped when its turn comes). */
  frames: readonly Buffer[] | null;
  bytes: number;
  key: string | undefined;
  /** When it was queued (performance.now()), for the lag. */
  at: number;
}

export type PushResult = "queued" | "conflated" | "dropped" | "overflow";

export class SendBacklog {
  private entries: (Entry | undefined)[] = [];
  private head = 0;
  private readonly byKey = new Map<string, Entry>();
  private bytesValue = 0;
  private countValue = 0;
  /** Replaced entries still in `entries`. */
  private dead = 0;

  constructor(private readonly limits: BacklogLimits) {}

  get length(): number {
    return this.countValue;
  }

  get bytes(): number {
    return this.bytesValue;
  }

  /**
   * "queued"; "conflated" (replaced an older message with the same key); "dropped" (a keyed message with no older
   * one to replace and no room: market data past the bound); "overflow" (an unkeyed message with no room: the
   * owner must cut the peer rather than grow or lose it).
   */
  push(frames: readonly Buffer[], key: string | undefined): PushResult {
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    const older = key === undefined ? undefined : this.byKey.get(key);
    if (older) {
      // The latest replaces it: the old one leaves the count now, its slot when its turn comes.
      older.frames = null;
      this.countValue--;
      this.bytesValue -= older.bytes;
      this.dead++;
    } else if (this.countValue + 1 > this.limits.messages || this.bytesValue + bytes > this.limits.bytes) {
      return key === undefined ? "overflow" : "dropped";
    }
    const entry: Entry = { frames, bytes, key, at: performance.now() };
    this.entries.push(entry);
    if (key !== undefined) this.byKey.set(key, entry);
    this.countValue++;
    this.bytesValue += bytes;
    if (this.dead > 1024 && this.dead > this.countValue) this.compact();
    return older ? "conflated" : "queued";
  }

  /** Drops replaced entries from the array (a stalled peer's ticks would otherwise pile up as dead slots). */
  private compact(): void {
    this.entries = this.entries.slice(this.head).filter((entry) => entry !== undefined && entry.frames !== null);
    this.head = 0;
    this.dead = 0;
  }

  /** How long the oldest message still queued has waited (ms); 0 when empty. */
  oldestAge(now: number = performance.now()): number {
    if (this.countValue === 0) return 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i];
      if (entry !== undefined && entry.frames !== null) return now - entry.at;
    }
    return 0;
  }

  /** Takes the oldest message, or undefined when empty. */
  shift(): readonly Buffer[] | undefined {
    if (this.countValue === 0) return undefined;
    let entry = this.entries[this.head]!;
    this.entries[this.head++] = undefined;
    while (entry.frames === null) {
      this.dead--;
      entry = this.entries[this.head]!;
      this.entries[this.head++] = undefined;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (entry.key !== undefined && this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key);
    this.countValue--;
    this.bytesValue -= entry.bytes;
    if (this.countValue === 0) {
      this.entries = [];
      this.head = 0;
      this.dead = 0;
    }
    return entry.frames;
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.dead = 0;
    this.byKey.clear();
    this.countValue = 0;
    this.bytesValue = 0;
  }
}

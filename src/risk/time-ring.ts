/**
 * The last `capacity` event times, in a fixed ring: enough to answer "have `capacity` events happened within the
 * last T ms?" (a sliding window) without allocating per event.
 */
export class TimeRing {
  private times: Float64Array;
  /** Where the next time goes; once full, also the oldest one. */
  private head = 0;
  private size = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(Math.max(1, capacity));
  }

  get capacity(): number {
    return this.times.length;
  }

  push(time: number): void {
    this.times[this.head] = time;
    this.head = (this.head + 1) % this.times.length;
    if (this.size < this.times.length) this.size++;
  }

  /** True when `capacity` events happened at or after `since` (windowless: when `capacity` events happened at all). */
  isFullSince(since: number): boolean {
    return this.size === this.times.length && this.times[this.head]! >= since;
  }

  /** Events at or after `since` (at most `capacity`). */
  countSince(since: number): number {
    let count = 0;
    for (let i = 0; i < this.size; i++) {
      const index = (this.head - 1 - i + this.times.length) % this.times.length;
      if (this.times[index]! < since) break; // newest first: everything further back is older
      count++;
    }
    return count;
  }

  /** The newest time, or -Infinity when empty. */
  newest(): number {
    return this.size === 0 ? Number.NEGATIVE_INFINITY : this.times[(this.head - 1 + this.times.length) % this.times.length]!;
  }

  /** Changes the capacity, keeping the newest times that fit. */
  resize(capacity: number): void {
    const keep = Math.min(this.size, Math.max(1, capacity));
    const next = new Float64Array(Math.max(1, capacity));
    for (let i = 0; i < keep; i++) next[keep - 1 - i] = this.times[(this.head - 1 - i + this.times.length) % this.times.length]!;
    this.times = next;
    this.size = keep;
    this.head = keep % next.length;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}

/**
 * Fair turns for long calls (history queries): at most `concurrency` run at once, and when more wait, the next to
 * start is taken from the clients in turn (round robin), never by arrival. One client with 10,000 queued queries
 * thus waits behind itself, while another client's query starts at the next free slot. Each start is its own
 * event-loop turn, so reading other clients' calls and sending replies go on between them.
 *
 * The queue is bounded by the call gate: a queued call counts as in flight for its client, and a call over the
 * client's in-flight limit is refused at once; nothing here ever grows without that bound.
 */

interface Waiting {
  start(): void;
}

export class FairQueue {
  private running = 0;
  /** Client -> its waiting calls in order; the Map's order is the round robin (a served client moves to the back). */
  private readonly waiting = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(private readonly concurrency: number) {}

  /** Calls waiting for a slot, all clients together. */
  get queued(): number {
    let count = 0;
    for (const list of this.waiting.values()) count += list.length;
    return count;
  }

  /**
   * Runs `task` for `client` when a slot is free and it is the client's turn. `stillWanted` is asked right before
   * it starts (a call whose caller has gone or whose deadline passed while waiting throws instead of running).
   */
  run<T>(client: string, task: () => T | Promise<T>, stillWanted: () => void = () => undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        let result: Promise<T>;
        try {
          stillWanted();
          result = Promise.resolve(task());
        } catch (error) {
          result = Promise.reject(error);
        }
        result
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.schedule();
          });
      };
      if (this.running < this.concurrency && this.waiting.size === 0) {
        start();
        return;
      }
      const list = this.waiting.get(client);
      if (list) list.push({ start });
      else this.waiting.set(client, [{ start }]);
      this.schedule();
    });
  }

  /** Starts waiting calls on the next turn (not inside the microtasks of the call that just ended). */
  private schedule(): void {
    if (this.scheduled || this.waiting.size === 0 || this.running >= this.concurrency) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startWaiting();
    });
  }

  private startWaiting(): void {
    while (this.running < this.concurrency && this.waiting.size > 0) {
      const [client, list] = this.waiting.entries().next().value as [string, Waiting[]];
      const next = list.shift()!;
      this.waiting.delete(client);
      if (list.length > 0) this.waiting.set(client, list); // to the back of the round
      next.start();
    }
  }
}

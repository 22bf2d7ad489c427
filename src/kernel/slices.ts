/**
 * Long work in slices, shared: tasks that would each hold the event loop for tens of milliseconds (a history query's
 * bars, the encoding of its reply) are generators doing a little per step; a scheduler runs the steps of all its
 * tasks in turn, at most `budgetMs` per event-loop turn all tasks together, then lets I/O and everyone else's calls
 * run. Per task slices would not do: with four tasks yielding after 1 ms each, a turn still holds 4 ms of them.
 */

interface Task {
  readonly steps: Iterator<unknown, unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class SliceScheduler {
  private readonly tasks: Task[] = [];
  private scheduled = false;

  /** `budgetMs`: work per event-loop turn, all tasks together (at least one step a turn; 0: exactly one). */
  constructor(readonly budgetMs = 1) {}

  /** Tasks not finished yet. */
  get pending(): number {
    return this.tasks.length;
  }

  /** Runs `steps` to its end (its return value), from the next turn on, a step at a time in turn with the others. */
  run<T>(steps: Iterator<unknown, T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push({ steps, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.tasks.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  private turn(): void {
    const deadline = performance.now() + this.budgetMs;
    do {
      const task = this.tasks.shift()!;
      let next: IteratorResult<unknown, unknown>;
      try {
        next = task.steps.next();
      } catch (error) {
        task.reject(error);
        continue;
      }
      if (next.done) task.resolve(next.value);
      else this.tasks.push(task); // to the back: round robin
    } while (this.tasks.length > 0 && performance.now() < deadline);
    this.schedule();
  }
}

/** The process's one scheduler for heavy work: everything sliced shares its 1 ms a turn. */
export const heavyWork = new SliceScheduler(1);

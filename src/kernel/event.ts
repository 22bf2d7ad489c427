/**
 * The event engine: one queue, handlers by event type, a timer event every interval.
 *
 * Node is single-threaded, so `put` is safe from anywhere (a socket callback, a timer, another handler).
 * Events are processed in batches on `setImmediate`, never one promise or timer per event: every broadcast
 * of the server passes through here.
 */

export const EVENT_TIMER = "eTimer";

export class Event<T = unknown> {
  type: string;
  data: T;

  constructor(type: string, data: T = null as T) {
    this.type = type;
    this.data = data;
  }
}

export type EventHandler = (event: Event) => void;

/** Called when a handler throws; the engine goes on with the next handler. */
export type HandlerErrorListener = (error: unknown, event: Event, handler: EventHandler) => void;

export interface EventEngineOptions {
  /** Seconds between timer events (VeighNa: 1). */
  interval?: number;
  /** Events processed per turn of the Node event loop before yielding to I/O. */
  batchSize?: number;
}

export class EventEngine {
  readonly interval: number;
  private readonly batchSize: number;
  private readonly handlers = new Map<string, EventHandler[]>();
  private generalHandlers: EventHandler[] = [];
  private queue: Event[] = [];
  private head = 0;
  private active = false;
  private drainScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private errorListener: HandlerErrorListener = (error, event) => {
    console.error(`event handler failed on ${event.type}:`, error);
  };
  private processedCount = 0;

  constructor(options: EventEngineOptions = {}) {
    this.interval = options.interval ?? 1;
    this.batchSize = options.batchSize ?? 10_000;
    if (!(this.interval > 0)) throw new RangeError(`interval must be > 0, got ${this.interval}`);
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Events processed since construction. */
  get processed(): number {
    return this.processedCount;
  }

  /** Events waiting in the queue. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.timer = setInterval(() => this.put(new Event(EVENT_TIMER)), this.interval * 1000);
    this.timer.unref();
    this.scheduleDrain();
  }

  /** Stops the timer and processing; events already queued are processed first. */
  stop(): void {
    if (!this.active) return;
    this.drain(Number.POSITIVE_INFINITY);
    this.active = false;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  put(event: Event): void {
    this.queue.push(event);
    this.scheduleDrain();
  }

  /** Registers a handler for one event type; registering the same handler twice has no effect. */
  register(type: string, handler: EventHandler): void {
    // Handler lists are copied on write, so processing can iterate them without a defensive copy.
    const list = this.handlers.get(type) ?? [];
    if (!list.includes(handler)) this.handlers.set(type, [...list, handler]);
  }

  unregister(type: string, handler: EventHandler): void {
    const list = this.handlers.get(type);
    if (!list) return;
    const rest = list.filter((h) => h !== handler);
    if (rest.length === 0) this.handlers.delete(type);
    else this.handlers.set(type, rest);
  }

  /** Registers a handler for every event type; it runs after the type's own handlers. */
  registerGeneral(handler: EventHandler): void {
    if (!this.generalHandlers.includes(handler)) this.generalHandlers = [...this.generalHandlers, handler];
  }

  unregisterGeneral(handler: EventHandler): void {
    this.generalHandlers = this.generalHandlers.filter((h) => h !== handler);
  }

  onHandlerError(listener: HandlerErrorListener): void {
    this.errorListener = listener;
  }

  /** Processes everything queued now, synchronously (tests and shutdown). */
  flush(): void {
    this.drain(Number.POSITIVE_INFINITY);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || !this.active) return;
    this.drainScheduled = true;
    setImmediate(this.drainTurn);
  }

  private readonly drainTurn = (): void => {
    this.drainScheduled = false;
    if (!this.active) return;
    this.drain(this.batchSize);
    if (this.pending > 0) this.scheduleDrain();
  };

  private drain(limit: number): void {
    let count = 0;
    while (this.head < this.queue.length && count < limit) {
      const event = this.queue[this.head]!;
      this.queue[this.head] = undefined as unknown as Event;
      this.head++;
      count++;
      this.process(event);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 65_536 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private process(event: Event): void {
    this.processedCount++;
    const list = this.handlers.get(event.type);
    if (list) for (let i = 0; i < list.length; i++) this.call(list[i]!, event);
    const general = this.generalHandlers;
    for (let i = 0; i < general.length; i++) this.call(general[i]!, event);
  }

  private call(handler: EventHandler, event: Event): void {
    try {
      handler(event);
    } catch (error) {
      try {
        this.errorListener(error, event, handler);
      } catch {
        // A failing error listener must not stop the engine either.
      }
    }
  }
}

/**
 * The event engine: one queue, handlers by event type, a timer event every interval.
 *
 * Node is single-threaded, so `put` is safe from anywhere (a socket callback, a timer, another handler).
 * A `put` never runs a handler inside its caller: events are processed in batches on `setImmediate` (never one
 * promise or timer per event: every broadcast of the server passes through here), so the caller's promise chain
 * goes on first: `const id = await gateway.sendOrder(req)` registers its `eOrder.<id>` handler before the order's
 * first event is handled. Market data is handed over with `deliver` instead (a gateway's `onTick`, RpcGateway's
 * reads): when nothing else waits, its handlers run as soon as the gateway's call returns, so of ten ticks parsed
 * from one read the first is handled (and published) before the second is parsed.
 *
 * The queue is bounded for market data: past `conflateAbove` waiting events, a tick replaces the unsent tick of
 * the same event type and symbol (a trader wants the latest price, not a backlog of stale ones). Orders, trades,
 * positions, accounts and logs are never replaced or dropped; when they alone fill the queue past `maxQueued`, the
 * engine reports itself overloaded so the edges shed load (refuse new subscriptions) instead of growing.
 */

import type { EventMap } from "./event-types.js";

export const EVENT_TIMER = "eTimer";
/** Slots an emptied queue keeps for the next events; a larger one (after a burst) is let go. */
const MAX_KEPT_QUEUE = 4096;
/** Longest one drain turn runs before yielding to I/O: a call's reply or SIGTERM never waits behind a whole batch. */
const TURN_BUDGET_MS = 20;
/** Events between two looks at the clock in a drain (a power of two). */
const BUDGET_CHECK_EVERY = 256;
/** Kept here (not imported from event-types) to avoid an import cycle; it is EVENT_TICK. */
const TICK_PREFIX = "eTick.";

/**
 * Market data: events a consumer may miss without losing anything (the next one supersedes them), so queues may
 * conflate them and the RPC stream does not number them. Ticks, generic (`eTick.`) and specific twins alike.
 */
export function isMarketDataType(type: string): boolean {
  return type.startsWith(TICK_PREFIX);
}

/**
 * The conflation key of market data: event type + vt_symbol for ticks (`eTick.` and its `eTick.<vt_symbol>` twin
 * each get their own), undefined for everything that must be delivered whole.
 */
export function marketDataKey(event: Event): string | undefined {
  if (!isMarketDataType(event.type)) return undefined;
  const symbol = (event.data as { vt_symbol?: unknown } | null)?.vt_symbol;
  return typeof symbol === "string" ? `${event.type}|${symbol}` : undefined;
}

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
  /** Waiting events past which a tick replaces the waiting tick of its type and symbol. Default 10,000. */
  conflateAbove?: number;
  /** Waiting events past which the engine reports overload (nothing is dropped). Default 200,000. */
  maxQueued?: number;
}

/** Called when the engine enters overload (true) and when it has caught up again (false). */
export type OverloadListener = (overloaded: boolean, pending: number) => void;

export class EventEngine {
  readonly interval: number;
  private readonly batchSize: number;
  private readonly handlers = new Map<string, EventHandler[]>();
  private generalHandlers: EventHandler[] = [];
  /**
   * Waiting events are queue[head, tail). The array is kept when it empties (head and tail go back to 0, its slots
   * already cleared): a fresh array per drain cost every tick ~190 bytes of garbage, as each deliver empties it.
   */
  private queue: (Event | undefined)[] = [];
  private head = 0;
  private tail = 0;
  private active = false;
  private drainScheduled = false;
  /** A drain is running (a handler may be putting events), or a `deliver` source is. */
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private errorListener: HandlerErrorListener = (error, event) => {
    console.error(`event handler failed on ${event.type}:`, error);
  };
  private processedCount = 0;
  private conflatedCount = 0;
  private readonly conflateAbove: number;
  private readonly maxQueued: number;
  /** Waiting events from which ticks' positions are tracked (half of conflateAbove). */
  private readonly trackAbove: number;
  /** Conflation key -> absolute position (dequeued + index) of the waiting tick with that key. */
  private readonly waitingTicks = new Map<string, number>();
  /** Events taken off the queue since construction: absolute position = dequeued + (index - head). */
  private dequeued = 0;
  private overloadedValue = false;
  private overloadListeners: OverloadListener[] = [];

  constructor(options: EventEngineOptions = {}) {
    this.interval = options.interval ?? 1;
    this.batchSize = options.batchSize ?? 10_000;
    this.conflateAbove = options.conflateAbove ?? 10_000;
    this.maxQueued = options.maxQueued ?? 200_000;
    this.trackAbove = Math.floor(this.conflateAbove / 2);
    if (!(this.interval > 0)) throw new RangeError(`interval must be > 0, got ${this.interval}`);
    if (!(this.conflateAbove >= 0 && this.maxQueued >= 1)) throw new RangeError("conflateAbove must be >= 0 and maxQueued >= 1");
  }

  /** Ticks replaced, unprocessed, by a newer tick of the same type and symbol. */
  get conflated(): number {
    return this.conflatedCount;
  }

  /** True while more than `maxQueued` events wait: the edges should refuse new load. */
  get overloaded(): boolean {
    return this.overloadedValue;
  }

  onOverload(listener: OverloadListener): void {
    this.overloadListeners = [...this.overloadListeners, listener];
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
    return this.tail - this.head;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.timer = setInterval(() => this.put(new Event(EVENT_TIMER)), this.interval * 1000);
    this.timer.unref();
    this.scheduleDrain();
  }

  /**
   * Stops the timer and processing; events already queued are processed first, for at most `budgetMs` (a
   * shutdown under overload must not take seconds). Returns how many were left unprocessed.
   */
  stop(budgetMs: number = Number.POSITIVE_INFINITY): number {
    if (!this.active) return 0;
    this.drain(Number.POSITIVE_INFINITY, budgetMs);
    const left = this.pending;
    this.queue = [];
    this.head = 0;
    this.tail = 0;
    this.waitingTicks.clear();
    this.active = false;
    clearInterval(this.timer);
    this.timer = undefined;
    return left;
  }

  put(event: Event): void {
    // Where each symbol's tick waits is only tracked once the queue is half way to conflating: a short queue (the
    // normal case) costs no key and no map update per tick. Positions recorded before the queue last ran short
    // may be older than an untracked tick since, so they are forgotten (replacing one would reorder the two).
    if (this.pending >= this.trackAbove) {
      const key = marketDataKey(event);
      if (key !== undefined) {
        const at = this.waitingTicks.get(key);
        if (at !== undefined && this.pending >= this.conflateAbove) {
          this.queue[at - this.dequeued + this.head] = event;
          this.conflatedCount++;
          return;
        }
        this.waitingTicks.set(key, this.dequeued + this.pending);
      }
    } else if (this.waitingTicks.size > 0) this.waitingTicks.clear();
    this.queue[this.tail++] = event;
    if (!this.overloadedValue && this.pending > this.maxQueued) this.setOverloaded(true);
    this.scheduleDrain();
  }

  /**
   * Runs `source`, a callback that puts events (a gateway handing over a tick, or applying one message it read),
   * then processes them right away instead of at the end of the turn: of ten ticks in one socket read, the first
   * reaches its handlers before the second is decoded. No handler runs inside `source`, events are handled in
   * order, one handler at a time. It is a plain call (the events wait for the scheduled drain, as with `put`) inside
   * a handler or another `deliver`, and when events already wait: those go first, and they may be an order's
   * events that a `sendOrder` put before its caller has gone on to register for them.
   */
  deliver<T>(source: () => T): T;
  /** The same, for a source taking one argument: a method bound once, rather than a closure per tick. */
  deliver<T, A>(source: (arg: A) => T, arg: A): T;
  deliver<T, A>(source: (arg?: A) => T, arg?: A): T {
    if (this.busy || this.pending > 0) return source(arg);
    this.busy = true;
    try {
      return source(arg);
    } finally {
      this.busy = false;
      if (this.active && this.pending > 0) this.drainTurn();
    }
  }

  private setOverloaded(overloaded: boolean): void {
    this.overloadedValue = overloaded;
    for (const listener of this.overloadListeners) {
      try {
        listener(overloaded, this.pending);
      } catch {
        // A listener must not break put().
      }
    }
  }

  /**
   * Registers a handler for one event type; registering the same handler twice has no effect. For a type of
   * EventMap the handler sees its data class (`register(EVENT_LOG, (e) => e.data.msg)`); any other type, e.g. a
   * specific twin "eTick.rb2501.SHFE", gets unknown data.
   */
  register<K extends keyof EventMap>(type: K, handler: (event: Event<EventMap[K]>) => void): void;
  register(type: string, handler: EventHandler): void;
  register(type: string, handler: EventHandler): void {
    // Handler lists are copied on write, so processing can iterate them without a defensive copy.
    const list = this.handlers.get(type) ?? [];
    if (!list.includes(handler)) this.handlers.set(type, [...list, handler]);
  }

  unregister<K extends keyof EventMap>(type: K, handler: (event: Event<EventMap[K]>) => void): void;
  unregister(type: string, handler: EventHandler): void;
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
    if (this.drainScheduled || this.busy || !this.active) return;
    this.drainScheduled = true;
    setImmediate(this.drainTurn);
  }

  private readonly drainTurn = (): void => {
    this.drainScheduled = false;
    if (!this.active) return;
    this.drain(this.batchSize, TURN_BUDGET_MS);
    if (this.pending > 0) this.scheduleDrain();
  };

  private drain(limit: number, budgetMs = Number.POSITIVE_INFINITY): void {
    const outer = this.busy;
    this.busy = true;
    try {
      this.drainQueue(limit, budgetMs);
    } finally {
      this.busy = outer;
    }
  }

  private drainQueue(limit: number, budgetMs: number): void {
    let count = 0;
    // The clock is read only when the budget can matter: at once when a batch waits, else (a deliver's drain, a
    // tick's two events: no clock read) at the 256th event, when the handlers' own events have made it a batch.
    const timed = budgetMs !== Number.POSITIVE_INFINITY;
    let deadline = timed && this.pending >= BUDGET_CHECK_EVERY ? performance.now() + budgetMs : Number.POSITIVE_INFINITY;
    while (this.head < this.tail && count < limit) {
      // Every 256 events, give I/O (calls, signals) its turn once the budget is spent.
      if ((count & (BUDGET_CHECK_EVERY - 1)) === BUDGET_CHECK_EVERY - 1 && timed) {
        const now = performance.now();
        if (deadline === Number.POSITIVE_INFINITY) deadline = now + budgetMs;
        else if (now > deadline) break;
      }
      const event = this.queue[this.head]!;
      this.queue[this.head] = undefined;
      const position = this.dequeued;
      this.head++;
      this.dequeued++;
      count++;
      if (this.waitingTicks.size > 0) {
        const key = marketDataKey(event);
        if (key !== undefined && this.waitingTicks.get(key) === position) this.waitingTicks.delete(key);
      }
      this.process(event);
    }
    if (this.overloadedValue && this.pending <= this.maxQueued / 2) this.setOverloaded(false);
    if (this.head === this.tail) {
      // Emptied: start again at 0 in the same array, unless a burst left it large.
      if (this.queue.length > MAX_KEPT_QUEUE) this.queue = [];
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 65_536 && this.head * 2 > this.tail) {
      this.queue = this.queue.slice(this.head, this.tail);
      this.tail -= this.head;
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

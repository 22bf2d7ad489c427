import { EventEmitter } from "node:events";

/** Event name -> listener argument tuple. */
export type EventMap = { [event: string]: unknown[] };

/** A small typed facade over EventEmitter so listeners get checked argument types. */
export class TypedEmitter<Events extends EventMap> {
  private readonly emitter = new EventEmitter();

  on<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<E extends keyof Events & string>(event: E, ...args: Events[E]): boolean {
    return this.emitter.emit(event, ...args);
  }

  /** For generic base classes whose event map TypeScript cannot narrow; callers keep the types honest. */
  protected emitUntyped(event: string, ...args: unknown[]): boolean {
    return this.emitter.emit(event, ...args);
  }

  protected listenerCount(event: keyof Events & string): number {
    return this.emitter.listenerCount(event);
  }
}

/**
 * The page's connection to the console endpoint (`/console`): calls with ids, one server-side filtered
 * subscription, reconnect with resume; when a resume is refused the page reloads its snapshot.
 */
import type { Hello, SubscribeResult, WireError, WireEvent } from "./protocol";

export class CallFailed extends Error {
  readonly code: string;
  constructor(error: WireError) {
    super(error.message);
    this.name = "CallFailed";
    this.code = error.code;
  }
}

export type LinkState = "connecting" | "online" | "offline" | "refused";

export interface SocketHandlers {
  /** Connected (first time or again); `snapshotNeeded` is false only when the missed events were replayed. */
  ready(hello: Hello, snapshotNeeded: boolean): void;
  event(event: WireEvent): void;
  state(state: LinkState, detail: string): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: number;
}

export class ConsoleSocket {
  private readonly url: string;
  private readonly handlers: SocketHandlers;
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private types: string[] = [];
  private position: { epoch: string; seq: number } | undefined;
  private delay = 500;

  constructor(url: string, handlers: SocketHandlers) {
    this.url = url;
    this.handlers = handlers;
  }

  open(): void {
    this.handlers.state("connecting", this.url.replace(/token=[^&]+/, "token=…"));
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let greeted = false;
    ws.onmessage = (message) => {
      const data = JSON.parse(message.data as string) as Record<string, unknown>;
      if ("hello" in data) {
        greeted = true;
        this.delay = 500;
        void this.greet(data.hello as Hello);
      } else if ("seq" in data) {
        const event = data as unknown as WireEvent;
        this.position = { epoch: event.epoch, seq: event.seq };
        this.handlers.event(event);
      } else if (typeof data.id === "number") {
        const call = this.pending.get(data.id);
        if (!call) return;
        this.pending.delete(data.id);
        clearTimeout(call.timer);
        if (data.ok) call.resolve(data.result);
        else call.reject(new CallFailed(data.error as WireError));
      }
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      for (const call of this.pending.values()) {
        clearTimeout(call.timer);
        call.reject(new Error("connection lost"));
      }
      this.pending.clear();
      // Refused before the hello (wrong token, endpoint stopped): the browser hides the HTTP status.
      const detail = close.reason || (greeted ? `closed (${close.code})` : "refused: check the token in the URL");
      this.handlers.state(greeted ? "offline" : "refused", detail);
      window.setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 5_000);
    };
  }

  call<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("not connected"));
    const id = this.nextId++;
    ws.send(JSON.stringify({ id, call: name, args }));
    return new Promise<T>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${name} timed out`));
      }, 30_000);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  /** Replaces the server-side filter: exact event types ("eTick.rb2501.SHFE" for one symbol's ticks). */
  async subscribe(types: string[]): Promise<SubscribeResult> {
    this.types = types;
    return this.request({ types });
  }

  private request(subscribe: Record<string, unknown>): Promise<SubscribeResult> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("not connected"));
    const id = this.nextId++;
    ws.send(JSON.stringify({ id, subscribe }));
    return new Promise<SubscribeResult>((resolve, reject) => {
      const timer = window.setTimeout(() => reject(new Error("subscribe timed out")), 30_000);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  private async greet(hello: Hello): Promise<void> {
    let snapshotNeeded = true;
    if (this.types.length > 0) {
      const resume = this.position && this.position.epoch === hello.epoch ? { resume: this.position } : {};
      const result = await this.request({ types: this.types, ...resume });
      snapshotNeeded = result.resumed !== true;
    }
    this.handlers.state("online", hello.client_id);
    this.handlers.ready(hello, snapshotNeeded);
  }
}

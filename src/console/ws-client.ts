/**
 * A client of the native WebSocket endpoint for Node (RpcClient/RpcGateway use it for ws:// addresses):
 * calls with ids and timeouts, a server-side filtered subscription, and automatic reconnect that resumes
 * the event stream from the last position, or says when a fresh snapshot is needed.
 */
import { WebSocket } from "ws";
import { Event } from "../kernel/index.js";
import { WsCallError } from "./errors.js";
import { fromWire, toWire } from "./wire/json-wire.js";
import type { EventMessage, HelloMessage, ReplyMessage, SubscribeResult } from "./wire/protocol.js";

export type WsClientState = "connecting" | "connected" | "disconnected" | "closed";

export interface WsRpcClientOptions {
  /** ws://host:port/path of the endpoint. */
  url: string;
  /** Sent as `Authorization: Bearer` when the server requires one. */
  token?: string;
  /** Default per-call timeout; default 30 s (VeighNa's). */
  callTimeoutMs?: number;
  /** Reconnect after a lost connection, with backoff up to 5 s; default true. */
  reconnect?: boolean;
  /** Every event received, already decoded to kernel objects. */
  onEvent?: (event: Event, seq: number, epoch: string) => void;
  /** Connection state changes; after a reconnect `resynced` tells whether the gap was replayed. */
  onState?: (state: WsClientState, detail: { resumed?: boolean; reason?: string; clientId?: string }) => void;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class WsRpcClient {
  private readonly options: WsRpcClientOptions;
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private subscription: { types: string[]; symbols: string[] | null } | undefined;
  private epoch = "";
  private seq = 0;
  private stateValue: WsClientState = "disconnected";
  private clientIdValue = "";
  private reconnectDelay = 500;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private wantOpen = false;

  constructor(options: WsRpcClientOptions) {
    if (!/^wss?:\/\//.test(options.url)) throw new RangeError(`not a ws:// or wss:// address: ${options.url}`);
    this.options = options;
  }

  get state(): WsClientState {
    return this.stateValue;
  }

  /** The id the server gave this connection ("ws:3"). */
  get clientId(): string {
    return this.clientIdValue;
  }

  /** The last stream position seen: where a resume starts. */
  get position(): { epoch: string; seq: number } {
    return { epoch: this.epoch, seq: this.seq };
  }

  /** Connects and waits for the server's hello; rejects if the first connection fails. */
  async connect(): Promise<void> {
    this.wantOpen = true;
    try {
      await this.open();
    } catch (error) {
      // A first connection that fails is the caller's error to handle, not something to retry behind its back.
      this.wantOpen = false;
      clearTimeout(this.reconnectTimer);
      throw error;
    }
  }

  /** Calls a server function; results come back as kernel objects. */
  call(name: string, args: readonly unknown[] = [], kwargs: Readonly<Record<string, unknown>> = {}, timeoutMs = this.options.callTimeoutMs ?? 30_000): Promise<unknown> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return Promise.reject(new WsCallError("NOT_CONNECTED", `not connected to ${this.options.url}`));
    const id = this.nextId++;
    const text = JSON.stringify({ id, call: name, args: toWire(args), kwargs: toWire(kwargs) });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WsCallError("TIMEOUT", `${name} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(text);
    });
  }

  /** Sets the server-side filter (replacing the previous one); kept and re-sent, with resume, after reconnects. */
  async subscribe(types: string[], symbols: string[] | null = null): Promise<SubscribeResult> {
    this.subscription = { types, symbols };
    return this.sendSubscribe(false);
  }

  async close(): Promise<void> {
    this.wantOpen = false;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.failPending(new WsCallError("CLOSED", "client closed"));
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000, "client closed");
        setTimeout(() => socket.terminate(), 1_000).unref();
      });
    }
    this.setState("closed", {});
  }

  private setState(state: WsClientState, detail: { resumed?: boolean; reason?: string; clientId?: string }): void {
    this.stateValue = state;
    this.options.onState?.(state, detail);
  }

  private open(): Promise<void> {
    this.setState("connecting", {});
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const socket = new WebSocket(this.options.url, { headers, perMessageDeflate: false });
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      let greeted = false;
      socket.on("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => {
          const error = new WsCallError(`HTTP_${res.statusCode}`, `${this.options.url} refused: ${res.statusCode} ${body.trim()}`);
          socket.terminate();
          if (!greeted) reject(error);
        });
      });
      socket.on("error", (error) => {
        if (!greeted) reject(new WsCallError("CONNECT_FAILED", `cannot connect to ${this.options.url}: ${error.message}`));
      });
      socket.on("message", (data) => {
        const message = JSON.parse(data.toString()) as HelloMessage | ReplyMessage | EventMessage;
        if ("hello" in message) {
          greeted = true;
          this.clientIdValue = message.hello.client_id;
          this.reconnectDelay = 500;
          void this.afterHello(message).then(resolve, reject);
        } else if ("seq" in message) {
          this.epoch = message.epoch;
          this.seq = message.seq;
          this.options.onEvent?.(new Event(message.type, fromWire(message.data)), message.seq, message.epoch);
        } else if (typeof message.id === "number") {
          this.settle(message);
        }
      });
      socket.on("close", (code, reason) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.failPending(new WsCallError("DISCONNECTED", `connection closed: ${code} ${reason.toString()}`));
        if (!greeted) reject(new WsCallError("CONNECT_FAILED", `connection closed before hello: ${code} ${reason.toString()}`));
        if (this.wantOpen) {
          this.setState("disconnected", { reason: `${code} ${reason.toString()}` });
          if (this.options.reconnect ?? true) this.scheduleReconnect();
        }
      });
    });
  }

  private async afterHello(hello: HelloMessage): Promise<void> {
    if (!this.subscription) {
      this.epoch = hello.hello.epoch;
      this.seq = hello.hello.seq;
      this.setState("connected", { clientId: this.clientIdValue });
      return;
    }
    const result = await this.sendSubscribe(true);
    this.setState("connected", { clientId: this.clientIdValue, resumed: result.resumed ?? false, ...(result.reason ? { reason: result.reason } : {}) });
  }

  private async sendSubscribe(resume: boolean): Promise<SubscribeResult> {
    const socket = this.socket;
    const subscription = this.subscription!;
    if (!socket || socket.readyState !== WebSocket.OPEN) throw new WsCallError("NOT_CONNECTED", `not connected to ${this.options.url}`);
    const id = this.nextId++;
    const body: Record<string, unknown> = { types: subscription.types, symbols: subscription.symbols };
    if (resume && this.epoch !== "") body.resume = { epoch: this.epoch, seq: this.seq };
    const result = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WsCallError("TIMEOUT", "subscribe timed out"));
      }, this.options.callTimeoutMs ?? 30_000);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ id, subscribe: body }));
    });
    const answer = result as SubscribeResult;
    // Without a replay, the stream starts here: events before this point are the snapshot's business.
    if (answer.resumed !== true) {
      this.epoch = answer.epoch;
      this.seq = answer.seq;
    }
    return answer;
  }

  private settle(reply: ReplyMessage): void {
    const call = this.pending.get(reply.id as number);
    if (!call) return;
    this.pending.delete(reply.id as number);
    clearTimeout(call.timer);
    if (reply.ok) call.resolve(fromWire(reply.result));
    else call.reject(new WsCallError(reply.error.code, reply.error.message));
  }

  private failPending(error: Error): void {
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.pending.clear();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.wantOpen) return;
      this.open().catch(() => this.scheduleReconnect());
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, 5_000);
  }
}

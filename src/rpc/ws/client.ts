/**
 * WsRpcClient: the RPC client over the native WebSocket endpoint, with RpcClient's surface (`start`, `state`,
 * `call`, `callWithPosition`, and the "state" / "event" / "resync" / "warning" events), so RpcGateway and any
 * RpcClient user take a ws:// address as they take tcp:// ones.
 *
 * Calls carry ids and run concurrently; the subscription is filtered at the server; after a lost connection it
 * reconnects with backoff and resumes the event stream from the last event seen. "resync" asks the owner for
 * a fresh snapshot: after the first connect, and after a reconnect whose gap the server could not replay.
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { WebSocket } from "ws";
import { Event } from "../../kernel/index.js";
import type { CallOptions, CallResult, ConnectionState, ResyncReason, RpcClientEvents, ServerKind } from "../client.js";
import { WsCallError } from "./errors.js";
import { encodeJson, fromWire } from "./json-wire.js";
import type { EventMessage, HelloMessage, ReplyMessage, SubscribeResult } from "./protocol.js";

export const DEFAULT_WS_CALL_TIMEOUT = 30_000;

export interface WsRpcClientOptions {
  /** ws://host:port/path of the endpoint, e.g. "ws://127.0.0.1:8080/ws". */
  url: string;
  /** Sent as `Authorization: Bearer` when the server requires one. */
  token?: string;
  /** Default per-call timeout, ms (VeighNa: 30 000). */
  timeout?: number;
  /** Event types to receive; default every generic type ("*"). */
  types?: string[];
  /** Only events of these vt_symbols (events without one pass); default all. */
  symbols?: string[] | null;
  /** Reconnect after a lost connection, with backoff up to 5 s; default true. */
  reconnect?: boolean;
  /** Shown in logs; default "<host>:<pid>". */
  name?: string;
}

interface Pending {
  resolve(result: CallResult<unknown>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class WsRpcClient extends EventEmitter<RpcClientEvents> {
  readonly url: string;
  readonly name: string;
  private readonly options: WsRpcClientOptions;
  private readonly defaultTimeout: number;
  private socket: WebSocket | undefined;
  private currentState: ConnectionState = "disconnected";
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private types: string[];
  private symbols: string[] | null;
  private epoch: string | null = null;
  private seq: number | null = null;
  private clientIdValue = "";
  private everConnected = false;
  private started = false;
  private closed = false;
  private delay = 250;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(options: WsRpcClientOptions) {
    super();
    if (!/^wss?:\/\/./.test(options.url)) throw new RangeError(`not a ws:// or wss:// address: ${options.url}`);
    const timeout = options.timeout ?? DEFAULT_WS_CALL_TIMEOUT;
    if (!(timeout > 0)) throw new RangeError(`timeout must be > 0 ms, got ${timeout}`);
    this.options = options;
    this.url = options.url;
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.defaultTimeout = timeout;
    this.types = options.types ?? ["*"];
    this.symbols = options.symbols ?? null;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get serverKind(): ServerKind | null {
    return this.everConnected ? "rpcservice" : null;
  }

  /** The id the server gave this connection ("ws:3"). */
  get clientId(): string {
    return this.clientIdValue;
  }

  /** The last stream position seen: where a resume starts. */
  get streamPosition(): { epoch: string | null; seq: number | null } {
    return { epoch: this.epoch, seq: this.seq };
  }

  /** Starts connecting (and reconnecting) in the background; progress comes as "state" events. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.open();
  }

  /** Resolves once connected (starting if needed), rejects after `timeout` ms. */
  waitConnected(timeout = this.defaultTimeout): Promise<void> {
    this.start();
    if (this.currentState === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("state", onState);
        reject(new WsCallError("TIMEOUT", `not connected to ${this.url} within ${timeout} ms`));
      }, timeout);
      const onState = (state: ConnectionState) => {
        if (state !== "connected") return;
        clearTimeout(timer);
        this.off("state", onState);
        resolve();
      };
      this.on("state", onState);
    });
  }

  /** Replaces the server-side filter; kept, and resumed, across reconnects. */
  async subscribe(types: string[], symbols: string[] | null = null): Promise<SubscribeResult> {
    this.types = types;
    this.symbols = symbols;
    return this.sendSubscribe(false);
  }

  async call<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<T> {
    return (await this.callWithPosition<T>(name, args, options)).value;
  }

  /**
   * A call and where the stream stood when its reply arrived. Replies and events share one ordered channel,
   * so every event after this position is newer than the state in the result.
   */
  async callWithPosition<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<CallResult<T>> {
    const body = `{"id":${this.nextId},"call":${JSON.stringify(name)},"args":${encodeJson(args)},"kwargs":${encodeJson(options.kwargs ?? {})}}`;
    return (await this.request(body, options.timeout ?? this.defaultTimeout, name)) as CallResult<T>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.failPending("CLOSED", "client closed");
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000, "client closed");
        setTimeout(() => socket.terminate(), 1_000).unref();
      });
    }
    this.setState("disconnected", "closed");
  }

  private request(body: string, timeout: number, what: string): Promise<CallResult<unknown>> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || this.currentState !== "connected" && !what.startsWith("$")) {
      return Promise.reject(new WsCallError("NOT_CONNECTED", `${what}: not connected to ${this.url}`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WsCallError("TIMEOUT", `${what} timed out after ${timeout} ms`));
      }, timeout);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(body);
    });
  }

  private sendSubscribe(resume: boolean): Promise<SubscribeResult> {
    const subscribe: Record<string, unknown> = { types: this.types, symbols: this.symbols };
    if (resume && this.epoch !== null && this.seq !== null) subscribe.resume = { epoch: this.epoch, seq: this.seq };
    const body = JSON.stringify({ id: this.nextId, subscribe });
    // "$" marks the handshake's own request: it may run before the state says connected.
    return this.request(body, this.defaultTimeout, "$subscribe").then((reply) => reply.value as SubscribeResult);
  }

  private setState(state: ConnectionState, reason: string): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    this.emit("state", state, previous, reason);
  }

  private open(): void {
    if (this.closed) return;
    this.setState("connecting", this.url);
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const socket = new WebSocket(this.url, { headers, perMessageDeflate: false });
    this.socket = socket;
    socket.on("unexpected-response", (_req, res) => {
      // Refused before the WebSocket existed (401 token, 403 origin, 503 stopped): say why, then retry.
      this.emit("warning", `${this.url} refused the connection: HTTP ${res.statusCode}`);
      socket.terminate();
    });
    // Followed by "close", which retries; kept as the reason ("connect ECONNREFUSED …" says more than 1006).
    let failure = "";
    socket.on("error", (error) => (failure = error.message));
    socket.on("message", (data) => this.receive(socket, data.toString()));
    socket.on("close", (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.failPending("DISCONNECTED", `connection closed: ${code} ${reason.toString()}`);
      if (this.closed) return;
      this.setState("disconnected", failure || `${code} ${reason.toString()}`.trim());
      if (this.options.reconnect ?? true) this.retry();
    });
  }

  private retry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), this.delay);
    this.retryTimer.unref();
    this.delay = Math.min(this.delay * 2, 5_000);
  }

  private receive(socket: WebSocket, text: string): void {
    let message: HelloMessage | ReplyMessage | EventMessage;
    try {
      message = JSON.parse(text) as HelloMessage | ReplyMessage | EventMessage;
    } catch {
      this.emit("warning", `undecodable message from ${this.url}`);
      return;
    }
    if (message === null || typeof message !== "object") {
      this.emit("warning", `unexpected message from ${this.url}: ${text.slice(0, 80)}`);
      return;
    }
    if ("hello" in message) {
      void this.greet(socket, message);
    } else if ("seq" in message) {
      this.epoch = message.epoch;
      this.seq = message.seq;
      let data: unknown;
      try {
        data = fromWire(message.data);
      } catch (error) {
        this.emit("warning", `event ${message.type} #${message.seq} could not be decoded: ${(error as Error).message}`);
        return;
      }
      this.emit("event", { event: new Event(message.type, data), seq: message.seq, epoch: message.epoch });
    } else if (typeof message.id === "number") {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      clearTimeout(call.timer);
      // The position is read now, not when the caller resumes: events that came in the same read are already
      // counted by then, and a snapshot would wrongly claim to cover them (RpcGateway would drop them).
      const position = this.epoch !== null && this.seq !== null ? { epoch: this.epoch, seq: this.seq } : null;
      if (!message.ok) {
        call.reject(new WsCallError(message.error.code, message.error.message));
        return;
      }
      // A result we cannot decode fails this call alone, never the socket's message handler.
      let value: unknown;
      try {
        value = fromWire(message.result);
      } catch (error) {
        call.reject(new WsCallError("DECODE", `the reply could not be decoded: ${(error as Error).message}`));
        return;
      }
      call.resolve({ value, position });
    } else if ("ok" in message && !message.ok) {
      this.emit("warning", `${this.url}: ${message.error.code} ${message.error.message}`);
    }
  }

  /** Subscribes again (resuming when there is a position), then reports connected and, if needed, resync. */
  private async greet(socket: WebSocket, hello: HelloMessage): Promise<void> {
    this.clientIdValue = hello.hello.client_id;
    const previousEpoch = this.epoch;
    let result: SubscribeResult;
    try {
      result = await this.sendSubscribe(this.everConnected);
    } catch (error) {
      this.emit("warning", `subscribe failed: ${(error as Error).message}`);
      socket.terminate();
      return;
    }
    this.delay = 250;
    const first = !this.everConnected;
    this.everConnected = true;
    // Events that followed the subscribe reply in the same read are already counted: never step back over them.
    if (result.resumed !== true && (this.epoch !== result.epoch || this.seq === null || this.seq < result.seq)) {
      this.epoch = result.epoch;
      this.seq = result.seq;
    }
    this.setState("connected", hello.hello.client_id);
    if (first) this.emit("resync", "connected", `connected to ${this.url}`);
    else if (result.resumed !== true) {
      const reason: ResyncReason = previousEpoch !== null && previousEpoch !== result.epoch ? "restart" : "reconnected";
      this.emit("resync", reason, result.reason ?? "reconnected");
    }
  }

  private failPending(code: string, message: string): void {
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(new WsCallError(code, message));
    }
    this.pending.clear();
  }
}

/**
 * WsRpcClient: the RPC client over the native WebSocket endpoint, an RpcCaller (../caller.ts) like RpcClient, built
 * from the same parts (CallTable, StreamTracker, ConnectionStateMachine) and failing with the same errors, so
 * RpcGateway and any other RpcCaller user take a ws:// address as they take tcp:// ones.
 *
 * Calls carry ids and run concurrently; the subscription is filtered at the server; after a lost connection it
 * reconnects with backoff and resumes the event stream from the last event seen. "resync" asks the owner for
 * a fresh snapshot: after the first connect, and after a reconnect whose gap the server could not replay.
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { WebSocket } from "ws";
import { Event, messageOf } from "../../kernel/index.js";
import { CallTable } from "../call-table.js";
import type { CallOptions, CallResult, ConnectionState, ResyncReason, RpcCaller, RpcCallerEvents, ServerKind } from "../caller.js";
import { ConnectionStateMachine } from "../connection-state.js";
import { RemoteError, RpcClosedError, RpcConnectionLostError, RpcDisconnectedError, RpcError } from "../errors.js";
import { StreamTracker } from "../stream-tracker.js";
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

export class WsRpcClient extends EventEmitter<RpcCallerEvents> implements RpcCaller {
  readonly url: string;
  readonly name: string;
  private readonly options: WsRpcClientOptions;
  private readonly defaultTimeout: number;
  private socket: WebSocket | undefined;
  private readonly connection = new ConnectionStateMachine((state, previous, reason) => this.emit("state", state, previous, reason));
  private readonly calls = new CallTable();
  private types: string[];
  private symbols: string[] | null;
  /** Filtered at the server: seq numbers skip by design, and a reconnect resumes the stream there. */
  private readonly stream = new StreamTracker(false);
  private clientIdValue = "";
  private everConnected = false;
  private started = false;
  private delay = 250;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt: number | null = null;

  constructor(options: WsRpcClientOptions) {
    super();
    if (!/^wss?:\/\/./.test(options.url)) throw new RpcError("ERR_RPC_OPTIONS", `not a ws:// or wss:// address: ${options.url}`);
    const timeout = options.timeout ?? DEFAULT_WS_CALL_TIMEOUT;
    if (!(timeout > 0)) throw new RpcError("ERR_RPC_OPTIONS", `timeout must be > 0 ms, got ${timeout}`);
    this.options = options;
    this.url = options.url;
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.defaultTimeout = timeout;
    this.types = options.types ?? ["*"];
    this.symbols = options.symbols ?? null;
  }

  get address(): string {
    return this.url;
  }

  get state(): ConnectionState {
    return this.connection.state;
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
    return this.stream.position;
  }

  get nextAttemptAt(): number | null {
    return this.connection.usable ? null : this.retryAt;
  }

  /** Starts connecting (and reconnecting) in the background; progress comes as "state" events. */
  start(): void {
    if (this.started || this.connection.closed) return;
    this.started = true;
    this.open();
  }

  /** Resolves once connected (starting if needed), rejects after `timeout` ms. */
  waitConnected(timeout = this.defaultTimeout): Promise<void> {
    this.start();
    return this.connection.waitConnected(timeout, this.url);
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
  callWithPosition<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<CallResult<T>> {
    const timeout = options.timeout ?? this.defaultTimeout;
    if (!(timeout > 0)) return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `timeout must be > 0 ms, got ${timeout}`));
    let encoded: string;
    try {
      encoded = `"call":${JSON.stringify(name)},"args":${encodeJson(args)},"kwargs":${encodeJson(options.kwargs ?? {})}`;
    } catch (error) {
      return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `cannot encode the arguments of ${name}(): ${messageOf(error)}`, { cause: error }));
    }
    return this.request(name, (id) => `{"id":${id},${encoded}}`, timeout, false) as Promise<CallResult<T>>;
  }

  async close(): Promise<void> {
    if (this.connection.closed) return;
    clearTimeout(this.retryTimer);
    this.retryAt = null;
    const socket = this.socket;
    this.socket = undefined;
    this.calls.failAll((name) => new RpcClosedError(name));
    this.connection.close();
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000, "client closed");
        setTimeout(() => socket.terminate(), 1_000).unref();
      });
    }
  }

  /** `handshake`: the connection's own subscribe, which may go out before the state says connected. */
  private request(name: string, body: (id: number) => string, timeout: number, handshake: boolean): Promise<CallResult<unknown>> {
    if (this.connection.closed) return Promise.reject(new RpcClosedError(name));
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || (!handshake && !this.connection.usable)) {
      return Promise.reject(new RpcDisconnectedError(name, `not connected to ${this.url}`));
    }
    return new Promise((resolve, reject) => {
      const id = this.calls.add({ name, timeout, resolve, reject });
      socket.send(body(id));
    });
  }

  private sendSubscribe(resume: boolean): Promise<SubscribeResult> {
    const subscribe: Record<string, unknown> = { types: this.types, symbols: this.symbols };
    const { epoch, seq } = this.stream.position;
    if (resume && epoch !== null && seq !== null) subscribe.resume = { epoch, seq };
    const text = JSON.stringify(subscribe);
    return this.request("subscribe", (id) => `{"id":${id},"subscribe":${text}}`, this.defaultTimeout, true).then(
      (reply) => reply.value as SubscribeResult,
    );
  }

  private open(): void {
    if (this.connection.closed) return;
    this.retryAt = null;
    this.connection.set("connecting", this.url);
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
      const why = failure || `${code} ${reason.toString()}`.trim();
      this.calls.failAll((name) => new RpcConnectionLostError(name, `the connection to ${this.url} closed (${why})`));
      if (this.connection.closed) return;
      // The retry first, so the state's listeners already see when it is due.
      if (this.options.reconnect ?? true) this.retry();
      this.connection.set("disconnected", why);
    });
  }

  private retry(): void {
    clearTimeout(this.retryTimer);
    this.retryAt = Date.now() + this.delay;
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
      // A new epoch on an event follows a reconnect, which `greet` reports; here the position only moves on.
      this.stream.observe(message.epoch, message.seq, true);
      let data: unknown;
      try {
        data = fromWire(message.data);
      } catch (error) {
        this.emit("warning", `event ${message.type} #${message.seq} could not be decoded: ${(error as Error).message}`);
        return;
      }
      this.emit("event", { event: new Event(message.type, data), seq: message.seq, epoch: message.epoch });
    } else if (typeof message.id === "number") {
      const call = this.calls.take(message.id);
      if (!call) return;
      // The position is read now, not when the caller resumes: events that came in the same read are already
      // counted by then, and a snapshot would wrongly claim to cover them (RpcGateway would drop them).
      const { epoch, seq } = this.stream.position;
      const position = epoch !== null && seq !== null ? { epoch, seq } : null;
      if (!message.ok) {
        call.reject(new RemoteError(message.error.message, message.error.code));
        return;
      }
      // A result we cannot decode fails this call alone, never the socket's message handler.
      let value: unknown;
      try {
        value = fromWire(message.result);
      } catch (error) {
        call.reject(new RpcError("ERR_RPC_REMOTE", `undecodable reply to ${call.name}(): ${(error as Error).message}`, { cause: error }));
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
    const previousEpoch = this.stream.epoch;
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
    const { epoch, seq } = this.stream.position;
    if (result.resumed !== true && (epoch !== result.epoch || seq === null || seq < result.seq)) {
      this.stream.adopt(result.epoch, result.seq);
    }
    this.connection.set("connected", hello.hello.client_id);
    if (first) this.emit("resync", "connected", `connected to ${this.url}`);
    else if (result.resumed !== true) {
      const reason: ResyncReason = previousEpoch !== null && previousEpoch !== result.epoch ? "restart" : "reconnected";
      this.emit("resync", reason, result.reason ?? "reconnected");
    }
  }
}

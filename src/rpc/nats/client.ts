/**
 * NatsRpcClient: the RPC client over a NATS cluster, with RpcClient's surface (`start`, `state`, `call`,
 * `callWithPosition`, `waitConnected`, `close`; "state" / "event" / "resync" / "warning" events), so RpcGateway
 * and any RpcClient user take a nats:// address as they take tcp:// and ws:// ones.
 *
 * - Calls are NATS requests to `rpcservice.<server>.call.<function>` (JSON wire of rpc/ws), with the timeout sent
 *   along so the server never starts a call after it. Nothing is sent while disconnected.
 * - Ticks cross the network only for the symbols asked for: a `subscribe` call through this client (or
 *   `watchSymbols`) adds that symbol's subject; `ticks: "all"` takes every one.
 * - Orders, trades, positions, accounts and logs come from the server's JetStream stream through an ordered
 *   consumer: after a failover or a reconnect it resumes after the last stream sequence it delivered, so nothing
 *   in the stream is missed and no snapshot is needed. A hole in the stream's sequence (the gap was older than
 *   the stream keeps) asks for a snapshot ("resync" "gap"). `history: "all"` replays what the stream keeps first.
 * - State: connected = the cluster connection is up and the server answered its hello; "stale" while the server
 *   does not answer (the bus is fine, the trading process is not); "disconnected" while no node is reachable.
 *   A new server epoch (a restarted server) asks for a snapshot ("restart").
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import {
  connect,
  headers as natsHeaders,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  type Msg,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import { Event, EVENT_CONTRACT, EVENT_QUOTE, EVENT_TICK } from "../../kernel/index.js";
import type { StreamPosition } from "../endpoint.js";
import { RemoteError, RpcDisconnectedError, RpcError, RpcTimeoutError, messageOf } from "../errors.js";
import type { CallOptions, CallResult, ConnectionState, ResyncReason, RpcClientEvents, ServerKind } from "../client.js";
import { encodeJson, fromWire } from "../ws/json-wire.js";
import { natsConnectionOptions, parseNatsServers, type NatsAuthOptions } from "./connection.js";
import { PERSISTED_EVENT_TYPES } from "./endpoint.js";
import {
  HEADER_CLIENT,
  HEADER_EPOCH,
  HEADER_SEQ,
  HEADER_TIMEOUT,
  assertServerName,
  callSubject,
  eventSubject,
  helloSubject,
  serverPrefix,
  streamName,
  unescapeToken,
} from "./subjects.js";

export const DEFAULT_NATS_CALL_TIMEOUT = 30_000;

export interface NatsRpcClientOptions extends NatsAuthOptions {
  /** nats:// URLs of the cluster (a list or comma-separated). */
  servers: string | readonly string[];
  /** The rpcservice server's name on the bus (`serve --nats-name`). */
  server: string;
  /** Default per-call timeout, ms. */
  timeout?: number;
  /** Declared to the server (not authenticated) and used as the NATS connection name; default "<host>:<pid>". */
  name?: string;
  /** "subscribed" (default): ticks of the symbols subscribed through this client only; "all": every tick. */
  ticks?: "subscribed" | "all";
  /** Symbols whose ticks to receive from the start. */
  symbols?: readonly string[];
  /**
   * Where the stream of orders, trades, positions, accounts and logs starts for this client: "new" (default;
   * a snapshot covers the past), "all" (everything the stream keeps: the day's orders and trades), or after a
   * stream sequence (resuming a previous run).
   */
  history?: "new" | "all" | { afterStreamSeq: number };
  /** How often the server is asked whether it is there, ms; default 5 000. */
  probeInterval?: number;
}

interface HelloReply {
  readonly epoch: string;
  readonly seq: number;
  readonly server: string;
}

interface Pending {
  readonly name: string;
  reject(error: Error): void;
}

const ESCAPED_PERSISTED = new Set(PERSISTED_EVENT_TYPES);

export class NatsRpcClient extends EventEmitter<RpcClientEvents> {
  readonly servers: readonly string[];
  readonly server: string;
  readonly name: string;
  private readonly options: NatsRpcClientOptions;
  private readonly defaultTimeout: number;
  private readonly probeInterval: number;
  private nc: NatsConnection | null = null;
  private currentState: ConnectionState = "disconnected";
  private started = false;
  private closed = false;
  private everConnected = false;
  private readonly pending = new Set<Pending>();
  private readonly tickSubs = new Map<string, Subscription>();
  private readonly watched = new Set<string>();
  private messages: ConsumerMessages | null = null;
  private serverEpoch: string | null = null;
  private readonly checkedEpochs = new Set<string>();
  private lastEpoch: string | null = null;
  private lastSeq: number | null = null;
  private lastStreamSeq: number | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 250;
  private nextAttempt: number | null = null;
  private probing = false;
  private streamWarning = "";

  constructor(options: NatsRpcClientOptions) {
    super();
    this.servers = parseNatsServers(options.servers);
    this.server = assertServerName(options.server);
    const timeout = options.timeout ?? DEFAULT_NATS_CALL_TIMEOUT;
    if (!(timeout > 0)) throw new RangeError(`timeout must be > 0 ms, got ${timeout}`);
    this.defaultTimeout = timeout;
    this.probeInterval = options.probeInterval ?? 5_000;
    if (!(this.probeInterval > 0)) throw new RangeError(`probeInterval must be > 0 ms, got ${this.probeInterval}`);
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.options = options;
    for (const symbol of options.symbols ?? []) this.watched.add(symbol);
  }

  /** For log lines: the cluster and the server name. */
  get address(): string {
    return `${this.servers.join(",")} (${this.server})`;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get serverKind(): ServerKind | null {
    return this.everConnected ? "rpcservice" : null;
  }

  /** The last stream position seen: the server's seq and epoch of the latest event. */
  get streamPosition(): { epoch: string | null; seq: number | null } {
    return { epoch: this.lastEpoch, seq: this.lastSeq };
  }

  /** The JetStream sequence of the last persisted event delivered: pass it as `history` to resume in a later run. */
  get lastStreamSequence(): number | null {
    return this.lastStreamSeq;
  }

  get nextAttemptAt(): number | null {
    return this.currentState === "disconnected" && !this.closed ? this.nextAttempt : null;
  }

  /** The NATS node this client is connected to now ("127.0.0.1:4222"). */
  get connectedServer(): string | undefined {
    return this.nc?.getServer() || undefined;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    void this.open();
  }

  waitConnected(timeout = this.defaultTimeout): Promise<void> {
    this.start();
    if (this.currentState === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("state", onState);
        reject(new RpcDisconnectedError("waitConnected", `not connected to ${this.address} within ${timeout} ms`));
      }, timeout);
      const onState = (state: ConnectionState): void => {
        if (state !== "connected") return;
        clearTimeout(timer);
        this.off("state", onState);
        resolve();
      };
      this.on("state", onState);
    });
  }

  /** Receive ticks of these symbols too (the cluster sends only subscribed symbols' ticks). */
  watchSymbols(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      this.watched.add(symbol);
      this.subscribeTicks(symbol);
    }
  }

  /** Stop receiving ticks of these symbols. */
  unwatchSymbols(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      this.watched.delete(symbol);
      this.tickSubs.get(symbol)?.unsubscribe();
      this.tickSubs.delete(symbol);
    }
  }

  async call<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<T> {
    return (await this.callWithPosition<T>(name, args, options)).value;
  }

  async callWithPosition<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<CallResult<T>> {
    const timeout = options.timeout ?? this.defaultTimeout;
    const timeoutError = new RpcTimeoutError(name, timeout); // made here, so its stack shows the caller
    if (this.closed) throw new RpcError("ERR_RPC_CLOSED", `${name}() not sent: the client was closed`);
    const nc = this.nc;
    if (!nc || (this.currentState !== "connected" && this.currentState !== "stale")) {
      throw new RpcDisconnectedError(name, `not connected to ${this.address}`);
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new RpcError("ERR_RPC_OPTIONS", `not a function name: ${JSON.stringify(name)}`);
    // Ticks of a symbol are asked for before the server starts sending them, so the first one is not missed.
    if (name === "subscribe") this.watchFromRequest(args[0]);
    let body: string;
    try {
      body = `{"args":${encodeJson(args)},"kwargs":${encodeJson(options.kwargs ?? {})}}`;
    } catch (error) {
      throw new RpcError("ERR_RPC_OPTIONS", `${name}(): arguments cannot be encoded: ${messageOf(error)}`);
    }
    const headers = natsHeaders();
    headers.set(HEADER_TIMEOUT, String(timeout));
    headers.set(HEADER_CLIENT, this.name);
    let reply: Msg;
    let settle!: Pending;
    const lost = new Promise<never>((_resolve, reject) => {
      settle = { name, reject };
    });
    this.pending.add(settle);
    try {
      reply = await Promise.race([nc.request(callSubject(this.server, name), body, { timeout, headers }), lost]);
    } catch (error) {
      throw this.requestError(name, error, timeoutError);
    } finally {
      this.pending.delete(settle);
    }
    return this.decodeReply<T>(name, reply, timeoutError);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    clearTimeout(this.retryTimer);
    for (const call of this.pending) call.reject(new RpcError("ERR_RPC_CLOSED", `${call.name}(): the client was closed`));
    this.pending.clear();
    const nc = this.nc;
    this.nc = null;
    await this.messages?.close().catch(() => undefined);
    this.messages = null;
    await nc?.close().catch(() => undefined);
    this.setState("disconnected", "closed");
  }

  // ---- connection --------------------------------------------------------------------------------------------------

  private async open(): Promise<void> {
    if (this.closed) return;
    this.setState("connecting", this.address);
    let nc: NatsConnection;
    try {
      nc = await connect(natsConnectionOptions({ ...this.options, servers: this.servers }, this.name));
    } catch (error) {
      if (this.closed) return;
      this.setState("disconnected", `no NATS node reachable: ${messageOf(error)}`);
      this.nextAttempt = Date.now() + this.retryDelay;
      this.retryTimer = setTimeout(() => void this.open(), this.retryDelay);
      this.retryTimer.unref();
      this.retryDelay = Math.min(this.retryDelay * 2, 5_000);
      return;
    }
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    this.retryDelay = 250;
    void this.watchStatus(nc);
    this.subscribeEvents(nc);
    this.schedule(0);
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.nc !== nc) return;
      if (status.type === "disconnect") {
        // Requests already written may or may not have reached the server: their outcome is unknown.
        for (const call of this.pending) call.reject(new RpcError("ERR_RPC_DISCONNECTED", `${call.name}(): the connection to ${status.server} was lost; the outcome is unknown`));
        this.pending.clear();
        this.setState("disconnected", `lost ${status.server}; failing over`);
      } else if (status.type === "reconnect") {
        this.setState("connecting", `reconnected to ${status.server}`);
        this.schedule(0);
      } else if (status.type === "error") {
        this.emit("warning", `NATS: ${status.error.message}`);
      }
    }
  }

  /** Asks the server where it stands; the answer decides the state, and a new epoch asks for a snapshot. */
  private schedule(delay: number): void {
    clearTimeout(this.probeTimer);
    if (this.closed) return;
    this.probeTimer = setTimeout(() => void this.probe(), delay);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    const nc = this.nc;
    if (!nc || this.closed || this.probing) return;
    if (this.currentState === "disconnected") return this.schedule(this.probeInterval);
    this.probing = true;
    let hello: HelloReply | null = null;
    let failure = "";
    try {
      const reply = await nc.request(helloSubject(this.server), "", { timeout: Math.min(this.probeInterval, 5_000) });
      hello = JSON.parse(reply.string()) as HelloReply;
    } catch (error) {
      failure = error instanceof RequestError && error.isNoResponders() ? `server ${this.server} is not on the bus` : messageOf(error);
    } finally {
      this.probing = false;
    }
    if (this.nc !== nc || this.closed) return;
    if (hello === null) {
      if (this.currentState === "connected") this.setState("stale", failure);
      else if (this.currentState === "connecting") this.emit("warning", `${this.address}: ${failure}`);
      return this.schedule(this.probeInterval);
    }
    if (!this.messages) await this.startStream(nc);
    const first = !this.everConnected;
    const restarted = this.serverEpoch !== null && this.serverEpoch !== hello.epoch;
    this.serverEpoch = hello.epoch;
    this.checkedEpochs.add(hello.epoch);
    if (this.lastEpoch === null) {
      this.lastEpoch = hello.epoch;
      this.lastSeq = hello.seq;
    }
    this.everConnected = true;
    this.setState("connected", `${this.server} at ${nc.getServer()}`);
    if (first) this.emit("resync", "connected", `connected to ${this.address}`);
    else if (restarted) this.emit("resync", "restart", `server ${this.server} restarted (epoch ${hello.epoch})`);
    this.schedule(this.probeInterval);
  }

  private setState(state: ConnectionState, reason: string): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    this.emit("state", state, previous, reason);
  }

  // ---- events ------------------------------------------------------------------------------------------------------

  /** Plain subscriptions for what the stream does not carry: ticks (per symbol), contracts, quotes, other types. */
  private subscribeEvents(nc: NatsConnection): void {
    const onMessage = (error: Error | null, msg: Msg): void => {
      if (error) return void this.emit("warning", `NATS subscription: ${error.message}`);
      this.receive(msg, null);
    };
    // Symbol-less events (accounts and logs among them, which come from the stream instead: skipped in receive).
    nc.subscribe(`${serverPrefix(this.server)}.event.*`, { callback: onMessage });
    for (const type of [EVENT_CONTRACT, EVENT_QUOTE]) nc.subscribe(`${eventSubject(this.server, type)}.*`, { callback: onMessage });
    if (this.options.ticks === "all") nc.subscribe(`${eventSubject(this.server, EVENT_TICK)}.*`, { callback: onMessage });
    else for (const symbol of this.watched) this.subscribeTicks(symbol);
  }

  private subscribeTicks(symbol: string): void {
    const nc = this.nc;
    if (!nc || this.options.ticks === "all" || this.tickSubs.has(symbol)) return;
    const sub = nc.subscribe(eventSubject(this.server, EVENT_TICK, symbol), {
      callback: (error, msg) => {
        if (error) this.emit("warning", `NATS subscription: ${error.message}`);
        else this.receive(msg, null);
      },
    });
    this.tickSubs.set(symbol, sub);
  }

  private watchFromRequest(req: unknown): void {
    const symbol = req !== null && typeof req === "object" ? (req as { vt_symbol?: unknown }).vt_symbol : undefined;
    if (typeof symbol === "string" && symbol) this.watchSymbols([symbol]);
  }

  /** The ordered consumer of the server's stream; it recreates itself after failovers, from where it stopped. */
  private async startStream(nc: NatsConnection): Promise<void> {
    const stream = streamName(this.server);
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
      const history = this.options.history ?? "new";
      let startSeq: number;
      if (history === "all") startSeq = 1;
      else if (history === "new") startSeq = (await jsm.streams.info(stream)).state.last_seq + 1;
      else startSeq = history.afterStreamSeq + 1;
      const consumer = await jetstream(nc, { timeout: 5_000, checkAPI: false }).consumers.get(stream, {
        deliver_policy: "by_start_sequence" as never,
        opt_start_seq: Math.max(1, startSeq),
      });
      this.lastStreamSeq = startSeq - 1;
      const messages = await consumer.consume({ expires: 5_000 });
      this.messages = messages;
      void (async () => {
        for await (const msg of messages) this.receiveStored(msg);
      })().catch((error: unknown) => this.emit("warning", `JetStream consumer of ${stream} stopped: ${messageOf(error)}`));
    } catch (error) {
      // Tried again at the next probe; said once per distinct reason.
      const warning = `JetStream stream ${stream} unavailable (${messageOf(error)}); orders and trades come from snapshots only`;
      if (warning !== this.streamWarning) this.emit("warning", warning);
      this.streamWarning = warning;
    }
  }

  private receiveStored(msg: JsMsg): void {
    const sseq = msg.info.streamSequence;
    const expected = (this.lastStreamSeq ?? sseq - 1) + 1;
    this.lastStreamSeq = sseq;
    if (sseq > expected) {
      // The stream no longer holds what we missed (limits): only a snapshot brings us up to date.
      this.emit("resync", "gap", `stream ${streamName(this.server)} skipped from ${expected - 1} to ${sseq}`);
    }
    this.receive(msg, sseq);
  }

  private receive(msg: Msg | JsMsg, streamSeq: number | null): void {
    const subject = msg.subject;
    const typeStart = serverPrefix(this.server).length + 7; // ".event."
    const typeEnd = subject.indexOf(".", typeStart);
    let type: string;
    try {
      type = unescapeToken(typeEnd < 0 ? subject.slice(typeStart) : subject.slice(typeStart, typeEnd));
    } catch {
      return void this.emit("warning", `event on an unexpected subject: ${subject}`);
    }
    // The stream carries these: taking the live copy too would deliver them twice.
    if (streamSeq === null && ESCAPED_PERSISTED.has(type)) return;
    let parsed: { seq?: unknown; epoch?: unknown; data?: unknown };
    let data: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(msg.data)) as typeof parsed;
      data = fromWire(parsed.data);
    } catch (error) {
      return void this.emit("warning", `event on ${subject} could not be decoded: ${messageOf(error)}`);
    }
    const seq = Number(msg.headers?.get(HEADER_SEQ) ?? parsed.seq);
    const epoch = msg.headers?.get(HEADER_EPOCH) || (typeof parsed.epoch === "string" ? parsed.epoch : "");
    if (Number.isFinite(seq) && epoch) {
      this.lastEpoch = epoch;
      this.lastSeq = seq;
      // An epoch never seen: maybe a restarted server, maybe history. The server's hello tells which.
      if (!this.checkedEpochs.has(epoch)) {
        this.checkedEpochs.add(epoch);
        this.schedule(0);
      }
    }
    this.emit("event", { event: new Event(type, data), seq: Number.isFinite(seq) ? seq : null, epoch: epoch || null });
  }

  // ---- replies -----------------------------------------------------------------------------------------------------

  private requestError(name: string, error: unknown, timeoutError: RpcTimeoutError): Error {
    if (error instanceof RpcError) return error;
    if (error instanceof TimeoutError || (error instanceof RequestError && error.cause instanceof TimeoutError)) return timeoutError;
    if (error instanceof RequestError && error.isNoResponders()) {
      return new RpcDisconnectedError(name, `no server ${this.server} serves ${name} on ${this.address}`);
    }
    const violation = error instanceof PermissionViolationError ? error : error instanceof Error && error.cause instanceof PermissionViolationError ? error.cause : null;
    if (violation) return new RemoteError(`PERMISSION_DENIED: this NATS user may not ${violation.operation} ${violation.subject}`);
    return new RpcError("ERR_RPC_DISCONNECTED", `${name}(): ${messageOf(error)}`);
  }

  private decodeReply<T>(name: string, reply: Msg, timeoutError: RpcTimeoutError): CallResult<T> {
    const seq = Number(reply.headers?.get(HEADER_SEQ) ?? "");
    const epoch = reply.headers?.get(HEADER_EPOCH) ?? "";
    const position: StreamPosition | null = Number.isFinite(seq) && epoch ? { epoch, seq } : null;
    let message: { ok?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      message = JSON.parse(reply.string()) as typeof message;
    } catch (error) {
      throw new RpcError("ERR_RPC_REMOTE", `${name}(): the reply could not be decoded: ${messageOf(error)}`);
    }
    if (message.ok === true) {
      try {
        return { value: fromWire(message.result) as T, position };
      } catch (error) {
        throw new RpcError("ERR_RPC_REMOTE", `${name}(): the reply could not be decoded: ${messageOf(error)}`);
      }
    }
    const code = typeof message.error?.code === "string" ? message.error.code : "CALL_FAILED";
    const text = typeof message.error?.message === "string" ? message.error.message : "remote call failed";
    if (code === "ERR_RPC_DEADLINE") return Promise.reject(timeoutError) as never;
    throw new RemoteError(`${code}: ${text}`);
  }
}

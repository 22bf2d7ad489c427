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
import { Event, EVENT_CONTRACT, EVENT_QUOTE, EVENT_TICK, messageOf } from "../../kernel/index.js";
import type { StreamPosition } from "../endpoint.js";
import { CallTable } from "../call-table.js";
import type { CallOptions, CallResult, ConnectionState, RpcCaller, RpcCallerEvents, ServerKind } from "../caller.js";
import { ConnectionStateMachine } from "../connection-state.js";
import { RemoteError, RpcClosedError, RpcConnectionLostError, RpcDisconnectedError, RpcError, RpcTimeoutError } from "../errors.js";
import { StreamTracker } from "../stream-tracker.js";
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

const ESCAPED_PERSISTED = new Set(PERSISTED_EVENT_TYPES);

export class NatsRpcClient extends EventEmitter<RpcCallerEvents> implements RpcCaller {
  readonly servers: readonly string[];
  readonly server: string;
  readonly name: string;
  private readonly options: NatsRpcClientOptions;
  private readonly defaultTimeout: number;
  private readonly probeInterval: number;
  private nc: NatsConnection | null = null;
  private readonly connection = new ConnectionStateMachine((state, previous, reason) => this.emit("state", state, previous, reason));
  private readonly calls = new CallTable();
  /** Epochs only: the subscriptions are filtered, and the stream itself closes gaps (so numbers skip by design). */
  private readonly tracker = new StreamTracker(false);
  private started = false;
  private everConnected = false;
  private readonly tickSubs = new Map<string, Subscription>();
  private readonly watched = new Set<string>();
  private messages: ConsumerMessages | null = null;
  private readonly checkedEpochs = new Set<string>();
  private lastStreamSeq: number | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 250;
  private nextAttempt: number | null = null;
  private probing = false;
  private streamWarning = "";
  private streamGeneration = 0;
  private streamRetry: NodeJS.Timeout | undefined;

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
    return this.connection.state;
  }

  get serverKind(): ServerKind | null {
    return this.everConnected ? "rpcservice" : null;
  }

  /** The last stream position seen: the server's seq and epoch of the latest event. */
  get streamPosition(): { epoch: string | null; seq: number | null } {
    return this.tracker.position;
  }

  /** The JetStream sequence of the last persisted event delivered: pass it as `history` to resume in a later run. */
  get lastStreamSequence(): number | null {
    return this.lastStreamSeq;
  }

  get nextAttemptAt(): number | null {
    return this.connection.usable || this.connection.closed ? null : this.nextAttempt;
  }

  /** The NATS node this client is connected to now ("127.0.0.1:4222"). */
  get connectedServer(): string | undefined {
    return this.nc?.getServer() || undefined;
  }

  start(): void {
    if (this.started || this.connection.closed) return;
    this.started = true;
    void this.open();
  }

  waitConnected(timeout = this.defaultTimeout): Promise<void> {
    this.start();
    return this.connection.waitConnected(timeout, this.address);
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

  callWithPosition<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<CallResult<T>> {
    const timeout = options.timeout ?? this.defaultTimeout;
    if (!(timeout > 0)) return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `timeout must be > 0 ms, got ${timeout}`));
    if (this.connection.closed) return Promise.reject(new RpcClosedError(name));
    const nc = this.nc;
    if (!nc || !this.connection.usable) return Promise.reject(new RpcDisconnectedError(name, `not connected to ${this.address}`));
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `not a function name: ${JSON.stringify(name)}`));
    let body: string;
    try {
      body = `{"args":${encodeJson(args)},"kwargs":${encodeJson(options.kwargs ?? {})}}`;
    } catch (error) {
      return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `cannot encode the arguments of ${name}(): ${messageOf(error)}`, { cause: error }));
    }
    // Ticks of a symbol are asked for before the server starts sending them, so the first one is not missed.
    if (name === "subscribe") this.watchFromRequest(args[0]);
    const headers = natsHeaders();
    headers.set(HEADER_TIMEOUT, String(timeout));
    headers.set(HEADER_CLIENT, this.name);
    return new Promise((resolve, reject) => {
      // The call table owns the deadline (and the error made now); nats.js' own timer only cleans up later.
      const id = this.calls.add({ name, timeout, resolve: resolve as (result: CallResult<unknown>) => void, reject });
      nc.request(callSubject(this.server, name), body, { timeout: timeout + 1_000, headers }).then(
        (reply) => {
          const call = this.calls.take(id);
          if (!call) return;
          try {
            call.resolve(this.decodeReply(name, reply, timeout));
          } catch (error) {
            call.reject(error as Error);
          }
        },
        (error: unknown) => this.calls.take(id)?.reject(this.requestError(name, error)),
      );
    });
  }

  async close(): Promise<void> {
    if (this.connection.closed) return;
    clearTimeout(this.probeTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.streamRetry);
    this.calls.failAll((name) => new RpcClosedError(name));
    this.connection.close();
    const nc = this.nc;
    this.nc = null;
    this.streamGeneration++;
    await this.messages?.close().catch(() => undefined);
    this.messages = null;
    await nc?.close().catch(() => undefined);
  }

  // ---- connection --------------------------------------------------------------------------------------------------

  private async open(): Promise<void> {
    if (this.connection.closed) return;
    this.connection.set("connecting", this.address);
    let nc: NatsConnection;
    try {
      nc = await connect(natsConnectionOptions({ ...this.options, servers: this.servers }, this.name));
    } catch (error) {
      if (this.connection.closed) return;
      this.connection.set("disconnected", `no NATS node reachable: ${messageOf(error)}`);
      this.nextAttempt = Date.now() + this.retryDelay;
      this.retryTimer = setTimeout(() => void this.open(), this.retryDelay);
      this.retryTimer.unref();
      this.retryDelay = Math.min(this.retryDelay * 2, 5_000);
      return;
    }
    if (this.connection.closed) {
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
        this.calls.failAll((name) => new RpcConnectionLostError(name, `the connection to ${status.server} was lost`));
        this.connection.set("disconnected", `lost ${status.server}; failing over`);
      } else if (status.type === "reconnect") {
        this.connection.set("connecting", `reconnected to ${status.server}`);
        if (this.messages) this.restartStream(nc);
        this.schedule(0);
      } else if (status.type === "error") {
        this.emit("warning", `NATS: ${status.error.message}`);
      }
    }
  }

  /** Asks the server where it stands; the answer decides the state, and a new epoch asks for a snapshot. */
  private schedule(delay: number): void {
    clearTimeout(this.probeTimer);
    if (this.connection.closed) return;
    this.probeTimer = setTimeout(() => void this.probe(), delay);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    const nc = this.nc;
    if (!nc || this.connection.closed || this.probing) return;
    if (this.connection.state === "disconnected") return this.schedule(this.probeInterval);
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
    if (this.nc !== nc || this.connection.closed) return;
    if (hello === null) {
      if (this.connection.state === "connected") this.connection.set("stale", failure);
      else if (this.connection.state === "connecting") this.emit("warning", `${this.address}: ${failure}`);
      return this.schedule(this.probeInterval);
    }
    if (!this.messages) await this.startStream(nc);
    const first = !this.everConnected;
    this.checkedEpochs.add(hello.epoch);
    const verdict = this.tracker.hello(hello.epoch, hello.seq);
    this.everConnected = true;
    this.connection.set("connected", `${this.server} at ${nc.getServer()}`);
    if (first) this.emit("resync", "connected", `connected to ${this.address}`);
    else if (verdict) this.emit("resync", verdict.reason, `server ${this.server}: ${verdict.detail}`);
    this.schedule(this.probeInterval);
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

  /**
   * Reads the server's stream through an ordered consumer, from our own cursor: the first time from `history`,
   * afterwards from the stream sequence after the last one delivered. A consumer lives on one node (R1), so after
   * a failover or missed heartbeats a new one replaces it rather than waiting for the old one to answer.
   */
  private async startStream(nc: NatsConnection): Promise<void> {
    const stream = streamName(this.server);
    const generation = ++this.streamGeneration;
    const previous = this.messages;
    this.messages = null;
    void previous?.close().catch(() => undefined);
    try {
      let startSeq: number;
      const history = this.options.history ?? "new";
      if (this.lastStreamSeq !== null) startSeq = this.lastStreamSeq + 1;
      else if (history === "all") startSeq = 1;
      else if (history === "new") {
        const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
        startSeq = (await jsm.streams.info(stream)).state.last_seq + 1;
      } else startSeq = history.afterStreamSeq + 1;
      const consumer = await jetstream(nc, { timeout: 5_000, checkAPI: false }).consumers.get(stream, {
        deliver_policy: "by_start_sequence" as never,
        opt_start_seq: Math.max(1, startSeq),
      });
      const messages = await consumer.consume({ expires: 5_000 });
      if (generation !== this.streamGeneration || this.nc !== nc) {
        void messages.close().catch(() => undefined);
        return;
      }
      this.lastStreamSeq ??= startSeq - 1;
      this.messages = messages;
      this.streamWarning = "";
      void (async () => {
        for await (const status of messages.status()) {
          if (status.type === "heartbeats_missed" && generation === this.streamGeneration) return this.restartStream(nc);
        }
      })().catch(() => undefined);
      void (async () => {
        for await (const msg of messages) {
          if (generation !== this.streamGeneration) return;
          this.receiveStored(msg);
        }
      })().catch((error: unknown) => this.emit("warning", `JetStream consumer of ${stream} stopped: ${messageOf(error)}`));
    } catch (error) {
      if (generation !== this.streamGeneration) return;
      // Tried again at the next probe; said once per distinct reason.
      const warning = `JetStream stream ${stream} unavailable (${messageOf(error)}); orders and trades come from snapshots only`;
      if (warning !== this.streamWarning) this.emit("warning", warning);
      this.streamWarning = warning;
      // Right after a failover the stream may be electing a leader for a few seconds: try again soon.
      clearTimeout(this.streamRetry);
      this.streamRetry = setTimeout(() => this.restartStream(nc), 500);
      this.streamRetry.unref();
    }
  }

  private restartStream(nc: NatsConnection): void {
    clearTimeout(this.streamRetry);
    if (this.nc !== nc || this.connection.closed) return;
    void this.startStream(nc);
  }

  private receiveStored(msg: JsMsg): void {
    const sseq = msg.info.streamSequence;
    // A replacement consumer may overlap the one before it: what we have is not delivered twice.
    if (this.lastStreamSeq !== null && sseq <= this.lastStreamSeq) return;
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
      // The current run's events move the position; an epoch never seen is a restarted server or history
      // (a replay of earlier runs): the server's hello tells which.
      if (epoch === this.tracker.epoch) this.tracker.observe(epoch, seq);
      else if (!this.checkedEpochs.has(epoch)) {
        this.checkedEpochs.add(epoch);
        this.schedule(0);
      }
    }
    this.emit("event", { event: new Event(type, data), seq: Number.isFinite(seq) ? seq : null, epoch: epoch || null });
  }

  // ---- replies -----------------------------------------------------------------------------------------------------

  /** What a failed request means for the caller (a timeout never gets here: the call table fires first). */
  private requestError(name: string, error: unknown): Error {
    if (error instanceof RpcError) return error;
    if (error instanceof TimeoutError || (error instanceof RequestError && error.cause instanceof TimeoutError)) {
      return new RpcConnectionLostError(name, "no reply from the bus");
    }
    if (error instanceof RequestError && error.isNoResponders()) {
      return new RpcDisconnectedError(name, `no server ${this.server} serves ${name} on ${this.address}`);
    }
    const violation = error instanceof PermissionViolationError ? error : error instanceof Error && error.cause instanceof PermissionViolationError ? error.cause : null;
    if (violation) return new RemoteError(`this NATS user may not ${violation.operation} to ${violation.subject}`, "PERMISSION_DENIED");
    return new RpcConnectionLostError(name, messageOf(error));
  }

  private decodeReply(name: string, reply: Msg, timeout: number): CallResult<unknown> {
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
        return { value: fromWire(message.result), position };
      } catch (error) {
        throw new RpcError("ERR_RPC_REMOTE", `${name}(): the reply could not be decoded: ${messageOf(error)}`);
      }
    }
    const code = typeof message.error?.code === "string" ? message.error.code : "CALL_FAILED";
    const text = typeof message.error?.message === "string" ? message.error.message : "remote call failed";
    // The server refused it unrun because its deadline had passed: to the caller that is a timeout.
    if (code === "ERR_RPC_DEADLINE") throw new RpcTimeoutError(name, timeout, text);
    throw new RemoteError(text, code);
  }
}

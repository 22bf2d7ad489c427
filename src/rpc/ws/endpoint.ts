/**
 * The native WebSocket endpoint: JSON calls and filtered event streams, beside the ZeroMQ endpoint on the
 * same seam (ServerEndpoint). One connection = one client; its calls run concurrently and reply by id.
 *
 * A slow reader never slows the server or the others: once a connection has a quarter of its bound (at most
 * 1 MiB) unsent, its messages wait in a queue of its own where a tick replaces its unsent predecessor of the same
 * symbol (it gets the latest price, not a stale backlog); when what waits that may not be replaced passes the
 * bound, that client alone is dropped with close code 4008 and the reason.
 *
 * The HTTP side (listening, Host/Origin/token checks, routing upgrades by path) is a SocketHost's (socket-host.ts):
 * the console's WebHost, shared with the page (`attachTo`) or the endpoint's own (`server`).
 */
import type { Duplex } from "node:stream";
import { WebSocket, type RawData } from "ws";
import type { CallContext, CallDispatcher, ConnectedClient, PublishedEvent, ServerEndpoint } from "../endpoint.js";
import { marketDataKey, type Event } from "../../kernel/index.js";
import { SendBacklog } from "../../zmtp/index.js";
import { WireError, wireErrorBody } from "./errors.js";
import { EventRing, type PublishedEntry } from "./ring.js";
import { Subscription } from "./subscription.js";
import type { HostAddress, ListeningSocketHost, SocketHost, SocketTarget } from "./socket-host.js";
import { encodeJson } from "./json-wire.js";
import {
  CloseCode,
  WS_PROTOCOL_VERSION,
  decodeArgs,
  parseClientMessage,
  salvageId,
  type CallMessage,
  type ClientMessage,
  type HelloMessage,
  type MessageId,
  type SubscribeMessage,
  type SubscribeResult,
} from "./protocol.js";

/**
 * What the serving side gives the endpoint at start: the dispatcher alone, or a host that also tells where the
 * event stream stands (so a client learns the epoch before the first event) and takes log lines.
 */
export interface WsEndpointHost {
  readonly dispatch: CallDispatcher;
  position?(): { readonly epoch: string; readonly seq: number };
  log?(level: number, message: string): void;
  /** Whether this client may receive this event (private streams); absent: everyone receives everything. */
  visible?(event: Event, viewer: CallContext): boolean;
  /** Whether `visible` may say no to anyone for this event (checked first, once). */
  withheld?(event: Event): boolean;
}

export interface WsEndpointOptions {
  /** Name in client ids and in the connected-clients view; default "ws". */
  name?: string;
  /** URL path of the WebSocket; default "/ws". */
  path?: string;
  /**
   * An HTTP server of its own (e.g. a console WebHost without a page): it listens when the endpoint starts and
   * closes when it stops. Omit when the endpoint is added to a shared host (`attachTo`).
   */
  server?: ListeningSocketHost;
  /** Largest message accepted, bytes; bigger ones close the connection with 1009. Default 1 MiB. */
  maxPayload?: number;
  /** Unsent bytes one connection may accumulate before it is dropped as a slow consumer. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Calls one connection may have running at once. Default 256. */
  maxPendingCalls?: number;
  /** Events kept for resume after a reconnect. Default 20 000. */
  ringSize?: number;
  /** Ping interval; a connection that missed a whole interval without a pong is terminated. Default 15 s. */
  heartbeatMs?: number;
}

interface ResolvedOptions {
  name: string;
  path: string;
  maxPayload: number;
  maxBufferedBytes: number;
  maxPendingCalls: number;
  ringSize: number;
  heartbeatMs: number;
}

/** How long a slow consumer's connection stays open after its 4008 close frame, so that frame can reach it. */
const SLOW_CONSUMER_GRACE_MS = 10_000;

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

export class WsEndpoint implements ServerEndpoint, SocketTarget {
  readonly name: string;
  readonly path: string;
  private readonly options: ResolvedOptions;
  private readonly ownHost: ListeningSocketHost | undefined;
  private readonly ring: EventRing;
  private readonly connections = new Set<Connection>();
  private dispatch: CallDispatcher | undefined;
  private host: WsEndpointHost | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private nextId = 1;

  constructor(options: WsEndpointOptions = {}) {
    this.options = {
      name: options.name ?? "ws",
      path: options.path ?? "/ws",
      maxPayload: positiveInteger(options.maxPayload, 1 << 20, "maxPayload"),
      maxBufferedBytes: positiveInteger(options.maxBufferedBytes, 8 << 20, "maxBufferedBytes"),
      maxPendingCalls: positiveInteger(options.maxPendingCalls, 256, "maxPendingCalls"),
      ringSize: positiveInteger(options.ringSize, 20_000, "ringSize"),
      heartbeatMs: positiveInteger(options.heartbeatMs, 15_000, "heartbeatMs"),
    };
    if (!this.options.path.startsWith("/")) throw new RangeError(`path must start with "/", got ${JSON.stringify(this.options.path)}`);
    this.name = this.options.name;
    this.path = this.options.path;
    this.ring = new EventRing(this.options.ringSize);
    this.ownHost = options.server;
    this.ownHost?.addRoute(this.path, this);
  }

  /** Serves this endpoint from a shared HTTP server (the console's) instead of one of its own. */
  attachTo(host: SocketHost): void {
    if (this.ownHost) throw new RangeError("this endpoint listens on its own server");
    host.addRoute(this.path, this);
  }

  /** Where the endpoint listens when it has its own server (after start). */
  get address(): HostAddress | undefined {
    return this.ownHost?.address;
  }

  get maxPayload(): number {
    return this.options.maxPayload;
  }

  get accepting(): boolean {
    return this.dispatch !== undefined;
  }

  /** Where the event stream stands: the server's position when it tells, else the last event seen here. */
  get position(): { epoch: string; seq: number } {
    const position = this.host?.position?.();
    if (position && position.epoch !== "") return { epoch: position.epoch, seq: position.seq };
    return { epoch: this.ring.epoch, seq: this.ring.lastSeq };
  }

  async start(host: CallDispatcher | WsEndpointHost): Promise<void> {
    if (this.dispatch) return;
    if (this.ownHost) await this.ownHost.listen();
    this.host = typeof host === "function" ? { dispatch: host } : host;
    this.dispatch = this.host.dispatch;
    this.heartbeat = setInterval(() => this.checkHeartbeats(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    if (!this.dispatch) return;
    this.dispatch = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const connection of [...this.connections]) connection.close(CloseCode.GOING_AWAY, "endpoint stopped");
    this.connections.clear();
    if (this.ownHost) await this.ownHost.close();
  }

  acceptSocket(ws: WebSocket, raw: Duplex, remote: string, identity: string | undefined): void {
    if (!this.dispatch) return ws.close(CloseCode.GOING_AWAY, "endpoint stopped");
    const connection = new Connection(this, ws, raw, `${this.name}:${this.nextId++}`, remote, identity);
    this.connections.add(connection);
    connection.send(JSON.stringify(this.hello(connection.clientId)));
  }

  publish(published: PublishedEvent): void {
    const entry = this.ring.push(published);
    const key = marketDataKey(published.event);
    for (const connection of this.connections) {
      if (connection.wants(published)) connection.sendBytes(entry.bytes(), key);
    }
  }

  clients(): ConnectedClient[] {
    return [...this.connections].map((c) => c.snapshot());
  }

  closeClients(which: (client: ConnectedClient) => boolean, reason: string): number {
    let closed = 0;
    for (const connection of [...this.connections]) {
      if (!which(connection.snapshot())) continue;
      connection.close(CloseCode.POLICY, reason);
      closed++;
    }
    return closed;
  }

  /** Closes one client's connection with a reason it can read (1008 policy by default); false if unknown. */
  disconnect(clientId: string, reason: string, code: number = CloseCode.POLICY): boolean {
    for (const connection of this.connections) {
      if (connection.clientId !== clientId) continue;
      connection.close(code, reason);
      return true;
    }
    return false;
  }

  // ---- used by Connection -------------------------------------------------------------------------------

  /** @internal */
  get limits(): Readonly<ResolvedOptions> {
    return this.options;
  }

  /** @internal */
  get dispatcher(): CallDispatcher | undefined {
    return this.dispatch;
  }

  /** @internal */
  visible(event: Event, viewer: CallContext): boolean {
    const host = this.host;
    if (!host?.visible || (host.withheld && !host.withheld(event))) return true;
    return host.visible(event, viewer);
  }

  /** @internal */
  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** @internal */
  replay(epoch: string, seq: number): ReturnType<EventRing["since"]> {
    const now = this.position;
    // Up to date already (possibly before any event reached the ring): nothing to replay.
    if (epoch === now.epoch && seq === now.seq) return { ok: true, entries: [] };
    return this.ring.since(epoch, seq);
  }

  private hello(clientId: string): HelloMessage {
    const { epoch, seq } = this.position;
    return { hello: { protocol: WS_PROTOCOL_VERSION, server: "rpcservice", endpoint: this.name, client_id: clientId, epoch, seq } };
  }

  private checkHeartbeats(): void {
    for (const connection of this.connections) connection.heartbeat();
  }
}

/** One client connection: its subscription, its running calls and its send accounting. */
class Connection {
  readonly clientId: string;
  private readonly endpoint: WsEndpoint;
  private readonly socket: WebSocket;
  /** The TCP socket under the WebSocket: corked while a batch of events is written, so a batch is one write. */
  private readonly raw: Duplex;
  private corked = false;
  /** Bytes still unsent when the current burst began: what the client failed to read in earlier turns. */
  private backlog = 0;
  private readonly remoteAddress: string;
  private readonly identity: string | undefined;
  private readonly since = Date.now();
  private readonly abort = new AbortController();
  private subscription: Subscription | null = null;
  private viewerContext: CallContext | undefined;
  private calls = 0;
  private pendingCalls = 0;
  /** Messages handed to the socket whose write has not completed yet. */
  private inflight = 0;
  /** When each of those was handed over (performance.now()), oldest first: the client's lag. */
  private readonly sentTimes = new TimeQueue();
  private dropped = 0;
  /** Messages waiting while this client is behind; a tick there is replaced by the next of its symbol. */
  private readonly held: SendBacklog;
  /** Unsent bytes in the socket past which messages wait in `held`. */
  private readonly holdAbove: number;
  private conflated = 0;
  private refillArmed = false;
  private alive = true;
  private closed = false;

  constructor(endpoint: WsEndpoint, socket: WebSocket, raw: Duplex, clientId: string, remoteAddress: string, identity: string | undefined) {
    this.endpoint = endpoint;
    this.socket = socket;
    this.raw = raw;
    this.clientId = clientId;
    this.remoteAddress = remoteAddress;
    this.identity = identity;
    const bound = endpoint.limits.maxBufferedBytes;
    this.held = new SendBacklog({ messages: Number.MAX_SAFE_INTEGER, bytes: bound });
    this.holdAbove = Math.min(1 << 20, Math.floor(bound / 4));
    socket.on("message", (data, isBinary) => this.receive(data, isBinary));
    socket.on("pong", () => (this.alive = true));
    socket.on("close", () => this.gone());
    // Errors (oversized frame, protocol violation) are followed by "close"; ws has already sent the close code.
    socket.on("error", () => {});
  }

  wants(published: PublishedEvent): boolean {
    return this.subscription !== null && this.subscription.matches(published.event) && this.endpoint.visible(published.event, this.viewer());
  }

  /** Who this connection is, as a call from it would say (calls add their signal and deadline). */
  viewer(): CallContext {
    this.viewerContext ??= {
      clientId: this.clientId,
      endpoint: this.endpoint.name,
      remoteAddress: this.remoteAddress,
      ...(this.identity !== undefined ? { identity: this.identity, authenticatedBy: "token" as const } : {}),
    };
    return this.viewerContext;
  }

  snapshot(): ConnectedClient {
    const client: { -readonly [K in keyof ConnectedClient]: ConnectedClient[K] } = {
      clientId: this.clientId,
      endpoint: this.endpoint.name,
      remoteAddress: this.remoteAddress,
      since: this.since,
      calls: this.calls,
      eventsBehind: this.inflight + this.held.length,
      eventsDropped: this.dropped,
      eventsConflated: this.conflated,
      lagMs: Math.max(this.sentTimes.oldestAge(performance.now()), this.held.oldestAge()),
    };
    if (this.identity !== undefined) {
      client.identity = this.identity;
      client.authenticatedBy = "token";
    }
    return client;
  }

  send(text: string): void {
    this.sendBytes(Buffer.from(text));
  }

  /**
   * Writes one message, or holds it while this client is behind ("behind" is what was still unsent when this
   * burst began; the burst itself never had a chance to leave yet). Held, a message with a `conflationKey` (market
   * data) replaces its unsent predecessor; when what is held may not be replaced and fills the bound, this client
   * alone is dropped.
   */
  sendBytes(bytes: Buffer, conflationKey?: string): void {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    if (!this.corked) {
      // Events come in bursts (the EventEngine drains its queue in one go): one syscall per burst, not per frame.
      this.backlog = this.socket.bufferedAmount;
      this.corked = true;
      this.raw.cork();
      process.nextTick(this.uncork);
    }
    // Held messages go first whenever the socket has room again (a small bound may never see a "drain").
    if (this.held.length > 0 && this.socket.bufferedAmount <= this.holdAbove) this.refill();
    if (this.held.length === 0 && this.backlog <= this.holdAbove) {
      this.write(bytes);
      return;
    }
    const result = this.held.push([bytes], conflationKey);
    if (result === "conflated") this.conflated++;
    else if (result === "dropped") this.dropped++;
    else if (result === "overflow") {
      this.dropped += this.inflight + this.held.length + 1;
      const limit = this.endpoint.limits.maxBufferedBytes;
      this.close(CloseCode.SLOW_CONSUMER, `slow consumer: ${this.backlog} bytes unsent, ${this.held.bytes} waiting (limit ${limit})`);
      return;
    }
    if (!this.refillArmed) {
      this.refillArmed = true;
      this.raw.once("drain", this.refill);
    }
  }

  private write(bytes: Buffer): void {
    this.inflight++;
    this.sentTimes.push(performance.now());
    this.socket.send(bytes, { binary: false }, this.written);
  }

  /** The socket took what it had: held messages follow, in order, until it is full again. */
  private readonly refill = (): void => {
    this.refillArmed = false;
    this.raw.removeListener("drain", this.refill);
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    while (this.held.length > 0 && this.socket.bufferedAmount <= this.holdAbove) this.write(this.held.shift()![0]!);
    if (this.held.length > 0) {
      this.refillArmed = true;
      this.raw.once("drain", this.refill);
    }
  };

  private readonly written = (): void => {
    this.inflight--;
    this.sentTimes.shift();
  };

  private readonly uncork = (): void => {
    this.corked = false;
    this.raw.uncork();
  };

  heartbeat(): void {
    if (!this.alive) {
      this.closed = true;
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  /**
   * Starts the closing handshake; a peer that does not read will never answer it, so the socket is
   * destroyed after a short grace period instead of ws's 30 s.
   */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.endpoint.forget(this);
    this.abort.abort();
    this.socket.close(code, reason.slice(0, 120));
    // A slow consumer's close frame waits behind everything it has not read: give it time to read up to it and
    // see 4008 (its buffer is bounded, and nothing more is queued for it), instead of a bare 1006.
    const grace = code === CloseCode.SLOW_CONSUMER ? SLOW_CONSUMER_GRACE_MS : 1_000;
    setTimeout(() => this.socket.terminate(), grace).unref();
  }

  private gone(): void {
    this.closed = true;
    this.abort.abort();
    this.endpoint.forget(this);
  }

  private receive(data: RawData, isBinary: boolean): void {
    this.alive = true;
    // The shared WebSocket server allows the largest limit of its endpoints; this endpoint's own applies here.
    if (rawLength(data) > this.endpoint.limits.maxPayload) return this.close(CloseCode.MESSAGE_TOO_BIG, `message over ${this.endpoint.limits.maxPayload} bytes`);
    if (isBinary) return this.replyError(null, new WireError("BINARY_FRAME", "binary frames are not accepted: send JSON text"));
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch (error) {
      return this.replyError(null, new WireError("BAD_JSON", `not valid JSON: ${(error as Error).message}`));
    }
    let message: ClientMessage;
    try {
      message = parseClientMessage(parsed);
    } catch (error) {
      return this.replyError(salvageId(parsed), error);
    }
    if ("call" in message) this.call(message);
    else this.subscribe(message);
  }

  private call(message: CallMessage): void {
    const dispatch = this.endpoint.dispatcher;
    if (!dispatch) return this.replyError(message.id, new WireError("NOT_AVAILABLE", "endpoint stopped"));
    if (this.pendingCalls >= this.endpoint.limits.maxPendingCalls) {
      return this.replyError(message.id, new WireError("TOO_MANY_CALLS", `more than ${this.endpoint.limits.maxPendingCalls} calls running on this connection`));
    }
    let args: unknown[];
    let kwargs: Record<string, unknown>;
    try {
      args = decodeArgs(message.args ?? []) as unknown[];
      kwargs = decodeArgs(message.kwargs ?? {}, "/kwargs") as Record<string, unknown>;
    } catch (error) {
      return this.replyError(message.id, error);
    }
    this.calls++;
    this.pendingCalls++;
    const context: CallContext = { ...this.viewer(), signal: this.abort.signal };
    let running: Promise<unknown>;
    try {
      running = dispatch(message.call, args, kwargs, context);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (result) => {
        this.pendingCalls--;
        this.replyResult(message.id, result);
      },
      (error: unknown) => {
        this.pendingCalls--;
        this.replyError(message.id, error);
      },
    );
  }

  private subscribe(message: SubscribeMessage): void {
    const { types, symbols, resume } = message.subscribe;
    this.subscription = new Subscription(types, symbols);
    const position = this.endpoint.position;
    const result: SubscribeResult = { epoch: position.epoch, seq: position.seq };
    if (!resume) return this.replyResult(message.id, result);
    const answer = this.endpoint.replay(resume.epoch, resume.seq);
    if (!answer.ok) return this.replyResult(message.id, { ...result, resumed: false, reason: answer.reason });
    const missed = answer.entries.filter((entry: PublishedEntry) => this.wants(entry.published));
    // The reply goes first, then the gap in order; live events follow, since all of this runs in one turn.
    this.replyResult(message.id, { ...result, resumed: true, replayed: missed.length });
    for (const entry of missed) this.sendBytes(entry.bytes());
  }

  private replyResult(id: MessageId, result: unknown): void {
    let text: string;
    try {
      text = `{"id":${JSON.stringify(id)},"ok":true,"result":${encodeJson(result)}}`;
    } catch (error) {
      return this.replyError(id, new WireError("CALL_FAILED", `the result cannot be sent as JSON: ${(error as Error).message}`));
    }
    this.send(text);
  }

  private replyError(id: MessageId | null, error: unknown): void {
    this.send(JSON.stringify({ id, ok: false, error: wireErrorBody(error) }));
  }
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}

/** A FIFO of times with O(1) push and shift (writes complete in the order they were queued). */
class TimeQueue {
  private items: number[] = [];
  private head = 0;

  push(time: number): void {
    this.items.push(time);
  }

  shift(): void {
    if (this.head >= this.items.length) return;
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
      return;
    }
    // Compact now and then, so the array does not grow with every message ever sent.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** ms since the oldest time still queued; 0 when empty. */
  oldestAge(now: number): number {
    return this.head < this.items.length ? Math.max(0, now - this.items[this.head]!) : 0;
  }
}

import net from "node:net";
import { unlinkSync } from "node:fs";
import { ZmtpError } from "./errors.js";
import { TypedEmitter, type EventMap } from "./emitter.js";
import { formatIpcEndpoint, formatTcpEndpoint, parseEndpoint, type ParsedEndpoint } from "./endpoint.js";
import { keyBytes, type CurveKey } from "./curve.js";
import {
  DEFAULT_REFUSAL_HOLD_MS,
  DEFAULT_WRITABLE_LIMIT,
  ZmtpConnection,
  type ConnectionHandler,
  type ConnectionSettings,
  type HeartbeatOptions,
  type PeerStats,
  type SocketTypeName,
} from "./connection.js";

/** What a socket knows about one connected peer. `stats` is live (updated as traffic flows). */
export interface PeerInfo {
  /** Unique per connection (a reconnect gets a new id). */
  readonly id: string;
  /** The peer's Socket-Type from its READY metadata. */
  readonly socketType: SocketTypeName;
  /** The peer's Identity metadata (routing id it asked for; often empty). */
  readonly identity: Buffer;
  /** `ip:port` for tcp, "ipc" for ipc. */
  readonly remoteAddress: string;
  /** Local endpoint this connection came through (the bound or connected endpoint). */
  readonly endpoint: string;
  /** CURVE client long-term public key (Z85) when the mechanism is CURVE. */
  readonly curvePublicKey?: string;
  /** Negotiated protocol version. */
  readonly zmtpVersion: "3.0" | "3.1";
  /** Date.now() when the handshake completed. */
  readonly connectedAt: number;
  readonly stats: PeerStats;
}

/** Information about a connection that failed before its handshake completed. */
export interface RejectedConnection {
  remoteAddress: string;
  endpoint: string;
}

export type FlowControl = "block" | "drop";

export interface HighWaterMark {
  /** Messages queued per peer before dropping (flow "drop"); an upper bound counted since the peer's queue was last empty. Default 10000. */
  messages?: number;
  /**
   * Bytes queued per peer (ours + Node's socket buffer). Flow "drop": drop past it (default 16 MiB).
   * Flow "block": send/publish return false past it (default 256 KiB, minimum 64 KiB).
   */
  bytes?: number;
}

export interface SocketOptions extends HeartbeatOptions {
  /** Identity (routing id) announced in READY; REQ/DEALER/ROUTER only. */
  identity?: Buffer | string;
  /** Largest frame and largest message accepted from a peer; bigger ones close that connection. Default 64 MiB. */
  maxMessageSize?: number;
  /** Greeting + security handshake must complete within this time. Default 10 s. */
  handshakeTimeoutMs?: number;
  /**
   * How long a server keeps a connection it refused without an ERROR (a mechanism it does not speak, a CURVE key
   * it does not allow) open before closing it. libzmq retries a closed connection at once and forever (every
   * 100 ms, each a CURVE handshake: bench/curve measures the cost), and its queued calls time out either way; our
   * clients report the refusal when the connection closes. Default 1 s; 0 closes at once.
   */
  refusalHoldMs?: number;
  /** "block" (default): never drop; send returns false when the caller should await drained(). "drop": drop at the high-water mark and count it. */
  flow?: FlowControl;
  highWaterMark?: HighWaterMark;
  /**
   * Stop reading from a peer while more than this many bytes to it wait unsent (it is not reading what we send),
   * and resume once they are gone. A server's fairness: a peer that pipelines requests without reading the replies
   * costs only a bounded amount of work, then TCP holds it back. Default: never pause.
   */
  pauseReadingAboveBytes?: number;
  /**
   * Messages taken from one peer before its connection yields the event loop for a turn (reading resumes on the
   * next one; counted per message: a read holding more stops at the budget and keeps the rest). A server sets it so
   * that a peer pipelining thousands of calls cannot fill a whole turn while the other peers' calls wait unread.
   * Default: no budget (read whatever arrives).
   */
  readBudgetMessages?: number;
  /** First reconnect delay (client sockets). Default 100 ms; doubles per failure up to reconnectMaxIntervalMs, with jitter. */
  reconnectIntervalMs?: number;
  /** Default 5000 ms. */
  reconnectMaxIntervalMs?: number;
}

export interface CurveServerOptions {
  publicKey: CurveKey;
  secretKey: CurveKey;
  /** Allow-list hook: return false to refuse a client key (it gets an ERROR and is disconnected). */
  authorize?: (clientPublicKeyZ85: string) => boolean;
}

export interface CurveClientOptions {
  publicKey: CurveKey;
  secretKey: CurveKey;
  /** The server's long-term public key. */
  serverKey: CurveKey;
}

export type ConnectionState = "connecting" | "connected" | "disconnected";

/** Events every socket emits. */
export type BaseEvents = {
  connect: [peer: PeerInfo];
  disconnect: [peer: PeerInfo, reason: ZmtpError];
  /** A connection that closed before completing its handshake (bad greeting, wrong key, timeout, ...). */
  rejected: [connection: RejectedConnection, reason: ZmtpError];
};

const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
const DEFAULT_HWM_MESSAGES = 10_000;
const DEFAULT_HWM_BYTES = 16 * 1024 * 1024;

interface Dialer {
  endpoint: string;
  target: ParsedEndpoint;
  attempt: number;
  timer: NodeJS.Timeout | null;
  connection: ZmtpConnection | null;
  state: ConnectionState;
}

interface CurveRole {
  server?: CurveServerOptions;
  client?: CurveClientOptions;
}

/**
 * Shared machinery for all roles: listeners, dialers with reconnect, the peer table, flow control helpers.
 * Subclasses implement the role semantics in the protected `peer*` hooks.
 */
export abstract class ZmtpSocketBase<Events extends EventMap> extends TypedEmitter<Events & BaseEvents> implements ConnectionHandler {
  protected readonly peersById = new Map<string, ZmtpConnection>();
  protected readonly flow: FlowControl;
  protected readonly hwmMessages: number;
  protected readonly hwmBytes: number;
  protected closed = false;
  private readonly settings: ConnectionSettings;
  private readonly listeners = new Map<string, net.Server>();
  private readonly dialers = new Map<string, Dialer>();
  private readonly sockets = new Set<net.Socket>();
  private readonly infos = new WeakMap<ZmtpConnection, PeerInfo>();
  private readonly endpointOf = new WeakMap<ZmtpConnection, string>();
  private readonly dialerOf = new WeakMap<ZmtpConnection, Dialer>();
  private readonly drainWaiters: Array<{ isDrained: () => boolean; resolve: () => void }> = [];
  private readonly reconnectIntervalMs: number;
  private readonly reconnectMaxIntervalMs: number;

  protected constructor(
    socketType: SocketTypeName,
    acceptPeerTypes: readonly SocketTypeName[],
    options: SocketOptions,
    curve: CurveRole,
  ) {
    super();
    const identity = options.identity === undefined ? Buffer.alloc(0) : Buffer.from(options.identity);
    if (identity.length > 255) throw new ZmtpError("EINVAL", "identity longer than 255 bytes");
    this.settings = {
      socketType,
      identity,
      acceptPeerTypes: new Set(acceptPeerTypes),
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      refusalHoldMs: options.refusalHoldMs ?? DEFAULT_REFUSAL_HOLD_MS,
      // At least 64 KiB: below Node's own socket high-water mark no "drain" event would announce the way out.
      writableLimit: options.flow === "drop" ? Number.MAX_SAFE_INTEGER : Math.max(64 * 1024, options.highWaterMark?.bytes ?? DEFAULT_WRITABLE_LIMIT),
      ...(options.pauseReadingAboveBytes !== undefined ? { pauseReadingAboveBytes: options.pauseReadingAboveBytes } : {}),
      ...(options.readBudgetMessages !== undefined ? { readBudgetMessages: options.readBudgetMessages } : {}),
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      heartbeatTtlMs: options.heartbeatTtlMs,
    };
    if (curve.server) {
      this.settings.curveServer = {
        publicKey: keyBytes(curve.server.publicKey, "curve.publicKey"),
        secretKey: keyBytes(curve.server.secretKey, "curve.secretKey"),
        authorize: curve.server.authorize,
      };
    } else if (curve.client) {
      this.settings.curveClient = {
        publicKey: keyBytes(curve.client.publicKey, "curve.publicKey"),
        secretKey: keyBytes(curve.client.secretKey, "curve.secretKey"),
        serverKey: keyBytes(curve.client.serverKey, "curve.serverKey"),
      };
    }
    this.flow = options.flow ?? "block";
    this.hwmMessages = options.highWaterMark?.messages ?? DEFAULT_HWM_MESSAGES;
    this.hwmBytes = options.highWaterMark?.bytes ?? DEFAULT_HWM_BYTES;
    this.reconnectIntervalMs = options.reconnectIntervalMs ?? 100;
    this.reconnectMaxIntervalMs = options.reconnectMaxIntervalMs ?? 5000;
  }

  // ---- role hooks ----
  protected abstract peerReady(connection: ZmtpConnection, info: PeerInfo): void;
  protected abstract peerMessage(connection: ZmtpConnection, frames: Buffer[]): void;
  protected peerSubscription(_connection: ZmtpConnection, _subscribe: boolean, _topic: Buffer): void {
    // Only publishers care about subscriptions; everyone else ignores them.
  }
  protected abstract peerClosed(connection: ZmtpConnection, info: PeerInfo, reason: ZmtpError): void;

  // ---- endpoints ----

  /** Starts listening; resolves with the actual endpoint (the real port when binding port 0 or `*`). */
  async bind(endpoint: string): Promise<string> {
    this.assertOpen();
    const target = parseEndpoint(endpoint);
    const server = net.createServer((socket) => this.adopt(socket, actual, "accepted"));
    let actual = endpoint;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => reject(new ZmtpError("EENDPOINT", `cannot bind ${endpoint}: ${error.code ?? error.message}`)));
      if (target.transport === "ipc") {
        // Like libzmq: a stale socket file from a previous run must not block the bind.
        try {
          unlinkSync(target.path);
        } catch {
          // nothing to remove
        }
        server.listen(target.path, resolve);
      } else if (target.anyHost) {
        server.listen({ port: target.port }, resolve);
      } else {
        server.listen({ host: target.host, port: target.port }, resolve);
      }
    });
    const address = server.address();
    if (target.transport === "ipc") actual = formatIpcEndpoint(target.path);
    else if (address && typeof address === "object") actual = formatTcpEndpoint(target.anyHost ? "0.0.0.0" : address.address, address.port);
    server.on("error", () => {
      // After a successful listen, errors are per-connection and reported through the connection.
    });
    this.listeners.set(actual, server);
    if (this.closed) await this.unbind(actual);
    return actual;
  }

  /** Stops listening on an endpoint returned by bind(); existing connections stay. */
  async unbind(endpoint: string): Promise<void> {
    const server = this.listeners.get(endpoint);
    if (!server) throw new ZmtpError("EENDPOINT", `not bound to ${endpoint}`);
    this.listeners.delete(endpoint);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Bound endpoints (actual addresses). */
  get endpoints(): string[] {
    return [...this.listeners.keys()];
  }

  /** Starts connecting (returns at once); reconnects with backoff and jitter until disconnect() or close(). */
  connect(endpoint: string): void {
    this.assertOpen();
    if (this.dialers.has(endpoint)) throw new ZmtpError("EINVAL", `already connected to ${endpoint}`);
    const dialer: Dialer = { endpoint, target: parseEndpoint(endpoint), attempt: 0, timer: null, connection: null, state: "disconnected" };
    this.dialers.set(endpoint, dialer);
    this.dial(dialer);
  }

  /** Stops connecting to an endpoint and closes its connection. */
  disconnect(endpoint: string): void {
    const dialer = this.dialers.get(endpoint);
    if (!dialer) throw new ZmtpError("EENDPOINT", `not connected to ${endpoint}`);
    this.dialers.delete(endpoint);
    if (dialer.timer) clearTimeout(dialer.timer);
    dialer.connection?.close();
  }

  private dial(dialer: Dialer): void {
    dialer.timer = null;
    const target = dialer.target;
    const socket = target.transport === "ipc" ? net.connect({ path: target.path }) : net.connect({ host: target.host, port: target.port });
    this.setState(dialer, "connecting");
    dialer.connection = this.adopt(socket, dialer.endpoint, "dialed");
    this.dialerOf.set(dialer.connection, dialer);
  }

  private scheduleRedial(dialer: Dialer): void {
    if (this.closed || this.dialers.get(dialer.endpoint) !== dialer) return;
    const base = Math.min(this.reconnectMaxIntervalMs, this.reconnectIntervalMs * 2 ** Math.min(dialer.attempt, 20));
    dialer.attempt++;
    // Jitter in [base/2, base] so many clients restarting together do not reconnect in lockstep.
    const delay = base / 2 + Math.random() * (base / 2);
    dialer.timer = setTimeout(() => this.dial(dialer), delay);
  }

  private setState(dialer: Dialer, state: ConnectionState): void {
    if (dialer.state === state) return;
    dialer.state = state;
    this.onDialerState(dialer.endpoint, state);
  }

  /** Client sockets override to emit "state" events. */
  protected onDialerState(_endpoint: string, _state: ConnectionState): void {}

  private adopt(socket: net.Socket, endpoint: string, role: "dialed" | "accepted"): ZmtpConnection {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    const connection = new ZmtpConnection(socket, this.settings, this, role);
    this.endpointOf.set(connection, endpoint);
    if (this.closed) connection.close();
    return connection;
  }

  // ---- ConnectionHandler ----

  onReady(connection: ZmtpConnection): void {
    const info: PeerInfo = {
      id: connection.id,
      socketType: connection.peerSocketType as SocketTypeName,
      identity: connection.peerIdentity,
      remoteAddress: connection.remoteAddress,
      endpoint: this.endpointOf.get(connection) ?? "",
      ...(connection.curvePublicKey ? { curvePublicKey: connection.curvePublicKey } : {}),
      zmtpVersion: connection.minorVersion === 0 ? "3.0" : "3.1",
      connectedAt: connection.connectedAt,
      stats: connection.stats,
    };
    this.infos.set(connection, info);
    this.peersById.set(connection.id, connection);
    const dialer = this.dialerOf.get(connection);
    if (dialer) {
      dialer.attempt = 0;
      this.setState(dialer, "connected");
    }
    this.peerReady(connection, info);
    this.emitUntyped("connect", info);
  }

  onMessage(connection: ZmtpConnection, frames: Buffer[]): void {
    this.peerMessage(connection, frames);
  }

  onSubscription(connection: ZmtpConnection, subscribe: boolean, topic: Buffer): void {
    this.peerSubscription(connection, subscribe, topic);
  }

  onDrain(connection: ZmtpConnection): void {
    connection.queuedMessages = 0;
    this.peerWritable(connection);
    this.resolveDrainWaiters();
  }

  /** A peer's socket buffer emptied (publishers refill it from their backlog). */
  protected peerWritable(_connection: ZmtpConnection): void {}

  onClose(connection: ZmtpConnection, reason: ZmtpError, wasReady: boolean): void {
    const info = this.infos.get(connection);
    if (wasReady && info) {
      this.peersById.delete(connection.id);
      this.peerClosed(connection, info, reason);
      this.emitUntyped("disconnect", info, reason);
    } else if (!this.closed && (reason.code !== "ECONNRESET" || connection.socket.bytesRead > 0)) {
      // A refused or reset dial attempt is routine while reconnecting; anything else is worth reporting.
      this.emitUntyped("rejected", { remoteAddress: connection.remoteAddress, endpoint: this.endpointOf.get(connection) ?? "" }, reason);
    }
    this.resolveDrainWaiters();
    const dialer = this.dialerOf.get(connection);
    if (dialer && dialer.connection === connection) {
      dialer.connection = null;
      this.setState(dialer, "disconnected");
      this.scheduleRedial(dialer);
    }
  }

  // ---- flow control ----

  /**
   * Queues a message to one peer under the socket's flow policy.
   * Returns false only when the message was dropped at the high-water mark (flow "drop"; counted in stats.dropped).
   */
  protected deliver(connection: ZmtpConnection, frames: readonly Buffer[]): boolean {
    if (this.flow === "drop") {
      const queuedBytes = connection.queuedBytes;
      if (queuedBytes === 0) connection.queuedMessages = 0;
      let size = 0;
      for (const frame of frames) size += frame.length;
      if (connection.queuedMessages >= this.hwmMessages || queuedBytes + size > this.hwmBytes) {
        connection.stats.dropped++;
        return false;
      }
      connection.queuedMessages++;
    }
    connection.send(frames);
    return true;
  }

  /**
   * Resolves when the socket can take more data (flow "block"): when every ready peer is writable, or, given a
   * peer id, when that peer is writable or gone. Resolves at once if nothing is backed up.
   */
  drained(peerId?: string): Promise<void> {
    const isDrained = peerId === undefined ? () => this.allWritable() : () => this.peerDrained(peerId);
    if (isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ isDrained, resolve }));
  }

  private peerDrained(peerId: string): boolean {
    const connection = this.peersById.get(peerId);
    return !connection || connection.writable;
  }

  private allWritable(): boolean {
    for (const connection of this.peersById.values()) if (!connection.writable && connection.isReady) return false;
    return true;
  }

  private resolveDrainWaiters(): void {
    if (this.drainWaiters.length === 0) return;
    const waiting = this.drainWaiters.splice(0);
    for (const waiter of waiting) {
      if (waiter.isDrained()) waiter.resolve();
      else this.drainWaiters.push(waiter);
    }
  }

  protected infoOf(connection: ZmtpConnection): PeerInfo | undefined {
    return this.infos.get(connection);
  }

  /** Ready peers. */
  peers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const connection of this.peersById.values()) {
      const info = this.infos.get(connection);
      if (info) out.push(info);
    }
    return out;
  }

  /** Closes one peer's connection (e.g. a client that failed authorization at the application level). */
  kick(peerId: string): void {
    this.peersById.get(peerId)?.close(new ZmtpError("ECLOSED", "disconnected by the server"));
  }

  /** Closes every connection whose CURVE client key is `publicKey` (a key revoked while connected); returns how many. */
  kickKey(publicKey: string): number {
    let closed = 0;
    for (const connection of [...this.peersById.values()]) {
      if (connection.curvePublicKey !== publicKey) continue;
      connection.close(new ZmtpError("ECLOSED", "disconnected by the server"));
      closed++;
    }
    return closed;
  }

  protected assertOpen(): void {
    if (this.closed) throw new ZmtpError("ECLOSED", "socket is closed");
  }

  /** Closes listeners, dialers and connections (queued data is flushed first); resolves when all are closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const dialer of this.dialers.values()) if (dialer.timer) clearTimeout(dialer.timer);
    this.dialers.clear();
    const closing: Array<Promise<void>> = [];
    for (const endpoint of [...this.listeners.keys()]) closing.push(this.unbind(endpoint));
    for (const socket of this.sockets) {
      closing.push(new Promise((resolve) => socket.once("close", () => resolve())));
    }
    for (const socket of [...this.sockets]) {
      if (socket.connecting) socket.destroy();
    }
    // Connections close through their handler; any not yet ready are closed the same way.
    for (const connection of [...this.peersById.values()]) connection.close();
    for (const socket of [...this.sockets]) if (!socket.destroyed) socket.end();
    // A peer that reads nothing must not hold close() (and a server's shutdown) for long.
    setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, 1000).unref();
    await Promise.all(closing);
  }
}

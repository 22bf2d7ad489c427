import { ZmtpError } from "./errors.js";
import type { ZmtpConnection } from "./connection.js";
import {
  ZmtpSocketBase,
  type ConnectionState,
  type CurveClientOptions,
  type PeerInfo,
  type SocketOptions,
} from "./socket.js";

export interface ClientOptions extends SocketOptions {
  /** Makes this a CURVE client of a server with key curve.serverKey. */
  curve?: CurveClientOptions;
}

export type ClientEvents = {
  /** Per dialed endpoint: connecting -> connected -> disconnected -> connecting ... */
  state: [endpoint: string, state: ConnectionState];
};

abstract class ClientSocket<Events extends ClientEvents> extends ZmtpSocketBase<Events> {
  protected override onDialerState(endpoint: string, state: ConnectionState): void {
    this.emitUntyped("state", endpoint, state);
  }
}

export type DealerEvents = ClientEvents & { message: [frames: Buffer[]] };

/**
 * DEALER: sends round-robin to connected peers (skipping backed-up ones when it can), receives from all.
 * Messages sent while no peer is connected wait (up to highWaterMark.messages, then they are dropped and counted).
 */
export class ZmtpDealer extends ClientSocket<DealerEvents> {
  private ready: ZmtpConnection[] = [];
  private nextPeer = 0;
  private backlog: Buffer[][] = [];
  /** Messages dropped because no peer was connected and the backlog was full. */
  droppedWhileDisconnected = 0;

  constructor(options: ClientOptions = {}) {
    super("DEALER", ["ROUTER", "REP", "DEALER"], options, options.curve ? { client: options.curve } : {});
  }

  protected peerReady(connection: ZmtpConnection): void {
    this.ready = [...this.ready, connection];
    const backlog = this.backlog;
    this.backlog = [];
    for (const frames of backlog) this.send(frames);
  }

  protected peerClosed(connection: ZmtpConnection): void {
    this.ready = this.ready.filter((c) => c !== connection);
  }

  protected peerMessage(_connection: ZmtpConnection, frames: Buffer[]): void {
    this.emit("message", frames);
  }

  /** Same contract as ZmtpRouter.send: false = dropped (flow "drop") or backed up (flow "block", await drained()). */
  send(frames: readonly Buffer[]): boolean {
    this.assertOpen();
    if (frames.length === 0) throw new ZmtpError("EINVAL", "a message needs at least one frame");
    const count = this.ready.length;
    if (count === 0) {
      if (this.backlog.length >= this.hwmMessages) {
        this.droppedWhileDisconnected++;
        return false;
      }
      this.backlog.push([...frames]);
      return this.flow === "block";
    }
    let connection = this.ready[this.nextPeer++ % count]!;
    for (let tries = 1; tries < count && !connection.writable; tries++) connection = this.ready[this.nextPeer++ % count]!;
    if (!this.deliver(connection, frames)) return false;
    return this.flow === "drop" || connection.writable;
  }
}

export interface RequestOptions {
  /** Reject with ETIMEDOUT when no reply arrives in time (default: wait forever, like libzmq REQ). */
  timeoutMs?: number;
}

interface PendingRequest {
  frames: Buffer[];
  connection: ZmtpConnection | null;
  resolve: (reply: Buffer[]) => void;
  reject: (error: ZmtpError) => void;
  timer: NodeJS.Timeout | null;
}

const EMPTY = Buffer.alloc(0);

/**
 * REQ: one request in flight; adds the empty delimiter frame and strips it from the reply.
 * A request made while disconnected waits for a connection; if the carrying connection drops, it rejects with
 * ECONNRESET (libzmq would hang; callers here can retry).
 */
export class ZmtpRequest extends ClientSocket<ClientEvents> {
  private ready: ZmtpConnection[] = [];
  private nextPeer = 0;
  private pending: PendingRequest | null = null;

  constructor(options: ClientOptions = {}) {
    super("REQ", ["REP", "ROUTER"], options, options.curve ? { client: options.curve } : {});
  }

  request(frames: readonly Buffer[], options: RequestOptions = {}): Promise<Buffer[]> {
    this.assertOpen();
    if (this.pending) return Promise.reject(new ZmtpError("EBUSY", "a request is already in flight"));
    if (frames.length === 0) return Promise.reject(new ZmtpError("EINVAL", "a message needs at least one frame"));
    return new Promise<Buffer[]>((resolve, reject) => {
      const pending: PendingRequest = { frames: [EMPTY, ...frames], connection: null, resolve, reject, timer: null };
      this.pending = pending;
      if (options.timeoutMs !== undefined) {
        pending.timer = setTimeout(() => this.settle(pending, new ZmtpError("ETIMEDOUT", `no reply within ${options.timeoutMs} ms`)), options.timeoutMs);
      }
      this.dispatch();
    });
  }

  private dispatch(): void {
    const pending = this.pending;
    if (!pending || pending.connection || this.ready.length === 0) return;
    const connection = this.ready[this.nextPeer++ % this.ready.length]!;
    pending.connection = connection;
    connection.send(pending.frames);
  }

  private settle(pending: PendingRequest, outcome: Buffer[] | ZmtpError): void {
    if (this.pending !== pending) return;
    this.pending = null;
    if (pending.timer) clearTimeout(pending.timer);
    if (outcome instanceof ZmtpError) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  protected peerReady(connection: ZmtpConnection): void {
    this.ready = [...this.ready, connection];
    this.dispatch();
  }

  protected peerClosed(connection: ZmtpConnection, _info: PeerInfo, reason: ZmtpError): void {
    this.ready = this.ready.filter((c) => c !== connection);
    const pending = this.pending;
    if (pending && pending.connection === connection) {
      this.settle(pending, new ZmtpError("ECONNRESET", `connection lost before the reply: ${reason.message}`));
    }
  }

  protected peerMessage(connection: ZmtpConnection, frames: Buffer[]): void {
    const pending = this.pending;
    // Like libzmq REQ: a reply from another peer, or without the delimiter, is discarded.
    if (!pending || pending.connection !== connection || frames.length < 2 || frames[0]!.length !== 0) return;
    frames.shift();
    this.settle(pending, frames);
  }

  override async close(): Promise<void> {
    if (this.pending) this.settle(this.pending, new ZmtpError("ECLOSED", "socket closed"));
    await super.close();
  }
}

export type SubscriberEvents = ClientEvents & { message: [frames: Buffer[]] };

/**
 * SUB: subscriptions are prefixes of the first frame ("" = everything), replayed on every (re)connect.
 * To 3.1 peers they go as SUBSCRIBE/CANCEL commands, to 3.0 peers as messages starting with 1/0.
 * Messages are also filtered here, so a publisher that does not filter cannot flood the application.
 */
export class ZmtpSubscriber extends ClientSocket<SubscriberEvents> {
  private ready: ZmtpConnection[] = [];
  private readonly topics = new Map<string, { topic: Buffer; count: number }>();

  constructor(options: ClientOptions = {}) {
    super("SUB", ["PUB", "XPUB"], options, options.curve ? { client: options.curve } : {});
  }

  subscribe(prefix: Buffer | string = ""): void {
    const topic = Buffer.from(prefix);
    const key = topic.toString("latin1");
    const entry = this.topics.get(key);
    if (entry) {
      entry.count++;
      return;
    }
    this.topics.set(key, { topic, count: 1 });
    for (const connection of this.ready) sendSubscription(connection, true, topic);
  }

  unsubscribe(prefix: Buffer | string = ""): void {
    const topic = Buffer.from(prefix);
    const key = topic.toString("latin1");
    const entry = this.topics.get(key);
    if (!entry || --entry.count > 0) return;
    this.topics.delete(key);
    for (const connection of this.ready) sendSubscription(connection, false, topic);
  }

  protected peerReady(connection: ZmtpConnection): void {
    this.ready = [...this.ready, connection];
    for (const { topic } of this.topics.values()) sendSubscription(connection, true, topic);
  }

  protected peerClosed(connection: ZmtpConnection): void {
    this.ready = this.ready.filter((c) => c !== connection);
  }

  protected peerMessage(_connection: ZmtpConnection, frames: Buffer[]): void {
    const first = frames[0]!;
    for (const { topic } of this.topics.values()) {
      if (first.length >= topic.length && first.compare(topic, 0, topic.length, 0, topic.length) === 0) {
        this.emit("message", frames);
        return;
      }
    }
  }
}

function sendSubscription(connection: ZmtpConnection, subscribe: boolean, topic: Buffer): void {
  if (connection.minorVersion >= 1) {
    connection.sendCommand(subscribe ? "SUBSCRIBE" : "CANCEL", topic);
  } else {
    const message = Buffer.allocUnsafe(topic.length + 1);
    message[0] = subscribe ? 1 : 0;
    topic.copy(message, 1);
    connection.send([message]);
  }
}

import { SendBacklog } from "./backlog.js";
import { ZmtpError } from "./errors.js";
import type { ZmtpConnection } from "./connection.js";
import { ZmtpSocketBase, type CurveServerOptions, type PeerInfo, type SocketOptions } from "./socket.js";

/**
 * A bounded, conflating backlog per subscriber (instead of the high-water mark's plain drop): once a subscriber's
 * socket holds `socketBytes` unsent, messages wait in its backlog; a message published with a conflation key
 * replaces its unsent predecessor; a keyed message that finds no room is dropped (counted); an unkeyed one that
 * finds no room cuts the subscriber (it reconnects and resynchronises) rather than grow or lose it silently.
 */
export interface BacklogOptions {
  /** Messages one subscriber's backlog may hold. */
  messages: number;
  /** Bytes one subscriber's backlog may hold. */
  bytes: number;
  /** Unsent bytes in the subscriber's socket before messages go to the backlog. Default 1 MiB. */
  socketBytes?: number;
  /**
   * A subscriber whose oldest backlogged message has waited longer than this (ms) is cut, like one whose backlog
   * overflows: it is served minutes late otherwise (a conflating backlog never fills with ticks alone). Default: no bound.
   */
  maxLagMs?: number;
}

export interface PublisherOptions extends SocketOptions {
  curve?: CurveServerOptions;
  backlog?: BacklogOptions;
}

export interface SubscriberInfo extends PeerInfo {
  /** Current subscription prefixes (each once, whatever its reference count). */
  readonly topics: Buffer[];
  /** Messages waiting in the backlog (backlog mode). */
  readonly backlogMessages: number;
  /** Bytes waiting: the backlog plus what the socket has not written yet. */
  readonly queuedBytes: number;
  /** How long the oldest backlogged message has waited (ms); 0 when the backlog is empty. */
  readonly lagMs: number;
}

export type PublisherEvents = {
  subscribe: [peer: PeerInfo, topic: Buffer];
  unsubscribe: [peer: PeerInfo, topic: Buffer];
  /** A subscriber was cut: its backlog was full of messages that may not be dropped. */
  slow: [peer: PeerInfo, reason: string];
};

interface Subscription {
  connection: ZmtpConnection;
  info: PeerInfo;
  /** Prefix (latin1 key) -> reference count, as libzmq counts repeated subscriptions. */
  topics: Map<string, { topic: Buffer; count: number }>;
  matchesEverything: boolean;
  backlog: SendBacklog | null;
}

const DEFAULT_SOCKET_BYTES = 1 << 20;

/**
 * PUB: fans messages out to SUB peers, filtering at the publisher by the first frame's prefix.
 * flow "block": never drops; publish() returns false when some subscriber is backed up (await drained()).
 * flow "drop": a subscriber over its high-water mark loses that message (counted), nobody else waits.
 */
export class ZmtpPublisher extends ZmtpSocketBase<PublisherEvents> {
  private subscriptions: Subscription[] = [];
  private readonly backlogOptions: Required<BacklogOptions> | null;
  private lastTopic: Buffer | null = null;
  private lastTopicKey = "";

  constructor(options: PublisherOptions = {}) {
    super("PUB", ["SUB", "XSUB"], options, options.curve ? { server: options.curve } : {});
    const backlog = options.backlog;
    if (backlog) {
      if (!(backlog.messages >= 1 && backlog.bytes >= 1)) throw new ZmtpError("EINVAL", "backlog needs messages >= 1 and bytes >= 1");
      if (backlog.maxLagMs !== undefined && !(backlog.maxLagMs > 0)) throw new ZmtpError("EINVAL", "backlog maxLagMs must be > 0");
      this.backlogOptions = { socketBytes: DEFAULT_SOCKET_BYTES, maxLagMs: Number.POSITIVE_INFINITY, ...backlog };
    } else this.backlogOptions = null;
  }

  protected peerReady(connection: ZmtpConnection, info: PeerInfo): void {
    const backlog = this.backlogOptions ? new SendBacklog(this.backlogOptions) : null;
    this.subscriptions = [...this.subscriptions, { connection, info, topics: new Map(), matchesEverything: false, backlog }];
  }

  protected override peerWritable(connection: ZmtpConnection): void {
    const subscription = this.subscriptions.find((s) => s.connection === connection);
    if (subscription?.backlog) this.refill(subscription, subscription.backlog);
  }

  /** Moves backlog into the socket while it has room; true when the backlog is empty afterwards. */
  private refill(subscription: Subscription, backlog: SendBacklog): boolean {
    const limit = this.backlogOptions!.socketBytes;
    const connection = subscription.connection;
    while (backlog.length > 0 && connection.queuedBytes < limit) connection.send(backlog.shift()!);
    return backlog.length === 0;
  }

  private deliverBacklogged(subscription: Subscription, backlog: SendBacklog, frames: readonly Buffer[], key: string | undefined): void {
    const connection = subscription.connection;
    if (this.refill(subscription, backlog) && connection.queuedBytes < this.backlogOptions!.socketBytes) {
      connection.send(frames);
      return;
    }
    const result = backlog.push(frames, key);
    if (result === "conflated") connection.stats.conflated++;
    else if (result === "dropped") connection.stats.dropped++;
    else if (result === "overflow") {
      connection.stats.dropped++;
      this.cut(subscription, backlog, `slow subscriber: ${backlog.length} messages (${backlog.bytes} bytes) unsent, none of them market data to conflate`);
      return;
    }
    const lag = backlog.oldestAge();
    if (lag > this.backlogOptions!.maxLagMs) {
      this.cut(subscription, backlog, `slow subscriber: ${Math.round(lag)} ms behind (bound ${this.backlogOptions!.maxLagMs} ms), ${backlog.length} messages unsent`);
    }
  }

  /** Cuts a subscriber too far behind: it reconnects and resynchronises rather than being served late. */
  private cut(subscription: Subscription, backlog: SendBacklog, reason: string): void {
    subscription.connection.stats.dropped += backlog.length;
    backlog.clear();
    this.emit("slow", subscription.info, reason);
    subscription.connection.close(new ZmtpError("ECLOSED", reason));
  }

  protected peerClosed(connection: ZmtpConnection): void {
    this.subscriptions = this.subscriptions.filter((s) => s.connection !== connection);
  }

  protected peerMessage(connection: ZmtpConnection, frames: Buffer[]): void {
    // ZMTP 3.0 subscriptions (and libzmq SUBs generally): a one-frame message whose first byte is 1 or 0.
    const first = frames[0]!;
    if (frames.length === 1 && first.length > 0 && (first[0] === 1 || first[0] === 0)) {
      this.peerSubscription(connection, first[0] === 1, first.subarray(1));
    }
  }

  protected override peerSubscription(connection: ZmtpConnection, subscribe: boolean, topic: Buffer): void {
    const subscription = this.subscriptions.find((s) => s.connection === connection);
    if (!subscription) return;
    const key = topic.toString("latin1");
    const entry = subscription.topics.get(key);
    if (subscribe) {
      if (entry) entry.count++;
      else subscription.topics.set(key, { topic: Buffer.from(topic), count: 1 });
      this.emit("subscribe", subscription.info, Buffer.from(topic));
    } else {
      if (!entry) return;
      if (--entry.count === 0) subscription.topics.delete(key);
      this.emit("unsubscribe", subscription.info, Buffer.from(topic));
    }
    subscription.matchesEverything = subscription.topics.has("");
  }

  /**
   * Sends to every subscriber whose prefix matches the first frame (and that `only`, when given, accepts), except
   * those holding the subscription `optOut`: a marker no message starts with, by which a subscriber opts out of a kind.
   * Returns true when the caller may go on publishing; false (flow "block" only) means some subscriber is backed
   * up: the message is queued for it anyway, and the caller should await drained() before publishing more.
   */
  publish(frames: readonly Buffer[], conflationKey?: string, only?: (peer: PeerInfo) => boolean, optOut?: Buffer): boolean {
    if (frames.length === 0) throw new ZmtpError("EINVAL", "a message needs at least one frame");
    const first = frames[0]!;
    const skipKey = optOut === undefined ? undefined : this.topicKey(optOut);
    let writable = true;
    for (const subscription of this.subscriptions) {
      if (!subscription.matchesEverything && !matches(subscription, first)) continue;
      // A subscriber holding the opt-out subscription said it does without such messages.
      if (skipKey !== undefined && subscription.topics.has(skipKey)) continue;
      // An application filter on top of topics (e.g. by the subscriber's CURVE key): `only` says who gets it.
      if (only && !only(subscription.info)) continue;
      if (subscription.backlog) {
        this.deliverBacklogged(subscription, subscription.backlog, frames, conflationKey);
        continue;
      }
      this.deliver(subscription.connection, frames);
      if (this.flow === "block" && !subscription.connection.writable) writable = false;
    }
    return writable;
  }

  /** Whether some subscriber does not hold the subscription `optOut` (a message published with it reaches someone). */
  reaches(optOut: Buffer): boolean {
    const key = this.topicKey(optOut);
    return this.subscriptions.some((s) => !s.topics.has(key));
  }

  /** A topic's key in the subscription maps; the last one is remembered (publishers pass the same Buffer each time). */
  private topicKey(topic: Buffer): string {
    if (topic !== this.lastTopic) {
      this.lastTopic = topic;
      this.lastTopicKey = topic.toString("latin1");
    }
    return this.lastTopicKey;
  }

  /** Connected subscribers with their topics and live stats (incl. dropped and conflated). */
  subscribers(): SubscriberInfo[] {
    return this.subscriptions.map((s) => ({
      ...s.info,
      topics: [...s.topics.values()].map((t) => t.topic),
      backlogMessages: s.backlog?.length ?? 0,
      queuedBytes: (s.backlog?.bytes ?? 0) + s.connection.queuedBytes,
      lagMs: s.backlog?.oldestAge() ?? 0,
    }));
  }
}

function matches(subscription: Subscription, first: Buffer): boolean {
  for (const { topic } of subscription.topics.values()) {
    if (first.length >= topic.length && first.compare(topic, 0, topic.length, 0, topic.length) === 0) return true;
  }
  return false;
}

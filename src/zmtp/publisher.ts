import { ZmtpError } from "./errors.js";
import type { ZmtpConnection } from "./connection.js";
import { ZmtpSocketBase, type CurveServerOptions, type PeerInfo, type SocketOptions } from "./socket.js";

export interface PublisherOptions extends SocketOptions {
  curve?: CurveServerOptions;
}

export interface SubscriberInfo extends PeerInfo {
  /** Current subscription prefixes (each once, whatever its reference count). */
  readonly topics: Buffer[];
}

export type PublisherEvents = {
  subscribe: [peer: PeerInfo, topic: Buffer];
  unsubscribe: [peer: PeerInfo, topic: Buffer];
};

interface Subscription {
  connection: ZmtpConnection;
  info: PeerInfo;
  /** Prefix (latin1 key) -> reference count, as libzmq counts repeated subscriptions. */
  topics: Map<string, { topic: Buffer; count: number }>;
  matchesEverything: boolean;
}

/**
 * PUB: fans messages out to SUB peers, filtering at the publisher by the first frame's prefix.
 * flow "block": never drops; publish() returns false when some subscriber is backed up (await drained()).
 * flow "drop": a subscriber over its high-water mark loses that message (counted), nobody else waits.
 */
export class ZmtpPublisher extends ZmtpSocketBase<PublisherEvents> {
  private subscriptions: Subscription[] = [];

  constructor(options: PublisherOptions = {}) {
    super("PUB", ["SUB", "XSUB"], options, options.curve ? { server: options.curve } : {});
  }

  protected peerReady(connection: ZmtpConnection, info: PeerInfo): void {
    this.subscriptions = [...this.subscriptions, { connection, info, topics: new Map(), matchesEverything: false }];
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
   * Sends to every subscriber whose prefix matches the first frame (and that `only`, when given, accepts).
   * Returns true when the caller may go on publishing; false (flow "block" only) means some subscriber is backed
   * up: the message is queued for it anyway, and the caller should await drained() before publishing more.
   */
  publish(frames: readonly Buffer[], only?: (peer: PeerInfo) => boolean): boolean {
    if (frames.length === 0) throw new ZmtpError("EINVAL", "a message needs at least one frame");
    const first = frames[0]!;
    let writable = true;
    for (const subscription of this.subscriptions) {
      if (!subscription.matchesEverything && !matches(subscription, first)) continue;
      // An application filter on top of topics (e.g. by the subscriber's CURVE key): `only` says who gets it.
      if (only && !only(subscription.info)) continue;
      this.deliver(subscription.connection, frames);
      if (this.flow === "block" && !subscription.connection.writable) writable = false;
    }
    return writable;
  }

  /** Connected subscribers with their topics and live stats (incl. dropped). */
  subscribers(): SubscriberInfo[] {
    return this.subscriptions.map((s) => ({ ...s.info, topics: [...s.topics.values()].map((t) => t.topic) }));
  }
}

function matches(subscription: Subscription, first: Buffer): boolean {
  for (const { topic } of subscription.topics.values()) {
    if (first.length >= topic.length && first.compare(topic, 0, topic.length, 0, topic.length) === 0) return true;
  }
  return false;
}

/**
 * The transport on our own ZMTP 3.1 implementation (src/zmtp), the default: it runs on the event loop, with
 * no I/O thread hand-off, and knows each peer's address and connect/disconnect.
 *
 * Every socket uses flow "drop": a slow subscriber loses events (and the publisher counts them per peer) rather
 * than hold the server up, and the DEALER refuses instead of keeping a backlog while no server is connected.
 */
import {
  ZmtpDealer,
  ZmtpPublisher,
  ZmtpRouter,
  ZmtpSubscriber,
  type BaseEvents,
  type PeerInfo,
  type RejectedConnection,
  type ZmtpError,
} from "../zmtp/index.js";
import { EMPTY } from "./protocol.js";
import {
  DEFAULT_PUBLISH_QUEUE,
  type ClientSocketOptions,
  type DealerHandlers,
  type DealerSocket,
  type PeerDetails,
  type PublisherHandlers,
  type PublisherSocket,
  type Refusal,
  type RouterHandlers,
  type RouterSocket,
  type ServerSocketOptions,
  type SocketTuning,
  type SubscriberHandlers,
  type SubscriberSocket,
  type SubscriberStats,
  type Transport,
} from "./transport.js";

const DEFAULT_HWM = 100_000;
/** Unsent replies to one client beyond which the router stops reading its calls (see SocketOptions). */
const ROUTER_PAUSE_READING_BYTES = 1 << 20;
/** Calls taken from one client before its connection lets the others' calls in (one event-loop turn). */
const ROUTER_READ_BUDGET = 256;

function options(tuning: SocketTuning | undefined) {
  return {
    flow: "drop" as const,
    highWaterMark: { messages: tuning?.highWaterMark ?? DEFAULT_HWM, bytes: 256 * 1024 * 1024 },
    ...(tuning?.maxMessageSize !== undefined ? { maxMessageSize: tuning.maxMessageSize } : {}),
  };
}

/** Passes handshake failures on; routine ones (a dial refused or reset while reconnecting) never get here. */
function forwardRejections(
  socket: { on(event: "rejected", listener: (...args: BaseEvents["rejected"]) => void): unknown },
  rejected: ((refusal: Refusal) => void) | undefined,
): void {
  if (!rejected) return;
  socket.on("rejected", (connection: RejectedConnection, reason: ZmtpError) => {
    const kind = reason.code === "EAUTH" ? "auth" : reason.code === "EPROTO" || reason.code === "ESOCKETTYPE" ? "protocol" : "mechanism";
    rejected({ remoteAddress: connection.remoteAddress, kind, code: reason.code, reason: reason.message });
  });
}

class ZmtpRouterSocket implements RouterSocket {
  private readonly socket: ZmtpRouter;
  private readonly peers = new Map<string, PeerInfo>();

  constructor(handlers: RouterHandlers, tuning?: ServerSocketOptions) {
    // A client that pipelines calls without reading the replies is held back by TCP once 1 MiB of them wait.
    this.socket = new ZmtpRouter({ ...options(tuning), pauseReadingAboveBytes: ROUTER_PAUSE_READING_BYTES, readBudgetMessages: ROUTER_READ_BUDGET, ...(tuning?.curve ? { curve: tuning.curve } : {}) });
    forwardRejections(this.socket, handlers.rejected);
    this.socket.on("connect", (peer) => this.peers.set(peer.id, peer));
    this.socket.on("disconnect", (peer) => {
      this.peers.delete(peer.id);
      handlers.peerClosed?.(peer.id);
    });
    this.socket.on("message", (peer, frames) => {
      // ZmtpRouter strips a REQ peer's delimiter; the RPC layer expects ROUTER's view, with it.
      handlers.message(peer.id, peer.socketType === "REQ" ? [EMPTY, ...frames] : frames);
    });
  }

  bind(address: string): Promise<string> {
    return this.socket.bind(address);
  }

  send(peerId: string, frames: Buffer[]): void {
    const peer = this.peers.get(peerId);
    const wire = peer?.socketType === "REQ" && frames[0]?.length === 0 ? frames.slice(1) : frames;
    this.socket.send(peerId, wire);
  }

  holdReading(peerId: string, ms: number): void {
    this.socket.holdReading(peerId, ms);
  }

  peerDetails(peerId: string): PeerDetails | undefined {
    const peer = this.peers.get(peerId);
    if (!peer) return undefined;
    return { remoteAddress: peer.remoteAddress, ...(peer.curvePublicKey ? { curvePublicKey: peer.curvePublicKey } : {}) };
  }

  closeKey(publicKey: string): number {
    return this.socket.kickKey(publicKey);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}

class ZmtpPublisherSocket implements PublisherSocket {
  private readonly socket: ZmtpPublisher;

  constructor(tuning?: ServerSocketOptions, handlers?: PublisherHandlers) {
    // A bounded, conflating backlog per subscriber: a slow one gets the latest market data, never a stale queue.
    const backlog = {
      messages: tuning?.highWaterMark ?? DEFAULT_PUBLISH_QUEUE.messages,
      bytes: tuning?.highWaterMarkBytes ?? DEFAULT_PUBLISH_QUEUE.bytes,
      ...(tuning?.maxLagMs !== undefined ? { maxLagMs: tuning.maxLagMs } : {}),
    };
    this.socket = new ZmtpPublisher({ ...options(tuning), backlog, ...(tuning?.curve ? { curve: tuning.curve } : {}) });
    forwardRejections(this.socket, handlers?.rejected);
    const slow = handlers?.slow;
    if (slow) this.socket.on("slow", (peer, reason) => slow(peer.remoteAddress, reason));
  }

  bind(address: string): Promise<string> {
    return this.socket.bind(address);
  }

  send(frames: Buffer[], conflationKey?: string, only?: (subscriber: { readonly curvePublicKey?: string }) => boolean, optOut?: Buffer): void {
    this.socket.publish(frames, conflationKey, only, optOut);
  }

  reaches(optOut: Buffer): boolean {
    return this.socket.reaches(optOut);
  }

  subscriberStats(): SubscriberStats[] {
    return this.socket.subscribers().map((s) => ({
      id: s.id,
      remoteAddress: s.remoteAddress,
      since: s.connectedAt,
      queued: s.backlogMessages,
      queuedBytes: s.queuedBytes,
      dropped: s.stats.dropped,
      conflated: s.stats.conflated,
      lagMs: s.lagMs,
    }));
  }

  closeKey(publicKey: string): number {
    return this.socket.kickKey(publicKey);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}

class ZmtpDealerSocket implements DealerSocket {
  private readonly socket: ZmtpDealer;
  private connected = 0;

  constructor(handlers: DealerHandlers, tuning?: ClientSocketOptions) {
    this.socket = new ZmtpDealer({ ...options(tuning), ...(tuning?.curve ? { curve: tuning.curve } : {}) });
    forwardRejections(this.socket, handlers.rejected);
    this.socket.on("connect", () => {
      this.connected++;
      handlers.up?.();
    });
    this.socket.on("disconnect", () => {
      this.connected--;
      handlers.down?.();
    });
    this.socket.on("message", (frames) => handlers.message(frames));
  }

  connect(address: string): void {
    this.socket.connect(address);
  }

  send(frames: Buffer[]): Promise<void> {
    if (this.connected <= 0) return Promise.reject(new Error("not connected"));
    return this.socket.send(frames) ? Promise.resolve() : Promise.reject(new Error("send queue full"));
  }

  trySend(frames: Buffer[]): boolean {
    // Never let the socket keep a backlog for a server that is not there.
    return this.connected > 0 && this.socket.send(frames);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}

class ZmtpSubscriberSocket implements SubscriberSocket {
  private readonly socket: ZmtpSubscriber;

  constructor(handlers: SubscriberHandlers, tuning?: ClientSocketOptions) {
    this.socket = new ZmtpSubscriber({ ...options(tuning), ...(tuning?.curve ? { curve: tuning.curve } : {}) });
    forwardRejections(this.socket, handlers.rejected);
    this.socket.subscribe("");
    for (const marker of tuning?.markers ?? []) this.socket.subscribe(marker);
    this.socket.on("connect", () => handlers.up?.());
    this.socket.on("disconnect", () => handlers.down?.());
    this.socket.on("message", (frames) => handlers.message(frames));
  }

  connect(address: string): void {
    this.socket.connect(address);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}

export const zmtpTransport: Transport = {
  kind: "zmtp",
  curvePeerKeys: true,
  router: (handlers, tuning) => new ZmtpRouterSocket(handlers, tuning),
  publisher: (tuning, handlers) => new ZmtpPublisherSocket(tuning, handlers),
  dealer: (handlers, tuning) => new ZmtpDealerSocket(handlers, tuning),
  subscriber: (handlers, tuning) => new ZmtpSubscriberSocket(handlers, tuning),
};

/**
 * The small socket interface the RPC layer runs on, so the same server and client work over zeromq.js
 * (libzmq) or over our own ZMTP implementation. Only the four socket roles VeighNa's wire needs are here.
 *
 * Frames are given as a ROUTER sees them after the routing id: a REQ peer's message starts with the empty
 * delimiter frame, and a reply to it must start with one too.
 */
export type TransportKind = "zmtp" | "zeromq";

export interface PeerDetails {
  /** Remote address as the transport sees it, when it knows it. */
  readonly remoteAddress?: string;
  /** Authenticated identity (a CURVE key), when there is one. */
  readonly identity?: string;
}

export interface RouterHandlers {
  message(peerId: string, frames: Buffer[]): void;
  /** Called when the transport knows a peer is gone (not every transport does). */
  peerClosed?(peerId: string): void;
}

export interface RouterSocket {
  bind(address: string): Promise<string>;
  /** Best effort: a reply to a peer that has gone is dropped. */
  send(peerId: string, frames: Buffer[]): void;
  peerDetails(peerId: string): PeerDetails | undefined;
  close(): Promise<void>;
}

export interface PublisherSocket {
  bind(address: string): Promise<string>;
  /** Never blocks: a subscriber that cannot keep up loses messages (and the transport may count them). */
  send(frames: Buffer[]): void;
  /** Messages dropped per subscriber, when the transport counts them. */
  subscriberStats?(): { remoteAddress: string; queued: number; dropped: number }[];
  close(): Promise<void>;
}

export interface DealerHandlers {
  message(frames: Buffer[]): void;
}

export interface DealerSocket {
  connect(address: string): void;
  /**
   * Sends now or not at all: rejects when no connection is up or the queue is full. A refused message is
   * never queued for later, so a server that comes back never sees a request its caller gave up on.
   */
  send(frames: Buffer[]): Promise<void>;
  close(): Promise<void>;
}

export interface SubscriberHandlers {
  message(frames: Buffer[]): void;
}

export interface SubscriberSocket {
  connect(address: string): void;
  close(): Promise<void>;
}

export interface SocketTuning {
  /** Messages a socket may queue per peer before it drops (PUB) or refuses (DEALER). */
  highWaterMark?: number;
  /** Largest message accepted from a peer; bigger ones cost the peer its connection (a memory bound). */
  maxMessageSize?: number;
}

export interface Transport {
  readonly kind: TransportKind;
  router(handlers: RouterHandlers, tuning?: SocketTuning): RouterSocket;
  publisher(tuning?: SocketTuning): PublisherSocket;
  dealer(handlers: DealerHandlers, tuning?: SocketTuning): DealerSocket;
  subscriber(handlers: SubscriberHandlers, tuning?: SocketTuning): SubscriberSocket;
}

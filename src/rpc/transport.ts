/**
 * The small socket interface the RPC layer runs on, so the same server and client work over zeromq.js
 * (libzmq) or over our own ZMTP implementation. Only the four socket roles VeighNa's wire needs are here.
 *
 * Frames are given as a ROUTER sees them after the routing id: a REQ peer's message starts with the empty
 * delimiter frame, and a reply to it must start with one too.
 */
export type TransportKind = "zmtp" | "zeromq";

/**
 * Each event subscriber's queue beyond its socket buffer (1 MiB), in messages and bytes, unless told otherwise: where
 * its market data is conflated, and past which a subscriber behind on other events is cut.
 */
export const DEFAULT_PUBLISH_QUEUE = { messages: 20_000, bytes: 32 << 20 } as const;

export interface PeerDetails {
  /** Remote address as the transport sees it, when it knows it. */
  readonly remoteAddress?: string;
  /** The client's CURVE public key (Z85), on a CURVE socket of a transport with `curvePeerKeys`. */
  readonly curvePublicKey?: string;
}

export interface RouterHandlers {
  message(peerId: string, frames: Buffer[]): void;
  /** Called when the transport knows a peer is gone (not every transport does). */
  peerClosed?(peerId: string): void;
  /** A connection refused during its handshake (a CURVE key not allowed, a NULL peer on a CURVE socket...). */
  rejected?(refusal: Refusal): void;
}

/** Why a connection never got past its handshake. */
export interface Refusal {
  /** Remote address, when the transport knows it. */
  readonly remoteAddress?: string;
  /**
   * "auth": the key was refused by the allow-list (or, on a client, by the server); "protocol": the wrong peer (not
   * ZMTP at all, an HTTP port say, or a socket type that cannot talk to ours), which no security setting would
   * help; "mechanism": anything else.
   */
  readonly kind: "auth" | "protocol" | "mechanism";
  /** The transport's error code, when it has one (a finer kind for rate-limiting log lines). */
  readonly code?: string;
  readonly reason: string;
}

/** CURVE (rfc 26) for a server socket (ROUTER, PUB). Keys are Z85 text. */
export interface CurveServerSecurity {
  readonly publicKey: string;
  readonly secretKey: string;
  /**
   * Allow-list hook, asked at each handshake: false refuses the client key. Only transports with `curvePeerKeys` can call it;
   * the others refuse a socket that asks for it.
   */
  readonly authorize?: (clientPublicKey: string) => boolean;
}

/** CURVE for a client socket (DEALER, SUB): our long-term key pair and the server's public key (Z85). */
export interface CurveClientSecurity {
  readonly publicKey: string;
  readonly secretKey: string;
  readonly serverKey: string;
}

export interface RouterSocket {
  bind(address: string): Promise<string>;
  /** Best effort: a reply to a peer that has gone is dropped. */
  send(peerId: string, frames: Buffer[]): void;
  peerDetails(peerId: string): PeerDetails | undefined;
  /** Closes the connections authenticated with this CURVE client key (transports with `curvePeerKeys`); how many. */
  closeKey?(publicKey: string): number;
  /**
   * Reads nothing more from this peer for `ms`, from its next message: its calls wait in its own socket (TCP holds
   * it back). Transports that cannot leave it out.
   */
  holdReading?(peerId: string, ms: number): void;
  close(): Promise<void>;
}

/** One subscriber's queue, as a transport that keeps one per subscriber sees it. */
export interface SubscriberStats {
  readonly id: string;
  readonly remoteAddress: string;
  readonly since: number;
  /** Messages waiting for it. */
  readonly queued: number;
  readonly queuedBytes: number;
  /** Messages it lost (a keyed message with no room, or the backlog of a subscriber cut as too slow). */
  readonly dropped: number;
  /** Messages replaced, unsent, by a newer one with the same conflation key. */
  readonly conflated: number;
  /** How long the oldest queued message has waited (ms); 0 when nothing is queued. */
  readonly lagMs: number;
}

export interface PublisherSocket {
  bind(address: string): Promise<string>;
  /**
   * Never blocks. `conflationKey`: a message that may be replaced by a newer one with the same key while it waits
   * for a slow subscriber (market data); without one it is never replaced (orders, trades...). A transport without
   * per-subscriber queues ignores the key and drops at its high-water mark. `only` picks subscribers by their
   * CURVE key, on transports with `curvePeerKeys` (others send to all). `optOut`: subscribers holding this marker
   * subscription do not get the message.
   */
  send(frames: Buffer[], conflationKey?: string, only?: (subscriber: { readonly curvePublicKey?: string }) => boolean, optOut?: Buffer): void;
  /**
   * Whether a message sent with `optOut` would reach anyone: false when every subscriber holds that marker
   * subscription (ClientSocketOptions.markers), so the caller need not even build it. Transports that cannot see
   * subscriptions leave it out (and ignore `optOut`: everyone gets everything).
   */
  reaches?(optOut: Buffer): boolean;
  /** Per-subscriber queues and counters, when the transport keeps them. */
  subscriberStats?(): SubscriberStats[];
  /** Closes the subscriber connections authenticated with this CURVE client key; how many. */
  closeKey?(publicKey: string): number;
  close(): Promise<void>;
}

/** A client socket's connection came up (handshake done) or went down; each reconnect is a new "up". */
export interface LinkHandlers {
  up?(): void;
  down?(): void;
}

export interface DealerHandlers extends LinkHandlers {
  message(frames: Buffer[]): void;
  /** The server refused the connection during its handshake (wrong server key, our key not allowed...). */
  rejected?(refusal: Refusal): void;
}

export interface DealerSocket {
  connect(address: string): void;
  /**
   * Sends now or not at all: rejects when no connection is up or the queue is full. A refused message is
   * never queued for later, so a server that comes back never sees a request its caller gave up on.
   */
  send(frames: Buffer[]): Promise<void>;
  /** `send` for a transport that knows at once (ZMTP): true when sent. Saves a promise on every call's path. */
  trySend?(frames: Buffer[]): boolean;
  close(): Promise<void>;
}

export interface SubscriberHandlers extends LinkHandlers {
  message(frames: Buffer[]): void;
  rejected?(refusal: Refusal): void;
}

export interface SubscriberSocket {
  connect(address: string): void;
  close(): Promise<void>;
}

export interface SocketTuning {
  /** Messages a socket may queue per peer before it drops (PUB) or refuses (DEALER). */
  highWaterMark?: number;
  /** Bytes a PUB may queue per subscriber (transports with per-subscriber queues). */
  highWaterMarkBytes?: number;
  /** A subscriber whose oldest queued message is older than this (ms) is cut (transports with per-subscriber queues). */
  maxLagMs?: number;
  /** Largest message accepted from a peer; bigger ones cost the peer its connection (a memory bound). */
  maxMessageSize?: number;
}

export interface ServerSocketOptions extends SocketTuning {
  curve?: CurveServerSecurity;
}

export interface ClientSocketOptions extends SocketTuning {
  curve?: CurveClientSecurity;
  /**
   * A subscriber's extra subscriptions that match no message (each starts with a zero byte; every message here is a
   * pickle, whose first byte is 0x80): they tell a publisher that reads them what this subscriber does without (see
   * PublisherSocket.send's `optOut`). Any other ZeroMQ publisher holds them and sends nothing more.
   */
  markers?: readonly Buffer[];
}

export interface Transport {
  readonly kind: TransportKind;
  /**
   * Whether a CURVE server learns which client key each connection belongs to (PeerDetails.curvePublicKey) and can
   * refuse keys (CurveServerSecurity.authorize). libzmq keeps that behind ZAP, which zeromq.js does not expose.
   */
  readonly curvePeerKeys: boolean;
  router(handlers: RouterHandlers, options?: ServerSocketOptions): RouterSocket;
  publisher(options?: ServerSocketOptions, handlers?: PublisherHandlers): PublisherSocket;
  dealer(handlers: DealerHandlers, options?: ClientSocketOptions): DealerSocket;
  subscriber(handlers: SubscriberHandlers, options?: ClientSocketOptions): SubscriberSocket;
}

export interface PublisherHandlers {
  rejected?(refusal: Refusal): void;
  /** A subscriber was cut because it fell behind by more than its queue holds. */
  slow?(remoteAddress: string, reason: string): void;
}

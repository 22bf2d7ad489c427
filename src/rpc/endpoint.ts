/**
 * The transport seam: an endpoint carries calls in and events out, whatever the wire.
 *
 * The RPC server owns the function table, the event sequence and the client registry; each endpoint
 * (ZeroMQ with VeighNa's pickle frames, WebSocket with JSON, ...) only translates its wire to these calls.
 */
import type { Event } from "../kernel/index.js";

/** Who is calling: a stable id per connection, for logs, the connected-clients view and order ownership. */
export interface CallContext {
  /** Unique per client connection, e.g. "zmq:7" or "ws:3". */
  readonly clientId: string;
  /** The endpoint that carried the call ("zmq", "ws"). */
  readonly endpoint: string;
  /** Aborted when the caller has gone or its deadline passed; long calls may stop early. */
  readonly signal?: AbortSignal;
  /** The caller's deadline (epoch ms, server clock) if it sent one: the server never starts a call after it. */
  readonly deadline?: number;
  /** The name the client declared (not authenticated); stable across its reconnects, unlike `clientId`. */
  readonly clientName?: string;
  /**
   * Who the transport proved the caller to be (CURVE: the allow-list name of its key, else the key itself).
   * Stable across reconnects and client restarts, and no other client can claim it.
   */
  readonly identity?: string;
}

/** Runs one call; resolves with the result or rejects with the error to report to the caller. */
export type CallDispatcher = (
  name: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  context: CallContext,
) => Promise<unknown>;

/** An event as it leaves the server: numbered per server run, so clients can detect gaps and restarts. */
export interface PublishedEvent {
  /** 1, 2, 3, ... for one server epoch. */
  readonly seq: number;
  /** Identifies one server run; a new epoch means a restart, and clients resynchronise. */
  readonly epoch: string;
  readonly event: Event;
}

/** Where the event stream stands: replies carry it, so a client can line a snapshot up with the stream. */
export interface StreamPosition {
  readonly epoch: string;
  /** The last sequence number published (0 before the first event). */
  readonly seq: number;
}

/** What an endpoint gets from the server it serves. */
export interface EndpointHost {
  readonly dispatch: CallDispatcher;
  position(): StreamPosition;
  /** A log line from the endpoint (malformed frames, dropped calls); level as LogData (20 info, 30 warning, 40 error). */
  log(level: number, message: string): void;
}

export interface ConnectedClient {
  readonly clientId: string;
  readonly endpoint: string;
  /** Remote address as the transport sees it (host:port, or the ipc path). */
  readonly remoteAddress: string;
  /**
   * Who the client is: its authenticated identity if the transport has one (the allow-list name of its CURVE key,
   * else the key; a token name), otherwise the name it declared.
   */
  readonly identity?: string;
  /** The client's CURVE public key (Z85), when it connected with CURVE and the transport sees keys. */
  readonly publicKey?: string;
  /** When it connected (epoch ms). */
  readonly since: number;
  readonly calls: number;
  /** Events queued for it and not yet written. */
  readonly eventsBehind: number;
  readonly eventsDropped: number;
  /** Age of the oldest event queued for it (ms), when the endpoint can tell; 0 when nothing is queued. */
  readonly lagMs?: number;
}

export interface ServerEndpoint {
  /** Short name used in client ids and logs: "zmq", "ws". */
  readonly name: string;
  /** Binds and starts serving calls through `host.dispatch`. Rejects (and leaves nothing bound) if it cannot. */
  start(host: EndpointHost): Promise<void>;
  /** Stops serving and releases every address; may be started again afterwards. */
  stop(): Promise<void>;
  /** Broadcasts one event to the endpoint's subscribers; never blocks the caller. */
  publish(published: PublishedEvent): void;
  /** Clients currently connected through this endpoint. */
  clients(): ConnectedClient[];
}

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
  /** How `identity` was proven: "curve" (the allow-list of client keys), "token" (a console user's token). */
  readonly authenticatedBy?: "curve" | "token";
  /** The caller's CURVE public key (Z85), when it connected with CURVE. */
  readonly publicKey?: string;
  /** Remote address as the transport sees it (host:port, or the ipc path). */
  readonly remoteAddress?: string;
  /** The caller's role, set by the server's call gate before the function runs (e.g. "viewer", "trader", "admin"). */
  readonly role?: string;
  /**
   * Set by the call gate: a function that answers but did not do what was asked (VeighNa's send_order answers ""
   * for a blocked order) says why here, and the audit trail records the call as refused with that reason.
   */
  readonly reportRefusal?: (reason: string) => void;
}

/** Runs one call; resolves with the result or rejects with the error to report to the caller. */
export type CallDispatcher = (
  name: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  context: CallContext,
) => Promise<unknown>;

/** How a call ended: its result, or (ok false) the error it failed with. */
export type CallSettler = (ok: boolean, value: unknown) => void;

/** A CallDispatcher answering through `settle`: at once when the function answers at once, with no promise made. */
export type CallSettling = (
  name: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  context: CallContext,
  settle: CallSettler,
) => void;

/** The promise of something that settles through a CallSettler (for callers that want one). */
export function settled<T>(start: (settle: CallSettler) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((ok, value) => (ok ? resolve(value as T) : reject(value))));
}

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
  /** Events published since the server was made, market data included (seq does not number ticks). */
  readonly published?: number;
}

/** What an endpoint gets from the server it serves. */
export interface EndpointHost {
  readonly dispatch: CallDispatcher;
  /** `dispatch` without a promise per call, for an endpoint's busiest path (ZeroMQ). */
  readonly dispatchInto: CallSettling;
  position(): StreamPosition;
  /** The functions it serves (a bus endpoint announces each one); optional for hosts that cannot list them. */
  functions?(): readonly string[];
  /** A log line from the endpoint (malformed frames, dropped calls); level as LogData (20 info, 30 warning, 40 error). */
  log(level: number, message: string): void;
  /**
   * Whether `viewer` may receive `event` (private streams: a trader sees only its own orders and trades). Absent,
   * or true: everyone receives everything, as VeighNa does. Endpoints that can address one client ask it per
   * client before sending.
   */
  visible?(event: Event, viewer: CallContext): boolean;
  /** Cheap, once per event: whether `visible` may say no to anyone for it (else send to all without asking). */
  withheld?(event: Event): boolean;
  /** Before decoding a call's arguments: the error it is refused with whatever they are (see CallGate.refuseEarly). */
  refuseEarly?(name: string, context: CallContext): Error | undefined;
  /** Whether `name` is long work (a history query): its long result is best encoded in slices (see codec/sliced.ts). */
  heavy?(name: string): boolean;
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
  /** How `identity` was proven, when it was (see CallContext). */
  readonly authenticatedBy?: "curve" | "token";
  /** The client's CURVE public key (Z85), when it connected with CURVE and the transport sees keys. */
  readonly publicKey?: string;
  /** When it connected (epoch ms). */
  readonly since: number;
  readonly calls: number;
  /** Events queued for it and not yet written. */
  readonly eventsBehind: number;
  readonly eventsDropped: number;
  /** Market data replaced, unsent, by a newer tick of the same symbol (it fell behind). */
  readonly eventsConflated?: number;
  /** Bytes queued for it and not yet written, where the endpoint knows. */
  readonly bytesBehind?: number;
  /** The role the server's call gate gives it, when the server has one. */
  readonly role?: string;
  /** Calls refused because the client was over one of its limits. */
  readonly rateLimited?: number;
  /** Calls refused for lack of permission. */
  readonly refused?: number;
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
  /**
   * Connections of a separate event socket (VeighNa's SUB), with their queues and counters (behind, dropped,
   * conflated), for endpoints whose subscribers are not the callers' connections.
   */
  subscribers?(): ConnectedClient[];
  /**
   * Closes the connections of the clients `which` selects (e.g. those of a revoked key), telling them `reason`
   * where the wire can; returns how many it closed. Optional: an endpoint without it keeps them open.
   */
  closeClients?(which: (client: ConnectedClient) => boolean, reason: string): number;
}

/**
 * The ZeroMQ endpoint: VeighNa's two sockets, serving unmodified VeighNa clients and our own at once.
 *
 * - request address: a ROUTER. A REQ-framed message (`["", pickle]`) is a VeighNa call and gets VeighNa's reply
 *   `[True, result]` / `[False, traceback text]`; a message starting with our signature (protocol 1's own frame,
 *   protocol 2's prefix of the one frame) is a pipelined call of our protocol, answered in the same framing (see
 *   protocol.ts). Requests are decoded in strict "request" mode: a hostile pickle is rejected, never executed.
 * - publish address: a PUB sending single-frame `["", Event]` pickles, with the server's seq and epoch as extra
 *   attributes of the Event (Python's unpickler just sets them on the instance), and `["heartbeat", time]`
 *   from its own timer every `heartbeatInterval`, whatever the calls are doing. Subscribers holding the
 *   NO_SPECIFIC_TICKS subscription are not sent the `eTick.<vt_symbol>` copies.
 * - optional CURVE (rfc 26) on both sockets: encryption, the server proven by its key, and with an allow-list
 *   only listed client keys get in (on either socket). The client's key, or the name the allow-list gives it, is
 *   the caller's `identity`: unlike the name a client declares, no other client can claim it.
 */
import {
  decodeCall,
  encodeBroadcast,
  encodeResult,
  encodeResultSliced,
  heartbeatPayload,
  peekCallName,
  retypeBroadcast,
  worthEncodingInSlices,
} from "./wire.js";
import { ERROR, EVENT_TICK, Event, LogLimiter, WARNING, isMarketDataType, marketDataKey, messageOf, untrusted } from "../kernel/index.js";
import type { CallContext, ConnectedClient, EndpointHost, PublishedEvent, ServerEndpoint } from "./endpoint.js";
import { RpcError, formatTraceback, malformedRequest, requestTooLarge, unencodableResult } from "./errors.js";
import {
  COMPACT_REPLY_HEADROOM,
  EMPTY,
  HELLO_FUNCTION,
  NO_SPECIFIC_TICKS,
  PROTOCOL_VERSION,
  SIGNATURE,
  decodeCallHeader,
  encodeReplyHeader,
  isSignature,
  readCompactCall,
  writeCompactReplyHeader,
  type HelloInfo,
  type ReplyHeader,
} from "./protocol.js";
import { resolveTransport } from "./transports.js";
import { DEFAULT_PUBLISH_QUEUE, type CurveServerSecurity, type PublisherSocket, type Refusal, type RouterSocket, type Transport, type TransportKind } from "./transport.js";
import { curvePublicKey, isCurveKey } from "../zmtp/index.js";

export const DEFAULT_HEARTBEAT_INTERVAL = 10_000;
export const DEFAULT_MAX_REQUEST_BYTES = 1 << 20;
export const DEFAULT_PUBLISH_MAX_LAG = 30_000;
export const DEFAULT_OVER_LIMIT_READ_PAUSE = 1;
/** Events that could not be encoded are replaced by one of these, so subscribers see no false gap. */
export const EVENT_RPC_SKIPPED = "eRpcSkipped";

/** Errors that say the peer sent something wrong: their lines are rate-limited per kind and address. */
const PEER_FAULTS: ReadonlySet<string> = new Set(["ERR_RPC_UNKNOWN_FUNCTION", "ERR_RPC_BAD_ARGUMENTS", "ERR_RPC_MALFORMED", "ERR_RPC_TOO_LARGE"]);
/** Function names, and messages per name, whose refusal pickle is kept (refusalPayload); a full table starts afresh. */
const MAX_CACHED_REFUSALS = 64;

/** Answers one call; `encoded`: its reply pickle, already encoded (a refusal's, shared: see refusalPayload). */
type Reply = (ok: boolean, value: unknown, name: string, encoded?: Buffer) => void;

export interface ZmqCurveOptions {
  /** The server's long-term key pair, Z85 text (40 characters each). */
  readonly publicKey: string;
  readonly secretKey: string;
  /**
   * The allow-list: client public key (Z85) -> name ("" for none). Only these keys get in, on both sockets.
   * Absent: any client key is accepted (encryption and server authentication, no client authentication).
   * Needs the zmtp transport. Asked at each handshake, so a live directory (a file re-read when it changes)
   * admits and refuses keys without a restart.
   */
  readonly authorizedClients?: ClientKeyDirectory;
}

/** Looks a client key up: its name ("" for none), or undefined when it may not connect. A Map is one. */
export interface ClientKeyDirectory {
  get(publicKey: string): string | undefined;
}

export interface ZmqEndpointOptions {
  /** ROUTER address for calls, e.g. "tcp://127.0.0.1:2014" (port 0 picks a free one). */
  repAddress: string;
  /** PUB address for events, e.g. "tcp://127.0.0.1:4102". */
  pubAddress: string;
  /** Default "zmtp" (our implementation), or "zeromq" (zeromq.js / libzmq). */
  transport?: TransportKind | Transport;
  /** Milliseconds between heartbeats (VeighNa: 10,000). */
  heartbeatInterval?: number;
  /** Requests larger than this get an error reply without being decoded. */
  maxRequestBytes?: number;
  /** A client silent for this long leaves the connected-clients list (default: 3 heartbeats; REQ clients x 30). */
  clientIdleTimeout?: number;
  /**
   * Messages queued per subscriber beyond its socket buffer (default 20,000). zmtp: a bounded backlog where a tick
   * replaces the unsent tick of its symbol, and a subscriber whose backlog fills with other events is cut (it
   * reconnects and resynchronises); zeromq: libzmq's high-water mark, which drops.
   */
  publishHighWaterMark?: number;
  /** Bytes queued per subscriber beyond its socket buffer (zmtp; default 32 MiB). */
  publishHighWaterMarkBytes?: number;
  /**
   * A subscriber whose oldest queued event has waited longer than this (ms) is cut with a log line rather than
   * served late (zmtp; default 30,000: VeighNa's own heartbeat tolerance). It reconnects and resynchronises.
   */
  publishMaxLag?: number;
  /** CURVE on both sockets; absent: VeighNa's NULL mechanism (no encryption, no authentication). */
  curve?: ZmqCurveOptions;
  /**
   * After a call refused for its client's limits, that connection is not read for this long (ms; zmtp; default 1,
   * 0: off): a flooding client costs the server at most one refusal a millisecond, its other calls wait in its own
   * socket (each still gets its refusal, or runs once the client is back within its limits).
   */
  overLimitReadPause?: number;
}

interface ClientRecord {
  clientId: string;
  /** The transport's id of the connection. */
  peerId: string;
  since: number;
  lastSeen: number;
  calls: number;
  /** Speaks our protocol (pings every heartbeat) rather than VeighNa's REQ. */
  rpcservice: boolean;
  /** CURVE: the client's public key and what it is known as (its allow-list name, else the key). */
  publicKey?: string;
  identity?: string;
  /** What the client calls itself in its hello (not authenticated). */
  declaredName?: string;
  reportedAddress?: string;
  /** As the transport saw it when the client first spoke. */
  remoteAddress?: string;
}

export class ZmqEndpoint implements ServerEndpoint {
  readonly name = "zmq";
  private readonly options: Required<Omit<ZmqEndpointOptions, "transport" | "curve">> & { transport: Transport };
  private readonly curve: ZmqCurveOptions | undefined;
  /** Refusal and malformed-input lines: a few per kind and remote host a minute, then "… N more suppressed". */
  private readonly limiter = new LogLimiter({ burst: 5 });
  private router: RouterSocket | null = null;
  private publisher: PublisherSocket | null = null;
  private host: EndpointHost | null = null;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly peers = new Map<string, ClientRecord>();
  private nextClient = 1;
  private bound: { rep: string; pub: string } | null = null;
  /** Encoded refusals by function name, then message (refusalPayload). */
  private readonly refusals = new Map<string, Map<string, Buffer>>();
  /** The last event encoded, so that its twin (same data, seq and epoch) reuses its bytes. */
  private lastFrame: { data: unknown; seq: number; epoch: string; frame: Buffer } | null = null;

  constructor(options: ZmqEndpointOptions) {
    const heartbeatInterval = options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL;
    if (!(heartbeatInterval > 0)) throw new RpcError("ERR_RPC_OPTIONS", `heartbeatInterval must be > 0, got ${heartbeatInterval}`);
    if (!options.repAddress || !options.pubAddress) throw new RpcError("ERR_RPC_OPTIONS", "repAddress and pubAddress are required");
    this.options = {
      repAddress: options.repAddress,
      pubAddress: options.pubAddress,
      transport: resolveTransport(options.transport),
      heartbeatInterval,
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
      clientIdleTimeout: options.clientIdleTimeout ?? 3 * heartbeatInterval,
      publishHighWaterMark: options.publishHighWaterMark ?? DEFAULT_PUBLISH_QUEUE.messages,
      publishHighWaterMarkBytes: options.publishHighWaterMarkBytes ?? DEFAULT_PUBLISH_QUEUE.bytes,
      publishMaxLag: options.publishMaxLag ?? DEFAULT_PUBLISH_MAX_LAG,
      overLimitReadPause: options.overLimitReadPause ?? DEFAULT_OVER_LIMIT_READ_PAUSE,
    };
    if (!(this.options.overLimitReadPause >= 0)) throw new RpcError("ERR_RPC_OPTIONS", `overLimitReadPause must be >= 0, got ${this.options.overLimitReadPause}`);
    for (const key of ["publishHighWaterMark", "publishHighWaterMarkBytes", "publishMaxLag"] as const) {
      if (!(this.options[key] > 0)) throw new RpcError("ERR_RPC_OPTIONS", `${key} must be > 0, got ${this.options[key]}`);
    }
    this.curve = options.curve ? checkCurve(options.curve, this.options.transport) : undefined;
  }

  /** The server's CURVE public key (Z85) when CURVE is on. */
  get curvePublicKey(): string | null {
    return this.curve?.publicKey ?? null;
  }

  /** The addresses actually bound (a port 0 resolved), while started. */
  get addresses(): { rep: string; pub: string } | null {
    return this.bound;
  }

  get transportKind(): TransportKind {
    return this.options.transport.kind;
  }

  async start(host: EndpointHost): Promise<void> {
    if (this.router) throw new RpcError("ERR_RPC_STATE", "endpoint already started");
    const transport = this.options.transport;
    const curve = this.curveSecurity();
    const rejected = (refusal: Refusal) => this.onRefused(refusal);
    const router = transport.router(
      {
        message: (peerId, frames) => this.onMessage(peerId, frames),
        peerClosed: (peerId) => this.peers.delete(peerId),
        rejected,
      },
      // A generous hard cap: libzmq drops the connection beyond it; below it, the size check answers politely.
      { maxMessageSize: Math.max(this.options.maxRequestBytes * 16, 16 << 20), ...(curve ? { curve } : {}) },
    );
    const slow = (remoteAddress: string, reason: string) =>
      this.limiter.write("slow-subscriber", remoteAddress, () => `RPC: subscriber ${untrusted(remoteAddress)} cut: ${reason}`, (line) => this.host?.log(WARNING, line));
    const publisher = transport.publisher(
      {
        highWaterMark: this.options.publishHighWaterMark,
        highWaterMarkBytes: this.options.publishHighWaterMarkBytes,
        maxLagMs: this.options.publishMaxLag,
        ...(curve ? { curve } : {}),
      },
      { rejected, slow },
    );
    try {
      const rep = await router.bind(this.options.repAddress);
      const pub = await publisher.bind(this.options.pubAddress);
      this.bound = { rep, pub };
    } catch (error) {
      await router.close().catch(() => undefined);
      await publisher.close().catch(() => undefined);
      throw error;
    }
    this.router = router;
    this.publisher = publisher;
    this.host = host;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatInterval);
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    const router = this.router;
    const publisher = this.publisher;
    this.router = null;
    this.publisher = null;
    this.host = null;
    this.bound = null;
    this.peers.clear();
    this.limiter.clear();
    this.lastFrame = null;
    await router?.close();
    await publisher?.close();
  }

  publish(published: PublishedEvent): void {
    const publisher = this.publisher;
    if (!publisher) return;
    const { event, seq, epoch } = published;
    // A specific tick (`eTick.<vt_symbol>`) goes only to subscribers that did not opt out of them (NO_SPECIFIC_TICKS);
    // with none left it is not even re-labelled.
    const specificTick = event.type.length > EVENT_TICK.length && isMarketDataType(event.type);
    if (specificTick && publisher.reaches?.(NO_SPECIFIC_TICKS) === false) return;
    const frame = this.encodeEvent(event, seq, epoch);
    const host = this.host;
    const conflationKey = marketDataKey(event);
    if (host?.visible && host.withheld?.(event)) {
      // Private streams: each subscriber by its CURVE key (anonymous ones have none: they get it, as VeighNa's).
      const visible = host.visible;
      publisher.send([frame], conflationKey, (subscriber) => subscriber.curvePublicKey === undefined || visible(event, this.subscriberContext(subscriber.curvePublicKey)));
      return;
    }
    publisher.send([frame], conflationKey, undefined, specificTick ? NO_SPECIFIC_TICKS : undefined);
  }

  /**
   * The event's frame. VeighNa publishes every tick twice (`eTick.` and `eTick.<vt_symbol>`, same data, and here
   * the same seq): the twin is the previous frame re-labelled, its data not encoded again (byte-identical, see
   * retypeBroadcast).
   */
  private encodeEvent(event: Event, seq: number, epoch: string): Buffer {
    const last = this.lastFrame;
    if (last !== null && last.data === event.data && last.seq === seq && last.epoch === epoch && event.data !== null) {
      const twin = retypeBroadcast(last.frame, event.type);
      if (twin !== undefined) return twin;
    }
    let frame: Buffer;
    try {
      frame = encodeBroadcast("", sequenced(event.type, event.data, seq, epoch));
    } catch (error) {
      this.host?.log(ERROR, `RPC publish: cannot encode ${untrusted(event.type)} (seq ${seq}): ${untrusted(messageOf(error), 400)}`);
      this.lastFrame = null;
      return encodeBroadcast("", sequenced(EVENT_RPC_SKIPPED, event.type, seq, epoch));
    }
    if (this.lastFrame === null) this.lastFrame = { data: event.data, seq, epoch, frame };
    else {
      this.lastFrame.data = event.data;
      this.lastFrame.seq = seq;
      this.lastFrame.epoch = epoch;
      this.lastFrame.frame = frame;
    }
    return frame;
  }

  /** A subscriber as a caller would be: its key's allow-list name, proven by CURVE. */
  private subscriberContext(publicKey: string): CallContext {
    const identity = this.curve?.authorizedClients?.get(publicKey) || publicKey;
    return { clientId: `${this.name}:sub`, endpoint: this.name, identity, authenticatedBy: "curve", publicKey };
  }

  clients(): ConnectedClient[] {
    this.expireIdle(Date.now());
    return [...this.peers.entries()].map(([peerId, record]) => {
      const details = this.router?.peerDetails(peerId);
      const identity = record.identity ?? record.declaredName;
      return {
        clientId: record.clientId,
        endpoint: this.name,
        remoteAddress: details?.remoteAddress ?? record.reportedAddress ?? "unknown",
        ...(identity !== undefined ? { identity } : {}),
        ...(record.publicKey !== undefined ? { publicKey: record.publicKey, authenticatedBy: "curve" as const } : {}),
        since: record.since,
        calls: record.calls,
        eventsBehind: 0,
        eventsDropped: 0,
      };
    });
  }

  /** Subscribers of the event socket, each with its queue and counters (transports that keep them). */
  subscribers(): ConnectedClient[] {
    const stats = this.publisher?.subscriberStats?.() ?? [];
    return stats.map((s) => ({
      clientId: `${this.name}:sub-${s.id}`,
      endpoint: this.name,
      remoteAddress: s.remoteAddress,
      since: s.since,
      calls: 0,
      eventsBehind: s.queued,
      eventsDropped: s.dropped,
      eventsConflated: s.conflated,
      bytesBehind: s.queuedBytes,
      lagMs: s.lagMs,
    }));
  }

  private heartbeat(): void {
    const now = Date.now();
    // VeighNa's payload: the server's time.time(), a float of epoch seconds.
    this.publisher?.send([encodeBroadcast("heartbeat", heartbeatPayload(now))]);
    this.expireIdle(now);
  }

  private expireIdle(now: number): void {
    for (const [peerId, record] of this.peers) {
      const limit = record.rpcservice ? this.options.clientIdleTimeout : this.options.clientIdleTimeout * 30;
      if (now - record.lastSeen > limit) this.peers.delete(peerId);
    }
  }

  private recordOf(peerId: string): ClientRecord {
    let record = this.peers.get(peerId);
    const now = Date.now();
    if (!record) {
      record = { clientId: `${this.name}:${this.nextClient++}`, peerId, since: now, lastSeen: now, calls: 0, rpcservice: false };
      const details = this.router?.peerDetails(peerId);
      if (details?.remoteAddress !== undefined) record.remoteAddress = details.remoteAddress;
      const publicKey = details?.curvePublicKey;
      if (publicKey !== undefined) {
        record.publicKey = publicKey;
        record.identity = this.curve?.authorizedClients?.get(publicKey) || publicKey;
      }
      this.peers.set(peerId, record);
    }
    record.lastSeen = now;
    return record;
  }

  closeClients(which: (client: ConnectedClient) => boolean, reason: string): number {
    const router = this.router;
    if (!router) return 0;
    let closed = 0;
    const keys = new Set<string>();
    const clients = this.clients();
    for (const [peerId, record] of [...this.peers]) {
      const client = clients.find((c) => c.clientId === record.clientId);
      if (!client || !which(client)) continue;
      this.host?.log(WARNING, `RPC ${record.clientId}${record.identity ? ` (${record.identity})` : ""}: disconnected: ${reason}`);
      this.peers.delete(peerId);
      if (record.publicKey !== undefined) keys.add(record.publicKey);
      closed++;
    }
    // ZeroMQ has no way to tell a peer why; the connections of the key (calls and events) are closed.
    for (const key of keys) {
      router.closeKey?.(key);
      this.publisher?.closeKey?.(key);
    }
    return closed;
  }

  private onMessage(peerId: string, frames: Buffer[]): void {
    const record = this.recordOf(peerId);
    if (frames.length > 0 && frames[0]!.length === 0) {
      // VeighNa (REQ) framing: envelope up to the empty delimiter, then exactly one body frame.
      const body = frames.slice(1);
      const reply: Reply = (ok, value, name, encoded) => this.reply(peerId, [EMPTY], ok, value, name, undefined, encoded);
      if (body.length !== 1) {
        this.fail(record, "<request>", malformedRequest(`expected one frame after the delimiter, got ${body.length}`), reply);
        return;
      }
      this.handleCall(record, body[0]!, 0, reply);
      return;
    }
    // Our compact framing (protocol 2): signature, header and pickle in one frame; the reply comes back the same way.
    const compact = frames.length === 1 ? readCompactCall(frames[0]!) : null;
    if (compact) {
      record.rpcservice = true;
      const { id } = compact.header;
      const reply: Reply = (ok, value, name, encoded) => {
        // The stream position when the result was computed, not when its (maybe sliced) encode ends.
        const position = this.host?.position() ?? { epoch: "0", seq: 0 };
        this.reply(peerId, [], ok, value, name, { id, seq: position.seq, epoch: position.epoch }, encoded);
      };
      this.handleCall(record, compact.body, compact.header.deadline, reply);
      return;
    }
    if (isSignature(frames[0])) {
      const header = frames.length === 3 ? decodeCallHeader(frames[1]!) : null;
      if (!header) {
        this.peerFault(peerId, "malformed-frames", `RPC ${record.clientId}: malformed call frames dropped (${frames.length} frames)`);
        return;
      }
      record.rpcservice = true;
      const reply: Reply = (ok, value, name, encoded) => {
        const position = this.host?.position() ?? { epoch: "0", seq: 0 };
        const replyHeader = encodeReplyHeader({ id: header.id, seq: position.seq, epoch: position.epoch });
        this.reply(peerId, [SIGNATURE, replyHeader], ok, value, name, undefined, encoded);
      };
      this.handleCall(record, frames[2]!, header.deadline, reply);
      return;
    }
    // Neither framing: there is no way to address a reply the sender would understand.
    this.peerFault(peerId, "unknown-framing", `RPC ${record.clientId}: message in an unknown framing dropped (${frames.length} frames)`);
  }

  private handleCall(
    record: ClientRecord,
    body: Buffer,
    deadline: number,
    reply: Reply,
  ): void {
    const host = this.host;
    if (!host) return;
    record.calls++;
    if (body.length > this.options.maxRequestBytes) {
      this.fail(record, "<request>", requestTooLarge(body.length, this.options.maxRequestBytes), reply);
      return;
    }
    const context = this.contextOf(record, deadline);
    // A client over its limits is refused before its arguments are decoded: a flood costs as little as possible.
    const peeked = host.refuseEarly ? peekCallName(body) : undefined;
    if (peeked !== undefined && peeked !== HELLO_FUNCTION) {
      const refusal = host.refuseEarly!(peeked, context);
      if (refusal) {
        this.fail(record, peeked, refusal, reply);
        return;
      }
    }
    let request: { name: string; args: readonly unknown[]; kwargs: Readonly<Record<string, unknown>> };
    try {
      request = decodeCall(body);
    } catch (error) {
      this.fail(record, "<request>", malformedRequest(messageOf(error), error), reply);
      return;
    }
    const { name, args, kwargs } = request;
    if (name === HELLO_FUNCTION) {
      this.hello(record, kwargs);
      const position = host.position();
      const info: HelloInfo = {
        protocol: PROTOCOL_VERSION,
        epoch: position.epoch,
        seq: position.seq,
        time: Date.now(),
        heartbeat_interval: this.options.heartbeatInterval,
        ...(position.published !== undefined ? { published: position.published } : {}),
        ...(this.publisher?.reaches ? { specific_ticks_withheld: true } : {}),
      };
      reply(true, info, name);
      return;
    }
    host.dispatchInto(name, args, kwargs, context, (ok, value) => (ok ? reply(true, value, name) : this.fail(record, name, value, reply)));
  }

  /** Every call's context: set field by field, since each conditional spread would make an object of its own. */
  private contextOf(record: ClientRecord, deadline: number): CallContext {
    const context: { -readonly [K in keyof CallContext]: CallContext[K] } = {
      clientId: record.clientId,
      endpoint: this.name,
      remoteAddress: record.remoteAddress ?? record.reportedAddress ?? "unknown",
    };
    if (deadline > 0) context.deadline = deadline;
    if (record.declaredName !== undefined) context.clientName = record.declaredName;
    if (record.identity !== undefined) {
      context.identity = record.identity;
      context.authenticatedBy = "curve";
    }
    if (record.publicKey !== undefined) context.publicKey = record.publicKey;
    return context;
  }

  private hello(record: ClientRecord, kwargs: Readonly<Record<string, unknown>>): void {
    const client = kwargs["client"];
    const address = kwargs["address"];
    if (typeof client === "string" && client) record.declaredName = client;
    if (typeof address === "string" && address) record.reportedAddress = address;
  }

  private curveSecurity(): CurveServerSecurity | undefined {
    const curve = this.curve;
    if (!curve) return undefined;
    const allowed = curve.authorizedClients;
    return { publicKey: curve.publicKey, secretKey: curve.secretKey, ...(allowed ? { authorize: (key: string) => allowed.get(key) !== undefined } : {}) };
  }

  private onRefused(refusal: Refusal): void {
    // Per kind, not per text: the text (a mechanism name, a key) is the peer's to vary.
    this.limiter.write(`refused-${refusal.code ?? refusal.kind}`, refusal.remoteAddress, () =>
      `RPC: connection from ${untrusted(refusal.remoteAddress ?? "unknown")} refused: ${untrusted(refusal.reason)}`,
      (line) => this.host?.log(WARNING, line),
    );
  }

  /** A line about a peer's bad input, rate-limited per kind and remote host. */
  private peerFault(peerId: string, kind: string, line: string): void {
    const remote = this.router?.peerDetails(peerId)?.remoteAddress ?? this.peers.get(peerId)?.clientId;
    this.limiter.write(kind, remote, () => line, (text) => this.host?.log(WARNING, text));
  }

  private fail(
    record: ClientRecord,
    name: string,
    error: unknown,
    reply: Reply,
  ): void {
    // Refusals by the server's gate (role, limits) are logged there, once per client and second, not per call.
    const refused = error instanceof RpcError && (error.code === "ERR_RPC_RATE_LIMITED" || error.code === "ERR_RPC_PERMISSION");
    if (!refused) {
      const line = `RPC ${record.clientId}: ${untrusted(name)} failed: ${untrusted(messageOf(error), 400)}`;
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === "string" && PEER_FAULTS.has(code)) this.peerFault(record.peerId, code, line);
      else this.host?.log(WARNING, line);
    }
    if (refused) {
      // Refused the same way, a call gets the same words: a flood's refusals share one encoded reply.
      reply(false, undefined, name, this.refusalPayload(name, error as RpcError));
      // And a client over its limits is read at a bounded pace: its flood waits in its own socket, not in our turns.
      const pause = this.options.overLimitReadPause;
      if (pause > 0 && (error as RpcError).code === "ERR_RPC_RATE_LIMITED") this.router?.holdReading?.(record.peerId, pause);
      return;
    }
    reply(false, formatTraceback(name, error), name);
  }

  /**
   * Sends `[...prefix, reply pickle]`; with `header`, the compact framing: the pickle is encoded behind
   * COMPACT_REPLY_HEADROOM bytes that take the signature and this header (one frame).
   */
  private reply(
    peerId: string,
    prefix: Buffer[],
    ok: boolean,
    value: unknown,
    name: string,
    header?: ReplyHeader,
    encoded?: Buffer,
  ): void {
    const router = this.router;
    if (!router) return;
    const headroom = header ? COMPACT_REPLY_HEADROOM : 0;
    // A heavy call's long result (a history query's bars) is encoded in slices: other clients' calls run in between.
    if (ok && this.host?.heavy?.(name) && worthEncodingInSlices(value)) {
      encodeResultSliced(ok, value, headroom).then(
        (payload) => this.router === router && sendReply(router, peerId, prefix, payload, header),
        (error: unknown) => this.router === router && sendReply(router, peerId, prefix, this.unencodable(name, error, headroom), header),
      );
      return;
    }
    let payload: Buffer;
    try {
      payload = encoded ? withHeadroom(encoded, headroom) : encodeResult(ok, value, headroom);
    } catch (error) {
      payload = this.unencodable(name, error, headroom);
    }
    sendReply(router, peerId, prefix, payload, header);
  }

  /**
   * A refusal's reply pickle (the traceback of `error` in `name`), encoded once per function and message: a flood is
   * refused thousands of times a second in the same words. Shared: a frame is never written to.
   */
  private refusalPayload(name: string, error: RpcError): Buffer {
    let byMessage = this.refusals.get(name);
    if (!byMessage) {
      if (this.refusals.size >= MAX_CACHED_REFUSALS) this.refusals.clear();
      this.refusals.set(name, (byMessage = new Map()));
    }
    let bytes = byMessage.get(error.message);
    if (!bytes) {
      if (byMessage.size >= MAX_CACHED_REFUSALS) byMessage.clear();
      bytes = encodeResult(false, formatTraceback(name, error));
      byMessage.set(error.message, bytes);
    }
    return bytes;
  }

  private unencodable(name: string, error: unknown, headroom: number): Buffer {
    const failure = unencodableResult(name, error);
    this.host?.log(ERROR, `RPC ${untrusted(name)}: ${untrusted(failure.message, 400)}`);
    return encodeResult(false, formatTraceback(name, failure), headroom);
  }
}

/** Keys must be valid Z85 and belong together; an allow-list needs a transport that sees client keys. */
function checkCurve(curve: ZmqCurveOptions, transport: Transport): ZmqCurveOptions {
  for (const [what, key] of [["publicKey", curve.publicKey], ["secretKey", curve.secretKey]] as const) {
    if (!isCurveKey(key)) throw new RpcError("ERR_RPC_OPTIONS", `curve.${what} must be a Z85 key of 40 characters`);
  }
  if (curvePublicKey(curve.secretKey) !== curve.publicKey) throw new RpcError("ERR_RPC_OPTIONS", "curve.publicKey does not belong to curve.secretKey");
  if (curve.authorizedClients) {
    if (!transport.curvePeerKeys) {
      throw new RpcError(
        "ERR_RPC_OPTIONS",
        `a CURVE allow-list needs the zmtp transport: ${transport.kind} cannot tell the server which client key connected`,
      );
    }
    if (curve.authorizedClients instanceof Map) {
      for (const key of curve.authorizedClients.keys()) {
        if (!isCurveKey(key)) throw new RpcError("ERR_RPC_OPTIONS", `allow-list entry ${JSON.stringify(key)} is not a Z85 key of 40 characters`);
      }
    }
  }
  return curve;
}


/** An Event with the stream position as extra attributes: pickled state `{type, data, seq, epoch}`. */
function sequenced(type: string, data: unknown, seq: number, epoch: string): Event {
  return Object.assign(new Event(type, data), { seq, epoch });
}

/** A reply's frames to its peer: the compact header written into the payload's headroom, or the prefix frames. */
function sendReply(router: RouterSocket, peerId: string, prefix: Buffer[], payload: Buffer, header: ReplyHeader | undefined): void {
  if (header) writeCompactReplyHeader(payload, header);
  router.send(peerId, prefix.length === 0 ? [payload] : [...prefix, payload]);
}

/** `bytes` behind `headroom` bytes of room for a header (a copy), or `bytes` itself when there is none. */
function withHeadroom(bytes: Buffer, headroom: number): Buffer {
  if (headroom === 0) return bytes;
  const out = Buffer.allocUnsafe(headroom + bytes.length);
  bytes.copy(out, headroom);
  return out;
}

/**
 * The NATS endpoint: calls as a NATS micro service, events published once onto a cluster, orders, trades,
 * positions, accounts and logs kept in a JetStream stream per server.
 *
 * Beside the ZeroMQ and WebSocket endpoints on the same seam (ServerEndpoint). What changes is who does the
 * fan-out: the trading process writes each event once to the node it is connected to, whatever the number of
 * subscribers; the cluster filters by subject (type, then vt_symbol) and copies. Subjects: see subjects.ts.
 *
 * Calls. Each function of the server is one endpoint of the micro service "rpcservice" (metadata `server`), so
 * any NATS client finds them with `$SRV.PING/INFO/STATS`. The request body is the WebSocket wire's call
 * (`{"args": [...], "kwargs": {...}}`, `id` and `call` optional; same schemas and error codes); the reply is its
 * reply (`{"ok": true, "result"}` / `{"ok": false, "error": {code, message}}`, an error also as the micro error
 * headers) with the stream position in `Rpc-Seq`/`Rpc-Epoch`. The caller's timeout (`Rpc-Timeout`, ms) becomes
 * the call's deadline: the server never starts a call after it. Identity: with `trustRequestInfo`, the NATS user
 * that nats-server certifies in `Nats-Request-Info` (requests crossing a service import with `share: true`).
 *
 * Events. One message per event (VeighNa's specific twins such as `eTick.rb2701.SHFE` are not sent: the subject
 * already names the symbol), body = the WebSocket wire's event JSON, headers `Rpc-Seq`/`Rpc-Epoch`. Persisted
 * types go through JetStream publishes in order (ordered-publisher.ts); the others, ticks first, are plain
 * publishes (the optional tick stream captures them as they pass).
 */
import { Svcm, type Service, type ServiceMsg } from "@nats-io/services";
import { jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { EVENT_ACCOUNT, EVENT_LOG, EVENT_ORDER, EVENT_POSITION, EVENT_TICK, EVENT_TIMER, EVENT_TRADE, ERROR, INFO, WARNING } from "../../kernel/index.js";
import type { CallContext, ConnectedClient, EndpointHost, PublishedEvent, ServerEndpoint } from "../endpoint.js";
import { WireError, wireErrorBody } from "../ws/errors.js";
import { encodeJson, eventToJson } from "../ws/json-wire.js";
import { decodeArgs, parseClientMessage, salvageId, type MessageId } from "../ws/protocol.js";
import { natsConnectionOptions, parseNatsServers, type NatsAuthOptions } from "./connection.js";
import { OrderedPublisher } from "./ordered-publisher.js";
import {
  HEADER_CLIENT,
  HEADER_EPOCH,
  HEADER_REQUEST_INFO,
  HEADER_SEQ,
  HEADER_TIMEOUT,
  assertServerName,
  escapeToken,
  eventTypeSubjects,
  helloSubject,
  serverPrefix,
  streamName,
  tickStreamName,
} from "./subjects.js";

/** What goes into the server's stream: the state a late joiner or an auditor needs. */
export const PERSISTED_EVENT_TYPES: readonly string[] = [EVENT_ORDER, EVENT_TRADE, EVENT_POSITION, EVENT_ACCOUNT, EVENT_LOG];
const PERSISTED = new Set(PERSISTED_EVENT_TYPES);

export const NATS_SERVICE_NAME = "rpcservice";
export const NATS_SERVICE_VERSION = "1.0.0";
export const NATS_PROTOCOL_VERSION = 1;

export interface NatsStreamLimits {
  /** How long events stay in the stream, ms; default one day (the day's orders and trades). */
  maxAge?: number;
  /** Size bound of the stream, bytes; the oldest go first. Default 1 GiB. */
  maxBytes?: number;
  /** Copies kept in the cluster (1, 3 or 5); default 1. */
  replicas?: number;
  /** Keep ticks too, in a second stream with this max age (ms); default: ticks are not kept. */
  tickMaxAge?: number | null;
}

export interface NatsEndpointOptions extends NatsAuthOptions {
  /** nats:// URLs of the cluster (one is enough; the others are learnt from it). */
  servers: string | readonly string[];
  /** This server's name on the bus: one subject token, also the stream's name. */
  serverName: string;
  stream?: NatsStreamLimits;
  /**
   * Take the caller's identity from `Nats-Request-Info` (set by nats-server on requests crossing a service import
   * with `share: true`). Only when every caller comes through such an import: anyone else could set the header.
   */
  trustRequestInfo?: boolean;
  /** Calls running at once; beyond it a call is refused with TOO_MANY_CALLS. Default 1024. */
  maxPendingCalls?: number;
  /** How long start waits for the cluster (JetStream leader, stream), ms; default 20 000. */
  startTimeout?: number;
  /** Endpoint name in client ids and logs; default "nats". */
  name?: string;
}

/** The stream's state for status views. */
export interface NatsStreamState {
  readonly name: string;
  readonly messages: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly consumers: number;
  readonly replicas: number;
  /** The node that leads the stream (clustered), if known. */
  readonly leader: string | undefined;
  readonly maxAge: number;
  readonly maxBytes: number;
  /** Events waiting for the stream's acknowledgement in this process. */
  readonly backlog: number;
}

const DAY = 24 * 60 * 60 * 1000;
const ms = (n: number): number => n * 1_000_000; // to nanoseconds
/** Micro error codes: HTTP-like, for `$SRV.STATS` and generic NATS tooling. */
const MICRO_CODE: Partial<Record<string, number>> = {
  BAD_JSON: 400,
  INVALID_MESSAGE: 400,
  INVALID_ARGUMENT: 400,
  ERR_RPC_BAD_ARGUMENTS: 400,
  ERR_RPC_UNKNOWN_FUNCTION: 404,
  ERR_RPC_DEADLINE: 408,
  TOO_MANY_CALLS: 429,
  NOT_AVAILABLE: 503,
};

interface Caller {
  readonly clientId: string;
  readonly since: number;
  identity: string | undefined;
  remoteAddress: string;
  calls: number;
  lastSeen: number;
}

export class NatsEndpoint implements ServerEndpoint {
  readonly name: string;
  readonly serverName: string;
  readonly servers: readonly string[];
  private readonly options: NatsEndpointOptions;
  private readonly limits: Required<Omit<NatsStreamLimits, "tickMaxAge">> & { tickMaxAge: number | null };
  private nc: NatsConnection | undefined;
  private jsm: JetStreamManager | undefined;
  private service: Service | undefined;
  private publisher: OrderedPublisher | undefined;
  private host: EndpointHost | undefined;
  private pendingCalls = 0;
  private readonly callers = new Map<string, Caller>();
  private readonly typeTokens = new Map<string, string>();
  private readonly symbolTokens = new Map<string, string>();
  private lastProblemLog = 0;
  /** Events published (each once), for status and tests. */
  published = 0;

  constructor(options: NatsEndpointOptions) {
    this.serverName = assertServerName(options.serverName);
    this.servers = parseNatsServers(options.servers);
    this.name = options.name ?? "nats";
    this.options = options;
    const stream = options.stream ?? {};
    this.limits = {
      maxAge: positive(stream.maxAge ?? DAY, "stream maxAge"),
      maxBytes: positive(stream.maxBytes ?? 1 << 30, "stream maxBytes"),
      replicas: stream.replicas ?? 1,
      tickMaxAge: stream.tickMaxAge === undefined || stream.tickMaxAge === null ? null : positive(stream.tickMaxAge, "tick maxAge"),
    };
    if (![1, 3, 5].includes(this.limits.replicas)) throw new RangeError(`stream replicas must be 1, 3 or 5, got ${this.limits.replicas}`);
  }

  get streamName(): string {
    return streamName(this.serverName);
  }

  /** The NATS node this process is connected to now ("127.0.0.1:4222"), if any. */
  get connectedServer(): string | undefined {
    return this.nc?.getServer() || undefined;
  }

  async start(host: EndpointHost): Promise<void> {
    if (this.nc) return;
    const nc = await connect(natsConnectionOptions({ ...this.options, servers: this.servers }, `rpcservice:${this.serverName}`));
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
      await this.ensureStreams(jsm);
      this.host = host;
      this.nc = nc;
      this.jsm = jsm;
      this.publisher = new OrderedPublisher(jetstream(nc, { timeout: 5_000 }), { onProblem: (message) => this.problem(message) });
      this.service = await this.serve(nc, host);
      void this.watchStatus(nc);
    } catch (error) {
      this.nc = undefined;
      this.host = undefined;
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  async stop(): Promise<void> {
    const nc = this.nc;
    if (!nc) return;
    this.nc = undefined;
    await this.service?.stop().catch(() => undefined);
    this.service = undefined;
    // What was accepted before the stop still reaches the stream, if the cluster lets it within a few seconds.
    if (this.publisher && !(await this.publisher.drain(5_000))) {
      this.host?.log(WARNING, `NATS: ${this.publisher.backlog} event(s) not confirmed by the stream at stop`);
    }
    this.publisher?.close();
    this.publisher = undefined;
    this.host = undefined;
    this.callers.clear();
    await nc.close().catch(() => undefined);
  }

  publish(published: PublishedEvent): void {
    const nc = this.nc;
    if (!nc) return;
    const { event, seq, epoch } = published;
    const type = event.type;
    // The subject carries the symbol, so VeighNa's specific twins (eTick.<vt_symbol>...) would only be copies.
    if (type === EVENT_TIMER || isSpecificTwin(type)) return;
    const data = event.data as { vt_symbol?: unknown } | null;
    const vtSymbol = data !== null && typeof data === "object" && typeof data.vt_symbol === "string" && data.vt_symbol ? data.vt_symbol : undefined;
    const subject = this.subjectOf(type, vtSymbol);
    const body = eventToJson(seq, epoch, event);
    const headers = natsHeaders();
    headers.set(HEADER_SEQ, String(seq));
    headers.set(HEADER_EPOCH, epoch);
    this.published++;
    if (PERSISTED.has(type)) this.publisher!.push({ subject, data: body, headers, msgId: `${epoch}:${seq}` });
    else nc.publish(subject, body, { headers });
  }

  /** Callers seen in the last minute (NATS has no connection per client at the server; calls are what we see). */
  clients(): ConnectedClient[] {
    const cutoff = Date.now() - 60_000;
    const out: ConnectedClient[] = [];
    for (const [key, caller] of this.callers) {
      if (caller.lastSeen < cutoff) {
        this.callers.delete(key);
        continue;
      }
      out.push({
        clientId: caller.clientId,
        endpoint: this.name,
        remoteAddress: caller.remoteAddress,
        since: caller.since,
        calls: caller.calls,
        eventsBehind: 0,
        eventsDropped: 0,
        ...(caller.identity !== undefined ? { identity: caller.identity } : {}),
      });
    }
    return out;
  }

  /** The stream's state (null while stopped). */
  async streamState(): Promise<NatsStreamState | null> {
    const jsm = this.jsm;
    if (!jsm || !this.nc) return null;
    const info = await jsm.streams.info(this.streamName);
    return {
      name: info.config.name,
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      consumers: info.state.consumer_count,
      replicas: info.config.num_replicas,
      leader: info.cluster?.leader,
      maxAge: info.config.max_age / 1_000_000,
      maxBytes: info.config.max_bytes,
      backlog: this.publisher?.backlog ?? 0,
    };
  }

  /** Resolves once every persisted event published so far is in the stream (false after `timeout` ms). */
  flushed(timeout = 10_000): Promise<boolean> {
    return this.publisher?.drain(timeout) ?? Promise.resolve(true);
  }

  // ---- start -----------------------------------------------------------------------------------------------------

  /** Creates or updates the streams; a fresh cluster needs a few seconds to elect a JetStream leader, so retry. */
  private async ensureStreams(jsm: JetStreamManager): Promise<void> {
    const prefix = serverPrefix(this.serverName);
    const configs: Array<Partial<StreamConfig> & { name: string; subjects: string[] }> = [
      {
        name: this.streamName,
        subjects: PERSISTED_EVENT_TYPES.flatMap((type) => eventTypeSubjects(this.serverName, type)),
        max_age: ms(this.limits.maxAge),
        max_bytes: this.limits.maxBytes,
        num_replicas: this.limits.replicas,
        duplicate_window: ms(Math.min(120_000, this.limits.maxAge)),
        description: `rpcservice ${this.serverName}: orders, trades, positions, accounts and logs`,
      },
    ];
    if (this.limits.tickMaxAge !== null) {
      configs.push({
        name: tickStreamName(this.serverName),
        subjects: eventTypeSubjects(this.serverName, EVENT_TICK),
        max_age: ms(this.limits.tickMaxAge),
        max_bytes: this.limits.maxBytes,
        num_replicas: this.limits.replicas,
        duplicate_window: ms(Math.min(120_000, this.limits.tickMaxAge)),
        description: `rpcservice ${this.serverName}: ticks (${prefix})`,
      });
    }
    const deadline = Date.now() + (this.options.startTimeout ?? 20_000);
    for (const config of configs) {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.ensureStream(jsm, config);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`JetStream stream ${config.name}: ${(error as Error).message}`, { cause: error });
          await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1_000)));
        }
      }
    }
  }

  private async ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string; subjects: string[] }): Promise<void> {
    let existing: StreamConfig | undefined;
    try {
      existing = (await jsm.streams.info(config.name)).config;
    } catch (error) {
      if (!/not found/i.test((error as Error).message)) throw error;
    }
    if (!existing) {
      await jsm.streams.add(config);
      return;
    }
    // Limits come from the settings at each start; replicas can change too (nats-server moves the copies).
    await jsm.streams.update(config.name, {
      subjects: config.subjects,
      max_age: config.max_age!,
      max_bytes: config.max_bytes!,
      num_replicas: config.num_replicas!,
      duplicate_window: config.duplicate_window!,
      description: config.description!,
    });
  }

  private async serve(nc: NatsConnection, host: EndpointHost): Promise<Service> {
    const service = await new Svcm(nc).add({
      name: NATS_SERVICE_NAME,
      version: NATS_SERVICE_VERSION,
      description: `rpcservice server ${this.serverName}: VeighNa's functions, JSON wire`,
      metadata: { server: this.serverName, stream: this.streamName, protocol: String(NATS_PROTOCOL_VERSION) },
    });
    service.addEndpoint("hello", {
      subject: helloSubject(this.serverName),
      handler: (_error, msg) => {
        const { epoch, seq } = host.position();
        msg.respond(JSON.stringify({ protocol: NATS_PROTOCOL_VERSION, server: this.serverName, epoch, seq, stream: this.streamName, time: Date.now() }));
      },
    });
    const group = service.addGroup(`${serverPrefix(this.serverName)}.call`);
    const names = host.functions?.() ?? [];
    if (names.length === 0) {
      // A host that cannot list its functions: one wildcard endpoint, the function read from the subject.
      group.addEndpoint("call", { subject: "*", handler: (_error, msg) => this.onCall(msg, msg.subject.slice(msg.subject.lastIndexOf(".") + 1)) });
    }
    for (const name of names) group.addEndpoint(name, (_error, msg) => this.onCall(msg, name));
    return service;
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.nc !== nc) return;
      if (status.type === "disconnect") this.host?.log(WARNING, `NATS: disconnected from ${status.server}; reconnecting (events are buffered)`);
      else if (status.type === "reconnect") this.host?.log(INFO, `NATS: reconnected to ${status.server}`);
      else if (status.type === "error") this.host?.log(ERROR, `NATS: ${status.error.message}`);
    }
  }

  // ---- calls -----------------------------------------------------------------------------------------------------

  private onCall(msg: ServiceMsg, name: string): void {
    const received = Date.now();
    const host = this.host;
    if (!host) return void this.replyError(msg, null, new WireError("NOT_AVAILABLE", "endpoint stopped"));
    let parsed: unknown;
    try {
      parsed = msg.data.length === 0 ? {} : JSON.parse(msg.string());
    } catch (error) {
      return void this.replyError(msg, null, new WireError("BAD_JSON", `not valid JSON: ${(error as Error).message}`));
    }
    // The subject names the function; a body may repeat it (the WebSocket form), but not contradict it.
    const id = salvageId(parsed);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return void this.replyError(msg, id, new WireError("INVALID_MESSAGE", "/: a call is a JSON object"));
    }
    const body = parsed as Record<string, unknown>;
    if (body.call !== undefined && body.call !== name) {
      return void this.replyError(msg, id, new WireError("INVALID_MESSAGE", `/call: ${JSON.stringify(body.call)} sent to the ${name} subject`, "/call"));
    }
    let args: unknown[];
    let kwargs: Record<string, unknown>;
    try {
      const message = parseClientMessage({ id: id ?? 0, ...body, call: name });
      if (!("call" in message)) throw new WireError("INVALID_MESSAGE", "/: not a call");
      args = decodeArgs(message.args ?? []) as unknown[];
      kwargs = decodeArgs(message.kwargs ?? {}, "/kwargs") as Record<string, unknown>;
    } catch (error) {
      return void this.replyError(msg, id, error);
    }
    const maxPending = this.options.maxPendingCalls ?? 1024;
    if (this.pendingCalls >= maxPending) return void this.replyError(msg, id, new WireError("TOO_MANY_CALLS", `more than ${maxPending} calls running`));
    const context = this.contextOf(msg, received);
    this.pendingCalls++;
    let running: Promise<unknown>;
    try {
      running = host.dispatch(name, args, kwargs, context);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (result) => {
        this.pendingCalls--;
        this.replyResult(msg, id, result);
      },
      (error: unknown) => {
        this.pendingCalls--;
        this.replyError(msg, id, error);
      },
    );
  }

  private contextOf(msg: ServiceMsg, received: number): CallContext {
    const headers = msg.headers;
    const declared = headers?.get(HEADER_CLIENT) || undefined;
    let identity: string | undefined;
    let remote = "nats";
    if (this.options.trustRequestInfo) {
      const info = parseRequestInfo(headers?.get(HEADER_REQUEST_INFO));
      identity = info?.user;
      if (info?.host) remote = info.host;
    }
    const key = identity !== undefined ? `id:${identity}` : `name:${declared ?? "?"}`;
    let caller = this.callers.get(key);
    if (!caller) {
      caller = { clientId: `${this.name}:${identity ?? declared ?? "anonymous"}`, since: received, identity, remoteAddress: remote, calls: 0, lastSeen: received };
      this.callers.set(key, caller);
    }
    caller.calls++;
    caller.lastSeen = received;
    caller.remoteAddress = remote;
    const timeout = Number(headers?.get(HEADER_TIMEOUT) ?? "");
    const context: { -readonly [K in keyof CallContext]: CallContext[K] } = { clientId: caller.clientId, endpoint: this.name };
    if (Number.isFinite(timeout) && timeout > 0) {
      context.deadline = received + timeout;
      context.signal = AbortSignal.timeout(timeout);
    }
    if (declared !== undefined) context.clientName = declared;
    if (identity !== undefined) context.identity = identity;
    return context;
  }

  private positionHeaders(): MsgHdrs {
    const headers = natsHeaders();
    const position = this.host?.position();
    if (position) {
      headers.set(HEADER_SEQ, String(position.seq));
      headers.set(HEADER_EPOCH, position.epoch);
    }
    return headers;
  }

  private replyResult(msg: ServiceMsg, id: MessageId | null, result: unknown): void {
    let text: string;
    try {
      text = `{"id":${JSON.stringify(id)},"ok":true,"result":${encodeJson(result)}}`;
    } catch (error) {
      return this.replyError(msg, id, new WireError("CALL_FAILED", `the result cannot be sent as JSON: ${(error as Error).message}`));
    }
    msg.respond(text, { headers: this.positionHeaders() });
  }

  private replyError(msg: ServiceMsg, id: MessageId | null, error: unknown): void {
    const body = wireErrorBody(error);
    msg.respondError(MICRO_CODE[body.code] ?? 500, `${body.code}: ${body.message}`.slice(0, 512), JSON.stringify({ id, ok: false, error: body }), {
      headers: this.positionHeaders(),
    });
  }

  private subjectOf(type: string, vtSymbol: string | undefined): string {
    let typeToken = this.typeTokens.get(type);
    if (typeToken === undefined) {
      typeToken = `${serverPrefix(this.serverName)}.event.${escapeToken(type)}`;
      if (this.typeTokens.size < 1_000) this.typeTokens.set(type, typeToken);
    }
    if (vtSymbol === undefined) return typeToken;
    let symbolToken = this.symbolTokens.get(vtSymbol);
    if (symbolToken === undefined) {
      symbolToken = escapeToken(vtSymbol);
      if (this.symbolTokens.size < 100_000) this.symbolTokens.set(vtSymbol, symbolToken);
    }
    return `${typeToken}.${symbolToken}`;
  }

  private problem(message: string): void {
    // A leader election can fail hundreds of publishes in a row: one line a second is enough.
    const now = Date.now();
    if (now - this.lastProblemLog < 1_000) return;
    this.lastProblemLog = now;
    this.host?.log(WARNING, `NATS: ${message}`);
  }
}

/** VeighNa's specific twin of a generic event: `eTick.rb2701.SHFE` beside `eTick.`. */
export function isSpecificTwin(type: string): boolean {
  const dot = type.indexOf(".");
  return dot >= 0 && dot < type.length - 1;
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what} must be > 0, got ${value}`);
  return value;
}

function parseRequestInfo(text: string | undefined): { user?: string; host?: string } | null {
  if (!text) return null;
  try {
    const info = JSON.parse(text) as { user?: unknown; host?: unknown };
    return {
      ...(typeof info.user === "string" && info.user ? { user: info.user } : {}),
      ...(typeof info.host === "string" && info.host ? { host: info.host } : {}),
    };
  } catch {
    return null;
  }
}

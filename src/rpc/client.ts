/**
 * RpcClient: calls into an RPC server and receives its events, over VeighNa's two sockets.
 *
 * Against our server it speaks the pipelined protocol of protocol.ts (many calls in flight, matched by id, each
 * with a deadline the server honours). Against a Python VeighNa server, detected by the hello, it falls back to
 * lock-step REQ-style calls, one at a time and in order; after a timeout the socket is replaced, so the late reply
 * goes nowhere instead of answering the next call.
 *
 * It implements the RpcCaller contract (caller.ts) from the shared parts: CallTable, LockStepQueue, StreamTracker,
 * ConnectionStateMachine. A timeout never wedges the client, and nothing is queued while disconnected: such calls
 * fail at once with RpcDisconnectedError; calls on a connection that goes down fail with RpcConnectionLostError. Connection state is explicit and every change is a "state" event:
 *
 *   connecting ──hello answered──> connected ──no traffic for 1.5 heartbeats──> stale ──tolerance──> disconnected
 *        ^                            ^                                           │                      │
 *        └────────────────────────────┴──────────────traffic again────────────────┘        probing (hello)
 *
 * With `curve`, both sockets use CURVE: the server must prove it holds `serverKey`, and it sees our public key.
 * A handshake the server refuses (our key not allowed, a wrong server key, CURVE on one side only) moves the
 * state to "disconnected" with the reason and emits one "warning" per distinct reason, instead of a silent wait.
 *
 * "resync" tells the owner to take a fresh snapshot: after the first connect, a reconnect of either socket (a
 * VeighNa server restarted on the same address is seen only this way: it has no epoch), a server restart (new
 * epoch) or a gap in the event sequence (a seq jump, or a tail the periodic hello proves was lost).
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { Event, isMarketDataType, messageOf } from "../kernel/index.js";
import { CallTable, type PendingCall } from "./call-table.js";
import type { CallOptions, CallResult, ConnectionState, RpcCaller, RpcCallerEvents, ServerKind, StreamEvent } from "./caller.js";
import { ConnectionStateMachine } from "./connection-state.js";
import type { StreamPosition } from "./endpoint.js";
import {
  RemoteError,
  RpcClosedError,
  RpcConnectionLostError,
  RpcDisconnectedError,
  RpcError,
  RpcTimeoutError,
  isDeadlinePassed,
} from "./errors.js";
import { LockStepQueue } from "./lock-step.js";
import {
  COMPACT_CALL_HEADROOM,
  COMPACT_PROTOCOL,
  EMPTY,
  HELLO_FUNCTION,
  NO_SPECIFIC_TICKS,
  SIGNATURE,
  decodeReplyHeader,
  encodeCallHeader,
  isHelloInfo,
  isSignature,
  readCompactReply,
  writeCompactCallHeader,
  type HelloInfo,
} from "./protocol.js";
import { StreamTracker, type StreamVerdict } from "./stream-tracker.js";
import type { CurveClientSecurity, DealerSocket, Refusal, SubscriberSocket, Transport, TransportKind } from "./transport.js";
import { resolveTransport } from "./transports.js";
import { curvePublicKey, isCurveKey } from "../zmtp/index.js";
import { decodeBroadcast, decodeResult, encodeCall, peekBroadcastType } from "./wire.js";

export type { CallOptions, CallResult, ConnectionState, ResyncReason, ServerKind, StreamEvent } from "./caller.js";
/** The events of every RpcCaller; kept under this name for RpcClient users. */
export type RpcClientEvents = RpcCallerEvents;

export const DEFAULT_CALL_TIMEOUT = 30_000;
/** VeighNa's heartbeat period, assumed for a VeighNa server (ours tells its own in the hello). */
const VEIGHNA_HEARTBEAT_INTERVAL = 10_000;
const HEARTBEAT_TOPIC = "heartbeat";
/** The keyword arguments of a call that has none: encoded, never written to. */
const NO_KWARGS: Readonly<Record<string, unknown>> = Object.freeze({});

/** CURVE settings of a client (Z85 keys, 40 characters). */
export interface RpcClientCurve {
  /** The server's public key (the server prints it at start and keeps it in `<home>/curve_server.pub`). */
  serverKey: string;
  /** Our long-term secret key; our public key, which the server sees and may allow-list, is derived from it. */
  secretKey: string;
}

export interface RpcClientOptions {
  /** The server's request address (VeighNa's 主动请求地址), e.g. "tcp://127.0.0.1:2014". */
  reqAddress: string;
  /** The server's publish address (VeighNa's 推送订阅地址), e.g. "tcp://127.0.0.1:4102". */
  subAddress: string;
  transport?: TransportKind | Transport;
  /** Default per-call timeout, ms (VeighNa: 30,000). */
  timeout?: number;
  /** Shown in the server's client list and used for order ownership; default "<host>:<pid>". */
  name?: string;
  /** Silence on the event channel after which the server counts as lost, ms; default 3 heartbeats (VeighNa: 30 s). */
  heartbeatTolerance?: number;
  /** Pause between connection attempts, ms. */
  probeInterval?: number;
  /** How long one connection attempt (hello) may take, ms. */
  helloTimeout?: number;
  /**
   * Event types the owner would throw away (e.g. VeighNa's specific twins `eTick.<vt_symbol>` of every generic
   * event): such events are never emitted. Where they are frequent (a VeighNa server's tick twins) they are
   * recognised from the frame's first bytes and not even decoded. They still count in the sequence, so gap
   * detection is unchanged.
   */
  skipEvent?: (type: string) => boolean;
  /**
   * false: ask our server not to send the specific ticks (`eTick.<vt_symbol>`, copies of each `eTick.`) at all, by a
   * marker subscription (NO_SPECIFIC_TICKS in protocol.ts); a server that does not read it (VeighNa's) sends them
   * anyway, so skip them with `skipEvent` too. Default true: every event the server publishes.
   */
  specificTicks?: boolean;
  /** CURVE encryption and authentication on both sockets; absent: VeighNa's NULL mechanism. */
  curve?: RpcClientCurve;
  /** A timed-out call's error carries the stack of the code that made the call (costs ~3 µs a call). Default false. */
  callerStacks?: boolean;
}

/** Which of the two sockets. */
type Link = "request" | "subscriber";

export class RpcClient extends EventEmitter<RpcClientEvents> implements RpcCaller {
  readonly reqAddress: string;
  readonly subAddress: string;
  private readonly transport: Transport;
  private readonly defaultTimeout: number;
  private readonly clientName: string;
  private readonly toleranceOption: number | undefined;
  private readonly probeInterval: number;
  private readonly helloTimeout: number;
  private readonly skipEvent: ((type: string) => boolean) | undefined;
  private readonly specificTicks: boolean;
  private readonly curve: CurveClientSecurity | undefined;
  private lastRefusal = "";

  private readonly connection = new ConnectionStateMachine((state, previous, reason) => this.emit("state", state, previous, reason));
  private kind: ServerKind | null = null;
  /** The server's hello said protocol >= 2: calls go in the compact framing (one frame, see protocol.ts). */
  private compact = false;
  private dealer: DealerSocket | null = null;
  private subscriber: SubscriberSocket | null = null;
  private started = false;
  private everConnected = false;
  /** Connections made by the current socket of each link: a second one is a reconnect, perhaps to a new server. */
  private readonly linkUps: Record<Link, number> = { request: 0, subscriber: 0 };

  private readonly calls: CallTable;
  /** Lock-step (VeighNa) mode: one call on the wire at a time. */
  private readonly lockStep: LockStepQueue;

  private probing: { timer: NodeJS.Timeout; started: number } | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private nextProbeAt: number | null = null;
  private watchdog: NodeJS.Timeout | undefined;
  private pingInFlight = false;
  private failedPings = 0;

  private heartbeatInterval = VEIGHNA_HEARTBEAT_INTERVAL;
  private lastTraffic = 0;
  /** An event arrived since the watchdog last looked: it then moves lastTraffic, rather than a clock read per event. */
  private trafficSeen = false;
  private readonly stream = new StreamTracker(true);
  /**
   * Whether skipEvent is asked from each frame's first bytes, before decoding. Off while connected to a server whose
   * hello says it withholds the specific ticks this client opted out of: every event skipped then is a rare twin of
   * an order, trade, position or account, cheaper decoded and dropped than a peek at every tick (~0.15 µs of a
   * tick's ~7). Other servers (VeighNa's, libzmq publishers) send a twin of every tick, which the peek keeps from
   * being decoded.
   */
  private peekBeforeDecode = true;
  /** Server clock minus ours, ms, and the round trip of the hello that measured it. */
  private clockOffset = 0;
  private roundTrip = 0;

  constructor(options: RpcClientOptions) {
    super();
    if (!options.reqAddress || !options.subAddress) throw new RpcError("ERR_RPC_OPTIONS", "reqAddress and subAddress are required");
    const timeout = options.timeout ?? DEFAULT_CALL_TIMEOUT;
    if (!(timeout > 0)) throw new RpcError("ERR_RPC_OPTIONS", `timeout must be > 0 ms, got ${timeout}`);
    this.reqAddress = options.reqAddress;
    this.subAddress = options.subAddress;
    this.transport = resolveTransport(options.transport);
    this.defaultTimeout = timeout;
    this.clientName = options.name ?? `${hostname()}:${process.pid}`;
    this.toleranceOption = options.heartbeatTolerance;
    this.probeInterval = options.probeInterval ?? 250;
    this.helloTimeout = options.helloTimeout ?? 2_000;
    this.skipEvent = options.skipEvent;
    this.specificTicks = options.specificTicks ?? true;
    const callerStacks = options.callerStacks === true;
    this.calls = new CallTable({ callerStacks });
    this.lockStep = new LockStepQueue(
      {
        send: (body) => (this.dealer ? this.dealer.send([EMPTY, body]) : Promise.reject(new Error("no socket"))),
        stuck: () => this.replaceDealer(),
        unsent: (call) => call.reject(new RpcDisconnectedError(call.name, "the connection to the server is down")),
      },
      { callerStacks },
    );
    if (options.curve) {
      const { serverKey, secretKey } = options.curve;
      if (!isCurveKey(serverKey)) throw new RpcError("ERR_RPC_OPTIONS", "curve.serverKey must be a Z85 key of 40 characters");
      if (!isCurveKey(secretKey)) throw new RpcError("ERR_RPC_OPTIONS", "curve.secretKey must be a Z85 key of 40 characters");
      this.curve = { serverKey, secretKey, publicKey: curvePublicKey(secretKey) };
    }
  }

  /** Our CURVE public key (Z85), the one the server sees, when CURVE is on. */
  get curvePublicKey(): string | null {
    return this.curve?.publicKey ?? null;
  }

  get address(): string {
    return this.reqAddress;
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  /** What the server turned out to be, once the hello was answered. */
  get serverKind(): ServerKind | null {
    return this.kind;
  }

  /** The last event position seen (epoch of the server run and seq of the last event). */
  get streamPosition(): { epoch: string | null; seq: number | null } {
    return this.stream.position;
  }

  get nextAttemptAt(): number | null {
    return this.connection.usable ? null : this.nextProbeAt;
  }

  get heartbeatTolerance(): number {
    return this.toleranceOption ?? 3 * this.heartbeatInterval;
  }

  /** Connects both sockets and starts the handshake; returns at once ("state" events tell the progress). */
  start(): void {
    if (this.connection.closed) throw new RpcClosedError("start");
    if (this.started) return;
    this.started = true;
    this.subscriber = this.transport.subscriber(
      {
        message: (frames) => this.onBroadcast(frames),
        rejected: (refusal) => this.onRefused(refusal),
        up: () => this.onLinkUp("subscriber"),
      },
      {
        ...(this.curve ? { curve: this.curve } : {}),
        ...(this.specificTicks ? {} : { markers: [NO_SPECIFIC_TICKS] }),
      },
    );
    this.subscriber.connect(this.subAddress);
    this.dealer = this.newDealer();
    this.connection.set("connecting", "starting");
    this.lastTraffic = Date.now();
    this.probe();
  }

  /** Resolves once connected; rejects after `timeout` ms. */
  waitConnected(timeout = this.defaultTimeout): Promise<void> {
    return this.connection.waitConnected(timeout, this.reqAddress);
  }

  /** Calls a server function by name with positional args; resolves with its result. */
  call<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<T> {
    // Not a wrapper around callWithPosition: one promise per call, not two (every call's path).
    return this.startCall<T, T>(name, args, options, this.compact, (result) => result.value);
  }

  /** Like `call`, plus where the server's event stream stood when the result was computed. */
  callWithPosition<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<CallResult<T>> {
    return this.startCall<T, CallResult<T>>(name, args, options, this.compact, (result) => result);
  }

  /** `take`: what the caller's promise resolves with, from the result and its stream position. */
  private startCall<T, R>(name: string, args: readonly unknown[], options: CallOptions, compact: boolean, take: (result: CallResult<T>) => R): Promise<R> {
    const timeout = options.timeout ?? this.defaultTimeout;
    if (this.connection.closed) return Promise.reject(new RpcClosedError(name));
    if (!this.connection.usable) return Promise.reject(new RpcDisconnectedError(name, `client is ${this.connection.state}`));
    if (!(timeout > 0)) return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `timeout must be > 0 ms, got ${timeout}`));
    let body: Buffer;
    try {
      // Encoded here and now, so neither is copied: a caller's later change to them cannot reach the wire.
      body = encodeCall(name, args, options.kwargs ?? NO_KWARGS, compact ? COMPACT_CALL_HEADROOM : 0);
    } catch (error) {
      return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `cannot encode the arguments of ${name}(): ${messageOf(error)}`, { cause: error }));
    }
    return new Promise<R>((resolve, reject) => {
      const call: PendingCall = { name, timeout, resolve: (result) => resolve(take(result as CallResult<T>)), reject };
      // `compact` is only ever set by our server's hello, so a VeighNa server's lock-step calls are plain pickles.
      if (this.kind === "veighna") this.lockStep.enqueue(call, body);
      else this.sendPipelined(call, body, compact);
    });
  }

  /** Stops everything; pending calls fail with RpcClosedError. Returns promptly. */
  async close(): Promise<void> {
    if (this.connection.closed) return;
    clearTimeout(this.probeTimer);
    clearInterval(this.watchdog);
    if (this.probing) clearTimeout(this.probing.timer);
    this.probing = null;
    this.nextProbeAt = null;
    this.failAll((name) => new RpcClosedError(name));
    this.connection.close();
    const dealer = this.dealer;
    const subscriber = this.subscriber;
    this.dealer = null;
    this.subscriber = null;
    await Promise.all([dealer?.close(), subscriber?.close()]);
  }

  // ---- calls --------------------------------------------------------------------------------------------------

  /** `compact`: `body` was encoded behind COMPACT_CALL_HEADROOM bytes, which take the signature and header. */
  private sendPipelined(call: PendingCall, body: Buffer, compact: boolean): void {
    // Translate our deadline to the server clock, keeping half a round trip for the reply to travel back.
    const deadline = Date.now() + call.timeout + this.clockOffset - this.roundTrip / 2;
    const id = this.calls.add(call);
    const dealer = this.dealer;
    if (!dealer) {
      this.calls.take(id)?.reject(new RpcDisconnectedError(call.name));
      return;
    }
    let frames: Buffer[];
    if (compact) {
      writeCompactCallHeader(body, { id, deadline });
      frames = [body];
    } else frames = [SIGNATURE, encodeCallHeader({ id, deadline }), body];
    const unsent = () => this.calls.take(id)?.reject(new RpcDisconnectedError(call.name, "the connection to the server is down"));
    if (dealer.trySend) {
      if (!dealer.trySend(frames)) unsent();
    } else dealer.send(frames).catch(unsent);
  }

  private onReply(frames: Buffer[]): void {
    const compact = frames.length === 1 ? readCompactReply(frames[0]!) : null;
    if (compact) {
      const call = this.calls.take(compact.header.id);
      if (call) this.deliver(call, compact.body, { epoch: compact.header.epoch, seq: compact.header.seq });
      return;
    }
    if (isSignature(frames[0]) && frames.length === 3) {
      const header = decodeReplyHeader(frames[1]!);
      if (!header) return;
      const call = this.calls.take(header.id);
      if (!call) return; // timed out already: the late reply is dropped
      this.deliver(call, frames[2]!, { epoch: header.epoch, seq: header.seq });
      return;
    }
    if (frames.length === 2 && frames[0]!.length === 0) {
      if (this.probing) {
        this.onHelloReply(frames[1]!);
        return;
      }
      this.lockStep.reply((call) => this.deliver(call, frames[1]!, null));
    }
  }

  private deliver(call: PendingCall, payload: Buffer, position: StreamPosition | null): void {
    let reply: { ok: boolean; value: unknown };
    try {
      reply = decodeResult(payload);
    } catch (error) {
      call.reject(new RpcError("ERR_RPC_REMOTE", `undecodable reply to ${call.name}(): ${messageOf(error)}`, { cause: error }));
      return;
    }
    if (reply.ok) {
      call.resolve({ value: reply.value, position });
      return;
    }
    const text = typeof reply.value === "string" ? reply.value : String(reply.value);
    // Our server refuses a call whose deadline passed on the way (the deadline keeps half a round trip for the
    // reply, so under load this can come before our own timer): it is this call's timeout, not a remote failure.
    if (position !== null && isDeadlinePassed(text)) call.reject(new RpcTimeoutError(call.name, call.timeout, "the server did not run it"));
    else call.reject(new RemoteError(text));
  }

  private failAll(make: (name: string) => Error): void {
    this.calls.failAll(make);
    this.lockStep.failAll(make);
  }

  // ---- connection ---------------------------------------------------------------------------------------------

  private newDealer(): DealerSocket {
    this.linkUps.request = 0;
    const dealer: DealerSocket = this.transport.dealer(
      {
        message: (frames) => this.onReply(frames),
        rejected: (refusal) => this.onRefused(refusal),
        up: () => {
          if (this.dealer === dealer) this.onLinkUp("request");
        },
        down: () => {
          if (this.dealer === dealer) this.onRequestLinkDown();
        },
      },
      this.curve ? { curve: this.curve } : undefined,
    );
    dealer.connect(this.reqAddress);
    return dealer;
  }

  private replaceDealer(): void {
    const old = this.dealer;
    if (this.connection.closed) return;
    this.dealer = this.newDealer();
    void old?.close();
  }

  /**
   * A socket's connection came up. The first on a socket is the ordinary start; a later one is a reconnect, and
   * the peer may be a restarted server (a VeighNa server has no epoch to tell it): the owner takes a snapshot.
   * While not connected, the hello that follows reports the reconnect instead.
   */
  private onLinkUp(link: Link): void {
    this.linkUps[link]++;
    if (this.linkUps[link] < 2 || !this.connection.usable) return;
    this.lastTraffic = Date.now();
    this.emit("resync", "reconnected", `${link} socket reconnected to ${link === "request" ? this.reqAddress : this.subAddress}`);
  }

  /** Replies to what was sent on the lost connection will never come (the server answers per connection). */
  private onRequestLinkDown(): void {
    const lost = (name: string) => new RpcConnectionLostError(name, `the connection to ${this.reqAddress} went down`);
    this.calls.failAll(lost);
    this.lockStep.lost(lost);
  }

  /** A handshake the server refused: say why, rather than keep "connecting" without a word. */
  private onRefused(refusal: Refusal): void {
    if (this.connection.closed || this.connection.usable) return;
    let reason: string;
    if (refusal.kind === "auth") {
      reason = `the server refused our CURVE key ${this.curve?.publicKey ?? ""} (${refusal.reason})`;
    } else if (refusal.kind === "protocol") {
      reason =
        `${refusal.reason}: the peer is not the RPC server's socket for this ` +
        `(is req_address its request/reply address and sub_address its broadcast address, not its console or another service?)`;
    } else if (this.curve) {
      reason = `CURVE handshake failed: ${refusal.reason} (is server_key the server's public key, and does the server use CURVE?)`;
    } else {
      reason = `handshake failed: ${refusal.reason} (does the server require CURVE? then set its server_key)`;
    }
    this.connection.set("disconnected", reason);
    if (reason !== this.lastRefusal) {
      this.lastRefusal = reason;
      this.emit("warning", reason);
    }
  }

  /** One hello in REQ framing: our server and VeighNa's both answer it, differently. */
  private probe(): void {
    this.nextProbeAt = null;
    if (this.connection.closed || this.probing || !this.dealer) return;
    const started = Date.now();
    const body = encodeCall(HELLO_FUNCTION, [], { client: this.clientName, address: `${hostname()} pid ${process.pid}` });
    const timer = setTimeout(() => {
      // No answer: a fresh socket, so a late answer cannot be taken for the next one.
      this.probing = null;
      this.replaceDealer();
      this.scheduleProbe();
    }, this.helloTimeout);
    this.probing = { timer, started };
    this.dealer.send([EMPTY, body]).catch(() => {
      if (this.probing?.timer !== timer) return;
      clearTimeout(timer);
      this.probing = null;
      this.scheduleProbe();
    });
  }

  private scheduleProbe(): void {
    clearTimeout(this.probeTimer);
    if (this.connection.closed) return;
    this.nextProbeAt = Date.now() + this.probeInterval;
    this.probeTimer = setTimeout(() => this.probe(), this.probeInterval);
  }

  private onHelloReply(payload: Buffer): void {
    const probing = this.probing!;
    clearTimeout(probing.timer);
    this.probing = null;
    const now = Date.now();
    let reply: { ok: boolean; value: unknown };
    try {
      reply = decodeResult(payload);
    } catch (error) {
      this.emit("warning", `undecodable hello reply from ${this.reqAddress}: ${messageOf(error)}`);
      this.scheduleProbe();
      return;
    }
    let info: HelloInfo | null = null;
    if (reply.ok && isHelloInfo(reply.value)) {
      this.kind = "rpcservice";
      this.peekBeforeDecode = this.specificTicks || reply.value.specific_ticks_withheld !== true;
      info = reply.value;
      this.applyHello(info, probing.started, now);
    } else if (!reply.ok && typeof reply.value === "string" && reply.value.includes("KeyError")) {
      this.kind = "veighna";
      this.peekBeforeDecode = true;
      this.compact = false;
      this.heartbeatInterval = VEIGHNA_HEARTBEAT_INTERVAL;
    } else {
      this.emit("warning", `unexpected hello reply from ${this.reqAddress}; retrying`);
      this.scheduleProbe();
      return;
    }
    this.onConnected(info);
  }

  private applyHello(info: HelloInfo, sentAt: number, receivedAt: number): void {
    this.compact = info.protocol >= COMPACT_PROTOCOL;
    this.roundTrip = receivedAt - sentAt;
    this.clockOffset = info.time - (sentAt + receivedAt) / 2;
    this.heartbeatInterval = info.heartbeat_interval;
  }

  private onConnected(info: HelloInfo | null): void {
    const previousEpoch = this.stream.epoch;
    // The stream position at the hello is the baseline: the next event should carry seq + 1.
    if (info) this.stream.adopt(info.epoch, info.seq);
    const first = !this.everConnected;
    this.everConnected = true;
    this.lastRefusal = "";
    this.lastTraffic = Date.now();
    this.failedPings = 0;
    this.startWatchdog();
    this.connection.set("connected", this.kind === "veighna" ? "VeighNa server (lock-step calls)" : "rpcservice server");
    if (first) this.emit("resync", "connected", "first connection");
    else if (previousEpoch !== null && info && previousEpoch !== info.epoch) this.emit("resync", "restart", `server epoch ${info.epoch}`);
    else this.emit("resync", "reconnected", "connection re-established");
  }

  private startWatchdog(): void {
    clearInterval(this.watchdog);
    const period = Math.max(50, Math.min(1_000, this.heartbeatInterval / 4));
    let sincePing = 0;
    this.watchdog = setInterval(() => {
      this.checkSilence();
      sincePing += period;
      if (this.kind === "rpcservice" && sincePing >= this.heartbeatInterval) {
        sincePing = 0;
        this.ping();
      }
    }, period);
  }

  private checkSilence(): void {
    const now = Date.now();
    if (this.trafficSeen) {
      this.trafficSeen = false;
      this.lastTraffic = now;
    }
    if (!this.connection.usable) return;
    const silence = now - this.lastTraffic;
    if (silence > this.heartbeatTolerance) {
      this.onLost(`no message from the server for ${silence} ms`);
    } else if (silence > 1.5 * this.heartbeatInterval || this.failedPings >= 2) {
      this.connection.set("stale", silence > 1.5 * this.heartbeatInterval ? `no message for ${silence} ms` : "hello calls unanswered");
    } else if (this.connection.state === "stale") {
      this.connection.set("connected", "traffic resumed");
    }
  }

  private onLost(reason: string): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    // Nothing may wait for a later connection: the caller decides whether to try again.
    this.failAll((name) => new RpcConnectionLostError(name, `connection lost (${reason})`));
    this.replaceDealer();
    this.scheduleProbe();
    // Last, so the state's listeners already see when the next attempt is due.
    this.connection.set("disconnected", reason);
  }

  /** Our server only: liveness of the call path, restart detection, a lost tail of the stream, clock offset. */
  private ping(): void {
    if (this.pingInFlight || this.connection.closed) return;
    this.pingInFlight = true;
    const sentAt = Date.now();
    // In the classic framing, which every version of our server reads: one that came back older (protocol 1, which
    // drops compact frames) still answers, and its hello turns the compact framing off.
    this.startCall(HELLO_FUNCTION, [], { timeout: this.heartbeatInterval, kwargs: { client: this.clientName } }, false, (result) => result.value)
      .then((value) => {
        this.failedPings = 0;
        if (!isHelloInfo(value)) return;
        this.applyHello(value, sentAt, Date.now());
        this.report(this.stream.hello(value.epoch, value.seq));
      })
      .catch(() => {
        this.failedPings++;
      })
      .finally(() => {
        this.pingInFlight = false;
      });
  }

  private report(verdict: StreamVerdict | null): void {
    if (verdict) this.emit("resync", verdict.reason, verdict.detail);
  }

  // ---- events -------------------------------------------------------------------------------------------------

  private onBroadcast(frames: Buffer[]): void {
    this.trafficSeen = true;
    if (frames.length !== 1) return;
    const skipEvent = this.skipEvent;
    // Whether skipEvent still has to judge the decoded event: not when the peek read its type and it was kept.
    let judge = skipEvent !== undefined;
    if (skipEvent && this.peekBeforeDecode) {
      // Decoding is most of a subscriber's work; an event the owner drops is only counted. Each skipped event
      // other than market data (which the server does not number) is one seq, so the count equals the server's
      // seq unless something was lost, which the next decoded event (or hello) then shows as a gap.
      const type = peekBroadcastType(frames[0]!);
      if (type !== undefined) {
        if (skipEvent(type)) {
          if (!isMarketDataType(type)) this.stream.skipped();
          return;
        }
        judge = false;
      }
    }
    let topic: string;
    let data: unknown;
    try {
      ({ topic, data } = decodeBroadcast(frames[0]!));
    } catch (error) {
      this.emit("warning", `undecodable event dropped: ${messageOf(error)}`);
      return;
    }
    if (topic === HEARTBEAT_TOPIC) {
      this.emit("heartbeat", typeof data === "number" ? data * 1000 : Date.now());
      return;
    }
    if (!(data instanceof Event)) {
      this.emit("warning", `event on topic ${JSON.stringify(topic)} is not an Event; dropped`);
      return;
    }
    const extra = data as Event & { seq?: unknown; epoch?: unknown };
    const seq = typeof extra.seq === "number" ? extra.seq : null;
    const epoch = typeof extra.epoch === "string" ? extra.epoch : null;
    // With skipped events the count between decoded ones is an estimate (a stale event in flight at the hello
    // counts one too many); a decoded seq is the truth.
    if (seq !== null && epoch !== null) this.report(this.stream.observe(epoch, seq, skipEvent !== undefined));
    // Decoded, not peeked (see peekBeforeDecode), or a frame the peek could not read: still never emitted.
    if (judge && skipEvent?.(data.type)) return;
    const pushed: StreamEvent = { event: data, seq, epoch };
    this.emit("event", pushed);
  }
}

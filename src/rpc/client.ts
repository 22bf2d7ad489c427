/**
 * RpcClient: calls into an RPC server and receives its events, over VeighNa's two sockets.
 *
 * Against our server it speaks the pipelined protocol of protocol.ts (many calls in flight, matched by id, each
 * with a deadline the server honours). Against a Python VeighNa server, detected by the hello, it falls back to
 * lock-step REQ-style calls, one at a time and in order; after a timeout the socket is replaced, so the late reply
 * goes nowhere instead of answering the next call.
 *
 * A timeout never wedges the client, and nothing is queued while disconnected: such calls fail at once with
 * RpcDisconnectedError. Connection state is explicit and every change is a "state" event:
 *
 *   connecting ──hello answered──> connected ──no traffic for 1.5 heartbeats──> stale ──tolerance──> disconnected
 *        ^                            ^                                           │                      │
 *        └────────────────────────────┴──────────────traffic again────────────────┘        probing (hello)
 *
 * With `curve`, both sockets use CURVE: the server must prove it holds `serverKey`, and it sees our public key.
 * A handshake the server refuses (our key not allowed, a wrong server key, CURVE on one side only) moves the
 * state to "disconnected" with the reason and emits one "warning" per distinct reason, instead of a silent wait.
 *
 * "resync" tells the owner to take a fresh snapshot: after the first connect, a reconnect, a server restart (new
 * epoch) or a gap in the event sequence (a seq jump, or a tail the periodic hello proves was lost).
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { Event } from "../kernel/index.js";
import type { StreamPosition } from "./endpoint.js";
import { RemoteError, RpcDisconnectedError, RpcError, RpcTimeoutError, isDeadlinePassed, messageOf } from "./errors.js";
import {
  EMPTY,
  HELLO_FUNCTION,
  SIGNATURE,
  decodeReplyHeader,
  encodeCallHeader,
  isHelloInfo,
  isSignature,
  type HelloInfo,
} from "./protocol.js";
import type { CurveClientSecurity, DealerSocket, Refusal, SubscriberSocket, Transport, TransportKind } from "./transport.js";
import { resolveTransport } from "./transports.js";
import { isCurveKey } from "./zmq-endpoint.js";
import { curvePublicKey } from "../zmtp/index.js";
import { decodeBroadcast, decodeResult, encodeCall, peekBroadcastType } from "./wire.js";

export type ConnectionState = "connecting" | "connected" | "stale" | "disconnected";
export type ServerKind = "rpcservice" | "veighna";
export type ResyncReason = "connected" | "reconnected" | "restart" | "gap";

export const DEFAULT_CALL_TIMEOUT = 30_000;
/** VeighNa's heartbeat period, assumed for a VeighNa server (ours tells its own in the hello). */
const VEIGHNA_HEARTBEAT_INTERVAL = 10_000;
const HEARTBEAT_TOPIC = "heartbeat";

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
   * event): such events are recognised from the frame's first bytes and never decoded, nor emitted. They still
   * count in the sequence, so gap detection is unchanged.
   */
  skipEvent?: (type: string) => boolean;
  /** CURVE encryption and authentication on both sockets; absent: VeighNa's NULL mechanism. */
  curve?: RpcClientCurve;
}

export interface CallOptions {
  /** ms; default the client's `timeout`. */
  timeout?: number;
  kwargs?: Readonly<Record<string, unknown>>;
}

/** A pushed event with its place in the server's stream (null from a VeighNa server). */
export interface StreamEvent {
  readonly event: Event;
  readonly seq: number | null;
  readonly epoch: string | null;
}

export interface CallResult<T> {
  readonly value: T;
  /** Where the event stream stood when the result was computed (null from a VeighNa server). */
  readonly position: StreamPosition | null;
}

export type RpcClientEvents = {
  state: [state: ConnectionState, previous: ConnectionState, reason: string];
  event: [pushed: StreamEvent];
  resync: [reason: ResyncReason, detail: string];
  heartbeat: [serverTime: number];
  /** Something went wrong that the caller cannot see otherwise (an undecodable event...). */
  warning: [message: string];
};

interface Pending {
  readonly name: string;
  readonly timeout: number;
  resolve(result: CallResult<unknown>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
  /** Lock-step mode: the encoded request waiting for its turn. */
  body?: Buffer;
}

export class RpcClient extends EventEmitter<RpcClientEvents> {
  readonly reqAddress: string;
  readonly subAddress: string;
  private readonly transport: Transport;
  private readonly defaultTimeout: number;
  private readonly clientName: string;
  private readonly toleranceOption: number | undefined;
  private readonly probeInterval: number;
  private readonly helloTimeout: number;
  private readonly skipEvent: ((type: string) => boolean) | undefined;
  private readonly curve: CurveClientSecurity | undefined;
  private lastRefusal = "";

  private currentState: ConnectionState = "disconnected";
  private kind: ServerKind | null = null;
  private dealer: DealerSocket | null = null;
  private subscriber: SubscriberSocket | null = null;
  private started = false;
  private closed = false;
  private everConnected = false;

  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Lock-step (VeighNa) mode: the call on the wire and those waiting behind it. */
  private inFlight: Pending | null = null;
  private readonly lockQueue: Pending[] = [];

  private probing: { timer: NodeJS.Timeout; started: number } | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private pingInFlight = false;
  private failedPings = 0;
  private lastPingSeq: number | null = null;

  private heartbeatInterval = VEIGHNA_HEARTBEAT_INTERVAL;
  private lastTraffic = 0;
  private epoch: string | null = null;
  private lastSeq: number | null = null;
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

  get state(): ConnectionState {
    return this.currentState;
  }

  /** What the server turned out to be, once the hello was answered. */
  get serverKind(): ServerKind | null {
    return this.kind;
  }

  /** The last event position seen (epoch of the server run and seq of the last event). */
  get streamPosition(): { epoch: string | null; seq: number | null } {
    return { epoch: this.epoch, seq: this.lastSeq };
  }

  get heartbeatTolerance(): number {
    return this.toleranceOption ?? 3 * this.heartbeatInterval;
  }

  /** Connects both sockets and starts the handshake; returns at once ("state" events tell the progress). */
  start(): void {
    if (this.closed) throw new RpcError("ERR_RPC_CLOSED", "the client was closed");
    if (this.started) return;
    this.started = true;
    this.subscriber = this.transport.subscriber(
      { message: (frames) => this.onBroadcast(frames), rejected: (refusal) => this.onRefused(refusal) },
      this.curve ? { curve: this.curve } : undefined,
    );
    this.subscriber.connect(this.subAddress);
    this.dealer = this.newDealer();
    this.setState("connecting", "starting");
    this.lastTraffic = Date.now();
    this.probe();
  }

  /** Resolves once connected; rejects after `timeout` ms. */
  waitConnected(timeout = this.defaultTimeout): Promise<void> {
    if (this.currentState === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onState = (state: ConnectionState) => {
        if (state !== "connected") return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new RpcDisconnectedError("connect", `no connection to ${this.reqAddress} within ${timeout} ms`));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        this.off("state", onState);
      };
      this.on("state", onState);
    });
  }

  /** Calls a server function by name with positional args; resolves with its result. */
  async call<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<T> {
    return (await this.callWithPosition<T>(name, args, options)).value;
  }

  /** Like `call`, plus where the server's event stream stood when the result was computed. */
  callWithPosition<T = unknown>(name: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<CallResult<T>> {
    const timeout = options.timeout ?? this.defaultTimeout;
    if (this.closed) return Promise.reject(new RpcError("ERR_RPC_CLOSED", `${name}() not sent: the client was closed`));
    if (this.currentState !== "connected" && this.currentState !== "stale") {
      return Promise.reject(new RpcDisconnectedError(name, `client is ${this.currentState}`));
    }
    if (!(timeout > 0)) return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `timeout must be > 0 ms, got ${timeout}`));
    let body: Buffer;
    try {
      body = encodeCall(name, [...args], { ...(options.kwargs ?? {}) });
    } catch (error) {
      return Promise.reject(new RpcError("ERR_RPC_OPTIONS", `cannot encode the arguments of ${name}(): ${messageOf(error)}`, { cause: error }));
    }
    return new Promise<CallResult<T>>((resolve, reject) => {
      const call: Pending = { name, timeout, resolve: resolve as Pending["resolve"], reject, timer: undefined };
      if (this.kind === "veighna") this.enqueueLockStep(call, body);
      else this.sendPipelined(call, body);
    });
  }

  /** Stops everything; pending calls fail with ERR_RPC_CLOSED. Returns promptly. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    clearInterval(this.watchdog);
    if (this.probing) clearTimeout(this.probing.timer);
    this.probing = null;
    this.failAll(() => new RpcError("ERR_RPC_CLOSED", "the client was closed"));
    this.setState("disconnected", "closed");
    const dealer = this.dealer;
    const subscriber = this.subscriber;
    this.dealer = null;
    this.subscriber = null;
    await Promise.all([dealer?.close(), subscriber?.close()]);
  }

  // ---- calls --------------------------------------------------------------------------------------------------

  private sendPipelined(call: Pending, body: Buffer): void {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    // Translate our deadline to the server clock, keeping half a round trip for the reply to travel back.
    const deadline = Date.now() + call.timeout + this.clockOffset - this.roundTrip / 2;
    call.timer = setTimeout(() => {
      if (this.pending.delete(id)) call.reject(new RpcTimeoutError(call.name, call.timeout));
    }, call.timeout);
    this.pending.set(id, call);
    const dealer = this.dealer;
    if (!dealer) {
      this.settle(id, () => call.reject(new RpcDisconnectedError(call.name)));
      return;
    }
    dealer.send([SIGNATURE, encodeCallHeader({ id, deadline }), body]).catch(() => {
      this.settle(id, () => call.reject(new RpcDisconnectedError(call.name, "the connection to the server is down")));
    });
  }

  private settle(id: number, action: () => void): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    action();
  }

  private enqueueLockStep(call: Pending, body: Buffer): void {
    call.body = body;
    call.timer = setTimeout(() => this.lockStepTimeout(call), call.timeout);
    this.lockQueue.push(call);
    this.pumpLockStep();
  }

  private pumpLockStep(): void {
    if (this.inFlight || !this.dealer) return;
    const call = this.lockQueue.shift();
    if (!call) return;
    this.inFlight = call;
    this.dealer.send([EMPTY, call.body!]).catch(() => {
      if (this.inFlight !== call) return;
      this.inFlight = null;
      clearTimeout(call.timer);
      call.reject(new RpcDisconnectedError(call.name, "the connection to the server is down"));
      this.pumpLockStep();
    });
  }

  private lockStepTimeout(call: Pending): void {
    if (this.inFlight === call) {
      // Its reply may still come; a fresh socket makes sure it cannot be taken for the next call's.
      this.inFlight = null;
      this.replaceDealer();
    } else {
      const index = this.lockQueue.indexOf(call);
      if (index >= 0) this.lockQueue.splice(index, 1);
    }
    call.reject(new RpcTimeoutError(call.name, call.timeout));
    this.pumpLockStep();
  }

  private onReply(frames: Buffer[]): void {
    if (isSignature(frames[0]) && frames.length === 3) {
      const header = decodeReplyHeader(frames[1]!);
      if (!header) return;
      const call = this.pending.get(header.id);
      if (!call) return; // timed out already: the late reply is dropped
      this.settle(header.id, () => this.deliver(call, frames[2]!, { epoch: header.epoch, seq: header.seq }));
      return;
    }
    if (frames.length === 2 && frames[0]!.length === 0) {
      if (this.probing) {
        this.onHelloReply(frames[1]!);
        return;
      }
      const call = this.inFlight;
      if (!call) return;
      this.inFlight = null;
      clearTimeout(call.timer);
      this.deliver(call, frames[1]!, null);
      this.pumpLockStep();
    }
  }

  private deliver(call: Pending, payload: Buffer, position: StreamPosition | null): void {
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

  private failAll(error: () => Error): void {
    for (const [id, call] of [...this.pending]) this.settle(id, () => call.reject(error()));
    const queued = this.inFlight ? [this.inFlight, ...this.lockQueue] : [...this.lockQueue];
    this.inFlight = null;
    this.lockQueue.length = 0;
    for (const call of queued) {
      clearTimeout(call.timer);
      call.reject(error());
    }
  }

  // ---- connection ---------------------------------------------------------------------------------------------

  private newDealer(): DealerSocket {
    const dealer = this.transport.dealer(
      { message: (frames) => this.onReply(frames), rejected: (refusal) => this.onRefused(refusal) },
      this.curve ? { curve: this.curve } : undefined,
    );
    dealer.connect(this.reqAddress);
    return dealer;
  }

  private replaceDealer(): void {
    const old = this.dealer;
    if (this.closed) return;
    this.dealer = this.newDealer();
    void old?.close();
  }

  /** A handshake the server refused: say why, rather than keep "connecting" without a word. */
  private onRefused(refusal: Refusal): void {
    if (this.closed || this.currentState === "connected" || this.currentState === "stale") return;
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
    this.setState("disconnected", reason);
    if (reason !== this.lastRefusal) {
      this.lastRefusal = reason;
      this.emit("warning", reason);
    }
  }

  /** One hello in REQ framing: our server and VeighNa's both answer it, differently. */
  private probe(): void {
    if (this.closed || this.probing || !this.dealer) return;
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
    if (this.closed) return;
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
      info = reply.value;
      this.applyHello(info, probing.started, now);
    } else if (!reply.ok && typeof reply.value === "string" && reply.value.includes("KeyError")) {
      this.kind = "veighna";
      this.heartbeatInterval = VEIGHNA_HEARTBEAT_INTERVAL;
    } else {
      this.emit("warning", `unexpected hello reply from ${this.reqAddress}; retrying`);
      this.scheduleProbe();
      return;
    }
    this.onConnected(info);
  }

  private applyHello(info: HelloInfo, sentAt: number, receivedAt: number): void {
    this.roundTrip = receivedAt - sentAt;
    this.clockOffset = info.time - (sentAt + receivedAt) / 2;
    this.heartbeatInterval = info.heartbeat_interval;
  }

  private onConnected(info: HelloInfo | null): void {
    const previousEpoch = this.epoch;
    // The stream position at the hello is the baseline: the next event should carry seq + 1.
    if (info) this.adoptEpoch(info.epoch, info.seq);
    const first = !this.everConnected;
    this.everConnected = true;
    this.lastRefusal = "";
    this.lastTraffic = Date.now();
    this.failedPings = 0;
    this.lastPingSeq = null;
    this.startWatchdog();
    this.setState("connected", this.kind === "veighna" ? "VeighNa server (lock-step calls)" : "rpcservice server");
    if (first) this.emit("resync", "connected", "first connection");
    else if (previousEpoch !== null && previousEpoch !== this.epoch) this.emit("resync", "restart", `server epoch ${this.epoch}`);
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
    if (this.currentState === "connecting" || this.currentState === "disconnected") return;
    const silence = Date.now() - this.lastTraffic;
    if (silence > this.heartbeatTolerance) {
      this.onLost(`no message from the server for ${silence} ms`);
    } else if (silence > 1.5 * this.heartbeatInterval || this.failedPings >= 2) {
      this.setState("stale", silence > 1.5 * this.heartbeatInterval ? `no message for ${silence} ms` : "hello calls unanswered");
    } else if (this.currentState === "stale") {
      this.setState("connected", "traffic resumed");
    }
  }

  private onLost(reason: string): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.setState("disconnected", reason);
    // Nothing may wait for a later connection: the caller decides whether to try again.
    this.failAll(() => new RpcDisconnectedError("call", `connection lost (${reason}); the outcome is unknown`));
    this.replaceDealer();
    this.scheduleProbe();
  }

  /** Our server only: liveness of the call path, restart detection, a lost tail of the stream, clock offset. */
  private ping(): void {
    if (this.pingInFlight || this.closed) return;
    this.pingInFlight = true;
    const sentAt = Date.now();
    this.callWithPosition<unknown>(HELLO_FUNCTION, [], { timeout: this.heartbeatInterval, kwargs: { client: this.clientName } })
      .then(({ value }) => {
        this.failedPings = 0;
        if (!isHelloInfo(value)) return;
        this.applyHello(value, sentAt, Date.now());
        if (this.epoch !== null && value.epoch !== this.epoch) {
          this.adoptEpoch(value.epoch, value.seq);
          this.emit("resync", "restart", `server epoch ${value.epoch}`);
          return;
        }
        if (this.epoch === null) this.adoptEpoch(value.epoch, value.seq);
        // Events published before the previous hello should have arrived by now.
        if (this.lastPingSeq !== null && (this.lastSeq ?? 0) < this.lastPingSeq) {
          const missing = this.lastPingSeq - (this.lastSeq ?? 0);
          this.lastSeq = value.seq;
          this.emit("resync", "gap", `${missing} event(s) before seq ${this.lastPingSeq} never arrived`);
        }
        this.lastPingSeq = value.seq;
      })
      .catch(() => {
        this.failedPings++;
      })
      .finally(() => {
        this.pingInFlight = false;
      });
  }

  private adoptEpoch(epoch: string, seq: number): void {
    this.epoch = epoch;
    this.lastSeq = seq;
    this.lastPingSeq = null;
  }

  private setState(state: ConnectionState, reason: string): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    this.emit("state", state, previous, reason);
  }

  // ---- events -------------------------------------------------------------------------------------------------

  private onBroadcast(frames: Buffer[]): void {
    this.lastTraffic = Date.now();
    if (frames.length !== 1) return;
    if (this.skipEvent) {
      // Decoding is most of a subscriber's work; an event the owner drops is only counted. Each skipped event is
      // one seq, so the count equals the server's seq unless something was lost, which the next decoded event
      // (or hello) then shows as a gap, exactly as before.
      const type = peekBroadcastType(frames[0]!);
      if (type !== undefined && this.skipEvent(type)) {
        if (this.lastSeq !== null) this.lastSeq++;
        return;
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
    if (seq !== null && epoch !== null) this.trackSequence(seq, epoch);
    this.emit("event", { event: data, seq, epoch });
  }

  private trackSequence(seq: number, epoch: string): void {
    if (this.epoch !== null && epoch !== this.epoch) {
      this.adoptEpoch(epoch, seq);
      this.emit("resync", "restart", `server epoch ${epoch}`);
      return;
    }
    if (this.epoch === null) {
      this.adoptEpoch(epoch, seq);
      return;
    }
    const last = this.lastSeq ?? 0;
    // With skipped events the count between decoded ones is an estimate (a stale event in flight at the hello
    // counts one too many); a decoded seq is the truth.
    this.lastSeq = this.skipEvent ? seq : Math.max(last, seq);
    if (seq > last + 1) this.emit("resync", "gap", `events ${last + 1}..${seq - 1} missed`);
  }
}

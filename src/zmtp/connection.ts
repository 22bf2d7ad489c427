import type { Socket } from "node:net";
import { ZmtpError } from "./errors.js";
import {
  FLAG_COMMAND,
  FLAG_MORE,
  FrameDecoder,
  GREETING_VERSION_SIZE,
  buildGreeting,
  encodeCommandBody,
  encodeMetadata,
  frameHeaderSize,
  negotiatedMinor,
  parseCommand,
  parseGreeting,
  parseMetadata,
  writeFrameHeader,
  type FrameSink,
} from "./wire.js";
import {
  REFUSAL_AS_ERROR,
  REFUSAL_PROPERTY,
  CurveClientHandshake,
  CurveServerHandshake,
  type CurveClientKeys,
  type CurveCodec,
  type CurveServerKeys,
  type HandshakeStep,
} from "./curve.js";

/** ZeroMQ socket types as they appear in the READY "Socket-Type" property. */
export type SocketTypeName = "REQ" | "REP" | "DEALER" | "ROUTER" | "PUB" | "SUB" | "XPUB" | "XSUB" | "PUSH" | "PULL" | "PAIR";

/** Per-connection counters; every dropped message is counted here. */
export interface PeerStats {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Messages not sent because this peer was over its high-water mark. */
  dropped: number;
  /** Messages replaced, unsent, by a newer one with the same conflation key (publisher backlog). */
  conflated: number;
}

export interface HeartbeatOptions {
  /** Send a PING this often once connected (0 = off, the default). */
  heartbeatIntervalMs?: number | undefined;
  /** Close when nothing arrives for this long after a PING (default: the interval). */
  heartbeatTimeoutMs?: number | undefined;
  /** TTL announced in our PINGs: the peer closes when it hears nothing from us for this long (default: timeout). */
  heartbeatTtlMs?: number | undefined;
}

export interface ConnectionSettings extends HeartbeatOptions {
  socketType: SocketTypeName;
  identity: Buffer;
  acceptPeerTypes: ReadonlySet<SocketTypeName | string>;
  maxMessageSize: number;
  handshakeTimeoutMs: number;
  /** See SocketOptions.refusalHoldMs. */
  refusalHoldMs: number;
  /** Queued bytes at which `writable` turns false (flow "block"). */
  writableLimit: number;
  /** Unsent bytes above which reading from this peer pauses until they drain (see SocketOptions). */
  pauseReadingAboveBytes?: number;
  /** Messages taken from this peer before it yields a turn of the event loop (see SocketOptions). */
  readBudgetMessages?: number;
  curveServer?: CurveServerKeys;
  curveClient?: CurveClientKeys;
}

export interface ConnectionHandler {
  onReady(connection: ZmtpConnection): void;
  onMessage(connection: ZmtpConnection, frames: Buffer[]): void;
  onSubscription(connection: ZmtpConnection, subscribe: boolean, topic: Buffer): void;
  onDrain(connection: ZmtpConnection): void;
  onClose(connection: ZmtpConnection, reason: ZmtpError, wasReady: boolean): void;
}

/** Frames per message accepted from a peer: empty MORE frames cost no bytes but still cost memory. */
const MAX_FRAMES_PER_MESSAGE = 65_536;
/** Payloads up to this size are copied into one batched write; larger bodies are written as they are (no copy). */
const COPY_THRESHOLD = 16 * 1024;
/** Flush at once past this many pending bytes instead of waiting for the end of the tick. */
const FLUSH_THRESHOLD = 64 * 1024;
/** A new write buffer's least size: a connection's small flushes (replies, a turn's ticks) vary, and all then fit. */
const MIN_WRITE_BUFFER = 4096;
/** See SocketOptions.refusalHoldMs. */
export const DEFAULT_REFUSAL_HOLD_MS = 1_000;
/** Refused connections held open at once, process-wide; past it they close at once (a flood must not pin sockets). */
const MAX_HELD_REFUSALS = 256;
let heldRefusals = 0;

/** Default pending + Node-buffered bytes above which a connection reports itself not writable (backpressure). */
export const DEFAULT_WRITABLE_LIMIT = 256 * 1024;

type Handshake = { start(): Buffer[]; onCommand(body: Buffer): HandshakeStep };

class NullHandshake {
  constructor(private readonly metadata: Buffer) {}
  start(): Buffer[] {
    return [encodeCommandBody("READY", this.metadata)];
  }
  onCommand(body: Buffer): HandshakeStep {
    const command = parseCommand(body);
    if (command.name === "READY") return { send: [], done: { metadata: parseMetadata(command.data), codec: null, clientPublicKey: "" } };
    if (command.name === "ERROR") {
      const reason = command.data.toString("latin1", 1, 1 + (command.data[0] ?? 0));
      throw new ZmtpError("EMECHANISM", `peer sent ERROR: ${reason}`);
    }
    throw new ZmtpError("EPROTO", `unexpected ${command.name} command during NULL handshake`);
  }
}

function flushConnection(connection: ZmtpConnection): void {
  connection.flush();
}

/** Peer-controlled bytes must never surface as anything but a ZmtpError (which closes only that connection). */
function guardCrypto<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof ZmtpError) throw error;
    throw new ZmtpError("EMECHANISM", `handshake or message decryption failed: ${String(error)}`);
  }
}

function describePeer(socket: Socket): string {
  return socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort ?? ""}` : socket.connecting ? "" : "ipc";
}

let nextConnectionNumber = 1;

/**
 * One ZMTP connection over a stream socket: greeting, mechanism handshake, framing, heartbeats, batched writes.
 * Socket roles live above it; it only reports whole messages and subscription commands to its handler.
 */
export class ZmtpConnection implements FrameSink {
  readonly id: string;
  readonly stats: PeerStats = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0, conflated: 0 };
  /** `ip:port` for tcp, "ipc" for ipc (known once the socket is connected). */
  remoteAddress: string;
  /** Negotiated ZMTP minor version (0 or 1) once the greeting arrived. */
  minorVersion: 0 | 1 = 1;
  peerSocketType: SocketTypeName | "" = "";
  peerIdentity: Buffer = Buffer.alloc(0);
  /** The CURVE client's long-term public key (Z85), known on both ends after a CURVE handshake. */
  curvePublicKey: string | undefined;
  connectedAt = 0;
  /** Free for the owning socket (per-peer state such as subscriptions or queue counters). */
  queuedMessages = 0;

  private readonly decoder: FrameDecoder;
  private handshake: Handshake | null;
  private codec: CurveCodec | null = null;
  private state: "handshake" | "ready" | "closed" = "handshake";
  private messageFrames: Buffer[] = [];
  private messageBytes = 0;
  private pendingFlags: number[] = [];
  private pendingBodies: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /**
   * The last flush's buffer, kept for the next flush when the kernel took the whole write at once; null while the
   * socket may still hold it. Every Buffer is memory outside V8's heap, and V8 counts such memory allocated since
   * its last full collection toward starting the next one: a fresh copy per flush, a second kilobyte per tick per
   * subscriber on top of the encoded event, was enough for a mark-compact (a 2-6 ms pause every subscriber sees as
   * late ticks) every ~0.6 s at 10k ticks/s in a server whose young generation had grown to 16 MB. A flush copies
   * little more than FLUSH_THRESHOLD + COPY_THRESHOLD bytes (~80 KiB), so that is all a connection keeps. (Keeping
   * only flushes up to FLUSH_THRESHOLD dropped the buffer after every burst: 1,082-1,094 Buffer bytes per tick in
   * the `alloc` section instead of 1,003-1,019.)
   */
  private spareWriteBuffer: Buffer | null = null;
  /** Reading stopped because the peer does not take what we send (pauseReadingAboveBytes). */
  private readingPaused = false;
  /** Reading stopped until the next turn: the peer used up its read budget (readBudgetMessages). */
  private yielding = false;
  /** Messages taken since reading last yielded. */
  private messagesSinceYield = 0;
  /** Reading held by the application (holdReading) until this timer fires. */
  private holdTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatTimeoutTimer: NodeJS.Timeout | null = null;
  private ttlTimer: NodeJS.Timeout | null = null;
  private receiveCount = 0;
  private readonly mechanism: "NULL" | "CURVE";
  /** The part of our greeting held back until the peer's greeting showed it speaks our mechanism (accepted side). */
  private greetingRest: Buffer | null = null;
  private peerGreeted = false;
  private readonly accepted: boolean;
  /** The handshake failed with an ERROR sent to the peer. */
  private toldRefusal = false;

  constructor(
    readonly socket: Socket,
    private readonly settings: ConnectionSettings,
    private readonly handler: ConnectionHandler,
    /** Which end dialed: the accepting end holds its mechanism back until it has read the peer's greeting. */
    role: "dialed" | "accepted" = "dialed",
  ) {
    this.accepted = role === "accepted";
    this.id = `${settings.socketType.toLowerCase()}-${nextConnectionNumber++}`;
    this.remoteAddress = describePeer(socket);
    if (socket.connecting) socket.once("connect", () => (this.remoteAddress = describePeer(socket)));
    this.decoder = new FrameDecoder(this, settings.maxMessageSize);
    const properties: Array<[string, Buffer]> = [["Socket-Type", Buffer.from(settings.socketType, "latin1")]];
    if (settings.socketType === "REQ" || settings.socketType === "DEALER" || settings.socketType === "ROUTER") {
      properties.push(["Identity", settings.identity]);
    }
    // We take a refusal's ERROR and report it; a libzmq client would hang on it (the server closes on those instead).
    if (settings.curveClient) properties.push([REFUSAL_PROPERTY, Buffer.from(REFUSAL_AS_ERROR, "latin1")]);
    const metadata = encodeMetadata(properties);
    if (settings.curveServer) {
      this.mechanism = "CURVE";
      this.handshake = new CurveServerHandshake(settings.curveServer, metadata);
    } else if (settings.curveClient) {
      this.mechanism = "CURVE";
      this.handshake = new CurveClientHandshake(settings.curveClient, metadata);
    } else {
      this.mechanism = "NULL";
      this.handshake = new NullHandshake(metadata);
    }
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      if (this.readingPaused) {
        this.readingPaused = false;
        this.continueReading();
      }
      if (this.state === "ready") this.handler.onDrain(this);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => this.fail(new ZmtpError("ECONNRESET", `transport error: ${error.code ?? error.message}`)));
    socket.on("close", () => this.fail(this.closedByPeer()));
    this.handshakeTimer = setTimeout(
      () => this.fail(new ZmtpError("EHANDSHAKE_TIMEOUT", `handshake not complete within ${settings.handshakeTimeoutMs} ms`)),
      settings.handshakeTimeoutMs,
    );
    this.handshakeTimer.unref();
    const greeting = buildGreeting(this.mechanism, settings.curveServer !== undefined);
    if (role === "accepted") {
      // A libzmq peer that reads a mechanism it does not speak drops the connection for good (a protocol error: no
      // reconnect), and a REQ socket left without a peer blocks its next send forever: a VeighNa client without the
      // server's CURVE key would hang instead of timing out. So the accepting end sends its signature and version (all
      // libzmq waits for before sending its own mechanism), and the mechanism only once the peer's matched it. A
      // mismatch then closes before our mechanism is seen: to libzmq a connection error, which it retries.
      socket.write(greeting.subarray(0, GREETING_VERSION_SIZE));
      this.greetingRest = greeting.subarray(GREETING_VERSION_SIZE);
    } else {
      socket.write(greeting);
    }
  }

  /** Why the peer's close ended this connection; during the greeting, that is most likely our mechanism. */
  private closedByPeer(): ZmtpError {
    if (this.state === "handshake" && !this.peerGreeted && this.stats.bytesIn >= GREETING_VERSION_SIZE) {
      return new ZmtpError("EMECHANISM", `the peer closed the connection during the greeting: it does not accept mechanism ${this.mechanism}`);
    }
    return new ZmtpError("ECONNRESET", "peer closed the connection");
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  /** Bytes waiting in our batch plus bytes Node has not yet handed to the kernel. */
  get queuedBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  /** False when the sender should wait for the handler's onDrain before sending more. */
  get writable(): boolean {
    return this.state === "ready" && this.pendingBytes + this.socket.writableLength < this.settings.writableLimit;
  }

  // ---- receive path ----

  private onData(chunk: Buffer): void {
    this.receiveCount++;
    this.stats.bytesIn += chunk.length;
    this.parse(() => this.decoder.push(chunk));
    const budget = this.settings.readBudgetMessages;
    if (budget !== undefined && this.messagesSinceYield >= budget && !this.yielding && this.state === "ready") this.yieldReading();
  }

  /**
   * Runs the decoder; false when the connection is closed after it (a protocol error closes it, and so does a
   * listener's error, which is rethrown).
   */
  private parse(step: () => void): boolean {
    try {
      step();
      return this.state !== "closed";
    } catch (error) {
      if (error instanceof ZmtpError) {
        this.fail(error);
        return false;
      }
      // An application listener threw while we delivered a message. The rest of this read is lost, so the
      // connection cannot go on; the error itself is rethrown so it surfaces like any listener error.
      this.fail(new ZmtpError("ECLOSED", `message listener threw: ${String(error)}`));
      throw error;
    }
  }

  /**
   * Stops reading this peer for one turn: the others' calls, timers and replies get theirs first. The budget is
   * counted per message: the decoder stops at it (onFrame), mid-read, and keeps the rest for the next turn.
   */
  private yieldReading(): void {
    this.yielding = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      this.messagesSinceYield = 0;
      this.continueReading();
    });
  }

  /**
   * Reads nothing more from this peer for `ms`, from the message after the one being delivered: the application
   * paces a peer (a client over its limits), whose further messages wait in its own socket meanwhile.
   */
  holdReading(ms: number): void {
    if (this.state !== "ready" || this.holdTimer) return;
    this.decoder.pause();
    this.socket.pause();
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      this.continueReading();
    }, ms);
  }

  /** Takes reading up again after a yield or a drained backlog: what the decoder held back first, then the socket. */
  private continueReading(): void {
    if (this.state === "closed" || this.yielding || this.readingPaused || this.holdTimer) return;
    if (!this.parse(() => this.decoder.resume())) return;
    if (this.decoder.holding) {
      this.yieldReading(); // the held bytes used up the budget again
      return;
    }
    this.socket.resume();
  }

  onGreeting(greeting: Buffer): void {
    const peer = parseGreeting(greeting);
    if (peer.mechanism !== this.mechanism) {
      throw new ZmtpError("EMECHANISM", `peer mechanism ${peer.mechanism || "(empty)"} does not match ${this.mechanism}`);
    }
    // The as-server byte is not checked: libzmq always sends 0 there, whatever its role.
    this.minorVersion = negotiatedMinor(peer);
    this.peerGreeted = true;
    if (this.greetingRest) {
      this.socket.write(this.greetingRest);
      this.greetingRest = null;
    }
    this.sendCommands(this.handshake!.start());
  }

  onFrame(flags: number, body: Buffer): void {
    if (this.state !== "ready") {
      this.onHandshakeFrame(flags, body);
      return;
    }
    if (this.codec) {
      const inner = guardCrypto(() => this.codec!.decode(body));
      flags = (inner.flags & 0x01 ? FLAG_MORE : 0) | (inner.flags & 0x02 ? FLAG_COMMAND : 0);
      body = inner.body;
    }
    if (flags & FLAG_COMMAND) {
      if (flags & FLAG_MORE) throw new ZmtpError("EPROTO", "command frame with MORE flag");
      this.onCommand(body);
      return;
    }
    this.messageBytes += body.length;
    if (this.messageBytes > this.settings.maxMessageSize) {
      throw new ZmtpError("EMSGSIZE", `message exceeds maxMessageSize ${this.settings.maxMessageSize}`);
    }
    let frames: Buffer[];
    if (this.messageFrames.length === 0 && !(flags & FLAG_MORE)) {
      frames = [body]; // most messages are one frame: an array of one, rather than one grown by push
    } else {
      this.messageFrames.push(body);
      if (this.messageFrames.length > MAX_FRAMES_PER_MESSAGE) {
        throw new ZmtpError("EMSGSIZE", `message has more than ${MAX_FRAMES_PER_MESSAGE} frames`);
      }
      if (flags & FLAG_MORE) return;
      frames = this.messageFrames;
      this.messageFrames = [];
    }
    this.messageBytes = 0;
    this.stats.messagesIn++;
    this.messagesSinceYield++;
    this.handler.onMessage(this, frames);
    const budget = this.settings.readBudgetMessages;
    if (budget !== undefined && this.messagesSinceYield >= budget) this.decoder.pause();
  }

  private onHandshakeFrame(flags: number, body: Buffer): void {
    if (!(flags & FLAG_COMMAND) || flags & FLAG_MORE) throw new ZmtpError("EPROTO", "data frame before handshake completed");
    const step = guardCrypto(() => this.handshake!.onCommand(body));
    this.sendCommands(step.send);
    if (step.error) {
      this.toldRefusal = step.send.length > 0;
      throw step.error;
    }
    if (!step.done) return;
    const socketType = step.done.metadata.get("socket-type")?.toString("latin1") ?? "";
    if (!this.settings.acceptPeerTypes.has(socketType)) {
      this.sendCommands([encodeCommandBody("ERROR", Buffer.from("\x13Invalid socket type", "latin1"))]);
      throw new ZmtpError("ESOCKETTYPE", `peer socket type ${socketType || "(none)"} cannot talk to ${this.settings.socketType}`);
    }
    this.peerSocketType = socketType as SocketTypeName; // checked against acceptPeerTypes above
    this.peerIdentity = Buffer.from(step.done.metadata.get("identity") ?? Buffer.alloc(0));
    if (this.mechanism === "CURVE") {
      this.codec = step.done.codec;
      this.curvePublicKey = step.done.clientPublicKey;
    }
    this.handshake = null;
    this.state = "ready";
    this.connectedAt = Date.now();
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.startHeartbeats();
    this.handler.onReady(this);
  }

  private onCommand(body: Buffer): void {
    const command = parseCommand(body);
    switch (command.name) {
      case "PING": {
        if (command.data.length < 2) throw new ZmtpError("EPROTO", "malformed PING");
        const ttlDeciseconds = command.data.readUInt16BE(0);
        if (ttlDeciseconds > 0) this.armTtl(ttlDeciseconds * 100);
        this.sendCommand("PONG", command.data.subarray(2, 18));
        return;
      }
      case "PONG":
        return; // any traffic counts as liveness (receiveCount)
      case "SUBSCRIBE":
      case "CANCEL":
        this.handler.onSubscription(this, command.name === "SUBSCRIBE", command.data);
        return;
      case "ERROR": {
        const reason = command.data.toString("latin1", 1, 1 + (command.data[0] ?? 0));
        throw new ZmtpError("EPROTO", `peer sent ERROR: ${reason}`);
      }
      default:
        throw new ZmtpError("EPROTO", `unknown command ${JSON.stringify(command.name)}`);
    }
  }

  // ---- heartbeats (rfc 37) ----

  private startHeartbeats(): void {
    const interval = this.settings.heartbeatIntervalMs ?? 0;
    if (interval <= 0 || this.minorVersion === 0) return; // PING/PONG exist only in 3.1
    const timeout = this.settings.heartbeatTimeoutMs ?? interval;
    const ttlDeciseconds = Math.min(0xffff, Math.round((this.settings.heartbeatTtlMs ?? timeout) / 100));
    const ttl = Buffer.allocUnsafe(2);
    ttl.writeUInt16BE(ttlDeciseconds, 0);
    this.heartbeatTimer = setInterval(() => {
      this.sendCommand("PING", ttl);
      if (this.heartbeatTimeoutTimer) return;
      const countAtPing = this.receiveCount;
      this.heartbeatTimeoutTimer = setTimeout(() => {
        this.heartbeatTimeoutTimer = null;
        if (this.receiveCount === countAtPing) {
          this.fail(new ZmtpError("EHEARTBEAT", `no traffic for ${timeout} ms after PING`));
        }
      }, timeout);
      this.heartbeatTimeoutTimer.unref();
    }, interval);
    this.heartbeatTimer.unref();
  }

  private armTtl(ttlMs: number): void {
    if (this.ttlTimer) return; // re-checked (and re-armed) when it fires
    const countAtArm = this.receiveCount;
    this.ttlTimer = setTimeout(() => {
      this.ttlTimer = null;
      if (this.receiveCount === countAtArm) {
        this.fail(new ZmtpError("EHEARTBEAT", `peer's heartbeat TTL of ${ttlMs} ms expired`));
      }
    }, ttlMs);
    this.ttlTimer.unref();
  }

  // ---- send path ----

  /** Queues one message; batched and written at the end of this tick (or earlier past FLUSH_THRESHOLD). */
  send(frames: readonly Buffer[]): void {
    if (this.state !== "ready") return;
    const last = frames.length - 1;
    for (let i = 0; i <= last; i++) this.enqueue(i < last ? FLAG_MORE : 0, frames[i]!);
    this.stats.messagesOut++;
  }

  sendCommand(name: string, data?: Buffer): void {
    if (this.state !== "ready") return;
    this.enqueue(FLAG_COMMAND, encodeCommandBody(name, data));
  }

  private enqueue(flags: number, body: Buffer): void {
    if (this.codec) {
      body = this.codec.encode((flags & FLAG_MORE ? 0x01 : 0) | (flags & FLAG_COMMAND ? 0x02 : 0), body);
      flags = 0; // libzmq sends MESSAGE as a plain frame; the real flags travel inside the box
    }
    this.pendingFlags.push(flags);
    this.pendingBodies.push(body);
    this.pendingBytes += frameHeaderSize(body.length) + body.length;
    if (this.pendingBytes >= FLUSH_THRESHOLD) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
  }

  private sendCommands(bodies: Buffer[]): void {
    for (const body of bodies) {
      this.pendingFlags.push(FLAG_COMMAND);
      this.pendingBodies.push(body);
      this.pendingBytes += frameHeaderSize(body.length) + body.length;
    }
    this.flush();
  }

  /** Writes everything queued: small frames coalesced into one buffer, large bodies passed through uncopied. */
  flush(): void {
    this.flushScheduled = false;
    const count = this.pendingBodies.length;
    if (count === 0 || this.state === "closed") return;
    const wasWritable = this.writable;
    const flags = this.pendingFlags;
    const bodies = this.pendingBodies;
    this.stats.bytesOut += this.pendingBytes;
    this.pendingFlags = [];
    this.pendingBodies = [];
    this.pendingBytes = 0;

    let copySize = 0;
    let hasLarge = false;
    for (let i = 0; i < count; i++) {
      const size = bodies[i]!.length;
      copySize += frameHeaderSize(size);
      if (size < COPY_THRESHOLD) copySize += size;
      else hasLarge = true;
    }
    const spare = this.spareWriteBuffer;
    const out = spare !== null && spare.length >= copySize ? spare : Buffer.allocUnsafeSlow(Math.max(copySize, MIN_WRITE_BUFFER));
    this.spareWriteBuffer = null;
    const socket = this.socket;
    if (hasLarge) socket.cork();
    let pos = 0;
    let runStart = 0;
    for (let i = 0; i < count; i++) {
      const body = bodies[i]!;
      pos = writeFrameHeader(out, pos, flags[i]!, body.length);
      if (body.length < COPY_THRESHOLD) {
        pos += body.copy(out, pos);
      } else {
        socket.write(out.subarray(runStart, pos));
        socket.write(body);
        runStart = pos;
      }
    }
    if (pos > runStart) socket.write(out.subarray(runStart, pos));
    if (hasLarge) socket.uncork();
    // Nothing left in the stream: the kernel has the bytes and nobody holds `out` (a write not taken whole keeps it).
    if (socket.writableLength === 0) this.spareWriteBuffer = out;
    const pauseAbove = this.settings.pauseReadingAboveBytes;
    if (pauseAbove !== undefined && !this.readingPaused && socket.writableLength > pauseAbove) {
      // The peer is not reading: stop taking its requests until it has taken our replies ("drain" resumes).
      this.readingPaused = true;
      socket.pause();
    }
    // The kernel took it all at once: no socket "drain" will come, so announce writability ourselves.
    if (!wasWritable && this.writable) this.handler.onDrain(this);
  }

  // ---- closing ----

  /** Local close: flushes what is queued, then ends the stream. */
  close(reason: ZmtpError = new ZmtpError("ECLOSED", "closed locally")): void {
    if (this.state === "closed") return;
    this.flush();
    this.shutdown(reason);
    this.socket.end();
    // A peer that never finishes the TCP close must not keep the handle alive.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Closes because of an error (protocol, timeout, transport); tells the handler once. */
  fail(reason: ZmtpError): void {
    if (this.state === "closed") return;
    const hold = this.holdsRefusal(reason);
    this.flush(); // an ERROR command queued just before the failure still goes out
    this.shutdown(reason);
    if (hold) {
      // Not a word, not closed yet: the peer waits in its handshake, and retries only when we close.
      heldRefusals++;
      this.socket.pause();
      const timer = setTimeout(() => this.socket.destroy(), this.settings.refusalHoldMs);
      timer.unref();
      this.socket.once("close", () => {
        clearTimeout(timer);
        heldRefusals--;
      });
      return;
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 200).unref();
  }

  /** A server's refusal the peer was not told of (no ERROR): hold it (SocketOptions.refusalHoldMs). */
  private holdsRefusal(reason: ZmtpError): boolean {
    if (!this.accepted || this.state !== "handshake" || this.settings.refusalHoldMs <= 0 || heldRefusals >= MAX_HELD_REFUSALS) return false;
    if (this.toldRefusal) return false; // the peer heard an ERROR: it knows, and closes itself
    return reason.code === "EAUTH" || reason.code === "EMECHANISM";
  }

  private shutdown(reason: ZmtpError): void {
    const wasReady = this.state === "ready";
    this.state = "closed";
    this.decoder.stop();
    for (const timer of [this.handshakeTimer, this.heartbeatTimeoutTimer, this.ttlTimer, this.holdTimer]) if (timer) clearTimeout(timer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.handshakeTimer = this.heartbeatTimer = this.heartbeatTimeoutTimer = this.ttlTimer = null;
    this.pendingFlags = [];
    this.pendingBodies = [];
    this.pendingBytes = 0;
    this.handler.onClose(this, reason, wasReady);
  }
}

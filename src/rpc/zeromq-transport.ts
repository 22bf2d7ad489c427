/**
 * The transport on zeromq.js 6 (libzmq 4.3).
 *
 * Every socket gets `sendTimeout: 0`: zeromq.js then sends synchronously or rejects at once, so we never hold a
 * message for later (the root of VeighNa's ghost orders) and never hit "only one send may be in progress".
 * DEALER also gets `immediate`, so libzmq queues nothing for a server that is not connected.
 *
 * CURVE: libzmq encrypts and authenticates the server, but tells the server which client key connected only
 * through a ZAP handler, which zeromq.js does not expose. So a CURVE server here accepts any client key and has
 * no per-client identity; a socket asked for an allow-list (`authorize`) is refused with ERR_RPC_OPTIONS.
 */
import * as zmq from "zeromq";
import { RpcError } from "./errors.js";
import type {
  ClientSocketOptions,
  CurveClientSecurity,
  CurveServerSecurity,
  DealerHandlers,
  DealerSocket,
  LinkHandlers,
  PublisherSocket,
  Refusal,
  RouterHandlers,
  RouterSocket,
  ServerSocketOptions,
  SocketTuning,
  SubscriberHandlers,
  SubscriberSocket,
  Transport,
} from "./transport.js";

const DEFAULT_HWM = 100_000;

function baseOptions(tuning: SocketTuning | undefined, directions: { send?: boolean; receive?: boolean } = { send: true, receive: true }) {
  const hwm = tuning?.highWaterMark ?? DEFAULT_HWM;
  return {
    linger: 0,
    ...(directions.send ? { sendTimeout: 0, sendHighWaterMark: hwm } : {}),
    ...(directions.receive ? { receiveHighWaterMark: hwm } : {}),
    ...(tuning?.maxMessageSize !== undefined ? { maxMessageSize: tuning.maxMessageSize } : {}),
  };
}

function curveServer(curve: CurveServerSecurity | undefined) {
  if (!curve) return {};
  if (curve.authorize) {
    throw new RpcError("ERR_RPC_OPTIONS", "a CURVE allow-list needs the zmtp transport: zeromq.js cannot tell the server which client key connected");
  }
  return { curveServer: true, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey };
}

function curveClient(curve: CurveClientSecurity | undefined) {
  return curve ? { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey } : {};
}

/** Reports failed handshakes (libzmq's monitor events) to `rejected`. */
function watchHandshakes(socket: zmq.Socket, rejected: ((refusal: Refusal) => void) | undefined): void {
  if (!rejected) return;
  const report = (kind: Refusal["kind"]) => (event: { address?: string; error?: Error }) =>
    rejected({ ...(event.address ? { remoteAddress: event.address } : {}), kind, reason: event.error?.message ?? "handshake failed" });
  socket.events.on("handshake:error:auth", report("auth"));
  socket.events.on("handshake:error:protocol", report("mechanism"));
  socket.events.on("handshake:error:other", report("mechanism"));
}

/** Reports a client socket's connection coming up (handshake done) and going down (libzmq's monitor events). */
function watchLink(socket: zmq.Socket, handlers: LinkHandlers): void {
  if (handlers.up) socket.events.on("handshake", () => handlers.up?.());
  if (handlers.down) socket.events.on("disconnect", () => handlers.down?.());
}

/** Reads a socket until it closes; a handler that throws must not end the loop. */
async function readLoop(socket: zmq.Socket & AsyncIterable<Buffer[]>, onMessage: (frames: Buffer[]) => void): Promise<void> {
  try {
    for await (const frames of socket) {
      try {
        onMessage(frames);
      } catch (error) {
        console.error("rpc transport: message handler failed:", error);
      }
    }
  } catch (error) {
    // Closing the socket ends the iteration with an error on some paths; anything else is worth a line.
    if (!socket.closed) console.error("rpc transport: receive loop ended:", error);
  }
}

function fireAndForget(promise: Promise<void>): void {
  // Dropped sends (gone peer, full queue, closed socket) are not errors of the caller; the protocol copes.
  promise.catch(() => undefined);
}

async function bindAndResolve(socket: zmq.Socket, address: string): Promise<string> {
  await socket.bind(address);
  return socket.lastEndpoint ?? address;
}

class ZeromqRouter implements RouterSocket {
  private readonly socket: zmq.Router;
  private readonly ids = new Map<string, Buffer>();

  constructor(handlers: RouterHandlers, tuning?: ServerSocketOptions) {
    this.socket = new zmq.Router({ ...baseOptions(tuning), ...curveServer(tuning?.curve), mandatory: false });
    watchHandshakes(this.socket, handlers.rejected);
    void readLoop(this.socket, (frames) => {
      const id = frames[0]!;
      const key = id.toString("hex");
      if (!this.ids.has(key)) this.ids.set(key, id);
      handlers.message(key, frames.slice(1));
    });
  }

  bind(address: string): Promise<string> {
    return bindAndResolve(this.socket, address);
  }

  send(peerId: string, frames: Buffer[]): void {
    const id = this.ids.get(peerId) ?? Buffer.from(peerId, "hex");
    if (this.socket.closed) return;
    fireAndForget(this.socket.send([id, ...frames]));
  }

  peerDetails(): undefined {
    return undefined; // libzmq does not tell which connection a routing id belongs to
  }

  async close(): Promise<void> {
    this.socket.close();
  }
}

class ZeromqPublisher implements PublisherSocket {
  private readonly socket: zmq.Publisher;

  constructor(tuning?: ServerSocketOptions, handlers?: { rejected?(refusal: Refusal): void }) {
    this.socket = new zmq.Publisher({ ...baseOptions(tuning, { send: true }), ...curveServer(tuning?.curve) });
    watchHandshakes(this.socket, handlers?.rejected);
  }

  bind(address: string): Promise<string> {
    return bindAndResolve(this.socket, address);
  }

  send(frames: Buffer[]): void {
    if (this.socket.closed) return;
    fireAndForget(this.socket.send(frames));
  }

  async close(): Promise<void> {
    this.socket.close();
  }
}

class ZeromqDealer implements DealerSocket {
  private readonly socket: zmq.Dealer;

  constructor(handlers: DealerHandlers, tuning?: ClientSocketOptions) {
    this.socket = new zmq.Dealer({ ...baseOptions(tuning), ...curveClient(tuning?.curve), immediate: true });
    watchHandshakes(this.socket, handlers.rejected);
    watchLink(this.socket, handlers);
    void readLoop(this.socket, (frames) => handlers.message(frames));
  }

  connect(address: string): void {
    this.socket.connect(address);
  }

  send(frames: Buffer[]): Promise<void> {
    if (this.socket.closed) return Promise.reject(new Error("socket closed"));
    // immediate + sendTimeout 0: libzmq refuses (EAGAIN) rather than queue for an absent server.
    return this.socket.send(frames);
  }

  async close(): Promise<void> {
    this.socket.close();
  }
}

class ZeromqSubscriber implements SubscriberSocket {
  private readonly socket: zmq.Subscriber;

  constructor(handlers: SubscriberHandlers, tuning?: ClientSocketOptions) {
    this.socket = new zmq.Subscriber({ ...baseOptions(tuning, { receive: true }), ...curveClient(tuning?.curve) });
    watchHandshakes(this.socket, handlers.rejected);
    watchLink(this.socket, handlers);
    // Only the empty topic is meaningful with VeighNa's single-frame pickles (the topic sits inside the pickle).
    this.socket.subscribe();
    for (const marker of tuning?.markers ?? []) this.socket.subscribe(marker);
    void readLoop(this.socket, (frames) => handlers.message(frames));
  }

  connect(address: string): void {
    this.socket.connect(address);
  }

  async close(): Promise<void> {
    this.socket.close();
  }
}

export const zeromqTransport: Transport = {
  kind: "zeromq",
  curvePeerKeys: false,
  router: (handlers, tuning) => new ZeromqRouter(handlers, tuning),
  publisher: (tuning, handlers) => new ZeromqPublisher(tuning, handlers),
  dealer: (handlers, tuning) => new ZeromqDealer(handlers, tuning),
  subscriber: (handlers, tuning) => new ZeromqSubscriber(handlers, tuning),
};

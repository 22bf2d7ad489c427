/**
 * The transport on zeromq.js 6 (libzmq 4.3).
 *
 * Every socket gets `sendTimeout: 0`: zeromq.js then sends synchronously or rejects at once, so we never hold a
 * message for later (the root of VeighNa's ghost orders) and never hit "only one send may be in progress".
 * DEALER also gets `immediate`, so libzmq queues nothing for a server that is not connected.
 */
import * as zmq from "zeromq";
import type {
  DealerHandlers,
  DealerSocket,
  PublisherSocket,
  RouterHandlers,
  RouterSocket,
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

  constructor(handlers: RouterHandlers, tuning?: SocketTuning) {
    this.socket = new zmq.Router({ ...baseOptions(tuning), mandatory: false });
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

  constructor(tuning?: SocketTuning) {
    this.socket = new zmq.Publisher(baseOptions(tuning, { send: true }));
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

  constructor(handlers: DealerHandlers, tuning?: SocketTuning) {
    this.socket = new zmq.Dealer({ ...baseOptions(tuning), immediate: true });
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

  constructor(handlers: SubscriberHandlers, tuning?: SocketTuning) {
    this.socket = new zmq.Subscriber(baseOptions(tuning, { receive: true }));
    // Only the empty topic is meaningful with VeighNa's single-frame pickles (the topic sits inside the pickle).
    this.socket.subscribe();
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
  router: (handlers, tuning) => new ZeromqRouter(handlers, tuning),
  publisher: (tuning) => new ZeromqPublisher(tuning),
  dealer: (handlers, tuning) => new ZeromqDealer(handlers, tuning),
  subscriber: (handlers, tuning) => new ZeromqSubscriber(handlers, tuning),
};

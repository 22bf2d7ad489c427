import net from "node:net";
import { FLAG_COMMAND, FrameDecoder, buildGreeting, encodeCommandBody, encodeFrame, parseEndpoint } from "../../src/zmtp/index.js";
import { withTimeout } from "./helpers.js";

/** A hand-driven ZMTP peer for tests: it does exactly what the test says, including misbehaving. */
export class RawPeer {
  readonly frames: Array<{ flags: number; body: Buffer }> = [];
  greeting: Buffer | null = null;
  closed = false;
  private waiters: Array<() => void> = [];
  private readonly decoder: FrameDecoder;

  private constructor(readonly socket: net.Socket) {
    this.decoder = new FrameDecoder(
      {
        onGreeting: (greeting) => {
          this.greeting = Buffer.from(greeting);
          this.wake();
        },
        onFrame: (flags, body) => {
          this.frames.push({ flags, body: Buffer.from(body) });
          this.wake();
        },
      },
      1 << 24,
    );
    socket.on("data", (chunk: Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(endpoint: string): Promise<RawPeer> {
    const target = parseEndpoint(endpoint);
    const socket = target.transport === "ipc" ? net.connect(target.path) : net.connect(target.port, target.host);
    return new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(new RawPeer(socket)));
      socket.once("error", reject);
    });
  }

  static adopt(socket: net.Socket): RawPeer {
    return new RawPeer(socket);
  }

  /** Sends greeting (3.minor) and READY with the given socket type. */
  handshake(socketType: string, minor = 1): void {
    const greeting = buildGreeting("NULL", false);
    greeting[11] = minor;
    this.socket.write(greeting);
    const name = Buffer.from("Socket-Type", "latin1");
    const value = Buffer.from(socketType, "latin1");
    const metadata = Buffer.concat([Buffer.from([name.length]), name, Buffer.from([0, 0, 0, value.length]), value]);
    this.sendCommand("READY", metadata);
  }

  sendCommand(name: string, data: Buffer = Buffer.alloc(0)): void {
    this.socket.write(encodeFrame(FLAG_COMMAND, encodeCommandBody(name, data)));
  }

  sendFrame(flags: number, body: Buffer): void {
    this.socket.write(encodeFrame(flags, body));
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits until `condition` holds (re-checked on every frame / close). */
  async until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
    await withTimeout(
      (async () => {
        while (!condition()) await new Promise<void>((resolve) => this.waiters.push(resolve));
      })(),
      ms,
      what,
    );
  }

  destroy(): void {
    this.socket.destroy();
  }
}

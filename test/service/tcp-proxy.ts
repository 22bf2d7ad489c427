/**
 * A TCP proxy between a client and a server for fault tests (node:net): it forwards bytes both ways, and on command
 * stalls every connection (stops reading, so bytes pile up and heartbeats stop), drops them all, or refuses new
 * ones for a while (the server's port looks closed through it).
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";


export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  private stalled = false;
  /** Connections accepted since the start (each is one client connection attempt that reached us). */
  accepted = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.onClient(client));
  }

  /** Listens on an ephemeral loopback port; resolves with "tcp://127.0.0.1:<port>". */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    return `tcp://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** New connections are closed at once while on; existing ones are left alone. */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  /** Stops forwarding in both directions (bytes are kept, in order) until `resume`. */
  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
    for (const pair of this.pairs) pair.flush();
  }

  /** Resets every connection (both sides see it close); clients reconnect through the proxy. */
  drop(): void {
    for (const pair of [...this.pairs]) pair.end();
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onClient(client: Socket): void {
    this.accepted++;
    if (this.refusing) {
      client.destroy();
      return;
    }
    const pair = new Pair(client, createConnection(this.target), () => this.stalled, () => this.pairs.delete(pair));
    this.pairs.add(pair);
  }
}

/** One proxied connection: what arrives while stalled waits in `held`, per direction. */
class Pair {
  private readonly held: [Buffer[], Buffer[]] = [[], []];
  private ended = false;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    private readonly stalled: () => boolean,
    private readonly onEnd: () => void,
  ) {
    const end = () => this.end();
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.on("data", (chunk: Buffer) => this.forward(0, chunk));
    upstream.on("data", (chunk: Buffer) => this.forward(1, chunk));
  }

  flush(): void {
    for (const direction of [0, 1] as const) {
      const out = direction === 0 ? this.upstream : this.client;
      for (const chunk of this.held[direction].splice(0)) out.write(chunk);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.client.destroy();
    this.upstream.destroy();
    this.onEnd();
  }

  private forward(direction: 0 | 1, chunk: Buffer): void {
    if (this.stalled()) {
      this.held[direction].push(chunk);
      return;
    }
    (direction === 0 ? this.upstream : this.client).write(chunk);
  }
}

/** host and port of a tcp:// address. */
export function tcpTarget(address: string): { host: string; port: number } {
  const match = /^tcp:\/\/(.+):(\d+)$/.exec(address);
  if (!match) throw new Error(`not a tcp address: ${address}`);
  return { host: match[1]!, port: Number(match[2]) };
}

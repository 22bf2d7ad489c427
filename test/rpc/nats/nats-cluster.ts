/**
 * Real nats-server processes for the tests: one node or a JetStream cluster on free loopback ports, configs and
 * JetStream storage in a temp folder, killed (SIGKILL when a test is about a crash) and removed afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The nats-server binary: $NATS_SERVER, else Debian's /usr/sbin/nats-server, else PATH. */
function findNatsServer(): string | null {
  const candidates = [process.env["NATS_SERVER"], "/usr/sbin/nats-server", "/usr/bin/nats-server", "nats-server"].filter((c): c is string => !!c);
  for (const candidate of candidates) {
    if (candidate.includes("/") && !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ["--version"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  return null;
}

export const NATS_SERVER_BIN = findNatsServer();
/** `skip` for tests that need nats-server: false when it is there, else why not. */
export const natsSkip: string | false = NATS_SERVER_BIN ? false : "needs nats-server (Debian package nats-server; .ci/run installs it)";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface NatsUser {
  user: string;
  password: string;
  permissions?: { publish?: string[] | { allow?: string[]; deny?: string[] }; subscribe?: string[] | { allow?: string[]; deny?: string[] }; allow_responses?: boolean };
}

export interface ClusterOptions {
  /** Users of the default account, with their permissions; none: no authentication. */
  users?: NatsUser[];
  /** A raw `accounts { ... }` block instead of users (for service imports with shared request info). */
  accounts?: string;
}

export class NatsNode {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly configPath: string;
  private child: ChildProcess | null = null;
  log = "";

  constructor(name: string, port: number, clusterPort: number, configPath: string) {
    this.name = name;
    this.port = port;
    this.clusterPort = clusterPort;
    this.configPath = configPath;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeout = 15_000): Promise<void> {
    this.log = "";
    const child = spawn(NATS_SERVER_BIN!, ["-c", this.configPath], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server ${this.name} not ready within ${timeout} ms:\n${this.log.slice(-2000)}`)), timeout);
      const onData = (chunk: Buffer): void => {
        this.log += chunk.toString();
        if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
        if (this.log.includes("Server is ready")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server ${this.name} exited (${code ?? signal}):\n${this.log.slice(-2000)}`));
      });
    });
    await ready;
  }

  /** A crash: SIGKILL, no goodbye to clients or peers. */
  async kill9(): Promise<void> {
    await this.signal("SIGKILL");
  }

  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

export class NatsCluster {
  readonly nodes: NatsNode[];
  readonly dir: string;

  constructor(nodes: NatsNode[], dir: string) {
    this.nodes = nodes;
    this.dir = dir;
  }

  /** Every node's URL, comma-separated (what `--nats` takes). */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  node(url: string | undefined): NatsNode | undefined {
    return this.nodes.find((n) => url !== undefined && (n.url.endsWith(url) || url.endsWith(`:${n.port}`)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill9()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function usersBlock(users: NatsUser[]): string {
  return `authorization { users: ${JSON.stringify(users)} }`;
}

/** `size` nodes with JetStream; more than one form a cluster (routes to each other). */
export async function startNatsCluster(size: number, options: ClusterOptions = {}): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "rpcservice-nats-"));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const nodes = ports.map((port, i) => {
    const name = `n${i + 1}`;
    const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`);
    const lines = [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${port}`,
      // Small limits: the tests keep little, and the machine is shared.
      `jetstream { store_dir: ${JSON.stringify(join(dir, name))}, max_memory_store: 64MB, max_file_store: 1GB }`,
      size > 1 ? `cluster { name: rpcs, listen: 127.0.0.1:${clusterPorts[i]}, routes: ${JSON.stringify(routes)} }` : "",
      options.accounts ?? (options.users ? usersBlock(options.users) : ""),
    ];
    const configPath = join(dir, `${name}.conf`);
    writeFileSync(configPath, lines.join("\n") + "\n");
    return new NatsNode(name, port, clusterPorts[i]!, configPath);
  });
  const cluster = new NatsCluster(nodes, dir);
  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/**
 * Real processes for the relay tests: `rpcservice serve`, the stand-in Python VeighNa server, and a console
 * client. Every wait is bounded; output is kept whole so tests can check that no secret ever appears in it.
 */
import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { WsRpcClient } from "../../src/rpc/index.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const MAIN = join(HERE, "..", "..", "src", "cli", "main.js");
export const PYTHON = "/usr/bin/python3";
export const PYTHON_DIR = join(HERE, "..", "..", "..", "test", "service", "python");
/** The stand-in VeighNa package (vnpy.rpc, vnpy.trader.*, vnpy.event). */
export const STANDINS_DIR = join(HERE, "..", "..", "..", "test", "python");

const zmqCheck = spawnSync(PYTHON, ["-c", "import zmq"], { encoding: "utf8" });
export const skipWithoutPython =
  zmqCheck.status !== 0 ? `needs ${PYTHON} with python3-zmq (import zmq failed: ${zmqCheck.stderr?.trim() || zmqCheck.error?.message})` : false;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `rpcservice serve ...` with its whole output kept. */
export class ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  output = "";

  /** `env` adds to this process's environment (e.g. a gateway's keys). */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [MAIN, "serve", ...args], { env: { ...process.env, ...env } });
    this.child.stdout.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** A place in the output: `waitFor(..., mark)` only looks at what came after it. */
  mark(): number {
    return this.output.length;
  }

  async waitFor(pattern: RegExp, ms = 60_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.output.slice(from).match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in the server output within ${ms} ms:\n${this.output.slice(-4000)}`);
      if (this.child.exitCode !== null) throw new Error(`server exited (${this.child.exitCode}):\n${this.output.slice(-4000)}`);
      await sleep(50);
    }
  }

  /** The console URL printed at start (`--console-port 0`). */
  async consoleUrl(): Promise<string> {
    return (await this.waitFor(/console: (http:\/\/127\.0\.0\.1:\d+)\//))[1]!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The stand-in Python VeighNa trading process (test/service/python/veighna_server.py). */
export class PythonUpstream {
  child: ChildProcess | null = null;
  rep = "";
  pub = "";

  /** Starts on free ports, or on the given addresses (a restart); `session` starts its order ids. */
  async start(session = "1", heartbeatSeconds = 0.5): Promise<void> {
    const args = [join(PYTHON_DIR, "veighna_server.py"), ...(this.rep ? [this.rep, this.pub, session] : [])];
    const child = spawn(PYTHON, args, {
      env: { ...process.env, PYTHONPATH: STANDINS_DIR, VEIGHNA_HEARTBEAT_INTERVAL: String(heartbeatSeconds) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.child = child;
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the Python server did not start within 60 s")), 60_000);
      createInterface({ input: child.stdout! }).once("line", (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      child.once("exit", (code) => reject(new Error(`the Python server exited with ${code}`)));
    });
    const addresses = JSON.parse(line) as { rep: string; pub: string };
    this.rep = addresses.rep;
    this.pub = addresses.pub;
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }
}

/** A client of a server's console endpoint (management calls: gateway_list, risk_update_rule, get_clients...). */
export async function consoleClient(url: string): Promise<WsRpcClient> {
  const client = new WsRpcClient({ url: `${url.replace(/^http/, "ws")}/console`, reconnect: false, types: [], timeout: 15_000 });
  await client.waitConnected(30_000);
  return client;
}

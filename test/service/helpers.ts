/** Shared helpers of the service tests: child processes speaking JSON lines, polling, temp folders. */
import { until } from "../helpers/until.js";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { repoRoot } from "../fixtures/paths.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export { until };

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A child node process whose stdout is JSON lines; `last` is the latest line parsed. */
export class JsonProcess<T = Record<string, unknown>> {
  readonly child: ChildProcess;
  readonly lines: T[] = [];
  stderr = "";

  constructor(script: string, args: string[]) {
    this.child = spawn(process.execPath, [join(FIXTURES, script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      try {
        this.lines.push(JSON.parse(line) as T);
      } catch {
        // not a JSON line: ignore
      }
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  get last(): T | undefined {
    return this.lines[this.lines.length - 1];
  }

  async first(timeout = 15_000): Promise<T> {
    await until(() => this.lines.length > 0 || this.child.exitCode !== null, timeout, "first output line");
    if (this.lines.length === 0) throw new Error(`process exited: ${this.stderr}`);
    return this.lines[0]!;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface ServerInfo {
  rep: string;
  pub: string;
  pid: number;
  epoch: string;
}

export function addressesFor(kind: "tcp" | "ipc", dir: string): { rep: string; pub: string } {
  return kind === "tcp"
    ? { rep: "tcp://127.0.0.1:0", pub: "tcp://127.0.0.1:0" }
    : { rep: `ipc://${join(dir, "rep.ipc")}`, pub: `ipc://${join(dir, "pub.ipc")}` };
}

export async function startServerProcess(
  rep: string,
  pub: string,
  home: string,
  transport: string,
  extra: string[] = [],
): Promise<{ process: JsonProcess<ServerInfo>; info: ServerInfo }> {
  const proc = new JsonProcess<ServerInfo>("server.js", ["--rep", rep, "--pub", pub, "--home", home, "--transport", transport, ...extra]);
  const info = await proc.first();
  return { process: proc, info };
}

/** A buy price that rests in the book: at the lower price limit (or 3% below the last price without one). */
export function restingBuyPrice(tick: { last_price: number; limit_down: number }, pricetick: number): number {
  const target = tick.limit_down > 0 ? tick.limit_down : tick.last_price * 0.97;
  return Number((Math.ceil(target / pricetick - 1e-9) * pricetick).toFixed(6));
}

export const PYTHON = "/usr/bin/python3";
/** Why the Python VeighNa peers cannot run here, or false when they can. */
export const pythonZmqMissing: string | false =
  spawnSync(PYTHON, ["-c", "import zmq"], { encoding: "utf8" }).status !== 0 ? `needs ${PYTHON} with python3-zmq` : false;

/**
 * The Python stand-in VeighNa server (python/veighna_server.py); `args` = [REP, PUB[, SESSION]] restarts it on the
 * same addresses. Resolves once it prints its addresses.
 */
export async function startVeighNaServer(args: string[] = []): Promise<{ child: ChildProcess; rep: string; pub: string }> {
  const child = spawn(PYTHON, [join(repoRoot, "test", "service", "python", "veighna_server.py"), ...args], {
    env: { ...process.env, PYTHONPATH: join(repoRoot, "test", "python") },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const addresses = await new Promise<{ rep: string; pub: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the VeighNa server did not start within 15 s")), 15_000);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { rep: string; pub: string });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the VeighNa server exited with ${code}`));
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return { child, ...addresses };
}

/** SIGKILL, resolved once the process is gone. */
export function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  return exited;
}

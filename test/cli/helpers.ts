/** The `rpcservice` command as real processes: a server to steer, and one-shot commands whose output is checked. */
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** A long-running command (serve, client) whose output is watched as it comes. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";

  constructor(args: string[], options: { cwd?: string } = {}) {
    this.child = spawn(process.execPath, [MAIN, ...args], { cwd: options.cwd });
    this.child.stdout.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Resolves with the first match of `pattern` in the output, waiting at most `ms`. */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in the output:\n${this.output}`);
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) without ${pattern}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with the exit code, waiting at most `ms`. */
  exited(ms = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not exit within ${ms} ms:\n${this.output}`)), ms);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end. */
export async function cli(args: string[], options: { cwd?: string; input?: string; ms?: number } = {}): Promise<CliResult> {
  const run = new CliProcess(args, options);
  if (options.input !== undefined) run.child.stdin.end(options.input);
  else run.child.stdin.end();
  try {
    const code = await run.exited(options.ms ?? 30_000);
    return { code, stdout: run.stdout, stderr: run.stderr };
  } finally {
    run.kill();
  }
}

/** A failure as the user sees it: exit code 1, exactly one `error: …` line on stderr, no stack trace. */
export function assertOneErrorLine(result: CliResult, pattern: RegExp): string {
  assert.equal(result.code, 1, `exit code\n${result.stdout}${result.stderr}`);
  const lines = result.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stdout + result.stderr, /^\s+at .+:\d+:\d+\)?$/m, "no stack trace");
  return lines[0]!;
}

export function tempHome(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A `serve` on ipc addresses in `dir` and a free console port; resolves once everything listens. */
export interface Served {
  readonly process: CliProcess;
  readonly home: string;
  readonly rep: string;
  readonly pub: string;
  readonly consoleUrl: string;
  /** `--req … --sub …` for a client. */
  readonly clientArgs: string[];
  stop(): Promise<void>;
}

export async function serve(dir: string, extra: string[] = []): Promise<Served> {
  const home = join(dir, "home");
  const rep = `ipc://${join(dir, "rep.sock")}`;
  const pub = `ipc://${join(dir, "pub.sock")}`;
  const server = new CliProcess(["serve", "--home", home, "--rep", rep, "--pub", pub, "--console-port", "0", ...extra]);
  try {
    await server.waitFor(/RPC service started successfully/);
    const [, consoleUrl] = await server.waitFor(/console: (http:\/\/127\.0\.0\.1:\d+\/)/);
    return {
      process: server,
      home,
      rep,
      pub,
      consoleUrl: consoleUrl!,
      clientArgs: ["--req", rep, "--sub", pub],
      stop: async () => {
        server.kill("SIGTERM");
        await server.exited().catch(() => server.kill());
      },
    };
  } catch (error) {
    server.kill();
    throw error;
  }
}

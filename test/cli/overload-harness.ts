/**
 * `rpcservice serve` as a real process under a tick flood, for the overload test and bench/overload.bench.ts:
 * a plain VeighNa-style REQ client subscribes contracts and keeps calling (the "legitimate client"), a SUB that
 * never reads stands for a stalled subscriber, and the server's RSS is read from /proc.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { decodeReply, encodeRequest } from "../../src/codec/index.js";
import { Exchange, SubscribeRequest, type ContractData } from "../../src/kernel/index.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export class ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly rep: string;
  readonly pub: string;
  output = "";

  /** `withConsole`: serve the console on a free port (its URL is in the output) to read the server's counters. */
  constructor(home: string, args: string[], withConsole = false) {
    this.rep = `ipc://${join(home, "rep.sock")}`;
    this.pub = `ipc://${join(home, "pub.sock")}`;
    const consoleArgs = withConsole ? ["--console-port", "0"] : ["--no-console"];
    this.child = spawn(process.execPath, [MAIN, "serve", "--home", home, "--rep", this.rep, "--pub", this.pub, ...consoleArgs, ...args]);
    this.child.stdout.on("data", (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-200_000)));
    this.child.stderr.on("data", (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-200_000)));
  }

  /** Lowers the server's CPU priority, so a flood in a test does not starve the tests running beside it. */
  nice(niceness: number): void {
    try {
      if (this.child.pid !== undefined) setPriority(this.child.pid, niceness);
    } catch {
      // Not allowed here: the test still runs, at normal priority.
    }
  }

  async waitFor(pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in the server output:\n${this.output.slice(-4_000)}`);
      if (this.child.exitCode !== null) throw new Error(`server exited (${this.child.exitCode}):\n${this.output.slice(-4_000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resident set size in MiB (Linux /proc), or NaN once the process is gone. */
  rssMiB(): number {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      return kb / 1024;
    } catch {
      return Number.NaN;
    }
  }

  /** Sends `signal` and resolves with the ms until exit, or rejects after `ms`. */
  stop(signal: NodeJS.Signals = "SIGTERM", ms = 10_000): Promise<{ elapsedMs: number; code: number | null }> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) return resolve({ elapsedMs: 0, code: this.child.exitCode });
      const timer = setTimeout(() => reject(new Error(`server still running ${ms} ms after ${signal}:\n${this.output.slice(-4_000)}`)), ms);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ elapsedMs: performance.now() - started, code });
      });
      this.child.kill(signal);
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** A lock-step VeighNa-style caller (zeromq.js REQ): what an unmodified Python client does. */
export class PlainCaller {
  private readonly socket = new zmq.Request({ linger: 0, receiveTimeout: 30_000, sendTimeout: 30_000 });

  constructor(address: string) {
    this.socket.connect(address);
  }

  async call<T = unknown>(name: string, args: unknown[] = []): Promise<T> {
    await this.socket.send(encodeRequest(name, args, {}));
    const [frame] = await this.socket.receive();
    const reply = decodeReply(frame!);
    if (!reply.ok) throw new Error(reply.traceback);
    return reply.result as T;
  }

  /** Milliseconds one call takes. */
  async timed(name: string, args: unknown[] = []): Promise<number> {
    const started = performance.now();
    await this.call(name, args);
    return performance.now() - started;
  }

  close(): void {
    this.socket.close();
  }
}

/** Subscribes the first `count` futures of the venue; returns their vt_symbols. */
export async function subscribeFutures(caller: PlainCaller, count: number): Promise<string[]> {
  const contracts = await caller.call<ContractData[]>("get_all_contracts");
  const futures = contracts.filter((c) => c.exchange !== Exchange.SSE && c.exchange !== Exchange.SZSE && !c.option_strike).slice(0, count);
  for (const contract of futures) {
    await caller.call("subscribe", [new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM"]);
  }
  return futures.map((c) => c.vt_symbol);
}

/** A SUB that connects, subscribes to everything and then never reads: a stalled VeighNa subscriber. */
export function stalledSubscriber(address: string): zmq.Subscriber {
  const socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 1_000 });
  socket.subscribe();
  socket.connect(address);
  return socket;
}

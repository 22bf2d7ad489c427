/** What the process-based benchmarks share: worker processes speaking JSON lines, ticks stamped with their send time, percentiles. */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { DateTime, Exchange, TickData } from "../src/kernel/index.js";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The middle value of an unsorted list (the upper one of an even count); NaN for none. */
export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Wall clock in ms with sub-ms precision, comparable across processes. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Worker {
  next(): Promise<Record<string, unknown>>;
  /** The next line, or null after `timeout` ms (the line, if it comes later, is kept for the next call). */
  nextWithin(timeout: number): Promise<Record<string, unknown> | null>;
  /** SIGKILL by default; SIGTERM lets a worker exit normally (a --cpu-prof profile is only written then). */
  kill(signal?: NodeJS.Signals): void;
}

/** `script --worker ...args` as a child process; `next()` is its next JSON line on stdout. */
export function startWorker(script: string, args: string[]): Worker {
  // Node flags (e.g. --cpu-prof) apply to the workers too, so a profile covers both ends.
  const child = spawn(process.execPath, [...process.execArgv, script, "--worker", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: Record<string, unknown>[] = [];
  const waiters: ((line: Record<string, unknown>) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (text) => {
    // A Node flag passed on to the workers may print too (--trace-gc does, on stdout): only JSON lines are theirs.
    if (!text.startsWith("{")) {
      process.stderr.write(`${text}\n`);
      return;
    }
    const line = JSON.parse(text) as Record<string, unknown>;
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  const next = (): Promise<Record<string, unknown>> =>
    lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiters.push(resolve));
  return {
    next,
    nextWithin: (timeout) => {
      if (lines.length > 0) return Promise.resolve(lines.shift()!);
      return new Promise((resolve) => {
        const waiter = (line: Record<string, unknown>): void => {
          clearTimeout(timer);
          resolve(line);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(null);
        }, timeout);
        waiters.push(waiter);
      });
    },
    kill: (signal = "SIGKILL") => child.kill(signal),
  };
}

/** A tick of rb2501.SHFE carrying its sequence number and send time in `extra`, for loss and latency counts. */
export function makeTick(seq: number): TickData {
  const tick = new TickData({
    gateway_name: "FEED", symbol: "rb2501", exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: 3500 + (seq % 10),
    volume: seq, bid_price_1: 3499, ask_price_1: 3501, bid_volume_1: 10, ask_volume_1: 12,
  });
  tick.extra = { seq, t: nowMs() };
  return tick;
}

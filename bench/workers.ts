/** What the process-based benchmarks share: worker processes speaking JSON lines, ticks stamped with their send time, percentiles. */
import { spawn, spawnSync } from "node:child_process";
import { Session } from "node:inspector/promises";
import { availableParallelism } from "node:os";
import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { DateTime, Exchange, TickData, type Event } from "../src/kernel/index.js";

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

/**
 * The CPUs workers run on while placeBench(true) holds; undefined otherwise. Placement matters on this machine: one of
 * its two vCPUs is often much slower than the other at cache-bound work, and which one changes over minutes
 * (bench/cpus.bench.ts measures it); a fresh worker lands on either, so two rounds seconds apart differed by that alone.
 */
let workerCpus: string | undefined;
/** Read before any pinning: availableParallelism() counts only the CPUs this process may use. */
const CPUS = availableParallelism();

/**
 * pinned: the bench process (all its threads: the servers) on CPU 0 and the workers started from now on the other
 * CPUs, with taskset, so that every round of every side has the same placement and a server never shares its CPU
 * with its clients. Right for a request/response client or one subscriber; not for several subscriber processes,
 * which it would crowd onto the other CPU. Not pinned: all CPUs for everyone, as the scheduler likes. Pinning is
 * skipped with RPC_BENCH_PIN=0, on one CPU, or without taskset. Returns a line saying what holds.
 */
export function placeBench(pinned: boolean): string {
  const cpus = CPUS;
  const all = cpus === 1 ? "0" : `0-${cpus - 1}`;
  const unpinned = (why: string): string => {
    if (workerCpus !== undefined) spawnSync("taskset", ["-a", "-p", "-c", all, String(process.pid)], { stdio: "ignore" });
    workerCpus = undefined;
    return `CPU placement: left to the scheduler (${why})`;
  };
  if (!pinned) return unpinned("all CPUs for every process");
  if (process.env["RPC_BENCH_PIN"] === "0") return unpinned("RPC_BENCH_PIN=0");
  if (cpus < 2) return unpinned("one CPU");
  if (spawnSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" }).status !== 0) return unpinned("no taskset");
  workerCpus = cpus === 2 ? "1" : `1-${cpus - 1}`;
  return `CPU placement: this process (the servers) on CPU 0, its workers on CPU ${workerCpus} (RPC_BENCH_PIN=0: left to the scheduler)`;
}

/** `script --worker ...args` as a child process; `next()` is its next JSON line on stdout. */
export function startWorker(script: string, args: string[]): Worker {
  // Node flags (e.g. --cpu-prof) apply to the workers too, so a profile covers both ends.
  const command = [process.execPath, ...process.execArgv, script, "--worker", ...args];
  const child =
    workerCpus === undefined
      ? spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "inherit"] })
      : spawn("taskset", ["-c", workerCpus, ...command], { stdio: ["ignore", "pipe", "inherit"] });
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

/** A stream position as our server stamps it, so the bare sides encode exactly the bytes the RPC server sends. */
const EPOCH = "0123456789abcdef";

/** `event` numbered as our RPC server publishes it (seq and epoch attributes). */
export function sequenced(event: Event, seq: number): Event {
  return Object.assign(event, { seq, epoch: EPOCH });
}

/** Full garbage collections (mark-compact, which stop the process for milliseconds) in a window. */
export interface GcPauses {
  full: number;
  fullMs: number;
}

/**
 * Counts this process's full garbage collections from now on; each take() returns those since the previous one. A tick
 * late by a few ms at p99 is often one of these, in the publishing process or the subscriber's.
 */
export function gcCounter(): { take(): GcPauses } {
  let window: GcPauses = { full: 0, fullMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      if (entry.detail?.kind !== perfConstants.NODE_PERFORMANCE_GC_MAJOR) continue;
      window.full++;
      window.fullMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    take: () => {
      const taken = window;
      window = { full: 0, fullMs: 0 };
      return taken;
    },
  };
}

/**
 * Bytes of Buffers (ArrayBuffers, outside V8's heap) this process allocated in a window, approximately: the sum of the
 * rises of process.memoryUsage().arrayBuffers sampled every 2 ms (they fall only when a collection frees them, so
 * what a window allocates and frees between two samples is all that escapes). V8 counts these bytes toward starting
 * a full collection, which the heap sampler does not see.
 */
export function bufferBytesMeter(): { start(): void; stop(): number } {
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  let total = 0;
  const sample = () => {
    const now = process.memoryUsage().arrayBuffers;
    if (now > last) total += now - last;
    last = now;
  };
  return {
    start: () => {
      total = 0;
      last = process.memoryUsage().arrayBuffers;
      timer = setInterval(sample, 2);
    },
    stop: () => {
      clearInterval(timer);
      sample();
      return total;
    },
  };
}

/** What one sampling window saw: bytes allocated (an estimate), and the functions that allocated most. */
export interface Allocations {
  bytes: number;
  /** [function file:line, bytes], most first. */
  sites: [string, number][];
}

/**
 * Bytes this process allocates between start() and stop(), from V8's sampling heap profiler with the objects that
 * young and full collections freed counted too (its sizes are scaled to estimate every allocation, not only those
 * sampled). Unlike time, a count of bytes does not move with the machine's load: runs and trees compare directly.
 */
export function allocationSampler(samplingInterval = 256): { start(): Promise<void>; stop(top?: number): Promise<Allocations> } {
  const session = new Session();
  session.connect();
  return {
    start: async () => {
      await session.post("HeapProfiler.enable");
      await session.post("HeapProfiler.startSampling", { samplingInterval, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    },
    stop: async (top = 4) => {
      const { profile } = await session.post("HeapProfiler.stopSampling");
      const bySite = new Map<string, number>();
      let bytes = 0;
      const walk = (node: typeof profile.head): void => {
        if (node.selfSize > 0) {
          const frame = node.callFrame;
          const site = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}`;
          bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
          bytes += node.selfSize;
        }
        for (const child of node.children) walk(child);
      };
      walk(profile.head);
      return { bytes, sites: [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top) };
    },
  };
}

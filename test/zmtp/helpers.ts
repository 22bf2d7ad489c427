import { tmpdir } from "node:os";
import { until } from "../helpers/until.js";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";

/** Test helpers: everything bounded in time so a broken peer fails a test instead of hanging the suite. */

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Subscribable {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Resolves with the arguments of the next `event`, or rejects after `ms`. */
export function nextEvent<A extends unknown[] = unknown[]>(emitter: object, event: string, ms = 5000): Promise<A> {
  return withTimeout(
    new Promise<A>((resolve) => (emitter as Subscribable).once(event, (...args: unknown[]) => resolve(args as A))),
    ms,
    `event ${event}`,
  );
}

/** `until` with the zmtp tests' argument order. */
export function eventually(condition: () => boolean, ms: number, what: string): Promise<void> {
  return until(condition, ms, what);
}

const ipcPaths: string[] = [];
// libzmq peers (and killed python children) may leave their socket files behind; remove them at exit.
process.once("exit", () => {
  for (const path of ipcPaths) rmSync(path, { force: true });
});

export function ipcEndpoint(tag: string): string {
  const path = join(tmpdir(), `zmtp-test-${tag}-${process.pid}-${randomBytes(4).toString("hex")}.sock`);
  ipcPaths.push(path);
  return `ipc://${path}`;
}

export function strings(frames: readonly Buffer[]): string[] {
  return frames.map((f) => f.toString());
}

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce from the printed seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `<home>/server.json`: where a running `serve` process can be reached, so the steering commands find its console
 * from `--home` alone. Written atomically at start, removed at a clean stop; its pid tells a file left behind by a
 * killed server from a live one.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { loadJsonSetting, saveJsonSetting } from "../kernel/index.js";

export const SERVER_RECORD_FILE = "server.json";

export interface ServerRecord {
  readonly pid: number;
  /** ISO time of the start. */
  readonly started: string;
  /** The console's URL (http://host:port/), null when the server runs without a console. */
  readonly console: string | null;
}

export type ServerLookup =
  | { readonly kind: "running"; readonly path: string; readonly record: ServerRecord }
  | { readonly kind: "stale"; readonly path: string; readonly record: ServerRecord }
  | { readonly kind: "missing"; readonly path: string };

export function writeServerRecord(home: string, consoleUrl: string | null): void {
  const record: ServerRecord = { pid: process.pid, started: new Date().toISOString(), console: consoleUrl };
  saveJsonSetting(home, SERVER_RECORD_FILE, record);
}

/** Removes the record if it is still ours (a newer server on the same home keeps its own). */
export function removeServerRecord(home: string): void {
  const lookup = findServer(home);
  if (lookup.kind !== "missing" && lookup.record.pid === process.pid) rmSync(lookup.path, { force: true });
}

/** Reads the record; a broken file throws a SettingsError naming it. */
export function findServer(home: string): ServerLookup {
  const path = join(home, SERVER_RECORD_FILE);
  const value = loadJsonSetting<ServerRecord>(home, SERVER_RECORD_FILE);
  if (typeof value.pid !== "number") return { kind: "missing", path };
  const record: ServerRecord = {
    pid: value.pid,
    started: typeof value.started === "string" ? value.started : "",
    console: typeof value.console === "string" ? value.console : null,
  };
  return { kind: isAlive(record.pid) ? "running" : "stale", path, record };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

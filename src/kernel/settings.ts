/**
 * Settings are JSON files in the home folder (VeighNa's `.vntrader`), one per engine.
 *
 * A file that exists but cannot be read, parsed or matched to its schema stops the start with an error naming the
 * file: silently falling back to defaults could turn CURVE off or loosen a risk limit. Writes are atomic
 * (temp + fsync + rename), and a file whose content would not change is never rewritten.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export class SettingsError extends Error {
  readonly code = "ERR_SETTINGS";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SettingsError";
  }
}

/** The file operations a save uses; tests replace them to simulate a full disk. */
export interface SettingsIo {
  openSync: typeof openSync;
  writeSync: (fd: number, data: string) => number;
  fsyncSync: typeof fsyncSync;
  closeSync: typeof closeSync;
  renameSync: typeof renameSync;
  unlinkSync: typeof unlinkSync;
}

const NODE_IO: SettingsIo = { openSync, writeSync: (fd, data) => writeSync(fd, data), fsyncSync, closeSync, renameSync, unlinkSync };
let io: SettingsIo = NODE_IO;

/** Replaces the file operations of saves (tests: a failing write); returns a function that restores them. */
export function useSettingsIo(replacement: Partial<SettingsIo>): () => void {
  const previous = io;
  io = { ...io, ...replacement };
  return () => {
    io = previous;
  };
}

function wayOut(path: string): string {
  return `fix it, restore it from a backup, or delete it to start from the defaults (${path})`;
}

/** Reads `home/filename`: a missing file is null; unreadable or non-object JSON is a SettingsError naming the file. */
function readJsonObject(path: string): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new SettingsError(`cannot read ${path}: ${(error as Error).message}; ${wayOut(path)}`, { cause: error });
  }
  try {
    if (text.trim() === "") throw new Error("the file is empty");
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
    return value as Record<string, unknown>;
  } catch (error) {
    throw new SettingsError(`${path} is not a valid settings file: ${(error as Error).message}; ${wayOut(path)}`, { cause: error });
  }
}

/**
 * Reads `home/filename`; a missing file is an empty object. With a TypeBox schema, every value must match it
 * (`"curve": "yes"` is an error, never a silent default).
 */
export function loadJsonSetting<T extends object = Record<string, unknown>>(home: string, filename: string): Partial<T>;
export function loadJsonSetting<S extends TSchema>(home: string, filename: string, schema: S): Partial<Static<S>>;
export function loadJsonSetting(home: string, filename: string, schema?: TSchema): Record<string, unknown> {
  const path = join(home, filename);
  const value = readJsonObject(path) ?? {};
  if (schema && !Value.Check(schema, value)) {
    const problems = [...Value.Errors(schema, value)]
      .slice(0, 5)
      .map((error) => `${error.path || "/"}: ${error.message}${error.value === undefined ? "" : ` (got ${JSON.stringify(error.value)})`}`);
    throw new SettingsError(`${path} has wrong values: ${problems.join("; ")}; ${wayOut(path)}`);
  }
  return value;
}

/**
 * Writes `home/filename` atomically: a temp file in the same folder, fsync, rename. A crash or a full disk leaves
 * the old file whole (and no temp file behind); the failure is a SettingsError for the caller to report.
 * Returns false when the file already holds exactly this value (nothing is written).
 */
export function saveJsonSetting(home: string, filename: string, value: object): boolean {
  const path = join(home, filename);
  let current: Record<string, unknown> | null = null;
  try {
    current = readJsonObject(path);
  } catch {
    // An unreadable file is replaced by the value the caller decided on.
  }
  if (current !== null && isDeepStrictEqual(current, JSON.parse(JSON.stringify(value)))) return false;
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  let fd: number | null = null;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = io.openSync(temp, "wx", 0o644);
    io.writeSync(fd, JSON.stringify(value, null, 4) + "\n");
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = null;
    io.renameSync(temp, path);
  } catch (error) {
    if (fd !== null) {
      try {
        io.closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      io.unlinkSync(temp);
    } catch {
      // never created
    }
    throw new SettingsError(`cannot save ${path}: ${(error as Error).message}`, { cause: error });
  }
  syncFolder(dirname(path));
  return true;
}

/** Makes the rename itself durable; not every platform can fsync a folder, so failure is ignored. */
function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

/** Reads gateway setting values, accepting their text form too (settings typed into a form arrive as text). */
export interface SettingReaders {
  string(key: string, value: unknown): string;
  number(key: string, value: unknown): number;
  boolean(key: string, value: unknown): boolean;
}

/** Setting readers that report a wrong value through `fail` (each gateway words and types its own error). */
export function settingReaders(fail: (key: string, message: string) => never): SettingReaders {
  return {
    string(key, value) {
      if (typeof value !== "string") fail(key, `must be a string, got ${JSON.stringify(value)}`);
      return value;
    },
    number(key, value) {
      const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) fail(key, `must be a number, got ${JSON.stringify(value)}`);
      return n;
    },
    boolean(key, value) {
      if (typeof value === "boolean") return value;
      if (value === "true" || value === 1) return true;
      if (value === "false" || value === 0) return false;
      fail(key, `must be true or false, got ${JSON.stringify(value)}`);
    },
  };
}

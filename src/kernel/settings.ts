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
import { Value, ValueErrorType } from "@sinclair/typebox/value";

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
 * (`"curve": "yes"` is an error, never a silent default) and the error lists every bad field (parseSettings).
 */
export function loadJsonSetting<T extends object = Record<string, unknown>>(home: string, filename: string): Partial<T>;
export function loadJsonSetting<S extends TSchema>(home: string, filename: string, schema: S): Partial<Static<S>>;
export function loadJsonSetting(home: string, filename: string, schema?: TSchema): Record<string, unknown> {
  const path = join(home, filename);
  const value = readJsonObject(path) ?? {};
  if (!schema) return value;
  return parseSettings(schema, value, path, (message) => new SettingsError(`${message}; ${wayOut(path)}`)) as Record<string, unknown>;
}

/** One wrong field of a settings object: its dotted name ("" for the whole) and what is wrong. */
export interface SettingProblem {
  readonly field: string;
  readonly message: string;
}

export interface ParseSettingsOptions {
  /** Accept the text form of numbers and booleans ("250", "true"): settings typed into a form arrive as text. */
  readonly text?: boolean;
  /** Fields whose values never appear in a message (keys, tokens, passwords). */
  readonly secrets?: readonly string[];
}

/**
 * The one settings parser, for every settings file and gateway setting: checks `value` against `schema` once, at
 * the edge (as fastify does its options), and returns it with the schema's defaults filled in. The policy for
 * unknown keys is the schema's: settings schemas are closed (`additionalProperties: false`), since an unknown key
 * is usually a typo. On failure, `error` gets one message naming `where` and every bad field, and is thrown.
 */
export function parseSettings<S extends TSchema>(
  schema: S,
  value: unknown,
  where: string,
  error: (message: string, problems: readonly SettingProblem[]) => Error = (message) => new SettingsError(message),
  options: ParseSettingsOptions = {},
): Static<S> {
  let candidate: unknown = value !== null && typeof value === "object" && !Array.isArray(value) ? { ...(value as object) } : value;
  if (options.text) candidate = fromText(schema, candidate);
  candidate = Value.Default(schema, candidate);
  const problems = settingProblems(schema, candidate, options.secrets ?? []);
  if (problems.length > 0) {
    const list = problems.map((problem) => (problem.field === "" ? problem.message : `"${problem.field}" ${problem.message}`)).join("; ");
    throw error(`${where}: ${list}`, problems);
  }
  return candidate as Static<S>;
}

/** Every wrong field of `value`, one problem per field (the first TypeBox finds), in the schema's words. */
export function settingProblems(schema: TSchema, value: unknown, secrets: readonly string[] = []): SettingProblem[] {
  if (Value.Check(schema, value)) return [];
  const byField = new Map<string, SettingProblem>();
  const known = schemaKeys(schema);
  for (const error of Value.Errors(schema, value)) {
    const field = error.path.replace(/^\//, "").replace(/\//g, ".");
    if (byField.has(field)) continue;
    const custom = (error.schema as { errorMessage?: unknown }).errorMessage;
    let message: string;
    if (error.type === ValueErrorType.ObjectAdditionalProperties && known.length > 0 && !field.includes(".")) {
      message = `is unknown; known settings: ${known.join(", ")}`;
    } else {
      message = typeof custom === "string" ? custom : lowerFirst(error.message);
      const top = field.split(".")[0] ?? "";
      if (error.value !== undefined && !secrets.includes(top)) message += `, got ${JSON.stringify(error.value)}`;
    }
    byField.set(field, { field, message });
  }
  return [...byField.values()];
}

/** The property names of an object schema, in declaration order. */
function schemaKeys(schema: TSchema): string[] {
  const properties = (schema as { properties?: Record<string, unknown> }).properties;
  return properties ? Object.keys(properties) : [];
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Numbers and booleans of an object's top-level fields from their text form; anything else is left to the check. */
function fromText(schema: TSchema, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!properties || value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(properties)) {
    const text = record[key];
    if (typeof text !== "string") continue;
    const type = (field as { type?: unknown }).type;
    if ((type === "number" || type === "integer") && text.trim() !== "" && Number.isFinite(Number(text))) record[key] = Number(text);
    else if (type === "boolean" && (text === "true" || text === "false")) record[key] = text === "true";
  }
  return record;
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

/** Settings are JSON files in the home folder (VeighNa's `.vntrader`), one per engine. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export class SettingsError extends Error {
  readonly code = "ERR_SETTINGS";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SettingsError";
  }
}

/** Reads `home/filename`; a missing file is an empty object, a broken one is an error naming the file. */
export function loadJsonSetting<T extends object = Record<string, unknown>>(home: string, filename: string): Partial<T> {
  const path = join(home, filename);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new SettingsError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
    return value as Partial<T>;
  } catch (error) {
    throw new SettingsError(`${path} is not a valid settings file: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes `home/filename` atomically (temp file + rename), so a crash never leaves half a file. */
export function saveJsonSetting(home: string, filename: string, value: object): void {
  const path = join(home, filename);
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(value, null, 4) + "\n");
  renameSync(temp, path);
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

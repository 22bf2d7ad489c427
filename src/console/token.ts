/**
 * The console token: required whenever the console listens on anything but loopback. Made once with a
 * CSPRNG, kept in the home folder readable by its owner only, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { ConsoleStartError } from "./errors.js";

export const TOKEN_FILENAME = "console_token";

export interface TokenFile {
  readonly token: string;
  readonly path: string;
  /** True when this call generated it (the caller prints it once). */
  readonly created: boolean;
}

/** Reads `<home>/console_token`, or creates it (32 random bytes, base64url, mode 0600). */
export function loadOrCreateToken(home: string): TokenFile {
  const path = join(home, TOKEN_FILENAME);
  try {
    const token = readFileSync(path, "utf8").trim();
    if (token.length < 16) throw new ConsoleStartError(`${path} holds no usable token (delete it to get a new one)`);
    return { token, path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      if (error instanceof ConsoleStartError) throw error;
      throw new ConsoleStartError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
  const token = randomBytes(32).toString("base64url");
  mkdirSync(dirname(path), { recursive: true });
  // "wx": never overwrite a token another process wrote in the meantime.
  writeFileSync(path, token + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return { token, path, created: true };
}

/** Constant-time comparison; hashing first makes both sides the same length without leaking the real one. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== "string") return false;
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost": addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^::ffff:127\./i.test(bare);
  return false;
}

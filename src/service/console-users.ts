/**
 * Named console users with roles, instead of one shared token: `<home>/console_users.json` holds each user's
 * name, role and the SHA-256 of their token (the token itself is printed once, by `rpcservice console add-user`,
 * and kept nowhere). Tokens are 32 random bytes, so a plain hash is enough: nothing to brute-force.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { LiveFile } from "./live-file.js";
import { ROLES, isRole, type Role } from "./roles.js";

export const CONSOLE_USERS_FILE = "console_users.json";
/** The identity and role of whoever presents the old shared `console_token`: the operator, as before. */
export const SHARED_TOKEN_USER = "console";

export interface ConsoleUser {
  readonly name: string;
  readonly role: Role;
  /** SHA-256 of the token, hex. */
  readonly token_sha256: string;
  /** Epoch ms. */
  readonly created: number;
}

export class ConsoleUserError extends Error {
  readonly code = "ERR_CONSOLE_USERS";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConsoleUserError";
  }
}

const NAME = /^[\w.@-]{1,64}$/u;

export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Reads the users file; [] when it does not exist. */
export function readConsoleUsers(path: string): ConsoleUser[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConsoleUserError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConsoleUserError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const users = (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) throw new ConsoleUserError(`${path}: expected {"users": [...]}`);
  return users.map((user: unknown, index) => {
    const u = user as Partial<ConsoleUser> | null;
    if (!u || typeof u.name !== "string" || !isRole(u.role) || typeof u.token_sha256 !== "string" || !/^[0-9a-f]{64}$/.test(u.token_sha256)) {
      throw new ConsoleUserError(`${path}: user ${index + 1} needs name, role (${ROLES.join("|")}) and token_sha256`);
    }
    return { name: u.name, role: u.role, token_sha256: u.token_sha256, created: typeof u.created === "number" ? u.created : 0 };
  });
}

function writeConsoleUsers(path: string, users: readonly ConsoleUser[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ users }, null, 2) + "\n", { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** Adds a user and returns their token (print it once: only its hash is kept). Refuses an existing name. */
export function addConsoleUser(home: string, name: string, role: Role): { token: string; path: string } {
  if (!NAME.test(name)) throw new ConsoleUserError(`a user name is 1-64 letters, digits, or . _ @ -: ${JSON.stringify(name)}`);
  if (name === SHARED_TOKEN_USER) throw new ConsoleUserError(`"${SHARED_TOKEN_USER}" is the shared token's name; choose another`);
  if (!isRole(role)) throw new ConsoleUserError(`unknown role ${JSON.stringify(role)} (expected ${ROLES.join(", ")})`);
  const path = join(home, CONSOLE_USERS_FILE);
  const users = readConsoleUsers(path);
  if (users.some((user) => user.name === name)) throw new ConsoleUserError(`console user ${name} exists; remove it first to issue a new token`);
  const token = randomBytes(32).toString("base64url");
  writeConsoleUsers(path, [...users, { name, role, token_sha256: tokenHash(token), created: Date.now() }]);
  return { token, path };
}

/** Removes a user; false when there was none. Their open connections are closed by a running server. */
export function removeConsoleUser(home: string, name: string): boolean {
  const path = join(home, CONSOLE_USERS_FILE);
  const users = readConsoleUsers(path);
  const kept = users.filter((user) => user.name !== name);
  if (kept.length === users.length) return false;
  writeConsoleUsers(path, kept);
  return true;
}

/** The users file as a running server sees it: re-read whenever it changes. */
export class ConsoleUsers {
  private readonly file: LiveFile<Map<string, ConsoleUser>>;

  constructor(home: string, onError: (message: string) => void = () => undefined) {
    this.file = new LiveFile(join(home, CONSOLE_USERS_FILE), (path) => byHash(readConsoleUsers(path)), new Map(), onError);
  }

  /** True once any user is defined: the console then asks everyone for a token, on loopback too. */
  get any(): boolean {
    return this.file.current().size > 0;
  }

  /** The user a token belongs to. */
  authenticate(token: string): ConsoleUser | undefined {
    return this.file.current().get(tokenHash(token));
  }

  /** A user by name, as of now (undefined once removed). */
  user(name: string): ConsoleUser | undefined {
    for (const user of this.file.current().values()) if (user.name === name) return user;
    return undefined;
  }

  /** Hears the names of users removed (or whose role changed) on disk: their open connections should close. */
  onRemoved(listener: (names: string[]) => void): void {
    this.file.onChange((previous, next) => {
      const now = new Map([...next.values()].map((user) => [user.name, user.role]));
      const gone = [...previous.values()].filter((user) => now.get(user.name) !== user.role).map((user) => user.name);
      if (gone.length > 0) listener(gone);
    });
  }

  watch(): void {
    this.file.watch();
  }

  close(): void {
    this.file.unwatch();
  }
}

function byHash(users: readonly ConsoleUser[]): Map<string, ConsoleUser> {
  return new Map(users.map((user) => [user.token_sha256, user]));
}

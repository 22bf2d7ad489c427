/**
 * CURVE key files, in the spirit of ssh's: a secret key file readable by its owner only (mode 0600) with its
 * public half next to it in `<file>.pub`, and an allow-list of client public keys, one per line with an
 * optional name (`authorized_clients`, like `authorized_keys`).
 *
 * Formats (Z85 text keys, 40 characters; lines starting with `#` are comments, except that a Z85 key may itself
 * begin with `#`, so a line whose first word is a valid key is always a key):
 *
 *   secret key file:      # comment            public key file:   <public key>
 *                         <secret key>
 *
 *   authorized_clients:   <public key> [name] [role=viewer|trader|admin]
 *
 * The role is optional (a line without one is a trader, as before roles existed), so files written by earlier
 * versions read the same.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isCurveKey } from "../rpc/index.js";
import { curveKeyPair, curvePublicKey, type CurveKeyPair } from "../zmtp/index.js";
import { ROLES, isRole, type Role } from "./roles.js";

/** The server's secret key, in the home folder; its public key is in the same name + ".pub". */
export const SERVER_KEY_FILE = "curve_server.key";
/** Client public keys allowed to connect, in the home folder. */
export const AUTHORIZED_CLIENTS_FILE = "authorized_clients";

export type KeyFileErrorCode = "ERR_KEY_FILE" | "ERR_KEY_EXISTS" | "ERR_ALLOW_LIST" | "ERR_KEY_INVALID";

export class KeyFileError extends Error {
  readonly code: KeyFileErrorCode;
  constructor(code: KeyFileErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyFileError";
    this.code = code;
  }
}

/** Reads a secret key file; the public key is derived from the secret one. */
export function readKeyFile(path: string): CurveKeyPair {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new KeyFileError("ERR_KEY_FILE", `cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  for (const line of text.split(/\r?\n/)) {
    const word = line.trim();
    if (isCurveKey(word)) return { publicKey: curvePublicKey(word), secretKey: word };
    if (word && !word.startsWith("#")) break;
  }
  throw new KeyFileError("ERR_KEY_FILE", `${path} holds no secret key (one line of 40 Z85 characters)`);
}

/**
 * Writes a key pair: the secret key to `path` (mode 0600, never over an existing file) and the public key to
 * `path.pub`. Returns the path of the public key file.
 */
export function writeKeyFile(path: string, pair: CurveKeyPair): string {
  mkdirSync(dirname(path), { recursive: true });
  const secret = `# rpcservice CURVE secret key: keep it private. Public key: ${pair.publicKey}\n${pair.secretKey}\n`;
  try {
    // "wx": fail rather than replace a key someone may already have handed out the public half of.
    writeFileSync(path, secret, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new KeyFileError("ERR_KEY_EXISTS", `${path} already exists; not replacing a key`);
    throw new KeyFileError("ERR_KEY_FILE", `cannot write ${path}: ${String(error)}`, { cause: error });
  }
  chmodSync(path, 0o600); // whatever the umask
  const publicPath = `${path}.pub`;
  writeFileSync(publicPath, `${pair.publicKey}\n`);
  return publicPath;
}

/** True when group or others may read a secret key file (ssh refuses such keys; we warn). */
export function isKeyFileExposed(path: string): boolean {
  if (process.platform === "win32") return false;
  return (statSync(path).mode & 0o077) !== 0;
}

export interface ServerKeys {
  readonly pair: CurveKeyPair;
  readonly path: string;
  /** The key pair was generated just now. */
  readonly created: boolean;
}

/** The server key pair from `<home>/curve_server.key`, generated on first use. */
export function loadOrCreateServerKeys(home: string): ServerKeys {
  const path = join(home, SERVER_KEY_FILE);
  if (existsSync(path)) return { pair: readKeyFile(path), path, created: false };
  const pair = curveKeyPair();
  writeKeyFile(path, pair);
  return { pair, path, created: true };
}

/** One allow-list line. */
export interface AuthorizedClient {
  readonly publicKey: string;
  /** "" when unnamed. */
  readonly name: string;
  /** Absent on lines written before roles existed: the key is then a trader. */
  readonly role?: Role;
}

/** The role of a key listed without one. */
export const DEFAULT_KEY_ROLE: Role = "trader";

const ROLE_SUFFIX = /\s+role=(\S+)$/;

/** Parses one line: an entry, null for a comment or blank line; throws on anything else. */
function parseLine(raw: string): AuthorizedClient | null {
  const line = raw.trim();
  if (!line) return null;
  const space = line.search(/\s/);
  const key = space < 0 ? line : line.slice(0, space);
  if (!isCurveKey(key)) {
    if (line.startsWith("#")) return null;
    throw new Error(`expected "<public key> [name] [role=${ROLES.join("|")}]" with a 40-character Z85 key`);
  }
  let rest = space < 0 ? "" : line.slice(space);
  let role: Role | undefined;
  const suffix = ROLE_SUFFIX.exec(rest);
  if (suffix) {
    if (!isRole(suffix[1])) throw new Error(`unknown role ${JSON.stringify(suffix[1])} (expected ${ROLES.join(", ")})`);
    role = suffix[1];
    rest = rest.slice(0, suffix.index);
  }
  return { publicKey: key, name: rest.trim(), ...(role ? { role } : {}) };
}

function formatLine(entry: AuthorizedClient): string {
  return `${entry.publicKey}${entry.name ? ` ${entry.name}` : ""}${entry.role ? ` role=${entry.role}` : ""}`;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new KeyFileError("ERR_ALLOW_LIST", `cannot read ${path}: ${String(error)}`, { cause: error });
  }
}

/** Every entry of an allow-list, in file order. Null when the file does not exist. */
export function readAuthorizedClientEntries(path: string): AuthorizedClient[] | null {
  const text = readText(path);
  if (text === null) return null;
  const entries: AuthorizedClient[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    try {
      const entry = parseLine(raw);
      if (entry) entries.push(entry);
    } catch (error) {
      throw new KeyFileError("ERR_ALLOW_LIST", `${path} line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return entries;
}

/** Reads an allow-list: public key -> name ("" when unnamed). Null when the file does not exist. */
export function readAuthorizedClients(path: string): Map<string, string> | null {
  const entries = readAuthorizedClientEntries(path);
  return entries === null ? null : new Map(entries.map((entry) => [entry.publicKey, entry.name]));
}

/** Rewrites the file through a temporary one and a rename: a reader never sees half a file. */
function rewrite(path: string, transform: (lines: string[]) => string[]): void {
  const text = readText(path) ?? "";
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const next = transform(lines);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, next.map((line) => `${line}\n`).join(""));
  renameSync(temporary, path);
}

/**
 * Removes every key whose name (or key) is `nameOrKey`. Returns the entries removed (none: nothing changed).
 * A running server notices the change at once: new calls from those keys are refused, their connections closed.
 */
export function revokeClient(path: string, nameOrKey: string): AuthorizedClient[] {
  const entries = readAuthorizedClientEntries(path);
  if (!entries) return [];
  const removed = entries.filter((entry) => entry.name === nameOrKey || entry.publicKey === nameOrKey);
  if (removed.length === 0) return [];
  rewrite(path, (lines) =>
    lines.filter((line) => {
      let entry: AuthorizedClient | null = null;
      try {
        entry = parseLine(line);
      } catch {
        return true;
      }
      return !(entry && removed.some((r) => r.publicKey === entry!.publicKey));
    }),
  );
  return removed;
}

/**
 * Adds a client public key to an allow-list file (created if missing), with an optional role. Returns false,
 * changing nothing, when the key is already listed with that name and role; a listed key given another name or
 * role has its line rewritten (and true is returned).
 */
export function authorizeClient(path: string, publicKey: string, name = "", role?: Role): boolean {
  if (!isCurveKey(publicKey)) throw new KeyFileError("ERR_KEY_INVALID", `not a CURVE public key (40 Z85 characters): ${JSON.stringify(publicKey)}`);
  if (/[\r\n]/.test(name)) throw new KeyFileError("ERR_KEY_INVALID", "a name must fit on one line");
  if (ROLE_SUFFIX.test(` ${name.trim()}`)) throw new KeyFileError("ERR_KEY_INVALID", "a name cannot end in role=...: use --role");
  if (role !== undefined && !isRole(role)) throw new KeyFileError("ERR_KEY_INVALID", `unknown role ${JSON.stringify(role)} (expected ${ROLES.join(", ")})`);
  const wanted: AuthorizedClient = { publicKey, name: name.trim(), ...(role ? { role } : {}) };
  const existing = readAuthorizedClientEntries(path);
  const listed = existing?.find((entry) => entry.publicKey === publicKey);
  if (listed) {
    // What is not given is kept: `authorize KEY --role admin` changes the role, not the name.
    const updated: AuthorizedClient = {
      publicKey,
      name: wanted.name || listed.name,
      ...(role ?? listed.role ? { role: (role ?? listed.role)! } : {}),
    };
    if (updated.name === listed.name && updated.role === listed.role) return false;
    rewrite(path, (lines) =>
      lines.map((line) => {
        try {
          return parseLine(line)?.publicKey === publicKey ? formatLine(updated) : line;
        } catch {
          return line;
        }
      }),
    );
    return true;
  }
  mkdirSync(dirname(path), { recursive: true });
  let prefix = "";
  if (existing === null) {
    prefix = "# Client CURVE public keys allowed to connect: <public key> [name] [role=viewer|trader|admin]\n";
  } else {
    const text = readFileSync(path, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) prefix = "\n"; // a hand-edited last line without its newline
  }
  appendFileSync(path, `${prefix}${formatLine(wanted)}\n`);
  return true;
}

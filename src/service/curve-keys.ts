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
 *   authorized_clients:   <public key> [name]
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isCurveKey } from "../rpc/index.js";
import { curveKeyPair, curvePublicKey, type CurveKeyPair } from "../zmtp/index.js";

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

/** Reads an allow-list: public key -> name ("" when unnamed). Null when the file does not exist. */
export function readAuthorizedClients(path: string): Map<string, string> | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new KeyFileError("ERR_ALLOW_LIST", `cannot read ${path}: ${String(error)}`, { cause: error });
  }
  const clients = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const space = line.search(/\s/);
    const key = space < 0 ? line : line.slice(0, space);
    if (isCurveKey(key)) {
      clients.set(key, space < 0 ? "" : line.slice(space).trim());
      return;
    }
    if (line.startsWith("#")) return;
    throw new KeyFileError("ERR_ALLOW_LIST", `${path} line ${index + 1}: expected "<public key> [name]" with a 40-character Z85 key`);
  });
  return clients;
}

/**
 * Adds a client public key to an allow-list file (created if missing). Returns false, changing nothing, when the
 * key is already listed.
 */
export function authorizeClient(path: string, publicKey: string, name = ""): boolean {
  if (!isCurveKey(publicKey)) throw new KeyFileError("ERR_KEY_INVALID", `not a CURVE public key (40 Z85 characters): ${JSON.stringify(publicKey)}`);
  if (/[\r\n]/.test(name)) throw new KeyFileError("ERR_KEY_INVALID", "a name must fit on one line");
  const existing = readAuthorizedClients(path);
  if (existing?.has(publicKey)) return false;
  mkdirSync(dirname(path), { recursive: true });
  let prefix = "";
  if (existing === null) {
    prefix = "# Client CURVE public keys allowed to connect: <public key> [name]\n";
  } else {
    const text = readFileSync(path, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) prefix = "\n"; // a hand-edited last line without its newline
  }
  appendFileSync(path, `${prefix}${publicKey}${name.trim() ? ` ${name.trim()}` : ""}\n`);
  return true;
}

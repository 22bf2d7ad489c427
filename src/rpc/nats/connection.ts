/** NATS connection settings shared by the endpoint and the client, validated once here. */
import { readFileSync } from "node:fs";
import { credsAuthenticator, type ConnectionOptions } from "@nats-io/transport-node";
import { inboxPrefixFor } from "./subjects.js";

export interface NatsAuthOptions {
  /** A NATS credentials file (user JWT + nkey seed), as `nsc` writes it. */
  credsFile?: string;
  /** User and password (config-file users). */
  user?: string;
  pass?: string;
  /** A bare token. */
  token?: string;
  /**
   * Where replies come (calls, stream reads): the user's own prefix, which its permissions allow and no one
   * else's do. Default: `_INBOX.<user>`, the user being the login's (user/password) or the credentials file's JWT
   * `name`; else (a token) nats.js's shared `_INBOX`.
   */
  inboxPrefix?: string;
}

export interface NatsConnectOptions extends NatsAuthOptions {
  /** nats://host:port URLs of one cluster; the client picks one and fails over to the others. */
  servers: readonly string[];
}

/** "nats://a:4222,nats://b:4222" or a list: the URLs, each checked. */
export function parseNatsServers(value: string | readonly string[]): string[] {
  const list = (typeof value === "string" ? value.split(",") : [...value]).map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new RangeError("no NATS server URL given");
  for (const url of list) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s/]+$/.test(url)) throw new RangeError(`not a nats:// URL: ${JSON.stringify(url)}`);
  }
  return list;
}

/** Connection options for nats.js: reconnect forever, quickly, to any node of the cluster. */
export function natsConnectionOptions(options: NatsConnectOptions, name: string): ConnectionOptions {
  const out: ConnectionOptions = {
    servers: parseNatsServers(options.servers),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    // A dead node is noticed by the kernel's RST at once; a silent one after two missed pings.
    pingInterval: 5_000,
    maxPingOut: 2,
    timeout: 5_000,
  };
  const creds = options.credsFile ? readFileSync(options.credsFile) : undefined;
  const user = options.user ?? (creds ? credsUserName(creds.toString("utf8")) : undefined);
  const inboxPrefix = options.inboxPrefix ?? (user !== undefined ? inboxPrefixFor(user) : undefined);
  if (inboxPrefix !== undefined) {
    if (!/^[^\s*>]+$/.test(inboxPrefix) || inboxPrefix.split(".").some((token) => token === "")) {
      throw new RangeError(`a NATS inbox prefix is dot-separated tokens without wildcards or spaces, got ${JSON.stringify(inboxPrefix)}`);
    }
    out.inboxPrefix = inboxPrefix;
  }
  if (creds) {
    out.authenticator = credsAuthenticator(new Uint8Array(creds));
  } else if (options.user !== undefined) {
    out.user = options.user;
    if (options.pass !== undefined) out.pass = options.pass;
  } else if (options.token !== undefined) {
    out.token = options.token;
  }
  return out;
}

/** The user's name in a credentials file: the `name` claim of its user JWT (the first block), if it has one. */
export function credsUserName(text: string): string | undefined {
  const block = /-{3,}[^\n]*-{3,}\s*\n\s*([A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*)\s*\n/.exec(text);
  if (!block) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(block[2]!, "base64url").toString("utf8")) as { name?: unknown };
    return typeof claims.name === "string" && claims.name !== "" ? claims.name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The NATS subject space of one rpcservice server, and the escaping that keeps any name a single subject token.
 *
 *   rpcservice.<server>.call.<function>              calls (a NATS micro service; body: the JSON wire of rpc/ws)
 *   rpcservice.<server>.hello                        where the event stream stands (epoch, seq); served by the endpoint
 *   rpcservice.<server>.event.<type>[.<vt_symbol>]   events; type and vt_symbol escaped into one token each
 *
 * A subject token may not contain ".", "*", ">" or whitespace, and vt_symbols ("rb2701.SHFE") and VeighNa's
 * event types ("eTick.") contain dots. Escaping keeps [A-Za-z0-9_-] and writes every other UTF-8 byte as %XX
 * (so "eTick." is "eTick%2E", "rb2701.SHFE" is "rb2701%2ESHFE"); it is reversible, and a lone "%" is the empty string.
 */

export const SUBJECT_ROOT = "rpcservice";

/** The name a server takes on the bus when none is given (`serve --nats-name`). */
export const DEFAULT_NATS_SERVER_NAME = "main";

/** Server names are one plain token: they also name the JetStream stream. */
const SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function isServerName(name: string): boolean {
  return SERVER_NAME.test(name);
}

export function assertServerName(name: string): string {
  if (!isServerName(name)) throw new RangeError(`a NATS server name is 1-64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(name)}`);
  return name;
}

const PLAIN = /^[A-Za-z0-9_-]+$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const HEX = "0123456789ABCDEF";

/** One subject token for any string. */
export function escapeToken(text: string): string {
  if (text === "") return "%";
  if (PLAIN.test(text)) return text;
  let out = "";
  for (const byte of encoder.encode(text)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && PLAIN.test(c) ? c : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * The reply inbox prefix of one NATS user: `_INBOX.<user>` (the user escaped into one token). Each user's client
 * takes replies (calls, JetStream) under its own prefix and may subscribe only there (permissions.ts), so no user
 * can read another's replies, as everyone could under the shared `_INBOX.>`.
 */
export function inboxPrefixFor(user: string): string {
  return `_INBOX.${escapeToken(user)}`;
}

/** The string behind a token made by `escapeToken`; throws a RangeError on anything else. */
export function unescapeToken(token: string): string {
  if (token === "%") return "";
  if (PLAIN.test(token)) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!;
    if (c !== "%") {
      if (!PLAIN.test(c)) throw new RangeError(`not an escaped token: ${JSON.stringify(token)}`);
      bytes.push(c.charCodeAt(0));
      continue;
    }
    const hex = token.slice(i + 1, i + 3);
    if (!/^[0-9A-F]{2}$/.test(hex)) throw new RangeError(`bad escape in token ${JSON.stringify(token)}`);
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return decoder.decode(new Uint8Array(bytes));
}

export function serverPrefix(server: string): string {
  return `${SUBJECT_ROOT}.${server}`;
}

export function callSubject(server: string, functionName: string): string {
  return `${serverPrefix(server)}.call.${functionName}`;
}

export function helloSubject(server: string): string {
  return `${serverPrefix(server)}.hello`;
}

/** The subject of an event: its type, then its vt_symbol when it has one. */
export function eventSubject(server: string, type: string, vtSymbol?: string): string {
  const base = `${serverPrefix(server)}.event.${escapeToken(type)}`;
  return vtSymbol === undefined ? base : `${base}.${escapeToken(vtSymbol)}`;
}

/** Every event of a type, with or without a symbol token (NATS' ">" does not match the bare subject). */
export function eventTypeSubjects(server: string, type: string): [string, string] {
  const base = eventSubject(server, type);
  return [base, `${base}.*`];
}

/** Type and vt_symbol back from an event subject of `server`; null if the subject is not one. */
export function parseEventSubject(server: string, subject: string): { type: string; vtSymbol: string | undefined } | null {
  const prefix = `${serverPrefix(server)}.event.`;
  if (!subject.startsWith(prefix)) return null;
  const tokens = subject.slice(prefix.length).split(".");
  if (tokens.length < 1 || tokens.length > 2) return null;
  try {
    return { type: unescapeToken(tokens[0]!), vtSymbol: tokens[1] === undefined ? undefined : unescapeToken(tokens[1]) };
  } catch {
    return null;
  }
}

/** The JetStream stream that keeps a server's orders, trades, positions, accounts and logs. */
export function streamName(server: string): string {
  return `RPCSERVICE_${server}`;
}

/** The optional stream of a server's ticks (short max age). */
export function tickStreamName(server: string): string {
  return `RPCSERVICE_${server}_TICKS`;
}

/** Headers every event and reply carries: the server's stream position. */
export const HEADER_SEQ = "Rpc-Seq";
export const HEADER_EPOCH = "Rpc-Epoch";
/** On a call: the caller's timeout in ms (relative, so clocks of different hosts need not agree). */
export const HEADER_TIMEOUT = "Rpc-Timeout";
/** On a call: the name the client declares (not authenticated). */
export const HEADER_CLIENT = "Rpc-Client";
/** Set by nats-server on requests that cross a service import with `share: true`: who really sent it. */
export const HEADER_REQUEST_INFO = "Nats-Request-Info";

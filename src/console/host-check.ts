/**
 * The console's defence against DNS rebinding: a page on `evil.example` whose name is re-pointed at 127.0.0.1
 * reaches the console with `Host: evil.example:PORT` (and a matching Origin, so a same-origin check passes).
 * Only the `Host` header tells: it must name the address the console is bound to, a loopback name when bound to
 * loopback, or a name the operator allowed (`--console-allowed-host`).
 *
 * Pure functions, no I/O: the HTTP host calls `checkHost` once per request and per upgrade, before anything else.
 */
import { isIP } from "node:net";

export interface ParsedHost {
  /** Lower-case name or address, IPv6 without brackets. */
  readonly hostname: string;
  /** The port given, or null when the header has none. */
  readonly port: number | null;
}

export interface HostPolicy {
  /** The address the console listens on, as given (`127.0.0.1`, `::1`, `0.0.0.0`, `localhost`, a name). */
  readonly bindHost: string;
  /** The port it actually listens on. */
  readonly port: number;
  /** Extra names (or addresses) the operator allows, e.g. the machine's DNS name behind a proxy. */
  readonly allowedHosts?: readonly string[];
}

export type HostVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Parses a Host header value: `name`, `name:port`, `1.2.3.4:80`, `[::1]:8080`. Null when malformed. */
export function parseHostHeader(value: string | undefined): ParsedHost | null {
  if (value === undefined) return null;
  const text = value.trim().toLowerCase();
  if (text === "" || text.length > 255) return null;
  let hostname: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return null;
    hostname = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return null;
      portText = rest.slice(1);
    }
    if (isIP(hostname) !== 6) return null;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) {
      // A bare IPv6 address has several colons and must be bracketed in Host (RFC 7230): refuse it.
      if (text.indexOf(":") !== colon) return null;
      hostname = text.slice(0, colon);
      portText = text.slice(colon + 1);
    } else hostname = text;
    if (!/^[a-z0-9.-]+$/.test(hostname)) return null;
  }
  if (hostname.endsWith(".") && hostname.length > 1) hostname = hostname.slice(0, -1); // "localhost." is localhost
  let port: number | null = null;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port > 65_535) return null;
  }
  return { hostname, port };
}

function normaliseName(name: string): string {
  const lower = name.trim().toLowerCase();
  const bare = lower.startsWith("[") && lower.endsWith("]") ? lower.slice(1, -1) : lower;
  return bare.endsWith(".") && bare.length > 1 ? bare.slice(0, -1) : bare;
}

function isLoopbackName(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || /^::ffff:127\./.test(host);
  return false;
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "" || host === "*";
}

/**
 * Whether a request's Host header may reach the console. Accepted: the bound address itself; any loopback
 * address or `localhost` when bound to loopback; any IP literal when bound to every interface (an IP literal
 * cannot be rebound); and the operator's names. A name is never accepted just because it resolves here.
 */
export function checkHost(header: string | undefined, policy: HostPolicy): HostVerdict {
  const parsed = parseHostHeader(header);
  if (parsed === null) return { ok: false, reason: header === undefined ? "Host header missing" : "malformed Host header" };
  const { hostname, port } = parsed;
  // An operator's entry may carry its own port (a reverse proxy's); without one, any port.
  for (const allowed of policy.allowedHosts ?? []) {
    const entry = parseHostHeader(allowed);
    if (entry && entry.hostname === hostname && (entry.port === null || entry.port === port)) return { ok: true };
  }
  // Only the name matters: rebinding needs a name the attacker controls, whatever the port. A port other than
  // ours is a forwarded or proxied one (ssh -L, a TCP proxy) reaching us under our own address.
  const bind = normaliseName(policy.bindHost);
  if (hostname === bind) return { ok: true };
  if ((isLoopbackName(bind) || isWildcard(bind)) && isLoopbackName(hostname)) return { ok: true };
  // Bound to every interface: any IP literal is one of ours or unreachable; only names can be rebound.
  if (isWildcard(bind) && isIP(hostname) !== 0) return { ok: true };
  return { ok: false, reason: `Host ${hostname} is not an address of this console (allow it with --console-allowed-host)` };
}


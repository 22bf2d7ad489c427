import { ZmtpError } from "./errors.js";

/** A parsed `tcp://host:port` or `ipc://path` endpoint. */
export type ParsedEndpoint =
  | { transport: "tcp"; host: string; port: number; anyHost: boolean }
  | { transport: "ipc"; path: string };

/**
 * Parses an endpoint the way libzmq writes them: `tcp://127.0.0.1:5555`, `tcp://[::1]:5555`, `tcp://*:5555`,
 * `tcp://localhost:*` (port `*` or 0 = ephemeral, when binding), `ipc:///tmp/x.sock` (not `ipc://@abstract`).
 */
export function parseEndpoint(endpoint: string): ParsedEndpoint {
  const match = /^([a-z]+):\/\/(.+)$/.exec(endpoint);
  if (!match) throw new ZmtpError("EENDPOINT", `malformed endpoint ${JSON.stringify(endpoint)}`);
  const [, transport, address] = match as unknown as [string, string, string];
  if (transport === "ipc") {
    if (address.startsWith("@")) {
      // libzmq's "@name" is Linux's abstract namespace. Node 20's libuv pads abstract names with NULs to the full
      // sun_path length, so a libzmq peer could never reach ours (measured): refuse rather than fail silently.
      throw new ZmtpError("EENDPOINT", `abstract ipc endpoints (${endpoint}) are not interoperable from Node; use a path`);
    }
    return { transport: "ipc", path: address };
  }
  if (transport !== "tcp") throw new ZmtpError("EENDPOINT", `unsupported transport ${transport}:// (tcp and ipc only)`);
  const colon = address.lastIndexOf(":");
  if (colon <= 0) throw new ZmtpError("EENDPOINT", `missing port in ${JSON.stringify(endpoint)}`);
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = portText === "*" ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ZmtpError("EENDPOINT", `bad port in ${JSON.stringify(endpoint)}`);
  return { transport: "tcp", host: host === "*" ? "0.0.0.0" : host, port, anyHost: host === "*" };
}

export function formatTcpEndpoint(host: string, port: number): string {
  return host.includes(":") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}

export function formatIpcEndpoint(path: string): string {
  return `ipc://${path}`;
}

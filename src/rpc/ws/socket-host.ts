/**
 * The seam between the WebSocket endpoint and the HTTP server it is served from. The server (the console's
 * WebHost) owns the listening socket and every request check (Host, Origin, token); it hands each upgraded
 * connection that passed them to the endpoint registered on its path. Defined here so the endpoint needs no
 * server above its layer; the layer that owns the server wires the two.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** A WebSocket endpoint that takes connections from a host once the host's checks passed. */
export interface SocketTarget {
  /** False while stopped: upgrades are then refused with 503. */
  readonly accepting: boolean;
  /** Largest message this endpoint accepts, bytes (the host's WebSocket server allows the largest of all). */
  readonly maxPayload: number;
  /**
   * A new connection: `raw` is the TCP socket under it (for corking), `remote` "address:port",
   * `identity` who the presented token proves the client to be, when it presented one.
   */
  acceptSocket(socket: WebSocket, raw: Duplex, remote: string, identity: string | undefined): void;
}

/** An HTTP server that routes WebSocket upgrades by path, possibly shared with other endpoints and a page. */
export interface SocketHost {
  /** Routes upgrades on `path` (e.g. "/ws") to `target`. Before the host listens. */
  addRoute(path: string, target: SocketTarget): void;
}

export interface HostAddress {
  readonly host: string;
  readonly port: number;
  /** http://host:port/ */
  readonly url: string;
}

/** A host an endpoint may own: it listens when the endpoint starts and closes when the endpoint stops. */
export interface ListeningSocketHost extends SocketHost {
  /** Where it listens, while it does. */
  readonly address: HostAddress | undefined;
  listen(): Promise<HostAddress>;
  close(): Promise<void>;
}

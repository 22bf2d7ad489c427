import { ZmtpError } from "./errors.js";
import type { ZmtpConnection } from "./connection.js";
import { ZmtpSocketBase, type CurveServerOptions, type PeerInfo, type SocketOptions } from "./socket.js";

export interface RouterOptions extends SocketOptions {
  /** Makes this a CURVE server; every peer's long-term key is then in PeerInfo.curvePublicKey. */
  curve?: CurveServerOptions;
}

export type RouterEvents = {
  /** One request; for REQ peers the empty delimiter frame is already removed. */
  message: [peer: PeerInfo, frames: Buffer[]];
};

const EMPTY = Buffer.alloc(0);

/**
 * Server for REQ and DEALER clients (libzmq ROUTER semantics on the wire): replies go to a peer by its
 * per-connection id, in any order. REQ envelopes are stripped on receipt and restored on send.
 */
export class ZmtpRouter extends ZmtpSocketBase<RouterEvents> {
  constructor(options: RouterOptions = {}) {
    super("ROUTER", ["REQ", "DEALER", "ROUTER"], options, options.curve ? { server: options.curve } : {});
  }

  protected peerReady(): void {}

  protected peerMessage(connection: ZmtpConnection, frames: Buffer[]): void {
    if (connection.peerSocketType === "REQ") {
      // A REQ peer always sends [empty, body...]; anything else is not a request a REP would accept.
      if (frames.length < 2 || frames[0]!.length !== 0) return;
      frames.shift();
    }
    const info = this.infoOf(connection);
    if (info) this.emit("message", info, frames);
  }

  protected peerClosed(): void {}

  /**
   * Sends a message to one peer (adding the REQ envelope when needed).
   * Returns false if the peer is gone or the message was dropped (flow "drop"); in flow "block" it also returns
   * false when that peer is backed up: the message is queued, await drained(peerId) before sending more to it.
   */
  send(peerId: string, frames: readonly Buffer[]): boolean {
    const connection = this.peersById.get(peerId);
    if (!connection) return false;
    if (frames.length === 0) throw new ZmtpError("EINVAL", "a message needs at least one frame");
    const wire = connection.peerSocketType === "REQ" ? [EMPTY, ...frames] : frames;
    if (!this.deliver(connection, wire)) return false;
    return this.flow === "drop" || connection.writable;
  }

  /** Reads nothing more from this peer for `ms` (ZmtpConnection.holdReading); a peer that is gone is ignored. */
  holdReading(peerId: string, ms: number): void {
    this.peersById.get(peerId)?.holdReading(ms);
  }

  hasPeer(peerId: string): boolean {
    return this.peersById.has(peerId);
  }
}

/**
 * ZMTP 3.1 (ZeroMQ wire protocol, rfc 23 / 37) with the NULL and CURVE (rfc 26) mechanisms, in TypeScript on
 * node:net; wire-compatible with libzmq 4.x (and ZMTP 3.0 peers).
 *
 * Design notes
 * - Why not libzmq: every message crosses a background I/O thread on each side and zeromq.js adds readiness
 *   checks per call; doing the protocol on the event loop removes those hand-offs (about 3x lower round trip here).
 *   It also lets a CURVE server see which client key sent each message (PeerInfo.curvePublicKey), which
 *   zeromq.js cannot expose.
 * - Layers: wire.ts (greeting, frames, commands; pure, fuzzed) -> connection.ts (one stream: handshake,
 *   heartbeats, batched writes) -> socket.ts (listeners, dialers with backoff + jitter, peer table, flow control)
 *   -> role classes (router.ts, publisher.ts, client.ts).
 * - Receive: frames are views into the read buffer; only a frame split across reads is copied once.
 * - Send: frames queued during one tick are written together; small frames are coalesced into one buffer,
 *   large bodies are passed through uncopied (cork/uncork).
 * - Flow control per socket: "block" (never drop; send/publish return false when the caller should await
 *   drained()) or "drop" (per-peer high-water mark in messages and bytes; drops counted in PeerInfo.stats.dropped).
 * - Hostile peers (bad greeting, oversize frame, unknown command, slow handshake, wrong key) lose only their own
 *   connection; the reason is emitted as "rejected" (before the handshake) or "disconnect" (after it).
 * - Heartbeats (3.1 PING/PONG with TTL) detect peers that vanish without a TCP reset.
 * - Endpoints: tcp:// (IPv4, [IPv6], `*`, host names; port 0 or `*` when binding) and ipc:// paths. Abstract
 *   ipc (`ipc://@name`) is refused: Node 20 pads abstract names, so libzmq peers could not reach them.
 * - libzmq compatibility details: the greeting's as-server byte is not checked (libzmq always sends 0); the
 *   accepting end sends its mechanism only after the peer's greeting matched it (libzmq never retries a peer whose
 *   mechanism it read and refused, and a REQ without a peer blocks in send);
 *   CURVE MESSAGE frames go out as plain frames with the real flags inside the box, as libzmq does; SUB
 *   subscriptions go as SUBSCRIBE/CANCEL commands to 3.1 peers (libzmq 4.3.5 does the same) and as 1/0-prefixed
 *   messages to 3.0 peers; a PUB accepts both forms from anyone.
 *
 * Public surface
 * - ZmtpRouter (server for REQ/DEALER peers): bind(endpoint) -> actual endpoint, on("message", (peer, frames)),
 *   send(peerId, frames), peers(), kick(peerId), drained(), events connect/disconnect/rejected, unbind, close().
 * - ZmtpPublisher: bind, publish(frames) -> boolean, drained(), subscribers() (with stats.dropped),
 *   events connect/disconnect/subscribe/unsubscribe/rejected.
 * - ZmtpDealer, ZmtpRequest (request(frames) -> Promise<reply>), ZmtpSubscriber (subscribe/unsubscribe):
 *   connect(endpoint) with automatic reconnect, events connect/disconnect/state/message, close().
 * - curveKeyPair(), curvePublicKey(), z85Encode/z85Decode, ZmtpError (with a `code`).
 * - Low-level pieces for tools and tests: FrameDecoder, buildGreeting, parseEndpoint.
 *
 * Return values of send/publish: true = go on. In flow "block" false means "queued, but this peer (or some
 * subscriber) is backed up: await drained(peerId?) before sending more"; in flow "drop" false means "dropped at
 * the high-water mark" (always counted in stats.dropped). ZmtpRouter.send also returns false for an unknown peer.
 *
 * Fairness: each connection's reads are handled as they arrive, one read (at most 64 KiB) per connection per
 * event-loop turn, so one busy peer cannot starve the others.
 *
 * Example
 * ```ts
 * const router = new ZmtpRouter({ curve: { ...serverKeys, authorize: (key) => allowed.has(key) } });
 * const endpoint = await router.bind("tcp://127.0.0.1:0"); // "tcp://127.0.0.1:41234"
 * router.on("message", (peer, frames) => {
 *   // peer.curvePublicKey says who sent it; REQ envelopes are already stripped
 *   if (!router.send(peer.id, reply(frames))) void router.drained(peer.id);
 * });
 * router.on("rejected", (connection, reason) => log.warn(reason.code, reason.message, connection.remoteAddress));
 *
 * const pub = new ZmtpPublisher({ flow: "drop", highWaterMark: { messages: 10_000, bytes: 16 << 20 } });
 * await pub.bind("tcp://*:2015");
 * pub.publish([Buffer.from(topic), body]); // pub.subscribers()[i].stats.dropped counts what a slow one missed
 *
 * const req = new ZmtpRequest({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 });
 * req.connect(endpoint);
 * const replyFrames = await req.request([Buffer.from("ping")], { timeoutMs: 5000 });
 * ```
 */
export { ZmtpError, type ZmtpErrorCode } from "./errors.js";
export { isCurveKey, z85Decode, z85Encode } from "./z85.js";
export { curveKeyPair, curvePublicKey, type CurveKey, type CurveKeyPair } from "./curve.js";
export { curveCrypto, selectCurveCrypto } from "./secretbox.js";
export { DEFAULT_REFUSAL_HOLD_MS, type HeartbeatOptions, type PeerStats, type SocketTypeName } from "./connection.js";
export type {
  BaseEvents,
  ConnectionState,
  CurveClientOptions,
  CurveServerOptions,
  FlowControl,
  HighWaterMark,
  PeerInfo,
  RejectedConnection,
  SocketOptions,
} from "./socket.js";
export { ZmtpRouter, type RouterEvents, type RouterOptions } from "./router.js";
export { ZmtpPublisher, type BacklogOptions, type PublisherEvents, type PublisherOptions, type SubscriberInfo } from "./publisher.js";
export { SendBacklog, type BacklogLimits, type PushResult } from "./backlog.js";
export {
  ZmtpDealer,
  ZmtpRequest,
  ZmtpSubscriber,
  type ClientEvents,
  type ClientOptions,
  type DealerEvents,
  type RequestOptions,
  type SubscriberEvents,
} from "./client.js";
export {
  FrameDecoder,
  buildGreeting,
  encodeCommandBody,
  encodeFrame,
  parseGreeting,
  FLAG_COMMAND,
  FLAG_LONG,
  FLAG_MORE,
  type FrameSink,
} from "./wire.js";
export { parseEndpoint, type ParsedEndpoint } from "./endpoint.js";

/**
 * RpcCaller: the one contract every RPC client keeps, whatever its transport (ZeroMQ `RpcClient`, WebSocket
 * `WsRpcClient`, and any later one such as NATS). `RpcGateway` holds an `RpcCaller` and nothing more specific.
 *
 * What an implementation promises:
 *
 * - **Calls.** `call`/`callWithPosition` resolve with the server's result, or reject with exactly one of the errors
 *   of errors.ts, the same in every client:
 *     RpcTimeoutError          no reply within the call's timeout (built when the call is made: its stack shows
 *                              the caller). The call may or may not have run.
 *     RpcDisconnectedError     not sent (not connected, or the transport refused it). It never runs later.
 *     RpcConnectionLostError   sent, then the connection went away before the reply: the outcome is unknown and
 *                              the owner must look (a resync does).
 *     RpcClosedError           the client was closed.
 *     RemoteError              the server ran it and reported a failure (`remoteType` names the error class).
 *     RpcError ERR_RPC_REMOTE / ERR_RPC_OPTIONS   an undecodable reply / unencodable arguments.
 *   Nothing is queued while disconnected, and a timed-out call's late reply is dropped.
 *
 * - **State.** `state` is one of `connecting`, `connected`, `stale` (connected, but the server has been quiet or
 *   unanswering for longer than it should), `disconnected` (with a reason); every change is one "state" event
 *   `(state, previous, reason)`. `nextAttemptAt` says when a disconnected client tries again (null: no retry).
 *
 * - **Events.** Every pushed event is one "event" with its place in the server's stream (`seq`, `epoch`; null
 *   when the server has none, e.g. a Python VeighNa server).
 *
 * - **Resync.** "resync" `(reason, detail)` asks the owner for a fresh snapshot whenever what it holds may be out
 *   of date: the first connection ("connected"), ANY transport reconnect, on any of its connections
 *   ("reconnected": the peer may be a restarted server that knows nothing of our subscriptions, and a VeighNa
 *   server has no epoch to tell), a new server epoch ("restart"), or a hole in the event sequence ("gap").
 *   A client that can replay a gap itself (WebSocket resume) does not ask.
 *
 * - **Position.** `callWithPosition` also returns where the event stream stood when the result was computed,
 *   so a snapshot can be lined up with the pushed events (events at or below that seq are in the snapshot).
 *
 * The small parts shared by the implementations live next to this file: call-table.ts (correlation and
 * deadlines), lock-step.ts (one call at a time, for a VeighNa REQ/REP server), stream-tracker.ts (seq + epoch,
 * gaps and restarts) and connection-state.ts (the state machine and `waitConnected`).
 */
import type { Event } from "../kernel/index.js";
import type { StreamPosition } from "./endpoint.js";

export type ConnectionState = "connecting" | "connected" | "stale" | "disconnected";
/** What answered: our server (pipelined calls, stream positions) or a Python VeighNa one (lock-step, no epoch). */
export type ServerKind = "rpcservice" | "veighna";
export type ResyncReason = "connected" | "reconnected" | "restart" | "gap";

export interface CallOptions {
  /** ms; default the client's `timeout`. */
  timeout?: number;
  kwargs?: Readonly<Record<string, unknown>>;
}

/** A pushed event with its place in the server's stream (null from a server without one). */
export interface StreamEvent {
  readonly event: Event;
  readonly seq: number | null;
  readonly epoch: string | null;
}

export interface CallResult<T> {
  readonly value: T;
  /** Where the event stream stood when the result was computed (null from a VeighNa server). */
  readonly position: StreamPosition | null;
}

export type RpcCallerEvents = {
  state: [state: ConnectionState, previous: ConnectionState, reason: string];
  event: [pushed: StreamEvent];
  resync: [reason: ResyncReason, detail: string];
  heartbeat: [serverTime: number];
  /** Something went wrong that the caller cannot see otherwise (an undecodable event, a refused handshake...). */
  warning: [message: string];
};

export interface RpcCaller {
  /** Where it connects, for log lines ("tcp://127.0.0.1:2014", "ws://127.0.0.1:8080/ws"). */
  readonly address: string;
  readonly state: ConnectionState;
  /** Once a server answered; null before. */
  readonly serverKind: ServerKind | null;
  /** The last stream position seen (null parts before any). */
  readonly streamPosition: { epoch: string | null; seq: number | null };
  /** When a disconnected client next tries to connect (epoch ms), or null. */
  readonly nextAttemptAt: number | null;
  /** Connects (and keeps reconnecting) in the background; progress arrives as "state" events. */
  start(): void;
  /** Resolves once connected; rejects with RpcDisconnectedError after `timeout` ms, RpcClosedError if closed. */
  waitConnected(timeout?: number): Promise<void>;
  call<T = unknown>(name: string, args?: readonly unknown[], options?: CallOptions): Promise<T>;
  callWithPosition<T = unknown>(name: string, args?: readonly unknown[], options?: CallOptions): Promise<CallResult<T>>;
  /** Stops everything promptly; pending calls reject with RpcClosedError. */
  close(): Promise<void>;
  on<K extends keyof RpcCallerEvents>(event: K, listener: (...args: RpcCallerEvents[K]) => void): this;
  off<K extends keyof RpcCallerEvents>(event: K, listener: (...args: RpcCallerEvents[K]) => void): this;
}

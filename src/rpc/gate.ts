/**
 * The call gate: one policy the server applies to every call, whatever endpoint carried it (ZeroMQ, WebSocket,
 * NATS...). The RPC layer knows nothing of roles or limits; the service layer plugs them in here, so an endpoint
 * added later through the seam is covered without a line of its own.
 */
import { settled, type CallContext, type CallSettler, type ConnectedClient } from "./endpoint.js";

export interface GatedCall {
  readonly name: string;
  /** Arguments already bound to the function's parameters (positional). */
  readonly args: readonly unknown[];
  readonly context: CallContext;
  /** A function registered `heavy` (a history query): a gate may budget these apart (RpcFunctionOptions.heavy). */
  readonly heavy?: boolean;
}

export type CallOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** A call let through: the context the function runs with (e.g. with the caller's role) and its end. */
export interface CallPass {
  readonly context: CallContext;
  /** Exactly once, when the call settled. */
  done(outcome: CallOutcome): void;
}

export interface CallGate {
  /** Before the call runs: throws (the error goes to the caller) to refuse it. */
  enter(call: GatedCall): CallPass;
  /**
   * Before the call's arguments are even decoded: the error when the call is refused whatever its arguments (a
   * client over its limits), so that a flood costs the server as little as possible; undefined: decode, then enter().
   * A refusal here must be one enter() would make too (counted the same way).
   */
  refuseEarly?(name: string, context: CallContext, heavy: boolean): Error | undefined;
  /** Extra per-client figures for the connected-clients view (e.g. calls refused as rate limited). */
  describe?(client: ConnectedClient): Partial<Pick<ConnectedClient, "role" | "rateLimited" | "refused">>;
}

/** Runs `handler` through `gate` (when there is one): refused before it runs, its outcome reported after. */
export function runGated<T>(gate: CallGate | undefined, call: GatedCall, handler: (context: CallContext) => T | Promise<T>): Promise<T> {
  return settled<T>((settle) => settleGated(gate, call, handler, settle));
}

/**
 * runGated answering through `settle`: a handler that answers at once is reported to the gate and settled at once,
 * with no promise made (this is on every call's path); one that returns a promise is settled when it does.
 */
export function settleGated<T>(gate: CallGate | undefined, call: GatedCall, handler: (context: CallContext) => T | Promise<T>, settle: CallSettler): void {
  let pass: CallPass | undefined;
  let result: T | Promise<T>;
  try {
    pass = gate?.enter(call);
    result = handler(pass ? pass.context : call.context);
  } catch (error) {
    pass?.done({ ok: false, error });
    settle(false, error);
    return;
  }
  if (!isThenable(result)) {
    pass?.done({ ok: true, value: result });
    settle(true, result);
    return;
  }
  const entered = pass;
  Promise.resolve(result).then(
    (value) => {
      entered?.done({ ok: true, value });
      settle(true, value);
    },
    (error: unknown) => {
      entered?.done({ ok: false, error });
      settle(false, error);
    },
  );
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

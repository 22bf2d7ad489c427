/**
 * Typed errors of the RPC layer.
 *
 * Server-side failures carry the Python exception class a VeighNa client expects in its traceback text
 * (`KeyError` for an unknown function, `TypeError` for bad arguments...), so one error object serves both our
 * clients and unmodified VeighNa ones.
 */
import { messageOf } from "../kernel/index.js";

export type RpcErrorCode =
  | "ERR_RPC_UNKNOWN_FUNCTION"
  | "ERR_RPC_BAD_ARGUMENTS"
  | "ERR_RPC_MALFORMED"
  | "ERR_RPC_TOO_LARGE"
  | "ERR_RPC_DEADLINE"
  | "ERR_RPC_FAILED"
  | "ERR_RPC_UNENCODABLE"
  | "ERR_RPC_TIMEOUT"
  | "ERR_RPC_DISCONNECTED"
  | "ERR_RPC_LOST"
  | "ERR_RPC_CLOSED"
  | "ERR_RPC_REMOTE"
  | "ERR_RPC_STATE"
  | "ERR_RPC_OPTIONS"
  | "ERR_RPC_PERMISSION"
  | "ERR_RPC_RATE_LIMITED";

export class RpcError extends Error {
  readonly code: RpcErrorCode;
  constructor(code: RpcErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RpcError";
    this.code = code;
  }
}

/** A call the server refused or that failed there; `pythonType` names the exception in the traceback text. */
export class RpcCallError extends RpcError {
  readonly pythonType: string;
  constructor(code: RpcErrorCode, pythonType: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "RpcCallError";
    this.pythonType = pythonType;
  }
}

export const unknownFunction = (name: string): RpcCallError =>
  new RpcCallError("ERR_RPC_UNKNOWN_FUNCTION", "KeyError", pythonRepr(name));

export const badArguments = (message: string): RpcCallError => new RpcCallError("ERR_RPC_BAD_ARGUMENTS", "TypeError", message);

export const malformedRequest = (message: string, cause?: unknown): RpcCallError =>
  new RpcCallError("ERR_RPC_MALFORMED", "UnpicklingError", message, { cause });

export const requestTooLarge = (size: number, limit: number): RpcCallError =>
  new RpcCallError("ERR_RPC_TOO_LARGE", "ValueError", `request of ${size} bytes exceeds the limit of ${limit} bytes`);

/** The caller's role lacks the permission the function needs (VeighNa clients see a PermissionError). */
export const permissionDenied = (message: string): RpcCallError => new RpcCallError("ERR_RPC_PERMISSION", "PermissionError", message);

/**
 * Over a per-client limit: refused at once, never queued. A flood makes thousands a second and their stack is never
 * shown (the traceback names the function only), so none is captured.
 */
export const rateLimited = (message: string): RpcCallError => {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RpcCallError("ERR_RPC_RATE_LIMITED", "RateLimitedError", `rate limited: ${message}`);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
};

const DEADLINE_PASSED = " passed before it could run; not executed";

export const deadlinePassed = (name: string): RpcCallError =>
  new RpcCallError("ERR_RPC_DEADLINE", "TimeoutError", `deadline of ${name}()${DEADLINE_PASSED}`);

/** Whether a server's error text is its refusal of a call whose deadline had passed (see `deadlinePassed`). */
export function isDeadlinePassed(traceback: string): boolean {
  const last = traceback.trimEnd().split("\n").pop() ?? "";
  return last.startsWith("TimeoutError: deadline of ") && last.endsWith(DEADLINE_PASSED);
}

export const unencodableResult = (name: string, cause: unknown): RpcCallError =>
  new RpcCallError("ERR_RPC_UNENCODABLE", "PicklingError", `cannot encode the result of ${name}(): ${messageOf(cause)}`, { cause });

/**
 * No reply within the call's timeout (or the server saw its deadline pass and did not run it); the client is still
 * usable. Clients build it when the call is made, so its stack shows who made the call, not a timer.
 */
export class RpcTimeoutError extends RpcError {
  constructor(name: string, timeout: number, detail?: string) {
    super("ERR_RPC_TIMEOUT", `Timeout of ${timeout}ms reached for ${name}()${detail ? `: ${detail}` : ""}`);
    this.name = "RpcTimeoutError";
  }
}

/** The server is not reachable now; the request was not sent (and will never be sent later). */
export class RpcDisconnectedError extends RpcError {
  constructor(name: string, detail = "not connected to the server") {
    super("ERR_RPC_DISCONNECTED", `${name}() not sent: ${detail}`);
    this.name = "RpcDisconnectedError";
  }
}

/** The request was sent, then the connection went away before its reply: it may or may not have run. */
export class RpcConnectionLostError extends RpcError {
  constructor(name: string, detail = "the connection to the server was lost") {
    super("ERR_RPC_LOST", `${name}(): ${detail}; the outcome is unknown`);
    this.name = "RpcConnectionLostError";
  }
}

/** The client was closed before (or while) the call was made. */
export class RpcClosedError extends RpcError {
  constructor(name: string) {
    super("ERR_RPC_CLOSED", `${name}() not sent: the client was closed`);
    this.name = "RpcClosedError";
  }
}

/**
 * The server answered with an error. `traceback` is its text (Python's for a VeighNa server, the message for a
 * JSON one); `remoteType` names the error: the exception class on the traceback's last line ("KeyError"), or the
 * error code of a JSON reply ("UNKNOWN_CALL").
 */
export class RemoteError extends RpcError {
  readonly traceback: string;
  readonly remoteType: string;
  constructor(traceback: string, remoteType?: string) {
    const last = traceback.trimEnd().split("\n").pop() ?? "";
    super("ERR_RPC_REMOTE", remoteType ? `${remoteType}: ${last}` : last || "remote call failed");
    this.name = "RemoteError";
    this.traceback = traceback;
    this.remoteType = remoteType ?? /^([A-Za-z_][\w.]*)(:|$)/.exec(last)?.[1] ?? "Exception";
  }
}


/** Python's repr of a str, as it appears in `KeyError: 'name'`. */
export function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const body = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}

/**
 * The error text a VeighNa client receives in `[False, text]`: Python's traceback layout, so scripts that print
 * or parse `RemoteException` keep working. Our frames point at the function, not at a source line.
 */
export function formatTraceback(functionName: string, error: unknown): string {
  const type = error instanceof RpcCallError ? error.pythonType : error instanceof Error ? pythonTypeOf(error) : "Exception";
  const message = messageOf(error);
  return (
    "Traceback (most recent call last):\n" +
    `  File "rpcservice/server", line 1, in ${functionName || "<request>"}\n` +
    `${type}: ${message}\n`
  );
}

function pythonTypeOf(error: Error): string {
  if (error instanceof TypeError) return "TypeError";
  if (error instanceof RangeError) return "ValueError";
  // Our typed errors (class extends Error with a code) keep their own class name: it tells the trader what failed.
  return error.name && error.name !== "Error" ? error.name : "Exception";
}

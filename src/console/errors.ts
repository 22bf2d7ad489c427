/** Typed errors of the console layer: each carries a stable `code` that also travels on the wire. */

/** The codes a WebSocket client can receive in `{"ok": false, "error": {"code": ...}}`. */
export type WireErrorCode =
  | "BAD_JSON"
  | "BINARY_FRAME"
  | "INVALID_MESSAGE"
  | "INVALID_ARGUMENT"
  | "UNKNOWN_CALL"
  | "TOO_MANY_CALLS"
  | "CALL_FAILED"
  | "NOT_AVAILABLE";

/** A request the endpoint refused before dispatching it (bad JSON, bad fields, limits). */
export class WireError extends Error {
  readonly code: WireErrorCode;
  /** Where in the message the problem is (JSON pointer), when known. */
  readonly path: string | undefined;

  constructor(code: WireErrorCode, message: string, path?: string) {
    super(message);
    this.name = "WireError";
    this.code = code;
    this.path = path;
  }
}

/** A console call that cannot run now (no RPC service app, no risk manager, bad rule name...). */
export class ConsoleCallError extends Error {
  readonly code: "UNKNOWN_CALL" | "NOT_AVAILABLE" | "INVALID_ARGUMENT";

  constructor(code: ConsoleCallError["code"], message: string) {
    super(message);
    this.name = "ConsoleCallError";
    this.code = code;
  }
}

/** The console or an endpoint could not start (address in use, bad options, unreadable token file). */
export class ConsoleStartError extends Error {
  readonly code = "ERR_CONSOLE_START";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConsoleStartError";
  }
}

/** A WebSocket client call failed: the server's error code and message, or a transport failure. */
export class WsCallError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "WsCallError";
    this.code = code;
  }
}

/** Typed errors of the WebSocket wire: each carries a stable `code` that also travels in error replies. */

/** The codes a WebSocket client can receive in `{"ok": false, "error": {"code": ...}}` from the endpoint itself. */
export type WireErrorCode =
  | "BAD_JSON"
  | "BINARY_FRAME"
  | "INVALID_MESSAGE"
  | "INVALID_ARGUMENT"
  | "UNKNOWN_CALL"
  | "TOO_MANY_CALLS"
  | "CALL_FAILED"
  | "NOT_AVAILABLE";

/** A request refused before dispatch (bad JSON, bad fields, limits). */
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

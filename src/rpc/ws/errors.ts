/** Typed errors of the WebSocket wire: each carries a stable `code` that also travels in error replies. */
import { messageOf } from "../../kernel/index.js";

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

/** The wire form of an error in a reply: its own string `code` (WireError, RpcError...), else CALL_FAILED. */
export function wireErrorBody(error: unknown): { code: string; message: string; path?: string } {
  if (error instanceof WireError) return error.path === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, path: error.path };
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  return { code: typeof code === "string" && code.length > 0 ? code : ("CALL_FAILED" satisfies WireErrorCode), message };
}

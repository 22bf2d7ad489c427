/** Typed errors of the console layer: each carries a stable `code` that also travels on the wire. */

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

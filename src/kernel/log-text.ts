/**
 * Log hygiene for text a peer controls (a function name, a ZMTP mechanism, a CURVE key, an order's symbol...):
 * escaped, so it can never forge a line or move a terminal's cursor, and truncated, so one request cannot write
 * megabytes; and a limiter so a flood of refusals costs a few lines, not one per attempt.
 *
 * One helper for every call site: the kernel is the bottom layer, so every layer can use it.
 */

/** Characters kept of one untrusted value in a log line. */
export const UNTRUSTED_MAX_CHARS = 200;
/** Characters kept of a whole log message (LogData.msg): a log event is broadcast to every client. */
export const LOG_MESSAGE_MAX_CHARS = 4_000;

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides that reorder a line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default: {
      const code = ch.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
    }
  }
}

/** Control characters as visible escapes (`\n`, `\x1b`, `\u2028`); a backslash stays a backslash. */
export function escapeControls(text: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text) ? text.replace(CONTROL, escapeChar) : text;
}

/**
 * A peer's text made safe for one log line: anything stringified, control characters escaped, and cut to
 * `max` characters with the original length: `abc… (900000 chars)`.
 */
export function untrusted(value: unknown, max: number = UNTRUSTED_MAX_CHARS): string {
  const text = typeof value === "string" ? value : String(value);
  // Cut before escaping (an escape must not be cut in half), then escape what is kept.
  if (text.length <= max) return escapeControls(text);
  return `${escapeControls(text.slice(0, max))}… (${text.length} chars)`;
}

/** A whole log message bounded for broadcast: escaped and cut at LOG_MESSAGE_MAX_CHARS. */
export function boundLogMessage(message: string): string {
  return untrusted(message, LOG_MESSAGE_MAX_CHARS);
}

export interface LimitVerdict {
  /** Write this line. */
  readonly log: boolean;
  /** Lines of the same kind and address left out since the last one written (append "… N more suppressed"). */
  readonly suppressed: number;
}

export interface LogLimiterOptions {
  /** One line per kind and address in this window (ms). Default 60 s. */
  windowMs?: number;
  /** Lines per kind and address per window. Default 1. */
  burst?: number;
  /** Kind/address pairs remembered; past it the oldest are forgotten (an address flood cannot grow it). */
  maxKeys?: number;
  now?: () => number;
}

interface LimitState {
  windowStart: number;
  written: number;
  suppressed: number;
}

/**
 * Rate limit for refusal and malformed-input lines, per kind (not per text: the text is the peer's to vary)
 * and per remote address (without port: a reconnecting peer gets a new port each time).
 */
export class LogLimiter {
  private readonly windowMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly states = new Map<string, LimitState>();

  constructor(options: LogLimiterOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.burst = options.burst ?? 1;
    this.maxKeys = options.maxKeys ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  check(kind: string, remoteAddress: string | undefined): LimitVerdict {
    const key = `${kind}|${hostOf(remoteAddress)}`;
    const now = this.now();
    let state = this.states.get(key);
    if (state === undefined || now - state.windowStart >= this.windowMs) {
      const suppressed = state?.suppressed ?? 0;
      if (state) this.states.delete(key);
      else if (this.states.size >= this.maxKeys) this.states.delete(this.states.keys().next().value!);
      state = { windowStart: now, written: 1, suppressed: 0 };
      this.states.set(key, state);
      return { log: true, suppressed };
    }
    if (state.written < this.burst) {
      state.written++;
      return { log: true, suppressed: 0 };
    }
    state.suppressed++;
    return { log: false, suppressed: state.suppressed };
  }

  /** Runs `write` with the line (plus "… N more suppressed") when the limit allows it. */
  write(kind: string, remoteAddress: string | undefined, line: () => string, write: (line: string) => void): void {
    const verdict = this.check(kind, remoteAddress);
    if (!verdict.log) return;
    write(verdict.suppressed > 0 ? `${line()} (… ${verdict.suppressed} more suppressed)` : line());
  }

  clear(): void {
    this.states.clear();
  }
}

/** `1.2.3.4:5678` -> `1.2.3.4`, `[::1]:5` / `::1:5`-style -> without the port; anything else as is. */
function hostOf(remoteAddress: string | undefined): string {
  if (!remoteAddress) return "unknown";
  const bracket = /^\[([^\]]*)\](?::\d+)?$/.exec(remoteAddress);
  if (bracket) return bracket[1]!;
  return remoteAddress.replace(/:\d+$/, "");
}

/**
 * The one "message of an unknown error": what a log line or an error reply says about anything thrown. Error codes
 * follow ERR_<LAYER>_<WHAT>, a closed union per layer; docs/errors.md lists them.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A request's function name, read from the first bytes of `[name, args, kwargs]` without decoding the rest: enough
 * for the server to refuse a flooding client's call before it spends anything on the arguments.
 */

/** `name` from PROTO [FRAME] EMPTY_LIST MEMOIZE MARK SHORT_BINUNICODE, as CPython and our encoder write a request; else undefined. */
export function peekRequestName(bytes: Uint8Array): string | undefined {
  let at = 0;
  if (bytes[at++] !== 0x80 || !(bytes[at++]! >= 4)) return undefined; // PROTO 4+
  if (bytes[at] === 0x95) at += 9; // FRAME
  if (bytes[at++] !== 0x5d || bytes[at++] !== 0x94 || bytes[at++] !== 0x28 || bytes[at++] !== 0x8c) return undefined;
  const length = bytes[at++];
  if (length === undefined || at + length > bytes.length) return undefined;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return buf.toString("utf8", at, at + length);
}

import { ZmtpError } from "./errors.js";

// Z85 (ZeroMQ RFC 32): 4 bytes <-> 5 printable characters; used for CURVE key text.
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DECODE_TABLE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE_TABLE[ALPHABET.charCodeAt(i)] = i;

/** Encodes bytes (length a multiple of 4) as Z85 text. */
export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new ZmtpError("EINVAL", "z85Encode: length must be a multiple of 4");
  let out = "";
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0;
    const chars = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chars[j] = ALPHABET[value % 85]!;
      value = Math.floor(value / 85);
    }
    out += chars.join("");
  }
  return out;
}

/** Decodes Z85 text (length a multiple of 5) to bytes. */
export function z85Decode(text: string): Buffer {
  if (text.length % 5 !== 0) throw new ZmtpError("EINVAL", "z85Decode: length must be a multiple of 5");
  const out = Buffer.allocUnsafe((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? DECODE_TABLE[code]! : -1;
      if (digit < 0) throw new ZmtpError("EINVAL", `z85Decode: invalid character at ${i + j}`);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw new ZmtpError("EINVAL", "z85Decode: value out of range");
    out.writeUInt32BE(value, o);
  }
  return out;
}

/** 40 characters of Z85 that decode to 32 bytes. */
export function isCurveKey(text: string): boolean {
  if (typeof text !== "string" || text.length !== 40) return false;
  try {
    return z85Decode(text).length === 32;
  } catch {
    return false;
  }
}

import { ZmtpError } from "./errors.js";

// ZMTP 3.x framing (rfc 23 / rfc 37). Everything here is pure and synchronous so it can be fuzzed directly.

export const GREETING_SIZE = 64;
/** Signature and version: the part of a greeting a peer may need before it sends its mechanism (libzmq needs 11 bytes). */
export const GREETING_VERSION_SIZE = 12;
export const FLAG_MORE = 0x01;
export const FLAG_LONG = 0x02;
export const FLAG_COMMAND = 0x04;
const RESERVED_FLAG_BITS = 0xf8;

export type MechanismName = "NULL" | "CURVE";

export interface Greeting {
  major: number;
  minor: number;
  mechanism: string;
  asServer: boolean;
}

/** Our greeting: always ZMTP 3.1; a 3.0 peer downgrades us (rfc 37 "version negotiation"). */
export function buildGreeting(mechanism: MechanismName, asServer: boolean): Buffer {
  const greeting = Buffer.alloc(GREETING_SIZE);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3;
  greeting[11] = 1;
  greeting.write(mechanism, 12, "latin1");
  greeting[32] = asServer ? 1 : 0;
  return greeting;
}

export function parseGreeting(greeting: Buffer): Greeting {
  if (greeting[0] !== 0xff || (greeting[9]! & 0x01) !== 0x01) {
    throw new ZmtpError("EPROTO", "malformed greeting signature");
  }
  const major = greeting[10]!;
  if (major < 3) throw new ZmtpError("EPROTO", `unsupported ZMTP major version ${major}`);
  let end = 12;
  while (end < 32 && greeting[end] !== 0) end++;
  const mechanism = greeting.toString("latin1", 12, end);
  return { major, minor: greeting[11]!, mechanism, asServer: greeting[32] === 1 };
}

/** Negotiated minor version: 3.0 only when the peer says exactly 3.0, otherwise 3.1 (what we speak). */
export function negotiatedMinor(peer: Greeting): 0 | 1 {
  return peer.major === 3 && peer.minor === 0 ? 0 : 1;
}

export function frameHeaderSize(bodySize: number): number {
  return bodySize > 255 ? 9 : 2;
}

/** Writes a frame header at `offset`; returns the offset after it. */
export function writeFrameHeader(target: Buffer, offset: number, flags: number, bodySize: number): number {
  if (bodySize > 255) {
    target[offset] = flags | FLAG_LONG;
    // Two 32-bit halves: frames above 4 GiB are far beyond any sane maxMessageSize but stay well-formed.
    target.writeUInt32BE(Math.floor(bodySize / 0x100000000), offset + 1);
    target.writeUInt32BE(bodySize >>> 0, offset + 5);
    return offset + 9;
  }
  target[offset] = flags;
  target[offset + 1] = bodySize;
  return offset + 2;
}

/** Encodes a whole frame (header + body) into one new buffer; used for commands and tests. */
export function encodeFrame(flags: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderSize(body.length) + body.length);
  const at = writeFrameHeader(out, 0, flags, body.length);
  body.copy(out, at);
  return out;
}

export interface FrameSink {
  onGreeting(greeting: Buffer): void;
  onFrame(flags: number, body: Buffer): void;
}

/**
 * Incremental parser for the greeting and the frames that follow it.
 * Frames that lie inside one received chunk are handed out as views of that chunk (no copy);
 * only a frame split across reads is concatenated, once, when its last byte arrives.
 * Sizes are checked as soon as a header is complete, so an oversize frame is never buffered.
 */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private partsLength = 0;
  private greetingDone = false;
  private stopped = false;
  /** Parsing waits (pause()): no frame is handed out until resume(). */
  private paused = false;
  /** Bytes received while paused, or left unparsed when the pause came mid-chunk: resume() parses them first. */
  private held: Buffer | null = null;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxFrameSize: number,
  ) {}

  /** Stops parsing (the sink closed the connection); further input is ignored. */
  stop(): void {
    this.stopped = true;
    this.parts = [];
    this.partsLength = 0;
    this.held = null;
  }

  /** Bytes held while waiting for the rest of a split greeting or frame, or for resume(). */
  get bufferedBytes(): number {
    return this.partsLength + (this.held?.length ?? 0);
  }

  /**
   * Hands out no more frames until resume(), starting with the next one (the sink may call it from onFrame): the
   * rest of the chunk being parsed, and whatever is pushed meanwhile, is kept in order. A reader's budget per call.
   */
  pause(): void {
    this.paused = true;
  }

  /** Whether bytes wait for resume(). */
  get holding(): boolean {
    return this.held !== null;
  }

  /** Parses what waited (it may pause again: check `holding`). */
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = null;
    if (held) this.push(held);
  }

  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.paused) {
      this.held = this.held ? Buffer.concat([this.held, chunk]) : chunk;
      return;
    }
    if (!this.greetingDone) this.checkMajorVersion(chunk);
    let pos = 0;
    if (this.partsLength > 0) {
      pos = this.completePending(chunk);
      if (pos < 0 || this.stopped) return;
      if (this.paused) {
        if (pos < chunk.length) this.held = chunk.subarray(pos);
        return;
      }
    } else if (!this.greetingDone && chunk[0] !== 0xff) {
      // Reject a non-ZMTP peer on its first byte instead of waiting for 64 bytes.
      throw new ZmtpError("EPROTO", "malformed greeting signature");
    }
    pos = this.parseFrom(chunk, pos);
    if (this.stopped || pos >= chunk.length) return;
    if (this.paused) {
      this.held = chunk.subarray(pos); // whole frames perhaps: parsed on resume()
    } else {
      this.parts.push(chunk.subarray(pos));
      this.partsLength = chunk.length - pos;
    }
  }

  /**
   * Refuses a ZMTP 1.x/2.x peer as soon as its version byte (offset 10) arrives: such a peer never sends the 64
   * bytes of a 3.x greeting, so waiting for them would hold the connection until the handshake timeout.
   */
  private checkMajorVersion(chunk: Buffer): void {
    const seen = this.partsLength;
    if (seen > 10 || seen + chunk.length <= 10) return;
    const major = chunk[10 - seen]!;
    if (major < 3) throw new ZmtpError("EPROTO", `unsupported ZMTP major version ${major}: this peer speaks ZMTP 3.x only`);
  }

  private checkHeader(flags: number, size: number): void {
    if (flags & RESERVED_FLAG_BITS) throw new ZmtpError("EPROTO", `reserved frame flag bits set (0x${flags.toString(16)})`);
    if (size > this.maxFrameSize) {
      throw new ZmtpError("EMSGSIZE", `frame of ${size} bytes exceeds maxMessageSize ${this.maxFrameSize}`);
    }
  }

  /** Reads a long frame's 64-bit size as a number (values past 2^53 are clamped; they fail the size check anyway). */
  private static readLongSize(source: Buffer, at: number): number {
    const high = source.readUInt32BE(at);
    const low = source.readUInt32BE(at + 4);
    return high >= 0x200000 ? Number.MAX_SAFE_INTEGER : high * 0x100000000 + low;
  }

  private parseFrom(chunk: Buffer, start: number): number {
    let pos = start;
    const length = chunk.length;
    while (!this.stopped && !this.paused) {
      const remaining = length - pos;
      if (!this.greetingDone) {
        if (remaining < GREETING_SIZE) break;
        this.greetingDone = true;
        this.sink.onGreeting(chunk.subarray(pos, pos + GREETING_SIZE));
        pos += GREETING_SIZE;
        continue;
      }
      if (remaining < 2) break;
      const flags = chunk[pos]!;
      let size: number;
      let headerSize: number;
      if (flags & FLAG_LONG) {
        if (remaining < 9) break;
        size = FrameDecoder.readLongSize(chunk, pos + 1);
        headerSize = 9;
      } else {
        size = chunk[pos + 1]!;
        headerSize = 2;
      }
      this.checkHeader(flags, size);
      if (remaining < headerSize + size) break;
      const bodyStart = pos + headerSize;
      pos = bodyStart + size;
      this.sink.onFrame(flags & ~FLAG_LONG, chunk.subarray(bodyStart, pos));
    }
    return pos;
  }

  /** Completes the item held in `parts` with bytes of `chunk`; returns the chunk offset after it, or -1 if still short. */
  private completePending(chunk: Buffer): number {
    const available = this.partsLength + chunk.length;
    let total: number;
    let headerSize = 0;
    if (!this.greetingDone) {
      total = GREETING_SIZE;
    } else {
      const head = this.peek(chunk, 9);
      const flags = head[0]!;
      if (flags & FLAG_LONG) {
        if (head.length < 9) return this.absorb(chunk);
        headerSize = 9;
        total = 9 + FrameDecoder.readLongSize(head, 1);
        this.checkHeader(flags, total - 9);
      } else {
        if (head.length < 2) return this.absorb(chunk);
        headerSize = 2;
        total = 2 + head[1]!;
        this.checkHeader(flags, total - 2);
      }
    }
    if (available < total) return this.absorb(chunk);
    const take = total - this.partsLength;
    this.parts.push(chunk.subarray(0, take));
    const item = Buffer.concat(this.parts, total);
    this.parts = [];
    this.partsLength = 0;
    if (!this.greetingDone) {
      this.greetingDone = true;
      this.sink.onGreeting(item);
    } else {
      this.sink.onFrame(item[0]! & ~FLAG_LONG, item.subarray(headerSize));
    }
    return take;
  }

  private peek(chunk: Buffer, count: number): Buffer {
    const first = this.parts[0]!;
    if (this.parts.length === 1 && first.length >= count) return first.subarray(0, count);
    const joined = Buffer.concat([...this.parts, chunk.subarray(0, count)]);
    return joined.subarray(0, Math.min(count, joined.length));
  }

  private absorb(chunk: Buffer): number {
    this.parts.push(chunk);
    this.partsLength += chunk.length;
    return -1;
  }
}

// ---- Commands (rfc 23 "command frames") ----

export interface Command {
  name: string;
  data: Buffer;
}

export function encodeCommandBody(name: string, data: Buffer | undefined): Buffer {
  const dataLength = data ? data.length : 0;
  const body = Buffer.allocUnsafe(1 + name.length + dataLength);
  body[0] = name.length;
  body.write(name, 1, "latin1");
  if (data) data.copy(body, 1 + name.length);
  return body;
}

export function parseCommand(body: Buffer): Command {
  if (body.length < 1) throw new ZmtpError("EPROTO", "empty command frame");
  const nameLength = body[0]!;
  if (nameLength === 0 || body.length < 1 + nameLength) throw new ZmtpError("EPROTO", "malformed command name");
  return { name: body.toString("latin1", 1, 1 + nameLength), data: body.subarray(1 + nameLength) };
}

/** Metadata properties as carried by READY / INITIATE (name is case-insensitive on the wire; we keep it as sent). */
export type Metadata = Map<string, Buffer>;

export function encodeMetadata(properties: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  let size = 0;
  for (const [name, value] of properties) size += 1 + name.length + 4 + value.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [name, value] of properties) {
    out[at++] = name.length;
    at += out.write(name, at, "latin1");
    out.writeUInt32BE(value.length, at);
    at += 4;
    at += value.copy(out, at);
  }
  return out;
}

export function parseMetadata(data: Buffer): Metadata {
  const properties: Metadata = new Map();
  let at = 0;
  while (at < data.length) {
    const nameLength = data[at]!;
    if (nameLength === 0 || at + 1 + nameLength + 4 > data.length) throw new ZmtpError("EPROTO", "malformed metadata");
    const name = data.toString("latin1", at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const valueLength = data.readUInt32BE(at);
    at += 4;
    if (at + valueLength > data.length) throw new ZmtpError("EPROTO", "malformed metadata value");
    properties.set(name.toLowerCase(), data.subarray(at, at + valueLength));
    at += valueLength;
  }
  return properties;
}

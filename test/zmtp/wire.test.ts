import { test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import {
  FLAG_COMMAND,
  FLAG_MORE,
  FrameDecoder,
  ZmtpError,
  buildGreeting,
  curveKeyPair,
  curvePublicKey,
  encodeCommandBody,
  encodeFrame,
  parseEndpoint,
  parseGreeting,
  z85Decode,
  z85Encode,
} from "../../src/zmtp/index.js";

interface Captured {
  greeting: Buffer | null;
  frames: Array<{ flags: number; body: string }>;
}

function capture(maxFrameSize = 1 << 20): { decoder: FrameDecoder; out: Captured } {
  const out: Captured = { greeting: null, frames: [] };
  const decoder = new FrameDecoder(
    {
      onGreeting: (greeting) => (out.greeting = Buffer.from(greeting)),
      onFrame: (flags, body) => out.frames.push({ flags, body: body.toString("latin1") }),
    },
    maxFrameSize,
  );
  return { decoder, out };
}

test("z85 matches the rfc 32 test vector and round-trips", () => {
  const bytes = Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
  assert.equal(z85Encode(bytes), "HelloWorld");
  assert.deepEqual(z85Decode("HelloWorld"), bytes);
  assert.throws(() => z85Decode("Hello".slice(0, 4)), ZmtpError);
  assert.throws(() => z85Decode("Hell~"), (e: unknown) => e instanceof ZmtpError && e.code === "EINVAL");
});

test("curve keys: our public-from-secret matches libzmq's key pairs", () => {
  for (let i = 0; i < 3; i++) {
    const pair = zmq.curveKeyPair();
    assert.equal(curvePublicKey(pair.secretKey), pair.publicKey);
  }
  const ours = curveKeyPair();
  assert.equal(ours.publicKey.length, 40);
  assert.equal(curvePublicKey(ours.secretKey), ours.publicKey);
});

test("greeting: ours parses, version and mechanism are read", () => {
  const greeting = buildGreeting("CURVE", true);
  assert.equal(greeting.length, 64);
  assert.deepEqual(parseGreeting(greeting), { major: 3, minor: 1, mechanism: "CURVE", asServer: true });
  const old = Buffer.from(greeting);
  old[10] = 2;
  assert.throws(() => parseGreeting(old), (e: unknown) => e instanceof ZmtpError && e.code === "EPROTO");
});

test("decoder: short, long, MORE and COMMAND frames survive every split point", () => {
  const long = Buffer.alloc(300, 0x61);
  const stream = Buffer.concat([
    buildGreeting("NULL", false),
    encodeFrame(FLAG_COMMAND, encodeCommandBody("READY", Buffer.alloc(0))),
    encodeFrame(FLAG_MORE, Buffer.from("")),
    encodeFrame(FLAG_MORE, long),
    encodeFrame(0, Buffer.from("end")),
  ]);
  const { decoder: whole, out: expected } = capture();
  whole.push(stream);
  assert.equal(expected.frames.length, 4);
  assert.equal(expected.frames[2]!.body.length, 300);
  assert.equal(expected.frames[2]!.flags, FLAG_MORE, "LONG flag is stripped from reported flags");
  for (let split = 1; split < stream.length; split++) {
    for (const second of [split + 1, split + 7, split + 64]) {
      const { decoder, out } = capture();
      decoder.push(stream.subarray(0, split));
      if (second < stream.length) {
        decoder.push(stream.subarray(split, second));
        decoder.push(stream.subarray(second));
      } else {
        decoder.push(stream.subarray(split));
      }
      assert.deepEqual(out, expected, `split at ${split}/${second}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  }
});

test("decoder: paused after every frame, at every split point, it hands out each frame once, in order, only when resumed", () => {
  const stream = Buffer.concat([
    buildGreeting("NULL", false),
    ...Array.from({ length: 12 }, (_, i) => encodeFrame(i % 3 === 0 ? FLAG_MORE : 0, Buffer.alloc(i * 37, 0x41 + i))),
  ]);
  const { decoder: whole, out: expected } = capture();
  whole.push(stream);
  for (let split = 1; split < stream.length; split += 5) {
    const out: Captured = { greeting: null, frames: [] };
    let delivered = 0;
    const decoder: FrameDecoder = new FrameDecoder(
      {
        onGreeting: (greeting) => (out.greeting = Buffer.from(greeting)),
        onFrame: (flags, body) => {
          out.frames.push({ flags, body: body.toString("latin1") });
          delivered++;
          decoder.pause(); // a budget of one frame
        },
      },
      1 << 20,
    );
    decoder.push(stream.subarray(0, split));
    decoder.push(stream.subarray(split)); // may arrive while paused: kept behind what waits
    for (let turn = 0; turn < 100 && (decoder.holding || out.frames.length < expected.frames.length); turn++) {
      const before = delivered;
      decoder.resume();
      assert.ok(delivered - before <= 1, `one frame per resume (split ${split})`);
    }
    assert.deepEqual(out, expected, `split at ${split}`);
    assert.equal(decoder.holding, false);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test("decoder: frames inside one chunk are views, not copies", () => {
  const chunk = Buffer.concat([buildGreeting("NULL", false), encodeFrame(0, Buffer.from("zero-copy"))]);
  let body: Buffer | null = null;
  const decoder = new FrameDecoder({ onGreeting: () => {}, onFrame: (_f, b) => (body = b) }, 1024);
  decoder.push(chunk);
  assert.ok(body);
  assert.equal((body as Buffer).buffer, chunk.buffer);
});

test("decoder: oversize frames fail on their header, before the body is buffered", () => {
  const { decoder } = capture(100);
  decoder.push(buildGreeting("NULL", false));
  const header = Buffer.from([0x02, 0, 0, 0, 0, 0, 0, 0x10, 0]); // long frame of 4096 bytes, no body yet
  assert.throws(() => decoder.push(header), (e: unknown) => e instanceof ZmtpError && e.code === "EMSGSIZE");
});

test("decoder: reserved flag bits and bad signatures are protocol errors", () => {
  const { decoder } = capture();
  decoder.push(buildGreeting("NULL", false));
  assert.throws(() => decoder.push(Buffer.from([0x08, 0])), (e: unknown) => e instanceof ZmtpError && e.code === "EPROTO");
  const { decoder: other } = capture();
  assert.throws(() => other.push(Buffer.from("GET / HTTP/1.1\r\n")), (e: unknown) => e instanceof ZmtpError && e.code === "EPROTO");
});

test("endpoints: tcp v4/v6/wildcard/host names and ipc", () => {
  assert.deepEqual(parseEndpoint("tcp://127.0.0.1:5555"), { transport: "tcp", host: "127.0.0.1", port: 5555, anyHost: false });
  assert.deepEqual(parseEndpoint("tcp://[::1]:*"), { transport: "tcp", host: "::1", port: 0, anyHost: false });
  assert.deepEqual(parseEndpoint("tcp://*:0"), { transport: "tcp", host: "0.0.0.0", port: 0, anyHost: true });
  assert.deepEqual(parseEndpoint("tcp://localhost:1"), { transport: "tcp", host: "localhost", port: 1, anyHost: false });
  assert.deepEqual(parseEndpoint("ipc:///tmp/a.sock"), { transport: "ipc", path: "/tmp/a.sock" });
  for (const bad of ["tcp://host", "udp://1.2.3.4:5", "nonsense", "tcp://h:70000", "ipc://@abstract"]) {
    assert.throws(() => parseEndpoint(bad), (e: unknown) => e instanceof ZmtpError && e.code === "EENDPOINT", bad);
  }
});

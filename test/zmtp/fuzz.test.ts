import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  FLAG_COMMAND,
  FLAG_MORE,
  FrameDecoder,
  ZmtpError,
  ZmtpRequest,
  ZmtpRouter,
  buildGreeting,
  curveKeyPair,
  encodeCommandBody,
  encodeFrame,
} from "../../src/zmtp/index.js";
import { delay, prng, withTimeout } from "./helpers.js";

const SEED = Number(process.env.ZMTP_FUZZ_SEED ?? 20261126);
const ITERATIONS = 3000;
const TIME_BUDGET_MS = 5000;

function randomBytes(random: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

function randomStream(random: () => number): { stream: Buffer; frames: number } {
  const parts: Buffer[] = [buildGreeting(random() < 0.5 ? "NULL" : "CURVE", random() < 0.5)];
  const frames = 1 + Math.floor(random() * 8);
  for (let i = 0; i < frames; i++) {
    const size = random() < 0.2 ? 256 + Math.floor(random() * 2000) : Math.floor(random() * 256);
    const flags = random() < 0.3 ? FLAG_COMMAND : random() < 0.5 ? FLAG_MORE : 0;
    parts.push(encodeFrame(flags, flags === FLAG_COMMAND ? encodeCommandBody("PING", randomBytes(random, 2)) : randomBytes(random, size)));
  }
  return { stream: Buffer.concat(parts), frames };
}

function pushInPieces(decoder: FrameDecoder, stream: Buffer, random: () => number): void {
  let at = 0;
  while (at < stream.length) {
    const size = 1 + Math.floor(random() * (random() < 0.5 ? 16 : 4096));
    decoder.push(stream.subarray(at, at + size));
    at += size;
  }
}

test(`fuzz: frame/greeting parser (seed ${SEED}) — valid streams decode identically, mutated ones fail only with ZmtpError`, () => {
  const random = prng(SEED);
  const started = Date.now();
  let iterations = 0;
  let rejected = 0;
  for (; iterations < ITERATIONS && Date.now() - started < TIME_BUDGET_MS; iterations++) {
    const { stream, frames } = randomStream(random);
    let count = 0;
    const decoder = new FrameDecoder({ onGreeting: () => {}, onFrame: () => count++ }, 1 << 16);
    pushInPieces(decoder, stream, random);
    assert.equal(count, frames, `iteration ${iterations}`);

    const mutated = Buffer.from(stream);
    const mutations = 1 + Math.floor(random() * 4);
    for (let m = 0; m < mutations; m++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    const fuzzed = new FrameDecoder({ onGreeting: () => {}, onFrame: () => {} }, 1 << 12);
    try {
      pushInPieces(fuzzed, random() < 0.2 ? randomBytes(random, 1 + Math.floor(random() * 200)) : mutated, random);
    } catch (error) {
      assert.ok(error instanceof ZmtpError, `iteration ${iterations}: non-ZmtpError ${String(error)}`);
      rejected++;
    }
  }
  assert.ok(iterations > 100, "ran a meaningful number of iterations");
  assert.ok(rejected > 0, "some mutations were rejected");
});

for (const mechanism of ["NULL", "CURVE"] as const) {
  test(`fuzz: garbage connections to a live ${mechanism} router are closed and never disturb a good client (seed ${SEED})`, async () => {
    const random = prng(SEED + (mechanism === "NULL" ? 1 : 2));
    const serverKeys = curveKeyPair();
    const router = new ZmtpRouter({ handshakeTimeoutMs: 300, maxMessageSize: 4096, ...(mechanism === "CURVE" ? { curve: serverKeys } : {}) });
    router.on("message", (peer, frames) => router.send(peer.id, frames));
    let rejected = 0;
    router.on("rejected", () => rejected++);
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const port = Number(endpoint.split(":").pop());
    const client = new ZmtpRequest(mechanism === "CURVE" ? { curve: { ...curveKeyPair(), serverKey: serverKeys.publicKey } } : {});
    client.connect(endpoint);
    try {
      const attackers: Array<Promise<void>> = [];
      for (let i = 0; i < 30; i++) {
        const garbage = attackBytes(random, mechanism);
        attackers.push(
          new Promise<void>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => socket.write(garbage));
            socket.on("error", () => {});
            socket.on("data", () => {});
            socket.on("close", () => resolve());
            setTimeout(() => socket.destroy(), 2000).unref();
          }),
        );
        const reply = await withTimeout(client.request([Buffer.from(`ok ${i}`)]), 3000, "good client request");
        assert.equal(reply[0]!.toString(), `ok ${i}`);
      }
      await withTimeout(Promise.all(attackers), 5000, "attackers closed");
      assert.ok(rejected > 0);
      assert.equal(router.peers().length, 1, "only the good client remains");
    } finally {
      await client.close();
      await router.close();
      await delay(0);
    }
  });
}

/** Random junk, truncated/mutated valid streams, or (for CURVE) well-framed handshake commands with random contents. */
function attackBytes(random: () => number, mechanism: "NULL" | "CURVE"): Buffer {
  const choice = random();
  if (choice < 0.3) return randomBytes(random, 1 + Math.floor(random() * 300));
  if (mechanism === "CURVE" && choice < 0.7) {
    const names = ["HELLO", "INITIATE", "READY", "MESSAGE", "ERROR"];
    const name = names[Math.floor(random() * names.length)]!;
    const size = name === "HELLO" ? 194 : Math.floor(random() * 400);
    return Buffer.concat([buildGreeting("CURVE", false), encodeFrame(FLAG_COMMAND, encodeCommandBody(name, randomBytes(random, size)))]);
  }
  const { stream } = randomStream(random);
  const garbage = Buffer.from(stream.subarray(0, 1 + Math.floor(random() * stream.length)));
  const at = Math.floor(random() * garbage.length);
  garbage[at] = garbage[at]! ^ 0xff;
  return garbage;
}

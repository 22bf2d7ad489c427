// CURVE's per-message crypto: libsodium (sodium-native) and the tweetnacl fallback are interchangeable on the
// wire, a tampered box fails on both, and a CURVE conversation works with either side on either crypto.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ZmtpDealer, ZmtpRouter, curveCrypto, curveKeyPair, selectCurveCrypto } from "../../src/zmtp/index.js";
import { MAC_BYTES, loadSodiumBox, tweetnaclBox, type SecretBox } from "../../src/zmtp/secretbox.js";
import { nextEvent } from "./helpers.js";

const sodium = loadSodiumBox();

function seal(box: SecretBox, plain: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  const out = Buffer.alloc(plain.length + MAC_BYTES);
  box.sealInto(out, plain, nonce, key);
  return out;
}

describe("CURVE crypto backends", () => {
  after(() => selectCurveCrypto("native"));

  test("libsodium loads here (sodium-native ships its prebuilt binary) and is the default", () => {
    assert.equal(sodium.box?.name, "libsodium", sodium.reason);
    assert.equal(curveCrypto().name, "libsodium");
  });

  test("both seal to identical bytes and open each other's boxes, for sizes around block boundaries", () => {
    const native = sodium.box!;
    for (const size of [0, 1, 15, 16, 63, 64, 65, 200, 4096, 100_003]) {
      const key = randomBytes(32);
      const nonce = randomBytes(24);
      const plain = randomBytes(size);
      const a = seal(native, plain, nonce, key);
      const b = seal(tweetnaclBox, plain, nonce, key);
      assert.ok(a.equals(b), `same box for ${size} bytes`);
      for (const [opener, box] of [[native, b], [tweetnaclBox, a]] as const) {
        const out = Buffer.alloc(size);
        assert.equal(opener.openInto(out, box, nonce, key), true);
        assert.ok(out.equals(plain));
      }
    }
  });

  test("a flipped bit fails authentication on both", () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const box = seal(tweetnaclBox, Buffer.from("send_order"), nonce, key);
    box[box.length - 1]! ^= 1;
    for (const opener of [sodium.box!, tweetnaclBox]) assert.equal(opener.openInto(Buffer.alloc(box.length - MAC_BYTES), box, nonce, key), false);
  });

  for (const crypto of ["js", "native"] as const) {
    test(`a CURVE round trip on ${crypto === "js" ? "the tweetnacl fallback" : "libsodium"}`, async () => {
      assert.equal(selectCurveCrypto(crypto), crypto === "js" ? "tweetnacl" : "libsodium");
      const server = curveKeyPair();
      const client = curveKeyPair();
      const router = new ZmtpRouter({ curve: server });
      router.on("message", (peer, frames) => router.send(peer.id, frames));
      const dealer = new ZmtpDealer({ curve: { ...client, serverKey: server.publicKey } });
      try {
        dealer.connect(await router.bind("tcp://127.0.0.1:0"));
        const reply = nextEvent<[Buffer[]]>(dealer, "message");
        dealer.send([Buffer.from("ping"), Buffer.alloc(5000, 1)]);
        const [frames] = await reply;
        assert.equal(frames[0]!.toString(), "ping");
        assert.equal(frames[1]!.length, 5000);
      } finally {
        await dealer.close();
        await router.close();
      }
    });
  }
});

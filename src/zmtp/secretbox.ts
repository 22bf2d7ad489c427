// The per-message crypto of CURVE (crypto_secretbox: XSalsa20-Poly1305), native when it can be.
//
// libsodium through sodium-native (prebuilt binaries ship inside the npm package, no compiler needed) costs about a
// tenth of tweetnacl's pure JS per box. When the binding cannot load (an unsupported platform, a bundler that drops
// native files) tweetnacl takes over: the same bytes on the wire, only slower. The handshake's key agreement
// (crypto_box_beforenm) stays on tweetnacl: sodium-native does not expose it, and it runs a few times per
// connection, not per message.
//
// RPCSERVICE_CURVE_CRYPTO=js forces the pure-JS path (benchmarks compare both in one run; tests prove both).
import { createRequire } from "node:module";
import nacl from "tweetnacl";

/** XSalsa20-Poly1305 with a 16-byte tag before the ciphertext (NaCl's and libsodium's "easy" layout). */
export interface SecretBox {
  readonly name: "libsodium" | "tweetnacl";
  /** Writes tag + ciphertext of `plain` into `out` (exactly plain.length + 16 bytes). */
  sealInto(out: Uint8Array, plain: Uint8Array, nonce: Uint8Array, key: Uint8Array): void;
  /** Writes the plaintext of `box` into `out` (box.length - 16 bytes); false if the box does not authenticate. */
  openInto(out: Uint8Array, box: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean;
}

export const MAC_BYTES = 16;

interface SodiumBinding {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
}

export const tweetnaclBox: SecretBox = {
  name: "tweetnacl",
  sealInto(out, plain, nonce, key) {
    out.set(nacl.secretbox(plain, nonce, key));
  },
  openInto(out, box, nonce, key) {
    const plain = nacl.secretbox.open(box, nonce, key);
    if (!plain) return false;
    out.set(plain);
    return true;
  },
};

function sodiumBox(sodium: SodiumBinding): SecretBox {
  return {
    name: "libsodium",
    sealInto: (out, plain, nonce, key) => sodium.crypto_secretbox_easy(out, plain, nonce, key),
    openInto: (out, box, nonce, key) => sodium.crypto_secretbox_open_easy(out, box, nonce, key),
  };
}

/** libsodium's box when sodium-native loads and passes a known-answer check, else null (and why). */
export function loadSodiumBox(): { box: SecretBox | null; reason?: string } {
  try {
    const sodium = createRequire(import.meta.url)("sodium-native") as SodiumBinding;
    const box = sodiumBox(sodium);
    // A binding that loads but computes something else must never reach the wire: compare with tweetnacl once.
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(24).fill(3);
    const plain = new Uint8Array([1, 2, 3, 4, 5]);
    const native = new Uint8Array(plain.length + MAC_BYTES);
    box.sealInto(native, plain, nonce, key);
    const reference = nacl.secretbox(plain, nonce, key);
    if (Buffer.compare(Buffer.from(native), Buffer.from(reference)) !== 0) return { box: null, reason: "sodium-native disagrees with tweetnacl" };
    return { box };
  } catch (error) {
    return { box: null, reason: (error as Error).message };
  }
}

function choose(): { box: SecretBox; fallbackReason?: string } {
  if (process.env["RPCSERVICE_CURVE_CRYPTO"] === "js") return { box: tweetnaclBox, fallbackReason: "RPCSERVICE_CURVE_CRYPTO=js" };
  const native = loadSodiumBox();
  return native.box ? { box: native.box } : { box: tweetnaclBox, fallbackReason: native.reason ?? "unknown" };
}

let chosen = choose();

/** The box every CURVE connection of this process uses (a live binding: see selectCurveCrypto). */
export let secretBox: SecretBox = chosen.box;

/** Which crypto CURVE runs on, and why not libsodium when it does not. */
export function curveCrypto(): { name: SecretBox["name"]; fallbackReason?: string } {
  return { name: chosen.box.name, ...(chosen.fallbackReason ? { fallbackReason: chosen.fallbackReason } : {}) };
}

/**
 * Switches this process's CURVE crypto (benchmarks compare both in one run): "js" always works; "native" only when
 * libsodium loads. Returns the crypto now in use. Both produce the same bytes, so open connections carry on.
 */
export function selectCurveCrypto(wanted: "native" | "js"): SecretBox["name"] {
  if (wanted === "js") chosen = { box: tweetnaclBox, fallbackReason: "selected" };
  else {
    const native = loadSodiumBox();
    if (native.box) chosen = { box: native.box };
  }
  secretBox = chosen.box;
  return secretBox.name;
}

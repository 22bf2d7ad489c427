/**
 * Stateless randomness: every random number of the venue is a hash of (seed, contract, time or index).
 *
 * No generator state means the market at an instant does not depend on what was asked before, so history bars,
 * live ticks and a restarted process all see the same prices.
 */

/** The murmur3 finalizer: a fast 32-bit avalanche mix. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO_32 = 4_294_967_296;

/** Hashes a key with up to three integers; `index` may exceed 32 bits (tick indexes do). */
export function hashOf(key: number, stream: number, index: number, salt = 0): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / TWO_32) >>> 0;
  let h = mix32(key ^ Math.imul(stream + 1, 0x9e3779b1));
  h = mix32(h ^ lo);
  h = mix32(h ^ Math.imul(hi + 0x632be5ab, 0x85ebca77));
  return salt === 0 ? h : mix32(h ^ Math.imul(salt, 0x27d4eb2f));
}

/** A hash as a number in [0, 1). */
export function unitOf(hash: number): number {
  return hash / TWO_32;
}

/** FNV-1a of a string, to key a contract by its vt_symbol. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The key of one contract's streams under one seed. */
export function contractKey(seed: number, vt_symbol: string): number {
  return mix32(hashString(vt_symbol) ^ mix32(Math.imul(seed | 0, 0x2545f491) ^ Math.floor(seed / TWO_32)));
}

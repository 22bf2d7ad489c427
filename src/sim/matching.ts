/**
 * Matching against the simulated book. Orders trade with the market, never with each other; what an order
 * takes is removed from the book, so a second order in the same tick walks further, and the next tick's book is
 * fresh liquidity.
 */
import { Direction } from "../kernel/index.js";
import type { Book, BookLevel } from "./model.js";

export interface Fill {
  readonly price: number;
  readonly volume: number;
}

/** Volumes below this are treated as zero (volumes are floats on the wire). */
const VOLUME_EPSILON = 1e-9;

/** The side an order of `direction` trades against: a buy lifts asks, a sell hits bids. */
function oppositeSide(book: Book, direction: Direction): BookLevel[] {
  return direction === Direction.LONG ? book.asks : book.bids;
}

/** Whether a level's price is acceptable to an order with `limit` (null: any price, a market order). */
function within(level: BookLevel, direction: Direction, limit: number | null, tolerance: number): boolean {
  if (limit === null) return true;
  return direction === Direction.LONG ? level.price <= limit + tolerance : level.price >= limit - tolerance;
}

/** Volume available to an aggressive order up to `limit` (FOK needs all of it before taking any). */
export function availableVolume(book: Book, direction: Direction, limit: number | null, tolerance: number): number {
  let total = 0;
  for (const level of oppositeSide(book, direction)) {
    if (!within(level, direction, limit, tolerance)) break;
    total += level.volume;
  }
  return total;
}

/**
 * An aggressive order: walks the opposite side best level first, at each level's price, while the price is
 * within `limit`, until `volume` is done or the side is exhausted. Consumes what it takes.
 */
export function takeLiquidity(book: Book, direction: Direction, volume: number, limit: number | null, tolerance: number): Fill[] {
  const side = oppositeSide(book, direction);
  const fills: Fill[] = [];
  let remaining = volume;
  while (remaining > VOLUME_EPSILON && side.length > 0 && within(side[0]!, direction, limit, tolerance)) {
    const level = side[0]!;
    const taken = Math.min(level.volume, remaining);
    fills.push({ price: level.price, volume: taken });
    remaining -= taken;
    level.volume -= taken;
    if (level.volume <= VOLUME_EPSILON) side.shift();
  }
  return fills;
}

/**
 * A resting order reached by the market: it trades at its own price (the market came to it), as much as the
 * opposite levels at or through that price hold. Consumes what it takes; returns the volume filled.
 */
export function crossResting(book: Book, direction: Direction, price: number, volume: number, tolerance: number): number {
  const side = oppositeSide(book, direction);
  let remaining = volume;
  while (remaining > VOLUME_EPSILON && side.length > 0 && within(side[0]!, direction, price, tolerance)) {
    const level = side[0]!;
    const taken = Math.min(level.volume, remaining);
    remaining -= taken;
    level.volume -= taken;
    if (level.volume <= VOLUME_EPSILON) side.shift();
  }
  return volume - remaining;
}

/** The worst price a market order of `volume` would reach (for the funds check), or null if the side is empty. */
export function worstPriceFor(book: Book, direction: Direction, volume: number): number | null {
  let remaining = volume;
  let worst: number | null = null;
  for (const level of oppositeSide(book, direction)) {
    worst = level.price;
    remaining -= level.volume;
    if (remaining <= VOLUME_EPSILON) break;
  }
  return worst;
}

export function isZeroVolume(volume: number): boolean {
  return volume <= VOLUME_EPSILON;
}

/** A deep copy, so a caller's book is never consumed behind its back. */
export function copyBook(book: Book): Book {
  return {
    bids: book.bids.map((l) => ({ price: l.price, volume: l.volume })),
    asks: book.asks.map((l) => ({ price: l.price, volume: l.volume })),
  };
}

/**
 * The price path of a contract: a random walk indexed by time, not by step.
 *
 * log(price) is a sum of octaves of value noise (knots every 15 s, 30 s, 60 s, ... ~1 year, each linearly
 * interpolated, amplitude ∝ √period). Increments over any horizon between 15 s and months then have a variance
 * proportional to the horizon, like Brownian motion, yet the value at any instant is a pure function of
 * (seed, contract, time): live ticks, history bars and a restarted process all see the same path. Each octave
 * keeps its last pair of knots, so walking forward in time costs a few hashes per sample.
 */
import { hashOf, unitOf } from "./random.js";

/** Spacing of the finest knots; bars sample the path on this grid. */
export const KNOT_MS = 15_000;
const OCTAVES = 22; // 15 s · 2^21 ≈ 364 days
const SQRT12 = Math.sqrt(12);
const TRADING_DAYS_PER_YEAR = 252;
/**
 * Scales the octave sum so that a one-day log return has a standard deviation of exactly 1 (× the daily
 * volatility). Measured once over 200,000 random day-long increments (test/sim/path.test.ts re-measures it).
 */
const DAY_CALIBRATION = 0.4994;

/**
 * Octaves from this one up are evaluated together: they are all linear between two knots of this octave (their
 * knots are a subset of its knots), so their sum is interpolated from its values at those two knots.
 */
const SPLIT_OCTAVE = 4; // knots every 4 minutes

/** Knot spacing of each octave, its inverse, and its amplitude for a daily σ of 1: the same for every path. */
const PERIOD_MS = Float64Array.from({ length: OCTAVES }, (_, j) => KNOT_MS * 2 ** j);
const PER_MS = PERIOD_MS.map((period) => 1 / period);
const UNIT_AMPLITUDE = PERIOD_MS.map((period) => DAY_CALIBRATION * Math.sqrt(period / 86_400_000));

export class LogPath {
  private readonly dailySigma: number;
  private readonly finest: number;
  private readonly finestCoarse: number;
  /** Per octave: index of the cached knot pair, then its left and right values (one array: paths are many). */
  private readonly cache = new Float64Array(3 * OCTAVES).fill(Number.NaN);
  private coarseKnot = Number.NaN;
  private coarseLeft = 0;
  private coarseRight = 0;

  /**
   * @param key contract key (seed and vt_symbol hashed)
   * @param annualVolatility σ of yearly log returns; each calendar day carries one trading day's variance
   * @param finestOctave leave out octaves below this one: a path without texture under 15 s · 2^finestOctave
   */
  constructor(
    private readonly key: number,
    annualVolatility: number,
    finestOctave = 0,
  ) {
    this.dailySigma = annualVolatility / Math.sqrt(TRADING_DAYS_PER_YEAR);
    this.finest = Math.min(finestOctave, SPLIT_OCTAVE);
    this.finestCoarse = Math.max(finestOctave, SPLIT_OCTAVE);
  }

  /** log(price / reference) at an instant (epoch ms). */
  at(epochMs: number): number {
    let sum = 0;
    for (let j = this.finest; j < SPLIT_OCTAVE; j++) sum += this.octave(j, epochMs);
    const u = epochMs * PER_MS[SPLIT_OCTAVE]!;
    const i = Math.floor(u);
    if (i !== this.coarseKnot) {
      const period = PERIOD_MS[SPLIT_OCTAVE]!;
      this.coarseLeft = i === this.coarseKnot + 1 ? this.coarseRight : this.coarseAt(i * period);
      this.coarseRight = this.coarseAt((i + 1) * period);
      this.coarseKnot = i;
    }
    return this.dailySigma * (sum + this.coarseLeft + (this.coarseRight - this.coarseLeft) * (u - i));
  }

  private coarseAt(epochMs: number): number {
    let sum = 0;
    for (let j = this.finestCoarse; j < OCTAVES; j++) sum += this.octave(j, epochMs);
    return sum;
  }

  /** Octave `j` at an instant, for a daily σ of 1. */
  private octave(j: number, epochMs: number): number {
    const u = epochMs * PER_MS[j]!;
    const i = Math.floor(u);
    const cache = this.cache;
    const at = 3 * j;
    if (i !== cache[at]) {
      // Moving forward by one knot (the usual case) reuses the right knot as the new left one.
      cache[at + 1] = i === cache[at]! + 1 ? cache[at + 2]! : this.knotValue(j, i);
      cache[at + 2] = this.knotValue(j, i + 1);
      cache[at] = i;
    }
    const left = cache[at + 1]!;
    return UNIT_AMPLITUDE[j]! * (left + (cache[at + 2]! - left) * (u - i));
  }

  /** A unit-variance uniform value for knot `i` of octave `j`. */
  private knotValue(j: number, i: number): number {
    return (unitOf(hashOf(this.key, j, i)) - 0.5) * SQRT12;
  }
}

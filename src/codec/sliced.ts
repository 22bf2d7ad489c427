/**
 * The pickle encoder in slices: the same bytes as encodePickle, written a list item a step in a SliceScheduler's
 * turns (kernel/slices.ts: about 1 ms a turn, shared with the other heavy work). A reply of thousands of bars (one
 * history query) then never holds every other client up for the whole encode.
 *
 * It drives its own Pickler (encoder.ts) step by step: the memo and the frames carry over between slices exactly as
 * in one call, and other encodes in between use the shared pickler. Plain lists are walked here (that is where a
 * large value's length is), BarSeries a bar at a time; every other value, list items included, is written whole by
 * the Pickler. The value must not change until the promise settles (a handler's fresh result, not a live table).
 */
import { BATCH_SIZE, Op } from "./opcodes.js";
import { DEFAULT_MAX_DEPTH, Pickler } from "./encoder.js";
import { HINTS, Tuple, type Hinted } from "./values.js";
import { BarSeries, heavyWork, type SliceScheduler } from "../kernel/index.js";

export interface SlicedEncodeOptions {
  /** Whose slices (default: the process's heavyWork, shared with history queries; a SliceScheduler(0): a step a turn). */
  slices?: SliceScheduler;
  /** Zeroed bytes before the pickle, for the caller's header (EncodeOptions.headroom). */
  headroom?: number;
}

/** A reply whose lists are all shorter than this is encoded in one go: nothing to gain from slices. */
const LONG_LIST = 64;

/** Plain lists of 2 items or more are walked here (1 item is APPEND, not a batch: the Pickler writes those). */
function walked(value: unknown): value is unknown[] {
  return Array.isArray(value) && !(value instanceof Tuple) && value.length >= 2 && (value as Hinted)[HINTS] === undefined;
}

/** Writes `value`, yielding (undefined) after each item of a walked list. Mirrors the Pickler's saveList. */
function* save(pickler: Pickler, value: unknown): Generator<void, void, void> {
  if (!walked(value)) {
    if (value instanceof BarSeries && value.length >= 2) yield* saveSeries(pickler, value);
    else pickler.saveValue(value);
    return;
  }
  if (pickler.openList(value)) return;
  const n = value.length;
  let i = 0;
  do {
    pickler.op(Op.MARK);
    const stop = Math.min(n, i + BATCH_SIZE);
    for (; i < stop; i++) {
      yield* save(pickler, value[i]);
      yield;
    }
    pickler.op(Op.APPENDS);
  } while (i < n);
  pickler.closeList();
}

/**
 * A series as the list of BarData it stands for, a bar a step, through one reused BarData (BarSeries.fill): no object
 * per bar outlives its step, and the memo keeps none of them (each bar's datetime is forgotten once written).
 */
function* saveSeries(pickler: Pickler, series: BarSeries): Generator<void, void, void> {
  if (pickler.openList(series)) return;
  const n = series.length;
  const bar = series.at(0);
  let i = 0;
  do {
    pickler.op(Op.MARK);
    const stop = Math.min(n, i + BATCH_SIZE);
    for (; i < stop; i++) {
      series.fill(bar, i);
      pickler.saveTransient(bar);
      pickler.forget(bar.datetime);
      yield;
    }
    pickler.op(Op.APPENDS);
  } while (i < n);
  pickler.closeList();
}

function isLong(value: unknown): boolean {
  return value instanceof BarSeries ? value.length >= LONG_LIST : walked(value) && value.length >= LONG_LIST;
}

/** Whether `value` is, or directly holds, a long plain list or bar series: what is worth encoding in slices. */
export function worthSlicing(value: unknown): boolean {
  if (isLong(value)) return true;
  return walked(value) && value.length <= 8 && value.some(isLong);
}

function* encodeSteps(value: unknown, headroom: number): Generator<void, Buffer, void> {
  const pickler = new Pickler();
  pickler.begin(4, DEFAULT_MAX_DEPTH);
  try {
    yield* save(pickler, value);
    return pickler.finish(headroom);
  } finally {
    pickler.release();
  }
}

/** encodePickle(value) (protocol 4), a list item a step in the shared heavy-work slices. */
export function encodePickleSliced(value: unknown, options: SlicedEncodeOptions = {}): Promise<Buffer> {
  return (options.slices ?? heavyWork).run(encodeSteps(value, options.headroom ?? 0));
}

/** encodeReply(ok, value) in slices: `[ok, value]`. */
export function encodeReplySliced(ok: boolean, value: unknown, options?: SlicedEncodeOptions): Promise<Buffer> {
  if (!ok && typeof value !== "string") return Promise.reject(new TypeError("a failed reply carries the traceback text"));
  return encodePickleSliced([ok, value], options);
}

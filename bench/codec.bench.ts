/**
 * Codec speed on the payloads that matter: a call and its reply as every request carries them (`send_order`,
 * fixtures req_send_order and rep_send_order), a tick event as every broadcast carries it
 * (`['', Event('eTick.', TickData)]`, fixture pub_tick) and a `[True, get_all_contracts()]` reply of 1,000
 * contracts (fixture rep_get_all_contracts_1000). Baseline, same run, same objects: JSON.stringify / JSON.parse.
 * ops/s counts every operation in the row's time, collections included; p50 and p99 are single operations.
 * For the tick, also the re-labelling that writes its `eTick.<vt_symbol>` twin from the encoded frame, and the same tick
 * made in JS as a gateway makes it (a decoded one carries hints, which keep it on the encoder's generic path).
 * Third payload, a history reply: a day of minute bars (1,439) as the RPC service sends them, from a BarSeries
 * (columns, encoded through one reused BarData), against the list of BarData built from it and encoded.
 *
 *   node dist/bench/codec.bench.js [seconds per row, default 2]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { vnpyWireDir } from "../test/fixtures/paths.js";
import { BarSeries, CHINA_TZ, DateTime, Event, Exchange, Interval, TickData, type TickDataInit, decodePickle, encodePickle } from "../src/index.js";
import { retypePublishedEvent } from "../src/codec/index.js";

const secondsPerRow = Number(process.argv[2] ?? 2);
if (!(secondsPerRow > 0 && secondsPerRow <= 20)) throw new RangeError("seconds per row must be in (0, 20]");

interface Row {
  payload: string;
  what: string;
  bytes: number;
  p50: number;
  p99: number;
  opsPerSecond: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Times `op` one call at a time for about `seconds`, after a warm-up; latencies in µs. */
function measure(payload: string, what: string, bytes: number, op: () => unknown): Row {
  const warmUntil = performance.now() + Math.min(500, secondsPerRow * 250);
  while (performance.now() < warmUntil) op();
  gc?.();
  const samples: number[] = [];
  const end = performance.now() + secondsPerRow * 1000;
  const started = process.hrtime.bigint();
  let sink: unknown;
  while (performance.now() < end && samples.length < 5_000_000) {
    const t0 = process.hrtime.bigint();
    sink = op();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink === undefined) throw new Error("nothing measured");
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { payload, what, bytes, p50: at(0.5), p99: at(0.99), opsPerSecond: samples.length / elapsed };
}

/** The same data as a JSON wire would carry it: datetimes as ISO strings, rendered once beforehand. */
function jsonReady(value: unknown): unknown {
  if (value instanceof DateTime) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonReady);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonReady(v);
    return out;
  }
  return value;
}

const dir = vnpyWireDir;
const rows: Row[] = [];
const payloads = [
  ["send_order call", "req_send_order.pkl"],
  ["send_order reply", "rep_send_order.pkl"],
  ["tick event", "pub_tick.pkl"],
  ["1,000 contracts", "rep_get_all_contracts_1000.pkl"],
] as const;
for (const [payload, file] of payloads) {
  const pickled = readFileSync(join(dir, file));
  const value = decodePickle(pickled, { mode: "event" });
  const json = JSON.stringify(value);
  const plain = jsonReady(value);
  const plainJson = JSON.stringify(plain);
  rows.push(measure(payload, "pickle encode", pickled.length, () => encodePickle(value)));
  if (payload === "tick event") {
    // What the server does for the eTick.<vt_symbol> twin instead of a second encode (codec/messages.ts).
    const ours = encodePickle(value);
    const twin = `eTick.${(value as [string, { data: { vt_symbol: string } }])[1].data.vt_symbol}`;
    if (!retypePublishedEvent(ours, twin)) throw new Error("the tick frame was not retyped");
    rows.push(measure(payload, "retype to its eTick.<vt_symbol> twin", ours.length, () => retypePublishedEvent(ours, twin)));
  }
  rows.push(measure(payload, "pickle decode", pickled.length, () => decodePickle(pickled, { mode: "event" })));
  rows.push(measure(payload, "JSON.stringify (baseline)", json.length, () => JSON.stringify(value)));
  rows.push(measure(payload, "JSON.parse (baseline)", json.length, () => JSON.parse(json)));
  rows.push(measure(payload, "JSON.stringify, dates pre-rendered", plainJson.length, () => JSON.stringify(plain)));
}

// The tick as our server publishes it: made in JS by a gateway, so it carries no hints from a decode (integral floats
// go out as ints) and the encoder writes its fields through the layout it keeps per class. Same values as pub_tick.
const fixtureTick = (decodePickle(readFileSync(join(dir, "pub_tick.pkl")), { mode: "event" }) as [string, Event<TickData>])[1].data;
const madeTick = new TickData(Object.fromEntries(Object.entries(fixtureTick)) as unknown as TickDataInit);
if (Object.getOwnPropertySymbols(madeTick).length > 0) throw new Error("the made tick carries hints");
const madeEvent = ["", new Event("eTick.", madeTick)];
const madeBytes = encodePickle(madeEvent).length;
rows.push(measure("tick, made in JS", "pickle encode", madeBytes, () => encodePickle(madeEvent)));
rows.push(measure("tick, made in JS", "JSON.stringify (baseline)", JSON.stringify(madeEvent).length, () => JSON.stringify(madeEvent)));
// Decoded alone, and in turn with the same tick carrying `extra` (a gateway that sets it on some ticks only): each
// decode then makes its instance in the other shape's keys, and reshapes it when the state says otherwise.
const madeFrame = encodePickle(madeEvent);
const withExtra = Object.assign(new TickData(madeTick as unknown as TickDataInit), { extra: { seq: 1 } });
const otherFrame = encodePickle(["", new Event("eTick.", withExtra)]);
rows.push(measure("tick, made in JS", "pickle decode", madeFrame.length, () => decodePickle(madeFrame, { mode: "event" })));
let turn = 0;
rows.push(measure("tick, made in JS", "decode, 2 shapes in turn", madeFrame.length, () => decodePickle(turn++ & 1 ? otherFrame : madeFrame, { mode: "event" })));
// The same two ticks, each ahead of the 1,000 contracts in one frame: a reshape of one class leaves the other
// classes' objects of the frame on their compiled path.
const contracts = (decodePickle(readFileSync(join(dir, "rep_get_all_contracts_1000.pkl")), { mode: "event" }) as [boolean, unknown[]])[1];
const behindMade = encodePickle([madeTick, contracts]);
const behindOther = encodePickle([withExtra, contracts]);
rows.push(measure("1,000 contracts", "decode behind ticks of 2 shapes in turn", behindMade.length, () => decodePickle(turn++ & 1 ? behindOther : behindMade, { mode: "event" })));

// A day of minute bars, as the simulated venue's history query produces them.
const day = new BarSeries({ gateway_name: "SIM", symbol: "rb2701", exchange: Exchange.SHFE, interval: Interval.MINUTE, zone: CHINA_TZ }, 1439);
const nineAm = Date.UTC(2026, 0, 5, 9) * 1000; // wall clock, microseconds
for (let i = 0; i < 1439; i++) {
  const price = 3500 + (i % 97) - (i % 13) * 0.5;
  day.push(nineAm + i * 60_000_000, price, price + 2, price - 1.5, price + 1, i % 50, price * (i % 50) * 10, 1000 + i);
}
const dayBytes = encodePickle([true, day]);
if (!dayBytes.equals(encodePickle([true, day.toArray()]))) throw new Error("series and list encode differently");
rows.push(measure("1,439 bars", "pickle encode, BarSeries", dayBytes.length, () => encodePickle([true, day])));
rows.push(measure("1,439 bars", "build BarData list + encode", dayBytes.length, () => encodePickle([true, day.toArray()])));

const fmt = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`);
console.log(`codec: ${secondsPerRow} s per row, node ${process.version}, one call at a time\n`);
console.log(["payload".padEnd(16), "operation".padEnd(35), "bytes".padStart(8), "p50".padStart(10), "p99".padStart(10), "ops/s".padStart(10), "MB/s".padStart(8)].join(" "));
for (const r of rows) {
  console.log([
    r.payload.padEnd(16),
    r.what.padEnd(35),
    String(r.bytes).padStart(8),
    fmt(r.p50).padStart(10),
    fmt(r.p99).padStart(10),
    Math.round(r.opsPerSecond).toLocaleString("en-US").padStart(10),
    ((r.opsPerSecond * r.bytes) / 1e6).toFixed(1).padStart(8),
  ].join(" "));
}
console.log("\nJSON.stringify of the kernel objects calls DateTime.toJSON (zone offsets through Intl); the last row of");
console.log("each payload stringifies the same data with datetimes already rendered. JSON.parse yields plain objects");
console.log("(no DateTime, enum or class instances), the pickle decoder the kernel's own objects.");

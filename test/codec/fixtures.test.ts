/**
 * Every frame captured from real Python VeighNa decodes to the value its JSON describes, pickles back to the
 * same value, and (where CPython's own re-pickle is byte-identical) to the very same bytes.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { decodePickle, encodePickle, type DecodeMode } from "../../src/index.js";
import { fixturesDir, loadFixtures, py313Dir, toTyped } from "./helpers.js";

const captured = loadFixtures(fixturesDir);
const py313 = loadFixtures(py313Dir);
const index = JSON.parse(readFileSync(join(fixturesDir, "index.json"), "utf8")) as {
  fixtures: { name: string; repickle_protocol4_identical?: boolean }[];
};
const identical = new Set(index.fixtures.filter((f) => f.repickle_protocol4_identical).map((f) => f.name));

/** Requests come from clients (strict); everything else from a server (lenient). */
function modeOf(name: string): DecodeMode {
  return name.startsWith("req_") ? "request" : "event";
}

describe("captured VeighNa frames", () => {
  it("covers every fixture listed in index.json", () => {
    assert.deepEqual(captured.map((f) => f.name).sort(), index.fixtures.map((f) => f.name).sort());
    assert.ok(captured.length >= 36);
  });

  for (const fixture of [...captured, ...py313]) {
    const label = fixture.dir === py313Dir ? `py310-313/${fixture.name}` : fixture.name;

    it(`${label} decodes to its typed JSON value`, () => {
      const value = decodePickle(fixture.bytes, { mode: modeOf(fixture.name) });
      assert.deepEqual(toTyped(value), fixture.meta.value);
    });

    it(`${label} survives decode -> encode -> decode`, () => {
      const value = decodePickle(fixture.bytes, { mode: modeOf(fixture.name) });
      const again = decodePickle(encodePickle(value), { mode: modeOf(fixture.name) });
      assert.deepEqual(toTyped(again), fixture.meta.value);
    });
  }

  for (const fixture of captured.filter((f) => identical.has(f.name))) {
    it(`${fixture.name} re-pickles to the captured bytes exactly`, () => {
      const value = decodePickle(fixture.bytes, { mode: modeOf(fixture.name) });
      assert.equal(encodePickle(value).toString("hex"), fixture.bytes.toString("hex"));
    });
  }

  it("re-pickles exactly whatever was decoded before (the string cache never decides identity)", () => {
    const big = captured.find((f) => f.name === "rep_get_all_contracts_1000")!;
    for (let round = 0; round < 3; round++) {
      // Churn the decoder's short-string cache with thousands of other strings first.
      const noise = Array.from({ length: 5000 }, (_, i) => `n${round}_${i}`);
      decodePickle(encodePickle(noise), { mode: "event" });
      assert.ok(encodePickle(decodePickle(big.bytes, { mode: "event" })).equals(big.bytes));
    }
  });

  it("re-pickles even rep_all_enums exactly, which CPython itself does not", () => {
    const fixture = captured.find((f) => f.name === "rep_all_enums")!;
    assert.ok(encodePickle(decodePickle(fixture.bytes, { mode: "event" })).equals(fixture.bytes));
  });

  it("writes enums by name: a by-value (CPython 3.12+) frame re-pickles to the by-name (3.11.2) capture", () => {
    const byName = new Map(captured.map((f) => [f.name, f.bytes]));
    for (const fixture of py313) {
      if (fixture.name === "pub_bench_tick") continue; // carries the capture time: the two runs differ
      const value = decodePickle(fixture.bytes, { mode: modeOf(fixture.name) });
      assert.ok(encodePickle(value).equals(byName.get(fixture.name)!), fixture.name);
    }
  });

  it("decodes protocol 5 frames (CPython 3.14's default), which differ only in the PROTO byte", () => {
    for (const fixture of captured) {
      const p5 = Buffer.from(fixture.bytes);
      assert.equal(p5[1], 4);
      p5[1] = 5;
      const value = decodePickle(p5, { mode: modeOf(fixture.name) });
      assert.deepEqual(toTyped(value), fixture.meta.value, fixture.name);
      const encoded = encodePickle(value, { protocol: 5 });
      if (identical.has(fixture.name)) assert.ok(encoded.equals(p5), fixture.name);
    }
  });
});

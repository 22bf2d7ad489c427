/**
 * Fuzzing (seeded, bounded in count and time): mutated fixtures, random opcode programs and random bytes.
 * The decoder only ever returns a value or throws its typed error; it never resolves a global outside the
 * allow-list; and whatever it returns pickles again (or fails with the encoder's typed error).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALLOWED_GLOBALS,
  PickleDecodeError,
  PickleEncodeError,
  PickleSecurityError,
  decodePickle,
  encodePickle,
  type DecodeMode,
} from "../../src/index.js";
import { OP, loadFixtures, prng, str } from "./helpers.js";

const CASES = 20_000;
const TIME_BUDGET_MS = 10_000;
const allowed = new Set(ALLOWED_GLOBALS);
const fixtures = loadFixtures().filter((f) => f.bytes.length < 5_000);

/** Is `module.name` allow-listed, directly or as a member of an allow-listed enum ("Direction.LONG")? */
function isAllowed(module: string, name: string): boolean {
  if (allowed.has(`${module}.${name}`)) return true;
  const dot = name.indexOf(".");
  return dot > 0 && module === "vnpy.trader.constant" && allowed.has(`${module}.${name.slice(0, dot)}`);
}

const GLOBAL_NAMES: [string, string][] = [
  ["os", "system"], ["builtins", "eval"], ["builtins", "getattr"], ["datetime", "datetime"], ["zoneinfo", "ZoneInfo"],
  ["vnpy.trader.object", "TickData"], ["vnpy.trader.constant", "Direction"], ["vnpy.event.engine", "Event"],
  ["collections", "OrderedDict"], ["subprocess", "Popen"], ["builtins", "__import__"], ["vnpy.trader.constant", "Direction.LONG"],
];

/** Bytes that mean something to the decoder: opcodes with plausible arguments. */
function randomProgram(rand: () => number): Buffer {
  const parts: Buffer[] = [Buffer.from([OP.PROTO, 2 + Math.floor(rand() * 4)])];
  const n = 1 + Math.floor(rand() * 40);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.15) {
      const [module, name] = GLOBAL_NAMES[Math.floor(rand() * GLOBAL_NAMES.length)]!;
      parts.push(str(module), str(name), Buffer.from([OP.STACK_GLOBAL]));
    } else if (r < 0.3) {
      parts.push(str(["LONG", "_unpickle", "Asia/Shanghai", "__proto__", "x", "多"][Math.floor(rand() * 6)]!));
    } else if (r < 0.4) {
      parts.push(Buffer.from([OP.BININT1, Math.floor(rand() * 256)]));
    } else if (r < 0.45) {
      parts.push(Buffer.from([OP.SHORT_BINBYTES, 10, 7, 232, 12, 31, 9, 30, 15, 1, 226, 64]));
    } else if (r < 0.55) {
      parts.push(Buffer.from([[OP.BINGET, OP.BINPUT][Math.floor(rand() * 2)]!, Math.floor(rand() * 8)]));
    } else {
      const ops = [OP.MARK, OP.NONE, OP.NEWTRUE, OP.EMPTY_LIST, OP.EMPTY_DICT, OP.EMPTY_TUPLE, OP.EMPTY_SET, OP.TUPLE1, OP.TUPLE2,
        OP.TUPLE3, OP.TUPLE, OP.APPEND, OP.APPENDS, OP.SETITEM, OP.SETITEMS, OP.ADDITEMS, OP.REDUCE, OP.NEWOBJ, OP.BUILD,
        OP.MEMOIZE, OP.POP, OP.DUP, 0x91 /* FROZENSET */, 0x6c /* LIST */, 0x64 /* DICT */, 0x31 /* POP_MARK */];
      parts.push(Buffer.from([ops[Math.floor(rand() * ops.length)]!]));
    }
  }
  parts.push(Buffer.from([OP.STOP]));
  return Buffer.concat(parts);
}

function mutate(rand: () => number, source: Buffer): Buffer {
  const bytes = Buffer.from(source);
  switch (Math.floor(rand() * 6)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      return bytes;
    case 1: // truncate
      return bytes.subarray(0, Math.floor(rand() * bytes.length));
    case 2: { // delete a range
      const at = Math.floor(rand() * bytes.length);
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + Math.floor(rand() * 16)))]);
    }
    case 3: { // duplicate a range
      const at = Math.floor(rand() * bytes.length);
      const end = Math.min(bytes.length, at + 1 + Math.floor(rand() * 32));
      return Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
    }
    case 4: { // splice another fixture in
      const other = fixtures[Math.floor(rand() * fixtures.length)]!.bytes;
      const at = Math.floor(rand() * bytes.length);
      const from = Math.floor(rand() * other.length);
      return Buffer.concat([bytes.subarray(0, at), other.subarray(from, from + Math.floor(rand() * 64))]);
    }
    default: { // random bytes after a valid header
      const noise = Buffer.alloc(1 + Math.floor(rand() * 64));
      for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rand() * 256);
      return Buffer.concat([bytes.subarray(0, 11), noise]);
    }
  }
}

describe("fuzzing the decoder", () => {
  it(`returns a value or a typed error for ${CASES} hostile inputs, resolving only allow-listed globals`, () => {
    const rand = prng(0xc0dec);
    const started = Date.now();
    const counts = { values: 0, errors: 0, security: 0, reencoded: 0 };
    let run = 0;
    for (; run < CASES && Date.now() - started < TIME_BUDGET_MS; run++) {
      const r = rand();
      const input = r < 0.6 ? mutate(rand, fixtures[Math.floor(rand() * fixtures.length)]!.bytes) : randomProgram(rand);
      const mode: DecodeMode = rand() < 0.5 ? "request" : "event";
      const seen: { module: string; name: string; allowed: boolean }[] = [];
      let value: unknown;
      try {
        value = decodePickle(input, { mode, onGlobal: (module, name, ok) => seen.push({ module, name, allowed: ok }) });
      } catch (error) {
        if (!(error instanceof PickleDecodeError)) assert.fail(`case ${run} (${input.toString("hex")}): ${String(error)}`);
        counts.errors++;
        if (error instanceof PickleSecurityError) counts.security++;
        continue;
      } finally {
        for (const g of seen) {
          assert.equal(g.allowed, isAllowed(g.module, g.name), `case ${run}: ${g.module}.${g.name} resolved as ${g.allowed}`);
        }
      }
      counts.values++;
      if (mode === "request") assert.ok(seen.every((g) => g.allowed), `case ${run}: a refused global did not stop a request`);
      try {
        const again = encodePickle(value);
        decodePickle(again, { mode: "event" });
        counts.reencoded++;
      } catch (error) {
        if (!(error instanceof PickleEncodeError)) assert.fail(`case ${run} (${input.toString("hex")}) re-encoding: ${String(error)}`);
      }
    }
    assert.ok(run >= Math.min(CASES, 2_000), `only ${run} cases ran within the time budget`);
    assert.ok(counts.values > 100 && counts.errors > 100 && counts.security > 0, JSON.stringify(counts));
  });
});

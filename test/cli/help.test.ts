/** Help texts name contracts the simulated exchange lists today, whatever the date. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultUniverse } from "../../src/sim/index.js";
import { exampleFuture } from "../../src/cli/examples.js";
import { cli } from "./helpers.js";

test("client --help examples name only contracts of today's built-in universe", async () => {
  const help = await cli(["client", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  const listed = new Set(defaultUniverse(Date.now(), 1).map((spec) => `${spec.symbol}.${spec.exchange}`));
  const named = [...help.stdout.matchAll(/\b([A-Za-z]+\d{3,4})\.(SHFE|INE|DCE|CZCE|CFFEX|SSE|SZSE)\b/g)].map((m) => m[0]);
  assert.ok(named.length >= 5, help.stdout);
  for (const vt_symbol of named) assert.ok(listed.has(vt_symbol), `${vt_symbol} is not listed today`);
});

test("the example future rolls with the date: a year from now it is still a listed month", () => {
  const later = Date.now() + 365 * 86_400_000;
  const { vt_symbol } = exampleFuture(later);
  assert.ok(defaultUniverse(later, 1).some((spec) => `${spec.symbol}.${spec.exchange}` === vt_symbol), vt_symbol);
  assert.match(vt_symbol, /^rb\d{4}\.SHFE$/);
});

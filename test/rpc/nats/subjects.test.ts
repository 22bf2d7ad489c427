/** Subject tokens: any vt_symbol or event type becomes one NATS token, and comes back unchanged. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeToken, eventSubject, parseEventSubject, unescapeToken } from "../../../src/rpc/index.js";

test("escaping makes one safe subject token of any name and is reversible", () => {
  const names = ["rb2701.SHFE", "eTick.", "eLog", "", "%", "a b*c>d", "IO2701-C-4000.CFFEX", "螺纹钢.SHFE", "~$x\t\n", "a%2Eb"];
  for (const name of names) {
    const token = escapeToken(name);
    assert.match(token, /^[A-Za-z0-9_%-]+$/, `token of ${JSON.stringify(name)}`);
    assert.equal(unescapeToken(token), name);
  }
  assert.equal(escapeToken("rb2701.SHFE"), "rb2701%2ESHFE");
  assert.equal(escapeToken("rb2701"), "rb2701");
  // Two names never share a token.
  assert.equal(new Set(names.map(escapeToken)).size, names.length);
});

test("an event subject names the server, the type and the symbol, and parses back", () => {
  const subject = eventSubject("alpha", "eTick.", "rb2701.SHFE");
  assert.equal(subject, "rpcservice.alpha.event.eTick%2E.rb2701%2ESHFE");
  assert.deepEqual(parseEventSubject("alpha", subject), { type: "eTick.", vtSymbol: "rb2701.SHFE" });
  assert.deepEqual(parseEventSubject("alpha", eventSubject("alpha", "eLog")), { type: "eLog", vtSymbol: undefined });
  assert.equal(parseEventSubject("beta", subject), null);
});

test("a malformed token is refused, not misread", () => {
  for (const bad of ["a%2", "a%zz", "a.b", "a*"]) assert.throws(() => unescapeToken(bad), RangeError);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { LogLimiter, LOG_MESSAGE_MAX_CHARS, boundLogMessage, untrusted } from "../../src/kernel/index.js";

test("untrusted text cannot forge a log line: newlines, escapes and bidi overrides become visible escapes", () => {
  assert.equal(untrusted("send_order\n2026-01-01 INFO forged"), "send_order\\n2026-01-01 INFO forged");
  assert.equal(untrusted("a\r\tb\u001b[31mc\u0000\u2028d\u202e"), "a\\r\\tb\\x1b[31mc\\x00\\u2028d\\u202e");
  assert.equal(untrusted("plain ascii and 中文 stay as they are"), "plain ascii and 中文 stay as they are");
  assert.equal(untrusted(42), "42");
});

test("untrusted text is cut with its original length, and a whole log message has a bound", () => {
  const long = "x".repeat(900_000);
  const cut = untrusted(long);
  assert.equal(cut, `${"x".repeat(200)}… (900000 chars)`);
  assert.equal(untrusted("y".repeat(10), 4), "yyyy… (10 chars)");
  const bounded = boundLogMessage(`header ${long}`);
  assert.ok(bounded.length < LOG_MESSAGE_MAX_CHARS + 40, `${bounded.length}`);
  assert.match(bounded, /… \(900007 chars\)$/);
});

test("refusal lines are limited per kind and per remote address, and the next line says how many were left out", () => {
  let now = 1_000;
  const limiter = new LogLimiter({ windowMs: 60_000, now: () => now });
  const lines: string[] = [];
  const write = (kind: string, address: string, text: string) => limiter.write(kind, address, () => text, (line) => lines.push(line));

  // Varying text from one address (a new mechanism name, a new key each time) is still one kind.
  for (let i = 0; i < 500; i++) write("refused-auth", `10.0.0.1:${40_000 + i}`, `key ${i} refused`);
  assert.deepEqual(lines, ["key 0 refused"]);
  write("refused-auth", "10.0.0.2:1", "another address");
  write("unknown-function", "10.0.0.1:5", "another kind");
  write("refused-auth", "[::1]:7", "ipv6 one");
  write("refused-auth", "[::1]:8", "ipv6 two");
  assert.deepEqual(lines.slice(1), ["another address", "another kind", "ipv6 one"]);

  now += 60_000;
  write("refused-auth", "10.0.0.1:1", "after the window");
  assert.equal(lines.at(-1), "after the window (… 499 more suppressed)");
});

test("the limiter remembers a bounded number of addresses", () => {
  const limiter = new LogLimiter({ maxKeys: 10 });
  let written = 0;
  for (let i = 0; i < 1_000; i++) limiter.write("refused", `10.0.${i >> 8}.${i & 255}:1`, () => "x", () => written++);
  assert.equal(written, 1_000, "every new address gets its line");
  assert.equal(limiter.check("refused", "10.0.3.231:1").log, false, "a recent one is still limited");
});

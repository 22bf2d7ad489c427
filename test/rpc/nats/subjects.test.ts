/** Subject tokens: any vt_symbol or event type becomes one NATS token, and comes back unchanged. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { escapeToken, eventSubject, inboxPrefixFor, parseEventSubject, unescapeToken } from "../../../src/rpc/index.js";
import { credsUserName, natsConnectionOptions } from "../../../src/rpc/nats/connection.js";

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

test("each user's replies come under its own inbox prefix: its login's name or its credentials' JWT name, escaped into one token", () => {
  assert.equal(inboxPrefixFor("alice"), "_INBOX.alice");
  assert.equal(inboxPrefixFor("a.b"), "_INBOX.a%2Eb");
  assert.equal(natsConnectionOptions({ servers: ["nats://127.0.0.1:4222"], user: "alice", pass: "x" }, "t").inboxPrefix, "_INBOX.alice");
  assert.equal(natsConnectionOptions({ servers: ["nats://127.0.0.1:4222"], user: "alice", inboxPrefix: "_I.a" }, "t").inboxPrefix, "_I.a");
  assert.equal(natsConnectionOptions({ servers: ["nats://127.0.0.1:4222"], token: "t" }, "t").inboxPrefix, undefined);
  assert.throws(() => natsConnectionOptions({ servers: ["nats://127.0.0.1:4222"], inboxPrefix: "_INBOX.>" }, "t"), RangeError);
  // A credentials file as nsc writes it (the JWT's signature does not matter to reading its name).
  const payload = Buffer.from(JSON.stringify({ name: "bob", sub: "UABC", nats: { type: "user" } })).toString("base64url");
  const creds = [
    "-----BEGIN NATS USER JWT-----",
    `eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.${payload}.c2ln`,
    "------END NATS USER JWT------",
    "",
    "************************* IMPORTANT *************************",
    "",
    "-----BEGIN USER NKEY SEED-----",
    "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4",
    "------END USER NKEY SEED------",
    "",
  ].join("\n");
  assert.equal(credsUserName(creds), "bob");
  assert.equal(credsUserName("not a creds file"), undefined);
  const dir = mkdtempSync(join(tmpdir(), "rpcservice-creds-"));
  try {
    writeFileSync(join(dir, "bob.creds"), creds);
    assert.equal(natsConnectionOptions({ servers: ["nats://127.0.0.1:4222"], credsFile: join(dir, "bob.creds") }, "t").inboxPrefix, "_INBOX.bob");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The command line of roles and the audit trail: keys authorize --role / list / revoke, console add-user printing
 * its token once, and `audit` reading what they (and a server) recorded, filtered by identity and time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AUTHORIZED_CLIENTS_FILE, CONSOLE_USERS_FILE, ConsoleUsers, readAuthorizedClientEntries } from "../../src/service/index.js";
import { curveKeyPair, isCurveKey } from "../../src/zmtp/index.js";
import { parseSince } from "../../src/cli/audit-command.js";
import { tempDir } from "../service/helpers.js";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The standard output of a command that must succeed; a failure shows its exit code and standard error. */
async function succeeds(args: string[]): Promise<string> {
  const result = await cli(args);
  assert.equal(result.code, 0, `rpcservice ${args.join(" ")} exited ${result.code}: ${result.stderr || "(no stderr)"}`);
  return result.stdout;
}

test("keys authorize --role, list and revoke keep the allow-list readable by older versions and audit each change", async () => {
  const home = tempDir("rpc-cli-keys-");
  const alice = curveKeyPair().publicKey;
  const bob = curveKeyPair().publicKey;
  assert.match((await succeeds(["keys", "authorize", alice, "--name", "alice", "--role", "viewer", "--home", home])), /authorized .* \(alice\) as viewer/);
  assert.match((await succeeds(["keys", "authorize", bob, "--name", "bob", "--home", home])), /as trader/, "no role: a trader");
  const bad = await cli(["keys", "authorize", bob, "--role", "root", "--home", home]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /root.*(viewer, trader, admin|choices)/i);
  // Promote alice: her line is rewritten, her name kept.
  assert.match((await succeeds(["keys", "authorize", alice, "--role", "admin", "--home", home])), /\(alice\) as admin/);
  const text = readFileSync(join(home, AUTHORIZED_CLIENTS_FILE), "utf8");
  assert.match(text, new RegExp(`^${alice.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} alice role=admin$`, "m"));
  assert.match(text, new RegExp(`^${bob.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} bob$`, "m"), "a trader's line stays in the old format");

  const listed = JSON.parse((await succeeds(["keys", "list", "--json", "--home", home]))) as { name: string; role: string }[];
  assert.deepEqual(listed.map((e) => `${e.name}:${e.role}`), ["alice:admin", "bob:trader"]);
  assert.match((await succeeds(["keys", "revoke", "bob", "--home", home])), /revoked .* \(bob\)/);
  assert.deepEqual(readAuthorizedClientEntries(join(home, AUTHORIZED_CLIENTS_FILE))?.map((e) => e.name), ["alice"]);
  const missing = await cli(["keys", "revoke", "bob", "--home", home]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no key named "bob"/);

  const audit = (await succeeds(["audit", "--json", "--home", home])).trim().split("\n").map((line) => JSON.parse(line) as { action: string; args: string; endpoint: string; identity: string });
  assert.deepEqual(audit.map((row) => row.action), ["keys.authorize", "keys.authorize", "keys.authorize", "keys.revoke"]);
  assert.ok(audit.every((row) => row.endpoint === "cli" && row.identity.startsWith("cli:")));
  assert.match(audit[2]!.args, /"role":"admin"/);
});

test("keys authorize and revoke take a public key that starts with '-' (one key in 85 does), as an operand or after --", async () => {
  const home = tempDir("rpc-cli-dash-");
  // The first is the key CI generated when commander read it as an unknown option; '-' is a Z85 character.
  const dash = "-tE]V(kM=I8Xn32Y4Z74*=?OQpt?iP[/K@CN9RjJ";
  const dashDash = "--E]V(kM=I8Xn32Y4Z74*=?OQpt?iP[/K@CN9RjJ";
  assert.ok(isCurveKey(dash) && isCurveKey(dashDash));
  assert.match(await succeeds(["keys", "authorize", dash, "--name", "dash", "--home", home]), /authorized .* \(dash\) as trader/);
  assert.match(await succeeds(["keys", "authorize", "--home", home, "--name", "-odd-name", dashDash, "--role", "viewer"]), /\(-odd-name\) as viewer/, "an option's value may start with '-' too");
  assert.match(await succeeds(["keys", "authorize", "--home", home, "--", dash]), /already authorized .* as trader/);
  assert.deepEqual(readAuthorizedClientEntries(join(home, AUTHORIZED_CLIENTS_FILE))?.map((e) => `${e.publicKey} ${e.name}`), [`${dash} dash`, `${dashDash} -odd-name`]);
  assert.match(await succeeds(["keys", "revoke", dashDash, "--home", home]), /revoked .* \(-odd-name\)/);
  const longName = "abcdefghijklmnopqrstuvwxyzABCDEFG"; // --name=<it> is 40 Z85 characters, and still an option
  assert.ok(isCurveKey(`--name=${longName}`));
  assert.match(await succeeds(["keys", "authorize", dash, `--name=${longName}`, "--home", home]), new RegExp(`\\(${longName}\\)`));
  const unknown = await cli(["keys", "authorize", dash, "--nmae", "x", "--home", home]);
  assert.equal(unknown.code, 1, "a mistyped option is still refused");
  assert.match(unknown.stderr, /unknown option '--nmae'/);
});

test("console add-user prints a token once, keeps only its hash, and refuses a second user of that name", async () => {
  const home = tempDir("rpc-cli-users-");
  const added = await cli(["console", "add-user", "carol", "--role", "trader", "--home", home]);
  assert.equal(added.code, 0, added.stderr);
  const token = added.stdout.trim();
  assert.match(token, /^[\w-]{40,}$/);
  assert.ok(!readFileSync(join(home, CONSOLE_USERS_FILE), "utf8").includes(token), "the token itself is not stored");
  const users = new ConsoleUsers(home);
  try {
    assert.deepEqual(users.authenticate(token) && { name: users.authenticate(token)!.name, role: users.authenticate(token)!.role }, { name: "carol", role: "trader" });
    assert.equal(users.authenticate("guess"), undefined);
  } finally {
    users.close();
  }
  const again = await cli(["console", "add-user", "carol", "--role", "admin", "--home", home]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists/);
  assert.notEqual((await cli(["console", "add-user", "dave", "--home", home])).code, 0, "--role is required");
  assert.match((await succeeds(["console", "users", "--home", home])), /carol {2}trader/);
  const rows = (await cli(["audit", "--identity", "nobody", "--home", home]));
  assert.equal(rows.stdout, "");
  assert.match((await succeeds(["audit", "--since", "1h", "--home", home])), /console\.add_user \{"name":"carol","role":"trader"\}/);
});

test("audit --since takes an ISO time or an age", () => {
  const now = Date.parse("2026-12-04T12:00:00Z");
  assert.equal(parseSince("15m", now), now - 15 * 60_000);
  assert.equal(parseSince("2h", now), now - 7_200_000);
  assert.equal(parseSince("2026-12-04T11:00:00Z", now), now - 3_600_000);
  assert.throws(() => parseSince("yesterday-ish", now), /expected a time/);
});

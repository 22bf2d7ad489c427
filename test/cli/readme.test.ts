/**
 * The README's first CLI session, run line by line as a user would type it in the clone's folder (bash, `npx
 * rpcservice`), so the README cannot drift from the command. The only change: the server gets addresses of
 * the test's own (ipc paths, a free console port) and the clients are pointed at them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../fixtures/paths.js";
import { MAIN, tempHome } from "./helpers.js";

const MARKER = "<!-- cli-session: run by test/cli/readme.test.ts -->";

/** The command lines of the ```sh block after the marker, without their comments. */
function sessionLines(readme: string): string[] {
  const at = readme.indexOf(MARKER);
  assert.ok(at >= 0, `README.md has no ${MARKER}`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, "no ```sh block after the marker");
  return block[1]!
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "");
}

/** `npx rpcservice` is the built command of this checkout (npx would find the same bin in a clone). */
const PRELUDE = `npx() { if [ "$1" = rpcservice ]; then shift; exec node "$RPCSERVICE_MAIN" "$@"; fi; echo "unexpected: npx $*" >&2; exit 127; }\n`;

/** What some of the session's commands must show, beyond succeeding. */
const EXPECTED: [RegExp, RegExp][] = [
  [/rpcservice status/, /RPC service: running/],
  [/'contracts rb'/, /^rb\d{4}\.SHFE /m],
  [/'buy 600036\.SSE market 100'/, /^sent +RPC\.\S+ 600036\.SSE Long Open Market 100@market/m],
  [/'positions'/, /^pos +600036\.SSE Long 100 .* avg \d/m],
  [/risk state REDUCING/, /trading state: REDUCING/],
  [/rpc start/, /RPC service started/],
];

interface Run {
  code: number | null;
  output: string;
}

function bash(line: string, cwd: string, onOutput?: (text: string) => void): { done: Promise<Run>; kill(signal: NodeJS.Signals): void } {
  const child = spawn("bash", ["-c", PRELUDE + line], { cwd, env: { ...process.env, RPCSERVICE_MAIN: MAIN } });
  let output = "";
  const add = (chunk: Buffer) => {
    output += chunk.toString();
    onOutput?.(output);
  };
  child.stdout.on("data", add);
  child.stderr.on("data", add);
  const done = new Promise<Run>((resolve) => child.on("exit", (code) => resolve({ code, output })));
  return { done, kill: (signal) => child.exitCode === null && child.kill(signal) };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no end within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test("the README's command-line session runs as written", async () => {
  const lines = sessionLines(readFileSync(join(repoRoot, "README.md"), "utf8"));
  assert.match(lines[0]!, /^npx rpcservice serve .*&$/, "the session starts the server in the background");
  const temp = tempHome("rpcservice-readme-");
  const rep = `ipc://${join(temp.dir, "rep.sock")}`;
  const pub = `ipc://${join(temp.dir, "pub.sock")}`;
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  const server = bash(`${lines[0]!.replace(/&$/, "")} --rep ${rep} --pub ${pub} --console-port 0`, temp.dir, (out) => {
    if (/console: http:\/\//.test(out)) ready();
  });
  try {
    await within(Promise.race([listening, server.done.then((run) => assert.fail(`serve exited:\n${run.output}`))]), 30_000, lines[0]!);
    for (const line of lines.slice(1)) {
      const command = /rpcservice client\b/.test(line) ? `${line} --req ${rep} --sub ${pub}` : line;
      const run = await within(bash(command, temp.dir).done, 60_000, line);
      assert.equal(run.code, 0, `${line}\n${run.output}`);
      assert.doesNotMatch(run.output, /^error: |^\s+at .+:\d+:\d+\)?$/m, `${line}\n${run.output}`);
      for (const [when, shows] of EXPECTED) if (when.test(line)) assert.match(run.output, shows, `${line}\n${run.output}`);
    }
    server.kill("SIGTERM");
    assert.equal((await within(server.done, 20_000, "serve stop")).code, 0);
  } finally {
    server.kill("SIGKILL");
    temp.remove();
  }
});

/** `rpcservice serve` as a real process, steered by the other subcommands, stopped by SIGTERM. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const run = promisify(execFile);

class ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  output = "";

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [MAIN, "serve", ...args]);
    this.child.stdout.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Resolves with the first match of `pattern` in the output, waiting at most `ms`. */
  async waitFor(pattern: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in the server output:\n${this.output}`);
      if (this.child.exitCode !== null) throw new Error(`server exited (${this.child.exitCode}):\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  exited(ms = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not exit within ${ms} ms:\n${this.output}`)), ms);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [MAIN, ...args], { timeout: 20_000 });
  return stdout;
}

test("serve runs the simulated exchange, RPC service and console; status, risk and rpc commands steer it; SIGTERM stops it", async () => {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-serve-"));
  const rep = `ipc://${join(home, "rep.sock")}`;
  const pub = `ipc://${join(home, "pub.sock")}`;
  const server = new ServerProcess(["--home", home, "--rep", rep, "--pub", pub, "--console-port", "0", "--ticks-per-second", "5"]);
  try {
    await server.waitFor(/RPC service started successfully/);
    const [, consoleUrl] = await server.waitFor(/console: (http:\/\/127\.0\.0\.1:\d+)\//);
    const connection = ["--console", consoleUrl!, "--home", home];

    const status = await cli("status", ...connection);
    assert.match(status, /RPC service: running/);
    assert.ok(status.includes(rep) && status.includes(pub), status);
    assert.match(status, /trading state: ACTIVE/);
    // The figures /metrics serves: the process, the gateway, and the calls (status's own rpc_status among them).
    assert.match(status, /process: cpu \d+ %/);
    assert.match(status, /gateways: SIM connected/);
    assert.match(status, /rpc_status @console/);

    const changed = await cli("risk", "set", "order_size", "order_volume_limit=7", ...connection);
    assert.match(changed, /order_volume_limit = 7/);
    const saved = JSON.parse(readFileSync(join(home, "risk_manager_setting.json"), "utf8")) as Record<string, Record<string, unknown>>;
    assert.equal(saved["order_size"]?.["order_volume_limit"], 7);

    assert.match(await cli("risk", "state", "halted", ...connection), /trading state: HALTED/);
    assert.match(await cli("rpc", "stop", ...connection), /RPC service stopped/);
    await server.waitFor(/INFO +RpcService +RPC service stopped/);
    assert.match(await cli("rpc", "start", ...connection), /RPC service started/);

    const settings = JSON.parse(readFileSync(join(home, "rpc_service_setting.json"), "utf8")) as Record<string, string>;
    assert.equal(settings["rep_address"], rep);
    assert.equal(settings["pub_address"], pub);

    server.child.kill("SIGTERM");
    assert.equal(await server.exited(), 0);
  } finally {
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
  }
});

test("serve refuses an unknown transport with a clear message", async () => {
  await assert.rejects(cli("serve", "--transport", "carrier-pigeon"), (error: Error & { stderr?: string }) => {
    assert.match(error.stderr ?? "", /carrier-pigeon.*invalid|Allowed choices/is);
    return true;
  });
});

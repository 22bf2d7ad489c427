/**
 * The README's TypeScript example is examples/trade.ts, word for word, and that file runs: against a real server
 * it waits for the snapshot, sends its order and exits; against a dead address it says why and exits non-zero.
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../fixtures/paths.js";
import { RpcClient } from "../../src/rpc/index.js";
import type { OrderData } from "../../src/kernel/index.js";
import { startServerProcess, tempDir } from "./helpers.js";

const run = promisify(execFile);
const EXAMPLE_SOURCE = join(repoRoot, "examples", "trade.ts");
const EXAMPLE = join(repoRoot, "dist", "examples", "trade.js");

async function runExample(req: string, sub: string): Promise<{ code: number; stdout: string; stderr: string }> {
  // A folder of its own: MainEngine keeps its home (.rpcservice) in the working directory.
  const cwd = tempDir("rpc-example-");
  try {
    const { stdout, stderr } = await run(process.execPath, [EXAMPLE, req, sub], { cwd, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string; killed?: boolean };
    assert.ok(!failed.killed, "the example must exit by itself");
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("the README example (examples/trade.ts)", () => {
  it("is in the README word for word", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    const source = readFileSync(EXAMPLE_SOURCE, "utf8");
    assert.ok(readme.includes("```ts\n" + source + "```\n"), "README's TypeScript example differs from examples/trade.ts");
  });

  const home = tempDir("rpc-example-server-");
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  after(async () => {
    await server?.process.stop("SIGKILL");
  });

  it("waits for the snapshot, sends an order the server then holds, and exits", async () => {
    server = await startServerProcess("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", home, "zmtp");
    const result = await runExample(server.info.rep, server.info.pub);
    assert.equal(result.code, 0, result.stderr);
    const match = /^sent RPC\.(\S+)$/m.exec(result.stdout);
    assert.ok(match, `stdout: ${result.stdout}`);
    const probe = new RpcClient({ reqAddress: server.info.rep, subAddress: server.info.pub, timeout: 10_000 });
    probe.start();
    try {
      await probe.waitConnected(10_000);
      const orders = await probe.call<OrderData[]>("get_all_orders");
      assert.ok(orders.some((o) => o.orderid === match[1]), `server orders: ${orders.map((o) => o.vt_orderid).join(", ")}`);
    } finally {
      await probe.close();
    }
  });

  it("reports a server that never answers and exits non-zero", async () => {
    const dead = join(tempDir("rpc-example-dead-"), "nobody");
    const result = await runExample(`ipc://${dead}.rep`, `ipc://${dead}.pub`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /failed: not synced with ipc:\/\/.* within 10000 ms \((disconnected|connecting)/);
  });
});

/**
 * The commands on a NATS bus, as real processes: `serve --nats --nats-name` serves calls and events on a
 * nats-server, `status` shows the JetStream stream, `client --nats --server` trades through it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ContractData, Product, SubscribeRequest, type TickData } from "../../src/kernel/index.js";
import { NatsRpcClient } from "../../src/rpc/index.js";
import { restingBuyPrice, until } from "../service/helpers.js";
import { natsSkip, startNatsCluster, type NatsCluster } from "../rpc/nats/nats-cluster.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const run = promisify(execFile);

describe("commands on a NATS bus", { skip: natsSkip }, () => {
  let cluster: NatsCluster;
  let server: ChildProcessWithoutNullStreams;
  let output = "";
  let home: string;
  let consoleUrl = "";

  before(async () => {
    cluster = await startNatsCluster(1);
    home = mkdtempSync(join(tmpdir(), "rpcservice-nats-cli-"));
    server = spawn(process.execPath, [
      MAIN, "serve", "--home", home, "--rep", "tcp://127.0.0.1:0", "--pub", "tcp://127.0.0.1:0", "--console-port", "0",
      "--ticks-per-second", "20", "--nats", cluster.urls.join(","), "--nats-name", "desk1",
    ]);
    server.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await until(() => /NATS: serving as desk1/.test(output) && /console: \S+/.test(output), 30_000, `serve on NATS (${output})`);
    consoleUrl = /console: (http:\/\/[^\s?]+)/.exec(output)![1]!.replace(/\/$/, "");
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGKILL");
      await exited;
    }
    await cluster?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test("serve saves the NATS settings and status shows the stream", async () => {
    const setting = JSON.parse(readFileSync(join(home, "rpc_service_setting.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(setting["nats_servers"], cluster.urls);
    assert.equal(setting["nats_name"], "desk1");
    const { stdout } = await run(process.execPath, [MAIN, "status", "--console", consoleUrl, "--home", home], { timeout: 20_000 });
    assert.match(stdout, /nats {11}desk1 on nats:\/\/127\.0\.0\.1:\d+ \(connected to 127\.0\.0\.1:\d+\)/);
    assert.match(stdout, /stream {9}RPCSERVICE_desk1: \d+ messages/);
  });

  test("client --nats --server trades through the bus", async () => {
    const probe = new NatsRpcClient({ servers: cluster.urls, server: "desk1" });
    let price: number;
    let contract: ContractData;
    try {
      await probe.waitConnected(15_000);
      contract = (await probe.call<ContractData[]>("get_all_contracts")).find((c) => c.product === Product.FUTURES)!;
      await probe.call("subscribe", [new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), contract.gateway_name]);
      let tick: TickData | null = null;
      for (let i = 0; i < 300 && !tick; i++) {
        tick = await probe.call<TickData | null>("get_tick", [contract.vt_symbol]);
        if (!tick) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(tick, "a tick at the server");
      price = restingBuyPrice(tick, contract.pricetick);
    } finally {
      await probe.close();
    }
    const { stdout } = await run(process.execPath, [
      MAIN, "client", "--nats", cluster.urls.join(","), "--server", "desk1", "--no-ticks", "--no-prompt",
      "--subscribe", contract.vt_symbol, "--buy", `${contract.vt_symbol}@${price}x1`, "--exit-after", "4",
    ], { timeout: 30_000 });
    assert.match(stdout, /snapshot: \d+ contracts, 1 accounts/);
    assert.match(stdout, /sent {3}RPC\.\S+/);
    assert.match(stdout, /order {2}RPC\.\S+ .* Not Traded/);
  });
});

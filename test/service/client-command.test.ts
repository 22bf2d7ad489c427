import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { RpcClient } from "../../src/rpc/index.js";
import { Product, type ContractData, type TickData } from "../../src/kernel/index.js";
import { FIXTURES, addressesFor, restingBuyPrice, startServerProcess, tempDir } from "./helpers.js";

test("rpcservice client prints the snapshot, places an order from flags, and exits on time", async () => {
  const home = tempDir("rpc-cli-");
  const { rep, pub } = addressesFor("tcp", home);
  const { process: server, info } = await startServerProcess(rep, pub, home, "zmtp");
  const probe = new RpcClient({ reqAddress: info.rep, subAddress: info.pub });
  try {
    probe.start();
    await probe.waitConnected(5_000);
    const contract = (await probe.call<ContractData[]>("get_all_contracts")).find((c) => c.product === Product.FUTURES)!;
    const tick = await waitTick(probe, contract);
    const price = restingBuyPrice(tick, contract.pricetick);
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(FIXTURES, "cli.js"), "client", "--req", info.rep, "--sub", info.pub, "--no-ticks", "--no-prompt",
      "--subscribe", contract.vt_symbol, "--buy", `${contract.vt_symbol}@${price}x1`, "--exit-after", "3",
    ], { timeout: 20_000 });
    assert.match(stdout, /snapshot: \d+ contracts, 1 accounts/);
    assert.match(stdout, /sent {3}RPC\.\S+/);
    assert.match(stdout, /order {2}RPC\.\S+ .* Not Traded/);
  } finally {
    await probe.close();
    await server.stop("SIGKILL");
  }
});

async function waitTick(client: RpcClient, contract: ContractData): Promise<TickData> {
  const { SubscribeRequest } = await import("../../src/kernel/index.js");
  await client.call("subscribe", [new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), contract.gateway_name]);
  for (let i = 0; i < 200; i++) {
    const tick = await client.call<TickData | null>("get_tick", [contract.vt_symbol]);
    if (tick) return tick;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("no tick");
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CancelRequest,
  Direction,
  EVENT_LOG,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Product,
  type Language,
} from "../../src/kernel/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { RemoteError, RpcClient } from "../../src/rpc/index.js";
import { EVENT_RPC_LOG, RPC_SETTING_FILENAME, RpcServiceApp, type RpcEngine } from "../../src/service/index.js";
import { tempDir, until } from "./helpers.js";

async function serverEngine(language: Language = "en") {
  const mainEngine = new MainEngine({ home: tempDir("rpc-engine-"), language });
  mainEngine.addGateway(SimGateway);
  await mainEngine.connect({ data_dir: ":memory:", ticks_per_second: 5 }, "SIM");
  const engine = mainEngine.addApp(RpcServiceApp) as RpcEngine;
  const rpcLogs: string[] = [];
  const mainLogs: string[] = [];
  mainEngine.eventEngine.register(EVENT_RPC_LOG, (e) => rpcLogs.push(e.data.msg));
  mainEngine.eventEngine.register(EVENT_LOG, (e) => mainLogs.push(e.data.msg));
  return { mainEngine, engine, rpcLogs, mainLogs };
}

test("start, stop and start again in one process, with VeighNa's log lines and a saved setting", async () => {
  const { mainEngine, engine, rpcLogs, mainLogs } = await serverEngine();
  try {
    assert.equal(await engine.stop(), false);
    assert.equal(await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
    assert.equal(await engine.start(), false);
    assert.equal(await engine.stop(), true);
    assert.equal(await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
    assert.ok(engine.isActive);
    mainEngine.eventEngine.flush();
    assert.deepEqual(rpcLogs, [
      "RPC service not started",
      "RPC service started successfully",
      "RPC service is already running",
      "RPC service stopped",
      "RPC service started successfully",
    ]);
    assert.ok(mainLogs.includes("RPC service started successfully"), "also in the main log");
    const saved = JSON.parse(readFileSync(join(mainEngine.home, RPC_SETTING_FILENAME), "utf8"));
    assert.equal(saved.rep_address, "tcp://127.0.0.1:0");
    // A second engine in Chinese, beside this English one: each logs in its own language.
    const zh = await serverEngine("zh");
    try {
      assert.equal(await zh.engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
      assert.equal(await zh.engine.start(), false);
      assert.equal(await engine.start(), false);
      const taken = engine.addresses!.rep;
      assert.equal(await zh.engine.stop(), true);
      assert.equal(await zh.engine.start(taken, "tcp://127.0.0.1:0"), false);
      mainEngine.eventEngine.flush();
      zh.mainEngine.eventEngine.flush();
      assert.ok(zh.rpcLogs.includes("RPC服务运行中"));
      assert.equal(rpcLogs.at(-1), "RPC service is already running");
      assert.ok(!rpcLogs.some((line) => /[\u4e00-\u9fff]/.test(line)), "no Chinese in the English engine's log");
    } finally {
      await zh.mainEngine.close();
    }
  } finally {
    await mainEngine.close();
  }
});

test("cancel_policy \"own\": a client may cancel only the orders it sent", async () => {
  const { mainEngine, engine } = await serverEngine();
  engine.cancelPolicy = "own";
  await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0");
  const { rep, pub } = engine.addresses!;
  const alice = new RpcClient({ reqAddress: rep, subAddress: pub, name: "alice" });
  const bob = new RpcClient({ reqAddress: rep, subAddress: pub, name: "bob" });
  try {
    alice.start();
    bob.start();
    await Promise.all([alice.waitConnected(5_000), bob.waitConnected(5_000)]);
    await until(() => mainEngine.getAllContracts().length > 0);
    const contract = mainEngine.getAllContracts().find((c) => c.product === Product.FUTURES)!;
    const req = new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: contract.pricetick, offset: Offset.OPEN });
    const vt_orderid = await alice.call<string>("send_order", [req, "SIM"]);
    assert.equal(engine.orderOwner(vt_orderid), "alice");
    const orderid = vt_orderid.slice("SIM.".length);
    const cancel = new CancelRequest({ orderid, symbol: contract.symbol, exchange: contract.exchange });
    await assert.rejects(bob.call("cancel_order", [cancel, "SIM"]), (e: unknown) => e instanceof RemoteError && e.remoteType === "PermissionError");
    assert.equal(await alice.call("cancel_order", [cancel, "SIM"]), null);
    assert.deepEqual(engine.clients().map((c) => c.identity).sort(), ["alice", "bob"]);
  } finally {
    await alice.close();
    await bob.close();
    await mainEngine.close();
  }
});

/**
 * A relay and its upstream in one process, in different languages: the relay (Chinese) reaches the upstream
 * (English) through its RpcGateway, and each engine, its gateways and its risk manager write their own language.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Direction, EVENT_LOG, Exchange, MainEngine, Offset, OrderRequest, OrderType, type LogData } from "../../src/kernel/index.js";
import { riskManagerApp } from "../../src/risk/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { EVENT_RPC_LOG, RpcGateway, RpcServiceApp, type RpcEngine } from "../../src/service/index.js";
import { tempDir, until } from "./helpers.js";

const CHINESE = /[\u4e00-\u9fff]/;
/** Requests print as VeighNa's repr, with its Chinese enum values, in either language. */
const withoutRequests = (msg: string) => msg.replace(/\w+Request\([^)]*\)/g, "");

test("a Chinese relay in front of an English upstream: each engine logs in its own language", async () => {
  const upstream = new MainEngine({ home: tempDir("lang-upstream-"), language: "en" });
  const relay = new MainEngine({ home: tempDir("lang-relay-"), language: "zh" });
  const upstreamLogs: LogData[] = [];
  const relayLogs: LogData[] = [];
  upstream.eventEngine.register(EVENT_LOG, (e) => upstreamLogs.push(e.data));
  upstream.eventEngine.register(EVENT_RPC_LOG, (e) => upstreamLogs.push(e.data));
  relay.eventEngine.register(EVENT_LOG, (e) => relayLogs.push(e.data));
  try {
    upstream.addGateway(SimGateway);
    await upstream.connect({ data_dir: ":memory:", ticks_per_second: 1 }, "SIM");
    const rpc = upstream.addApp(RpcServiceApp) as RpcEngine;
    assert.ok(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"));

    const gateway = relay.addGateway(RpcGateway);
    const risk = relay.addApp(riskManagerApp({ rulesFolder: null }));
    await risk.ready;
    await relay.connect({ req_address: rpc.addresses!.rep, sub_address: rpc.addresses!.pub, timeout: 5_000 }, "RPC");
    await gateway.ready(20_000);

    // One order blocked by the relay's risk manager, one that passes it and reaches the upstream's venue.
    const order = (volume: number) =>
      new OrderRequest({ symbol: "600519", exchange: Exchange.SSE, direction: Direction.LONG, offset: Offset.OPEN, type: OrderType.LIMIT, volume, price: 1 });
    const blocked = await relay.placeOrder(order(600), "RPC");
    assert.equal(blocked.block?.code, "VOLUME_LIMIT");
    assert.equal(blocked.block?.msg, `委托数量600超过上限500：${String(order(600))}`);
    await relay.sendOrder(order(100), "RPC");
    await until(() => upstreamLogs.some((log) => log.msg.startsWith("Send order -> SIM: ")), 20_000, "the order at the upstream");
    relay.eventEngine.flush();
    upstream.eventEngine.flush();

    const relayLines = relayLogs.map((log) => log.msg);
    assert.ok(relayLines.includes("服务器连接成功，开始初始化查询"), relayLines.join("\n"));
    assert.ok(relayLines.some((line) => line.startsWith("连接RPC服务器 ")), relayLines.join("\n"));
    assert.ok(relayLines.includes(`委托被拦截，${blocked.block?.msg}`));
    assert.ok(relayLines.includes(`委托下单 -> RPC：${String(order(100))}`));
    const upstreamLines = upstreamLogs.map((log) => log.msg);
    assert.ok(upstreamLines.includes("RPC service started successfully"), upstreamLines.join("\n"));

    assert.deepEqual(upstreamLines.filter((line) => CHINESE.test(withoutRequests(line))), []);
    // Every line the relay's own layers wrote is Chinese (the upstream's log lines it relays are the upstream's).
    const own = relayLogs.filter((log) => log.gateway_name !== "SIM");
    assert.deepEqual(own.filter((log) => !CHINESE.test(log.msg)).map((log) => `${log.gateway_name}: ${log.msg}`), []);
  } finally {
    await relay.close();
    await upstream.close();
  }
});

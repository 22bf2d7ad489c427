/**
 * The relay, end to end with real processes: the stand-in Python VeighNa trading process upstream,
 * `rpcservice serve --no-sim` with an rpc gateway in the middle, a Python VeighNa client and our RpcGateway
 * downstream; then a relay of the relay. Skipped with a message without python3-zmq.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CancelRequest,
  Direction,
  EVENT_GATEWAY_STATE,
  EVENT_LOG,
  EVENT_TICK,
  Exchange,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Status,
  SubscribeRequest,
  type OrderData,
} from "../../src/kernel/index.js";
import { RemoteError, RpcClient, type WsRpcClient } from "../../src/rpc/index.js";
import { EVENT_RPC_CONNECTION, RpcGateway } from "../../src/service/index.js";
import type { GatewayStatus } from "../../src/gateways/index.js";
import { tempDir, until } from "../service/helpers.js";
import { MAIN, PYTHON, PYTHON_DIR, PythonUpstream, STANDINS_DIR, ServeProcess, consoleClient, skipWithoutPython } from "./processes.js";

const SYMBOL = "rb2501";
const VT_SYMBOL = "rb2501.SHFE";

/** Our RpcGateway in this process, named `name`, connected to a server's ipc addresses. */
async function downstream(name: string, rep: string, pub: string): Promise<MainEngine> {
  const engine = new MainEngine({ home: tempDir("relay-down-") });
  engine.addGateway(RpcGateway, name);
  await engine.connect({ req_address: rep, sub_address: pub, client_name: `test-${name}` }, name);
  await until(() => engine.getContract(VT_SYMBOL) !== null, 60_000, `${name}: contracts through the relay`);
  return engine;
}

function order(price: number, volume = 1): OrderRequest {
  return new OrderRequest({ symbol: SYMBOL, exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume, price, offset: Offset.OPEN });
}

describe("a relay in front of a Python VeighNa trading process", { skip: skipWithoutPython }, () => {
  const upstream = new PythonUpstream();
  const home = tempDir("relay-");
  const rep = `ipc://${join(home, "rep.sock")}`;
  const pub = `ipc://${join(home, "pub.sock")}`;
  let relay: ServeProcess;
  let admin: WsRpcClient;
  let down: MainEngine;
  const downLogs: string[] = [];
  /** A direct client of the upstream: what the trading process itself holds. */
  let direct: RpcClient;

  const upstreamCalls = async (): Promise<number> => (await direct.call<Record<string, number>>("test_calls"))["send_order"]!;
  const gateway = async (): Promise<GatewayStatus> => (await admin.call<GatewayStatus[]>("gateway_list")).find((g) => g.name === "RPC")!;

  before(async () => {
    await upstream.start();
    // The file form of the gateway (with a tolerance that notices a killed upstream within seconds), and
    // cancel_policy "own" so ownership across the relay is tested.
    writeFileSync(join(home, "connect_rpc.json"), JSON.stringify({
      kind: "rpc",
      name: "RPC",
      setting: { req_address: upstream.rep, sub_address: upstream.pub, heartbeat_tolerance: 5000 },
    }));
    writeFileSync(join(home, "rpc_service_setting.json"), JSON.stringify({ rep_address: rep, pub_address: pub, cancel_policy: "own" }));
    relay = new ServeProcess(["--home", join(home), "--no-sim", "--console-port", "0"]);
    await relay.waitFor(/RPC service started successfully/);
    await relay.waitFor(/Gateway RPC connected/);
    admin = await consoleClient(await relay.consoleUrl());
    direct = new RpcClient({ reqAddress: upstream.rep, subAddress: upstream.pub });
    direct.start();
    await direct.waitConnected(30_000);
  });

  after(async () => {
    await down?.close();
    await direct?.close();
    await admin?.close();
    await relay?.stop();
    await upstream.kill();
    rmSync(home, { recursive: true, force: true });
  });

  it("runs only the upstream gateway (--no-sim) and lists it with its state; get_all_gateway_names stays a list of names", async () => {
    assert.deepEqual(await admin.call("get_all_gateway_names"), ["RPC"]);
    const status = await gateway();
    assert.equal(status.kind, "rpc");
    assert.equal(status.state, "connected");
    assert.equal(status.source, "connect_rpc.json");
    assert.equal(status.setting["req_address"], upstream.rep);
    const { stdout } = await promisify(execFile)(process.execPath, [MAIN, "gateways", "--console", await relay.consoleUrl(), "--home", home], { timeout: 60_000 });
    assert.match(stdout, /^RPC +rpc +connected +since /m);
    assert.ok(stdout.includes(upstream.rep), stdout);
  });

  it("serves an unchanged Python VeighNa client: all 17 functions, order -> trade -> position, history", async () => {
    const { stdout, stderr } = await promisify(execFile)(PYTHON, [join(PYTHON_DIR, "veighna_client.py"), rep, pub], {
      env: { ...process.env, PYTHONPATH: STANDINS_DIR },
      timeout: 120_000,
    });
    const report = JSON.parse(stdout.trim().split("\n").pop()!) as { calls: Record<string, boolean>; errors: string[]; event_types: string[] };
    assert.deepEqual(report.errors, [], stderr);
    assert.equal(Object.keys(report.calls).length, 18);
    for (const [name, ok] of Object.entries(report.calls)) assert.equal(ok, true, `${name} through the relay`);
    for (const type of ["eTick.", "eOrder.", "eTrade.", "ePosition.", "eLog"]) assert.ok(report.event_types.includes(type), `${type} received`);
  });

  it("gives our RpcGateway ids that map both ways: the upstream's order, get_order and cancel work with them", async () => {
    down = await downstream("DOWN", rep, pub);
    down.eventEngine.register(EVENT_LOG, (event) => downLogs.push(event.data.msg));
    await down.subscribe(new SubscribeRequest({ symbol: SYMBOL, exchange: Exchange.SHFE }), "DOWN");
    await until(() => down.getTick(VT_SYMBOL) !== null, 60_000, "relayed ticks");

    const vt_orderid = await down.sendOrder(order(3000), "DOWN");
    const match = /^DOWN\.(\d+_-\d+)$/.exec(vt_orderid);
    assert.ok(match, `a relayed order id: ${vt_orderid}`);
    const orderid = match[1]!;
    const upstreamOrder = await direct.call<OrderData | null>("get_order", [`CTP.${orderid}`]);
    assert.equal(upstreamOrder?.status, Status.NOTTRADED, "the upstream holds the same order");
    const relayOrder = await admin.call<OrderData | null>("get_order", [`RPC.${orderid}`]);
    assert.equal(relayOrder?.orderid, orderid);
    await until(() => down.getOrder(vt_orderid)?.status === Status.NOTTRADED, 30_000, "order pushed downstream");

    await down.cancelOrder(down.getOrder(vt_orderid)!.createCancelRequest(), "DOWN");
    await until(() => down.getOrder(vt_orderid)?.status === Status.CANCELLED, 30_000, "cancelled downstream");
    assert.equal((await direct.call<OrderData>("get_order", [`CTP.${orderid}`])).status, Status.CANCELLED);

    const filled = await down.sendOrder(order(3999), "DOWN");
    await until(() => down.getAllTrades().some((t) => t.vt_orderid === filled), 30_000, "trade downstream");
    const position = down.getPosition("DOWN.rb2501.SHFE.多");
    assert.ok(position && position.volume >= 1, "position downstream");
    assert.equal(down.getOrder(filled)?.status, Status.ALLTRADED);
  });

  it("applies ownership to relayed orders: another client may not cancel them (cancel_policy own)", async () => {
    const resting = await down.sendOrder(order(3001), "DOWN");
    assert.ok(resting);
    const other = new RpcClient({ reqAddress: rep, subAddress: pub, name: "someone-else" });
    other.start();
    try {
      await other.waitConnected(30_000);
      const orderid = resting.slice("DOWN.".length);
      await assert.rejects(
        other.call("cancel_order", [new CancelRequest({ orderid, symbol: SYMBOL, exchange: Exchange.SHFE }), "RPC"]),
        // The refusal is the server's ownership check (a PermissionError), whatever its wording.
        (error: unknown) => error instanceof RemoteError && error.remoteType === "PermissionError" && error.message.includes("not sent by"),
      );
    } finally {
      await other.close();
    }
    await down.cancelOrder(down.getOrder(resting)!.createCancelRequest(), "DOWN");
    await until(() => down.getOrder(resting)?.status === Status.CANCELLED, 30_000, "the owner cancels");
  });

  it("blocks an order in the relay's risk manager; it never reaches the upstream", async () => {
    await admin.call("risk_update_rule", ["order_size", { order_volume_limit: 5 }]);
    const before = await upstreamCalls();
    const mark = relay.mark();
    assert.equal(await down.sendOrder(order(3000, 10), "DOWN"), "");
    await relay.waitFor(/Order blocked: .*10/, 30_000, mark);
    assert.equal(await upstreamCalls(), before);
    await admin.call("risk_update_rule", ["order_size", { order_volume_limit: 500 }]);
  });

  it("survives the upstream's kill -9 and restart: orders fail at once while it is down, then no stale active order", async () => {
    // The relay's own link states are its business: none reaches its clients as if it were theirs.
    const leaked: string[] = [];
    const watchLeak = (event: { type: string }): void => void leaked.push(event.type);
    down.eventEngine.register(EVENT_RPC_CONNECTION, watchLeak);
    down.eventEngine.register(EVENT_GATEWAY_STATE, watchLeak);
    const resting = await down.sendOrder(order(3002), "DOWN");
    await until(() => down.getOrder(resting)?.status === Status.NOTTRADED, 30_000, "resting order downstream");

    let mark = relay.mark();
    await upstream.kill();
    await relay.waitFor(/Gateway RPC disconnected/, 60_000, mark);
    assert.equal((await gateway()).state, "disconnected");
    mark = relay.mark();
    assert.equal(await down.sendOrder(order(3003), "DOWN"), "", "refused while the upstream is down");
    await relay.waitFor(/Order blocked: gateway RPC is disconnected/, 30_000, mark);

    mark = relay.mark();
    await upstream.start("2"); // same addresses; a new session: its order ids never repeat the old ones
    await direct.close();
    direct = new RpcClient({ reqAddress: upstream.rep, subAddress: upstream.pub });
    direct.start();
    await direct.waitConnected(30_000);
    await relay.waitFor(/Gateway RPC connected/, 60_000, mark);
    // The restarted process no longer has the resting order: downstream must not keep it active.
    await until(() => down.getOrder(resting)?.status === Status.CANCELLED, 60_000, "the vanished order corrected downstream");
    assert.ok(!down.getAllActiveOrders().some((o) => o.vt_orderid === resting));
    // The refused order was never queued: the new upstream has seen no order at all.
    assert.equal(await upstreamCalls(), 0);

    // The relay re-subscribed by itself: ticks of the new process (the old one is dead) reach the client.
    let ticks = 0;
    const countTick = (): void => void ticks++;
    down.eventEngine.register(EVENT_TICK, countTick);
    await until(() => ticks >= 2, 60_000, "ticks from the restarted upstream through the relay");
    down.eventEngine.unregister(EVENT_TICK, countTick);
    const filled = await down.sendOrder(order(3999), "DOWN");
    assert.match(filled, /^DOWN\.2_-\d+$/);
    await until(() => down.getAllTrades().some((t) => t.vt_orderid === filled), 60_000, "a trade after the restart");
    assert.equal(await upstreamCalls(), 1);
    assert.deepEqual(leaked, [], "no eRpcConnection / eGatewayState of the relay's upstream link downstream");
  });

  it("chains: a relay of the relay (two hops) trades through both, and its gateway name is its own", async () => {
    const home2 = tempDir("relay2-");
    const rep2 = `ipc://${join(home2, "rep.sock")}`;
    const pub2 = `ipc://${join(home2, "pub.sock")}`;
    const relay2 = new ServeProcess(["--home", home2, "--upstream", `${rep},${pub}`, "--upstream-name", "HOP", "--no-console", "--rep", rep2, "--pub", pub2]);
    let down2: MainEngine | undefined;
    try {
      await relay2.waitFor(/Gateway HOP connected/);
      assert.doesNotMatch(relay2.output, /Connect -> SIM/, "no SIM beside an upstream by default");
      down2 = await downstream("TWO", rep2, pub2);
      await down2.subscribe(new SubscribeRequest({ symbol: SYMBOL, exchange: Exchange.SHFE }), "TWO");
      await until(() => down2!.getTick(VT_SYMBOL) !== null, 60_000, "ticks over two hops");
      const before = await upstreamCalls();
      const filled = await down2.sendOrder(order(3999), "TWO");
      assert.match(filled, /^TWO\.2_-\d+$/);
      await until(() => down2!.getAllTrades().some((t) => t.vt_orderid === filled), 60_000, "a trade over two hops");
      assert.equal(await upstreamCalls(), before + 1);
      // The first relay's own client sees the same order under its names.
      await until(() => down.getOrder(`DOWN.${filled.slice("TWO.".length)}`)?.status === Status.ALLTRADED, 30_000, "the order on the first relay");
    } finally {
      await down2?.close();
      await relay2.stop();
      rmSync(home2, { recursive: true, force: true });
    }
  });

  // The request socket may reconnect (and the snapshot run) before the subscriber socket has, and a VeighNa
  // server's pushes carry no sequence number: issue 11's resync on either socket's reconnect keeps this trade.
  it("keeps the trade of an order sent the moment the restarted upstream is back", async () => {
    let mark = relay.mark();
    await upstream.kill();
    await relay.waitFor(/Gateway RPC disconnected/, 60_000, mark);
    mark = relay.mark();
    await upstream.start("3");
    // Synced, not merely "Trades queried": a socket that reconnects during that first snapshot asks for another,
    // and while a restarted upstream's run is not yet synced, orders are refused (the race this test once lost).
    await relay.waitFor(/RPC connection synced/, 30_000, mark);
    const filled = await down.sendOrder(order(3999), "DOWN");
    assert.match(filled, /^DOWN\.3_-1$/);
    await until(() => down.getAllTrades().some((t) => t.vt_orderid === filled), 60_000, "a trade sent right after the restart");
  });
});

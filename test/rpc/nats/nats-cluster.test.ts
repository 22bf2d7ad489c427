/**
 * A 3-node nats-server cluster with JetStream (replicas 3) under the trading servers: a node killed with SIGKILL
 * under a client mid-stream (failover, nothing lost, calls resume), a late joiner replaying the day's orders and
 * trades, two trading servers on one bus traded by one client engine.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EVENT_ORDER, EVENT_TRADE, MainEngine, Status, SubscribeRequest, type TradeData } from "../../../src/kernel/index.js";
import { NatsRpcClient, type ConnectionState, type StreamEvent } from "../../../src/rpc/index.js";
import { REQ_ADDRESS_KEY, RpcGateway } from "../../../src/service/index.js";
import { sleep, until } from "../../service/helpers.js";
import { futures, marketOrder, startNatsServer, type NatsServerFixture } from "./fixture.js";
import { natsSkip, startNatsCluster, type NatsCluster } from "./nats-cluster.js";

const STREAMED = [EVENT_ORDER, EVENT_TRADE];

describe("NATS cluster with JetStream", { skip: natsSkip }, () => {
  let cluster: NatsCluster;
  let alpha: NatsServerFixture;
  const closers: Array<() => Promise<unknown>> = [];

  before(async () => {
    cluster = await startNatsCluster(3);
    alpha = await startNatsServer({ servers: cluster.urls, serverName: "alpha", stream: { replicas: 3, maxBytes: 64 << 20 } }, 20);
    const contract = futures(alpha.mainEngine)[0]!;
    await alpha.mainEngine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM");
    await until(() => alpha.mainEngine.getTick(contract.vt_symbol) !== null, 10_000, "the first tick at the server");
  });

  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await alpha?.stop();
    await cluster?.stop();
  });

  function streamedSeqs(events: readonly StreamEvent[]): number[] {
    return events.filter((e) => STREAMED.includes(e.event.type)).map((e) => e.seq!);
  }

  test("kill -9 of the client's node mid-stream: it fails over, no order or trade event is lost, calls resume", async () => {
    const client = new NatsRpcClient({ servers: cluster.urls, server: "alpha", timeout: 5_000, name: "failover" });
    closers.push(() => client.close());
    const events: StreamEvent[] = [];
    const states: ConnectionState[] = [];
    client.on("event", (e) => events.push(e));
    client.on("state", (state) => states.push(state));
    await client.waitConnected(15_000);
    const firstSeq = alpha.rpc.server.position().seq;
    const contract = futures(alpha.mainEngine)[0]!;

    // The trading process keeps trading (a local strategy) whatever happens to the client's node.
    let trading = true;
    let sent = 0;
    const loop = (async () => {
      while (trading) {
        await alpha.mainEngine.sendOrder(marketOrder(contract), "SIM");
        sent++;
        await sleep(20);
      }
    })();
    await until(() => sent >= 15 && streamedSeqs(events).length > 0, 20_000, "trading under way");

    const node = cluster.node(client.connectedServer);
    assert.ok(node, `the client's node (${client.connectedServer})`);
    await node.kill9();
    closers.push(() => node.start()); // back for the tests after this one, whatever happens here
    await until(() => states.includes("disconnected"), 15_000, "the client noticing the lost node");
    await until(() => client.state === "connected", 30_000, "the failover");
    assert.notEqual(cluster.node(client.connectedServer), node);
    const afterFailover = sent;
    await until(() => sent >= afterFailover + 15, 20_000, "more trading after the failover");
    trading = false;
    await loop;

    // Everything the server published is in the stream, and the client received all of it, once, in order.
    assert.equal(await alpha.endpoint.flushed(30_000), true, "the stream confirmed every event");
    const expected = alpha.recorder.events.filter((e) => e.seq > firstSeq && STREAMED.includes(e.event.type)).map((e) => e.seq);
    assert.ok(expected.length >= 60, `orders and trades published: ${expected.length}`);
    await until(() => streamedSeqs(events).filter((s) => s > firstSeq).length >= expected.length, 30_000, "every order and trade at the client");
    assert.deepEqual(streamedSeqs(events).filter((s) => s > firstSeq), expected);

    // Calls resume through another node.
    const orders = await client.call<unknown[]>("get_all_orders");
    assert.ok(orders.length >= sent);
    const vtOrderid = await client.call<string>("send_order", [marketOrder(contract), "SIM"]);
    assert.match(vtOrderid, /^SIM\./);
    closers.pop();
    await node.start();
  });

  test("a late joiner replays the day's orders and trades from the stream", async () => {
    assert.equal(await alpha.endpoint.flushed(30_000), true);
    const expected = alpha.recorder.seqsOf(STREAMED);
    assert.ok(expected.length > 0);
    const late = new NatsRpcClient({ servers: cluster.urls, server: "alpha", history: "all", name: "late" });
    closers.push(() => late.close());
    const events: StreamEvent[] = [];
    late.on("event", (e) => events.push(e));
    await late.waitConnected(15_000);
    await until(() => streamedSeqs(events).length >= expected.length, 30_000, "the replay");
    assert.deepEqual(streamedSeqs(events).slice(0, expected.length), expected);
    const state = await alpha.endpoint.streamState();
    assert.equal(state?.replicas, 3);
    assert.ok(state && state.messages >= expected.length);
  });

  test("two servers on one cluster, one client engine trading both", async () => {
    const beta = await startNatsServer({ servers: cluster.urls, serverName: "beta", stream: { replicas: 3, maxBytes: 64 << 20 } }, 20);
    closers.push(() => beta.stop());
    const home = mkdtempSync(join(tmpdir(), "rpcservice-nats-client-"));
    const engine = new MainEngine({ home });
    closers.push(async () => {
      await engine.close();
      rmSync(home, { recursive: true, force: true });
    });
    const gateways = { A: engine.addGateway(RpcGateway, "ALPHA"), B: engine.addGateway(RpcGateway, "BETA") };
    const bus = cluster.urls.join(",");
    await engine.connect({ [REQ_ADDRESS_KEY]: bus, server_name: "alpha" }, "ALPHA");
    await engine.connect({ [REQ_ADDRESS_KEY]: bus, server_name: "beta" }, "BETA");
    await gateways.A.ready(20_000);
    await gateways.B.ready(20_000);
    const trades: TradeData[] = [];
    engine.eventEngine.register(EVENT_TRADE, (event) => trades.push(event.data));
    for (const [name, server] of [["ALPHA", alpha], ["BETA", beta]] as const) {
      const contract = futures(server.mainEngine)[1]!;
      await engine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), name);
      await until(() => engine.getAllTicks().some((t) => t.gateway_name === name), 15_000, `a tick from ${name}`);
      const vtOrderid = await engine.sendOrder(marketOrder(contract), name);
      assert.match(vtOrderid, new RegExp(`^${name}\\.`));
      await until(() => engine.getOrder(vtOrderid)?.status === Status.ALLTRADED, 15_000, `the fill at ${name}`);
    }
    assert.ok(trades.some((t) => t.gateway_name === "ALPHA") && trades.some((t) => t.gateway_name === "BETA"));
    // Each order reached its own server, and only it.
    assert.ok(alpha.rpc.clients().length > 0 && beta.rpc.clients().length > 0);
    assert.equal(beta.mainEngine.getAllOrders().length, 1);
  });
});

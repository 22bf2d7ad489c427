/** RpcGateway with a ws:// address: a client process trading through the server's WebSocket endpoint. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContractData,
  Direction,
  Event,
  EVENT_TRADE,
  Exchange,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Product,
  Status,
  SubscribeRequest,
  TradeData,
} from "../../src/kernel/index.js";
import { WsEndpoint } from "../../src/rpc/index.js";
import { REQ_ADDRESS_KEY, RpcGateway, RpcServiceApp, SUB_ADDRESS_KEY } from "../../src/service/index.js";
import { startConsoleFixture } from "./fixture.js";
import { until } from "../helpers/until.js";
import { loopbackServer } from "../rpc/ws/helpers.js";

test("RpcGateway given a ws:// address snapshots, streams ticks, and trades through the WebSocket endpoint", async () => {
  const server = await startConsoleFixture();
  const rpc = server.mainEngine.engines.get("RpcService") as InstanceType<typeof RpcServiceApp.engineClass>;
  assert.equal(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
  const home = mkdtempSync(join(tmpdir(), "rpcservice-ws-client-"));
  const client = new MainEngine({ home });
  client.addGateway(RpcGateway);
  try {
    await client.connect({ [REQ_ADDRESS_KEY]: `ws://127.0.0.1:${server.started.port}/ws`, [SUB_ADDRESS_KEY]: "" }, "RPC");
    await until(() => client.getAllContracts().length > 0 && client.getAllAccounts().length > 0, 10_000, "the snapshot");
    const contract = client.getAllContracts().find((c) => c.exchange === Exchange.SHFE)!;
    assert.equal(contract.gateway_name, "RPC");

    await client.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "RPC");
    await until(() => client.getTick(contract.vt_symbol) !== null, 10_000, "a tick through the WebSocket");
    const tick = client.getTick(contract.vt_symbol)!;

    const vtOrderid = await client.sendOrder(
      new OrderRequest({
        symbol: contract.symbol,
        exchange: contract.exchange,
        direction: Direction.LONG,
        type: OrderType.LIMIT,
        volume: 1,
        price: tick.ask_price_1 + 10 * contract.pricetick,
        offset: Offset.OPEN,
      }),
      "RPC",
    );
    assert.match(vtOrderid, /^RPC\./);
    await until(() => client.getOrder(vtOrderid)?.status === Status.ALLTRADED, 10_000, "the fill").catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(client.getOrder(vtOrderid))}`);
    });
    await until(() => client.getAllTrades().some((t) => t.vt_orderid === vtOrderid), 10_000, "the trade");

    const clients = rpc.clients();
    assert.ok(clients.some((c) => c.endpoint === "ws"), JSON.stringify(clients));
  } finally {
    await client.close();
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

test("RpcGateway over ws keeps a trade pushed right behind the trades snapshot's reply, in the same read", async () => {
  // A scripted server: one contract, empty books, and a trade that fills just after the trades snapshot was taken.
  const contract = new ContractData({ gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE, name: "rb", product: Product.FUTURES, size: 10, pricetick: 1 });
  const trade = new TradeData({
    gateway_name: "SIM",
    symbol: "rb2501",
    exchange: Exchange.SHFE,
    orderid: "7",
    tradeid: "1",
    direction: Direction.LONG,
    offset: Offset.OPEN,
    price: 3500,
    volume: 1,
  });
  let seq = 0;
  let releaseTrades: ((trades: unknown) => void) | undefined;
  const endpoint = new WsEndpoint({ server: loopbackServer() });
  await endpoint.start({
    // Plain (not async): the endpoint's reply is the first reaction to the returned promise.
    dispatch: (name) => {
      if (name === "get_all_contracts") return Promise.resolve([contract]);
      if (name === "get_all_trades") return new Promise((resolve) => (releaseTrades = resolve));
      return Promise.resolve([]);
    },
    position: () => ({ epoch: "run-1", seq }),
  });
  const home = mkdtempSync(join(tmpdir(), "rpcservice-ws-client-"));
  const client = new MainEngine({ home });
  client.addGateway(RpcGateway);
  try {
    await client.connect({ [REQ_ADDRESS_KEY]: `ws://127.0.0.1:${endpoint.address!.port}/ws`, [SUB_ADDRESS_KEY]: "" }, "RPC");
    await until(() => releaseTrades !== undefined, 10_000, "the trades snapshot call");
    releaseTrades!([]);
    // After the reply, in the same turn: the endpoint writes both at once, so the client reads them together.
    await Promise.resolve();
    endpoint.publish({ seq: ++seq, epoch: "run-1", event: new Event(EVENT_TRADE, trade) });
    await until(() => client.getAllTrades().length > 0, 10_000, "the trade");
    assert.deepEqual(
      client.getAllTrades().map((t) => [t.vt_tradeid, t.vt_orderid]),
      [["RPC.1", "RPC.7"]],
    );
  } finally {
    await client.close();
    await endpoint.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

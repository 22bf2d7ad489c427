/**
 * RpcGateway against a server running two gateways (two SimGateways, "SIM" and "SIM2", each with its own venue
 * database and seed): ids carry the server gateway (`RPC.SIM:<id>`, `RPC.SIM2:<id>`), orders route to the gateway
 * that lists the contract, cancels go back to the gateway holding the order, and the two accounts (both
 * "SIM001"), their order ids (both venues number from 1) and their positions on a contract both list stay apart.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Direction,
  EVENT_TICK,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Status,
  SubscribeRequest,
  type ContractData,
  type TickData,
} from "../../src/kernel/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { RpcGateway, RpcServiceApp, type RpcEngine } from "../../src/service/index.js";
import { tempDir, until } from "./helpers.js";

const future = (symbol: string, exchange: string, price: number) => ({ symbol, exchange, name: symbol, product: "FUTURES", size: 10, pricetick: 1, price });
/** SIM lists aa and the shared ss; SIM2 lists bb and ss. */
const SIM_CONTRACTS = [future("aa2609", "DCE", 3000), future("ss2609", "SHFE", 5000)];
const SIM2_CONTRACTS = [future("bb2609", "DCE", 4000), future("ss2609", "SHFE", 5000)];

function order(contract: ContractData, direction: Direction, price: number): OrderRequest {
  return new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction, type: OrderType.LIMIT, volume: 1, price, offset: Offset.OPEN });
}

describe("RpcGateway against a server with two gateways", () => {
  const dir = tempDir("rpc-multi-");
  let server: MainEngine;
  let client: MainEngine;

  /** Latest tick per "<server gateway>|<vt_symbol>": both venues quote ss, at their own prices. */
  const ticks = new Map<string, TickData>();

  async function tickOf(gateway: string, vt_symbol: string): Promise<TickData> {
    const contract = server.getContract(vt_symbol)!;
    await server.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), gateway);
    const key = `${gateway}|${vt_symbol}`;
    await until(() => ticks.has(key), 10_000, `tick of ${key}`);
    return ticks.get(key)!;
  }

  /** A buy at the upper price limit: fills at once. */
  const marketablePrice = async (gateway: string, vt_symbol: string) => (await tickOf(gateway, vt_symbol)).limit_up;
  /** A buy at the lower price limit: rests in the book. */
  const restingPrice = async (gateway: string, vt_symbol: string) => (await tickOf(gateway, vt_symbol)).limit_down;

  before(async () => {
    server = new MainEngine({ home: join(dir, "server") });
    server.addGateway(SimGateway, "SIM");
    server.addGateway(SimGateway, "SIM2");
    server.eventEngine.register(EVENT_TICK, (e) => {
      const tick = e.data as TickData;
      ticks.set(`${tick.gateway_name}|${tick.vt_symbol}`, tick);
    });
    for (const [name, contracts, seed] of [["SIM", SIM_CONTRACTS, 1], ["SIM2", SIM2_CONTRACTS, 2]] as const) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ contracts }));
      await server.connect({ data_dir: join(dir, name), contracts_file: file, seed, ticks_per_second: 20 }, name);
    }
    const rpc = server.addApp(RpcServiceApp) as RpcEngine;
    assert.equal(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", { heartbeatInterval: 200 }), true);
    client = new MainEngine({ home: join(dir, "client") });
    client.addGateway(RpcGateway);
    await client.connect({ req_address: rpc.addresses!.rep, sub_address: rpc.addresses!.pub }, "RPC");
    await until(() => client.getAllContracts().length === 3 && client.getAllAccounts().length === 2, 30_000, "snapshot");
  });

  after(async () => {
    await client?.close();
    await server?.close();
  });

  it("keeps the two accounts apart: RPC.SIM:SIM001 and RPC.SIM2:SIM001", () => {
    assert.deepEqual(client.getAllAccounts().map((a) => a.vt_accountid).sort(), ["RPC.SIM2:SIM001", "RPC.SIM:SIM001"]);
    assert.ok(client.getAllAccounts().every((a) => a.gateway_name === "RPC"));
    assert.deepEqual(client.getAllContracts().map((c) => c.vt_symbol).sort(), ["aa2609.DCE", "bb2609.DCE", "ss2609.SHFE"]);
  });

  it("routes each order to the gateway listing its contract, with prefixed ids, and cancels where the order is", async () => {
    const aa = client.getContract("aa2609.DCE")!;
    const bb = client.getContract("bb2609.DCE")!;
    const onSim = await client.sendOrder(order(aa, Direction.LONG, await restingPrice("SIM", aa.vt_symbol)), "RPC");
    const onSim2 = await client.sendOrder(order(bb, Direction.LONG, await restingPrice("SIM2", bb.vt_symbol)), "RPC");
    assert.match(onSim, /^RPC\.SIM:\S+$/);
    assert.match(onSim2, /^RPC\.SIM2:\S+$/);
    const serverSim = `SIM.${onSim.slice("RPC.SIM:".length)}`;
    const serverSim2 = `SIM2.${onSim2.slice("RPC.SIM2:".length)}`;
    // The reply can overtake the server's own EventEngine (its order event is processed on a later turn under load).
    await until(() => Boolean(server.getOrder(serverSim)) && Boolean(server.getOrder(serverSim2)), 10_000, "the server's OMS has both orders");
    assert.equal(server.getOrder(serverSim)?.gateway_name, "SIM");
    assert.equal(server.getOrder(serverSim2)?.gateway_name, "SIM2");

    await until(() => client.getOrder(onSim)?.status === Status.NOTTRADED && client.getOrder(onSim2)?.status === Status.NOTTRADED, 10_000, "orders resting");
    await client.cancelOrder(client.getOrder(onSim2)!.createCancelRequest(), "RPC");
    await until(() => client.getOrder(onSim2)?.status === Status.CANCELLED, 10_000, "SIM2 order cancelled");
    assert.equal(server.getOrder(serverSim2)?.status, Status.CANCELLED);
    assert.equal(server.getOrder(serverSim)?.status, Status.NOTTRADED, "the SIM order is untouched");
    await client.cancelOrder(client.getOrder(onSim)!.createCancelRequest(), "RPC");
    await until(() => client.getOrder(onSim)?.status === Status.CANCELLED, 10_000, "SIM order cancelled");
  });

  it("keeps positions on a contract both gateways list apart, and each trade once", async () => {
    const ss = server.getContract("ss2609.SHFE")!;
    // The server's contract table keeps one ss (the last gateway to publish it, as VeighNa's OmsEngine does);
    // the client routes there. The other gateway's position comes from a local order on the server.
    const routed = ss.gateway_name;
    const other = routed === "SIM" ? "SIM2" : "SIM";
    const clientTicks: TickData[] = [];
    client.eventEngine.register(EVENT_TICK + ss.vt_symbol, (e) => clientTicks.push(e.data as TickData));
    await client.subscribe(new SubscribeRequest({ symbol: ss.symbol, exchange: ss.exchange }), "RPC");
    const viaClient = await client.sendOrder(order(client.getContract(ss.vt_symbol)!, Direction.LONG, await marketablePrice(routed, ss.vt_symbol)), "RPC");
    assert.ok(viaClient.startsWith(`RPC.${routed}:`), `${viaClient} routed to ${routed}`);
    const local = await server.sendOrder(order(ss, Direction.LONG, await marketablePrice(other, ss.vt_symbol)), other);
    assert.ok(local.startsWith(`${other}.`));
    const ids = ["RPC.SIM:ss2609.SHFE.多", "RPC.SIM2:ss2609.SHFE.多"];
    await until(() => ids.every((id) => (client.getPosition(id)?.volume ?? 0) === 1), 10_000, `positions ${ids.join(", ")}`);
    const trades = client.getAllTrades().filter((t) => t.vt_symbol === ss.vt_symbol);
    await until(() => clientTicks.length > 0, 10_000, "client ticks of ss");
    const [home, away] = [ticks.get(`${routed}|${ss.vt_symbol}`)!, ticks.get(`${other}|${ss.vt_symbol}`)!];
    assert.notEqual(home.limit_up, away.limit_up, "precondition: the venues quote ss differently");
    assert.ok(clientTicks.every((t) => t.limit_up === home.limit_up), "the client's ss ticks come from the venue its orders go to");
    assert.equal(client.getContract(ss.vt_symbol)!.gateway_name, "RPC");
    assert.deepEqual(trades.map((t) => t.vt_orderid).sort(), [viaClient, `RPC.${other}:${local.slice(other.length + 1)}`].sort());
    assert.equal(new Set(trades.map((t) => t.vt_tradeid)).size, 2);
  });
});

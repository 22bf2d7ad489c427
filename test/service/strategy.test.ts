/**
 * The same strategy-like code trades through SIM in-process and through RPC against a remote SIM: it only
 * knows a MainEngine and a gateway name, and sees the same sequence of events either way.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Direction,
  EVENT_ORDER,
  EVENT_TICK,
  EVENT_TRADE,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Product,
  Status,
  SubscribeRequest,
  type OrderData,
  type TradeData,
} from "../../src/kernel/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { RpcGateway } from "../../src/service/index.js";
import { addressesFor, startServerProcess, tempDir, until } from "./helpers.js";

/** Buys one lot at the upper limit (fills at once), then opens one short the same way; returns what it observed. */
async function roundTrip(mainEngine: MainEngine, gatewayName: string): Promise<string[]> {
  const seen: string[] = [];
  const contract = mainEngine.getAllContracts().find((c) => c.gateway_name === gatewayName && c.product === Product.FUTURES)!;
  let ticks = 0;
  mainEngine.eventEngine.register(EVENT_TICK + contract.vt_symbol, () => ticks++);
  const trades: TradeData[] = [];
  mainEngine.eventEngine.register(EVENT_TRADE, (e) => trades.push(e.data));
  await mainEngine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), gatewayName);
  await until(() => ticks > 0, 10_000, "a tick");
  seen.push("tick");
  for (const [direction, offset] of [[Direction.LONG, Offset.OPEN], [Direction.SHORT, Offset.OPEN]] as const) {
    const tick = mainEngine.getTick(contract.vt_symbol)!;
    const price = direction === Direction.LONG ? tick.limit_up : tick.limit_down;
    const statuses: Status[] = [];
    const vt_orderid = await mainEngine.sendOrder(
      new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction, type: OrderType.LIMIT, volume: 1, price, offset }),
      gatewayName,
    );
    assert.ok(vt_orderid.startsWith(`${gatewayName}.`), vt_orderid);
    mainEngine.eventEngine.register(EVENT_ORDER + vt_orderid, (e) => statuses.push((e.data as OrderData).status));
    await until(() => trades.some((t) => t.vt_orderid === vt_orderid), 10_000, "a fill");
    await until(() => statuses.includes(Status.ALLTRADED), 10_000, "order filled");
    seen.push(`${direction} filled`);
    const position = mainEngine.getAllPositions().find((p) => p.gateway_name === gatewayName && p.vt_symbol === contract.vt_symbol);
    assert.ok(position, "a position in the gateway's namespace");
  }
  return seen;
}

test("a strategy trades the same through SIM locally and through RPC remotely", async () => {
  const local = new MainEngine({ home: tempDir("rpc-strategy-local-") });
  local.addGateway(SimGateway);
  let localSeen: string[];
  try {
    await local.connect({ data_dir: join(local.home, "sim"), ticks_per_second: 20 }, "SIM");
    await until(() => local.getAllContracts().length > 0, 10_000, "contracts");
    localSeen = await roundTrip(local, "SIM");
  } finally {
    await local.close();
  }

  const home = tempDir("rpc-strategy-server-");
  const { rep, pub } = addressesFor("tcp", home);
  const { process: server, info } = await startServerProcess(rep, pub, home, "zmtp");
  const remote = new MainEngine({ home: tempDir("rpc-strategy-remote-") });
  remote.addGateway(RpcGateway);
  try {
    await remote.connect({ req_address: info.rep, sub_address: info.pub }, "RPC");
    await until(() => remote.getAllContracts().length > 0 && remote.getAllAccounts().length > 0, 10_000, "snapshot");
    const remoteSeen = await roundTrip(remote, "RPC");
    assert.deepEqual(remoteSeen, localSeen);
  } finally {
    await remote.close();
    await server.stop("SIGKILL");
  }
});

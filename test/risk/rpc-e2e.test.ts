/**
 * End to end over the real RPC stack: a server (MainEngine + SimGateway + RpcServiceApp + RiskManagerApp, apps
 * added in both orders) and two client MainEngines with RpcGateway over loopback tcp. A remote order is blocked
 * exactly as a local one: the client gets "", the RiskManager log line and the eRiskNotify event; the other
 * client's orders go through.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import {
  Direction,
  EVENT_LOG,
  EVENT_ORDER_BLOCKED,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  SubscribeRequest,
  type AppClass,
  type ContractData,
  type LogData,
  type OrderBlock,
} from "../../src/kernel/index.js";
import { EVENT_RISK_NOTIFY, riskManagerApp, type RiskEngine } from "../../src/risk/index.js";
import { RpcGateway, RpcServiceApp, type RpcEngine } from "../../src/service/index.js";
import { ManualClock, SimGateway } from "../../src/sim/index.js";
import { tempHome } from "./helpers.js";
import { until as waitUntil } from "../helpers/until.js";


/** The shared `until` with this file's argument order. */
const until = (what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> => waitUntil(condition, timeoutMs, what);

/** A client process's view: its MainEngine with an RpcGateway named "RPC", and what it received. */
class Client {
  readonly home = tempHome();
  readonly mainEngine = new MainEngine({ home: this.home });
  readonly logs: LogData[] = [];
  readonly notices: string[] = [];
  readonly blocks: unknown[] = [];

  constructor(readonly name: string) {
    this.mainEngine.addGateway(RpcGateway);
    this.mainEngine.eventEngine.register(EVENT_LOG, (event) => this.logs.push(event.data));
    this.mainEngine.eventEngine.register(EVENT_RISK_NOTIFY, (event) => this.notices.push(event.data));
    this.mainEngine.eventEngine.register(EVENT_ORDER_BLOCKED, (event) => this.blocks.push(event.data));
  }

  async connect(rep: string, pub: string, vt_symbol: string): Promise<ContractData> {
    await this.mainEngine.connect({ req_address: rep, sub_address: pub, client_name: this.name }, "RPC");
    await until(`${this.name} has the contract`, () => this.mainEngine.getContract(vt_symbol) !== null);
    return this.mainEngine.getContract(vt_symbol)!;
  }

  sendOrder(req: OrderRequest): Promise<string> {
    return this.mainEngine.sendOrder(req, "RPC");
  }

  async close(): Promise<void> {
    await this.mainEngine.close();
    rmSync(this.home, { recursive: true, force: true });
  }
}

for (const order of ["RiskManagerApp first", "RpcServiceApp first"] as const) {
  test(`a remote client is blocked exactly as a local strategy (${order})`, async () => {
    const home = tempHome();
    const server = new MainEngine({ home });
    const clients = [new Client("trader-a"), new Client("trader-b")];
    try {
      const sim = server.addGateway(SimGateway);
      sim.useClock(new ManualClock(Date.parse("2025-01-06T10:00:00+08:00"))); // the market moves only if pumped
      await server.connect({ data_dir: ":memory:" }, "SIM");
      server.eventEngine.flush(); // the contracts the connect pushed are in the OMS
      const apps: AppClass[] = [riskManagerApp({ rulesFolder: null }), RpcServiceApp];
      if (order === "RpcServiceApp first") apps.reverse();
      for (const app of apps) server.addApp(app);
      const risk = server.engines.get("RiskManager") as RiskEngine;
      const rpc = server.engines.get("RpcService") as RpcEngine;
      assert.ok(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), "the RPC server started");
      const { rep, pub } = rpc.addresses!;

      const contract = server.getAllContracts().find((c) => c.symbol.startsWith("rb"))!;
      await server.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM");
      server.eventEngine.flush();
      const price = server.getTick(contract.vt_symbol)!.last_price - 10; // rests below the market
      const request = (volume: number) =>
        new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume, price, offset: Offset.OPEN });

      const serverBlocks: OrderBlock[] = [];
      server.eventEngine.register(EVENT_ORDER_BLOCKED, (event) => serverBlocks.push(event.data));
      const [a, b] = clients as [Client, Client];
      await Promise.all([a.connect(rep, pub, contract.vt_symbol), b.connect(rep, pub, contract.vt_symbol)]);
      risk.updateRule("order_size", { order_volume_limit: 5 });

      // The local strategy first: what "blocked" looks like on the server.
      assert.equal(await server.sendOrder(request(6), "SIM"), "");
      const reason = `order volume 6 exceeds the limit 5: ${String(request(6))}`;

      assert.equal(await a.sendOrder(request(6)), "", "the remote order is blocked");
      await until("trader-a sees the notice and the log line", () =>
        a.notices.length === 2 && a.logs.filter((log) => log.msg.startsWith("Order blocked")).length === 2,
      );
      assert.deepEqual(a.notices, [reason, reason], "local and remote orders blocked for the same reason");
      const line = a.logs.filter((log) => log.msg.startsWith("Order blocked")).at(-1)!;
      assert.equal(line.msg, `Order blocked: ${reason}`);
      assert.equal(line.level, 40);
      assert.equal(line.gateway_name, "RPC.RiskManager");
      assert.deepEqual(serverBlocks.map((block) => [block.rule, block.code, block.params]), [
        ["order_size", "VOLUME_LIMIT", { volume: 6, limit: 5 }],
        ["order_size", "VOLUME_LIMIT", { volume: 6, limit: 5 }],
      ], "the server's programs see the typed block");
      assert.deepEqual(a.blocks, [], "eOrderBlocked stays in the server: the VeighNa wire carries the text only");

      const allowed = await b.sendOrder(request(5));
      assert.match(allowed, /^RPC\.\d+$/, "the other client's order goes through");
      await until("trader-b sees its order", () => b.mainEngine.getOrder(allowed) !== null);
      assert.equal(server.getAllOrders().length, 1, "only the allowed order reached the venue");
      assert.equal(risk.getRule("daily_limit").variables["total_order_count"], 1);
    } finally {
      for (const client of clients) await client.close();
      await server.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
}

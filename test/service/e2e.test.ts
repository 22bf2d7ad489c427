/**
 * End to end with real processes: a server process (MainEngine + SimGateway + RpcServiceApp), client processes
 * and an in-test client, over tcp and ipc, on every transport. One server per combination, reused by the steps.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import {
  Direction,
  EVENT_ORDER,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Product,
  Status,
  SubscribeRequest,
  type ContractData,
  type OrderData,
} from "../../src/kernel/index.js";
import { encodeRequest } from "../../src/codec/index.js";
import { RpcClient, RpcTimeoutError, type TransportKind } from "../../src/rpc/index.js";
import { decodeResult } from "../../src/rpc/wire.js";
import { RpcGateway, EVENT_RPC_CONNECTION } from "../../src/service/index.js";
import { JsonProcess, addressesFor, restingBuyPrice, startServerProcess, tempDir, until, type ServerInfo } from "./helpers.js";

const TRANSPORTS: TransportKind[] = ["zmtp", "zeromq"];

interface ClientSummary {
  state: string;
  ticks: number;
  orders: Record<string, string>;
  sent: string;
}

for (const transport of TRANSPORTS) {
  for (const kind of ["tcp", "ipc"] as const) {
    describe(`${transport} over ${kind}`, () => {
      const home = tempDir("rpc-e2e-");
      let server: JsonProcess<ServerInfo>;
      let info: ServerInfo;
      let mainEngine: MainEngine;
      let probe: RpcClient;
      let contract: ContractData;
      const children: JsonProcess<ClientSummary>[] = [];
      const states: string[] = [];

      before(async () => {
        const { rep, pub } = addressesFor(kind, home);
        ({ process: server, info } = await startServerProcess(rep, pub, home, transport));
        mainEngine = new MainEngine({ home: tempDir("rpc-e2e-client-") });
        mainEngine.addGateway(RpcGateway);
        mainEngine.eventEngine.register(EVENT_RPC_CONNECTION, (e) => states.push(e.data.state));
        // 15 heartbeats of silence before the kill is noticed: quick enough, and a loaded machine's pauses never reach it.
        await mainEngine.connect({ req_address: info.rep, sub_address: info.pub, transport, heartbeat_tolerance: 3_000 }, "RPC");
        await until(() => mainEngine.getAllContracts().length > 0 && mainEngine.getAllAccounts().length > 0, 10_000, "snapshot");
        contract = mainEngine.getAllContracts().find((c) => c.product === Product.FUTURES)!;
        probe = new RpcClient({ reqAddress: info.rep, subAddress: info.pub, transport, timeout: 10_000, heartbeatTolerance: 3_000 });
        probe.start();
        await probe.waitConnected(5_000);
      });

      after(async () => {
        for (const child of children) await child.stop();
        await probe?.close();
        await mainEngine?.close();
        await server?.stop("SIGKILL");
      });

      it("relabels the snapshot: gateway name and vt ids are the client's", () => {
        assert.equal(contract.gateway_name, "RPC");
        const account = mainEngine.getAllAccounts()[0]!;
        assert.equal(account.vt_accountid, `RPC.${account.accountid}`);
        assert.ok(states.includes("connected"));
      });

      it("delivers ticks and routes orders; eOrder.RPC.<id> listeners fire for pushed updates", async () => {
        await mainEngine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "RPC");
        await until(() => mainEngine.getTick(contract.vt_symbol) !== null, 10_000, "first tick");
        const tick = mainEngine.getTick(contract.vt_symbol)!;
        assert.equal(tick.gateway_name, "RPC");
        const price = restingBuyPrice(tick, contract.pricetick);
        const req = new OrderRequest({
          symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT,
          volume: 1, price, offset: Offset.OPEN,
        });
        const specific: OrderData[] = [];
        const vt_orderid = await mainEngine.sendOrder(req, "RPC");
        assert.match(vt_orderid, /^RPC\.[^.]/);
        mainEngine.eventEngine.register(EVENT_ORDER + vt_orderid, (e) => specific.push(e.data as OrderData));
        await until(() => mainEngine.getOrder(vt_orderid)?.status === Status.NOTTRADED, 10_000, "order accepted");
        await mainEngine.cancelOrder(mainEngine.getOrder(vt_orderid)!.createCancelRequest(), "RPC");
        await until(() => mainEngine.getOrder(vt_orderid)?.status === Status.CANCELLED, 10_000, "order cancelled");
        assert.ok(specific.some((o) => o.status === Status.CANCELLED && o.vt_orderid === vt_orderid));
      });

      it("serves several client processes: ticks to all, orders from each", async () => {
        for (let i = 0; i < 2; i++) {
          children.push(new JsonProcess<ClientSummary>("client.js", ["--req", info.rep, "--sub", info.pub, "--symbol", contract.vt_symbol, "--transport", transport]));
        }
        await until(() => children.every((c) => (c.last?.ticks ?? 0) > 0 && c.last?.sent.startsWith("RPC.")), 20_000, "clients trading").catch((error: Error) => {
          throw new Error(`${error.message}: ${children.map((c) => `${JSON.stringify(c.last)} ${c.stderr}`).join("; ")}`);
        });
        const sent = children.map((c) => c.last!.sent);
        assert.notEqual(sent[0], sent[1]);
        await until(() => sent.every((id) => mainEngine.getOrder(id) !== null), 10_000, "other clients' orders visible");
        const clients = await probe.call<unknown[]>("get_all_orders");
        assert.ok(clients.length >= 3);
      });

      it("a slow call does not block an order, and an induced timeout does not wedge the client", async () => {
        // The slow call answers only when released: the quick one can only come back first if nothing queues behind it.
        let slowSettled = false;
        const slow = probe.call("test_block", [], { timeout: 60_000 }).finally(() => (slowSettled = true));
        const orders = await probe.call<unknown[]>("get_all_orders");
        assert.ok(Array.isArray(orders));
        assert.equal(slowSettled, false, "the quick call returned while the slow one was still running");
        await assert.rejects(probe.call("test_block", [], { timeout: 100 }), RpcTimeoutError);
        assert.ok(Array.isArray(await probe.call("get_all_contracts")));
        assert.ok((await probe.call<number>("test_release")) >= 1);
        assert.equal(await slow, "released");
      });

      it("answers hostile frames with error replies while a client keeps trading", async () => {
        const req = new zmq.Request({ linger: 0, receiveTimeout: 5_000 });
        req.connect(info.rep);
        try {
          const ask = async (frame: Buffer) => {
            await req.send(frame);
            const [reply] = await req.receive();
            return decodeResult(reply!);
          };
          const osSystem = Buffer.from("\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00touch /tmp/pwnedq\x01\x85q\x02Rq\x03.", "latin1");
          const cases: [Buffer, RegExp][] = [
            [Buffer.from("not a pickle at all"), /Traceback/],
            [osSystem, /UnpicklingError/],
            [encodeRequest("send_order", ["not an order", "SIM"], {}), /TypeError: send_order\(\) argument 'req' must be OrderRequest, not str/],
            [encodeRequest("no_such_function", [], {}), /KeyError: 'no_such_function'/],
            [Buffer.alloc(3 << 20, 1), /ValueError: request of \d+ bytes exceeds/],
          ];
          for (const [frame, expected] of cases) {
            const reply = await ask(frame);
            assert.equal(reply.ok, false);
            assert.match(String(reply.value), expected);
          }
        } finally {
          req.close();
        }
        const tick = mainEngine.getTick(contract.vt_symbol)!;
        const price = restingBuyPrice(tick, contract.pricetick);
        const id = await mainEngine.sendOrder(
          new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price, offset: Offset.OPEN }),
          "RPC",
        );
        assert.match(id, /^RPC\./);
      });

      it("survives kill -9 and a restart of the server: clients reconnect and resync to the server's state", async () => {
        // Transitions are checked in the recorded sequences, not by polling a state that flaps connected <-> stale under load.
        const reconnectedSince = (history: readonly string[], mark: number) => {
          const lost = history.indexOf("disconnected", mark);
          return lost >= 0 && history.indexOf("connected", lost) > lost;
        };
        const stateMark = states.length;
        const childMarks = children.map((c) => c.lines.length);
        await server.stop("SIGKILL");
        await until(() => states.indexOf("disconnected", stateMark) >= 0, 10_000, "disconnect noticed");
        ({ process: server, info } = await startServerProcess(info.rep, info.pub, home, transport));
        lastServerOrders = null; // only the restarted server's answer counts
        await until(() => reconnectedSince(states, stateMark), 15_000, "reconnected");
        // Ticks flow again: the gateway re-subscribed on the new server by itself.
        // A tick newer than any before the kill (compared by instant: a re-delivered old tick is a new object too).
        const before = mainEngine.getTick(contract.vt_symbol)!.datetime.epochMicros();
        await until(() => mainEngine.getTick(contract.vt_symbol)!.datetime.epochMicros() > before, 15_000, "ticks after restart");
        await until(
          () => children.every((c, i) => reconnectedSince(c.lines.map((line) => line.state), childMarks[i]!)),
          15_000,
          "client processes reconnected",
        );
        // Client state equals server state (relabelled): every server order, with its latest status.
        await probe.waitConnected(10_000);
        await until(() => {
          const serverOrders = lastServerOrders;
          return serverOrders !== null && serverOrders.length > 0 &&
            serverOrders.every((o) => mainEngine.getOrder(`RPC.${o.orderid}`)?.status === o.status);
        }, 15_000, "client orders equal server orders");
        assert.ok(reconnectedSince(states, stateMark), `states: ${states.join(" -> ")}`);
      });

      let lastServerOrders: OrderData[] | null = null;
      before(() => {
        const timer = setInterval(() => {
          if (probe?.state === "connected") probe.call<OrderData[]>("get_all_orders").then((o) => (lastServerOrders = o), () => undefined);
        }, 200);
        timer.unref();
      });
    });
  }
}

/**
 * No load order bypasses the risk manager. VeighNa's RpcEngine captures `main_engine.send_order` when it is built,
 * so a risk manager added after it (which monkey-patches the method) never sees remote orders. Here an app that
 * captures `sendOrder` the same way, and sends with an rpc origin, is added before and after RiskManagerApp.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BaseEngine, type AppClass, type EventEngine, type MainEngine, type OrderRequest } from "../../src/kernel/index.js";
import { order, startServer, type TestServer } from "./helpers.js";

class OrderDeskEngine extends BaseEngine {
  private readonly sendOrder: MainEngine["sendOrder"];

  constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
    super(mainEngine, eventEngine, "OrderDesk");
    this.sendOrder = mainEngine.sendOrder.bind(mainEngine); // captured once, as VeighNa's RpcEngine does
  }

  /** What a remote client's send_order call becomes on the server. */
  submit(req: OrderRequest, clientId: string): Promise<string> {
    return this.sendOrder(req, "TEST", { kind: "rpc", clientId });
  }
}

const OrderDeskApp: AppClass<OrderDeskEngine> = { appName: "OrderDesk", displayName: "Order desk", engineClass: OrderDeskEngine };

for (const placement of ["before", "after"] as const) {
  test(`orders from an app added ${placement} the risk manager pass its rules`, async () => {
    const server: TestServer = await startServer({ [placement]: [OrderDeskApp] });
    try {
      const desk = server.mainEngine.engines.get("OrderDesk") as OrderDeskEngine;
      server.risk.updateRule("order_size", { order_volume_limit: 10 });

      assert.match(await desk.submit(order({ volume: 10 }), "zmq:1"), /^TEST\./);
      assert.equal(await desk.submit(order({ volume: 11, price: 3499 }), "zmq:1"), "");
      server.risk.setTradingState("HALTED");
      assert.equal(await desk.submit(order({ price: 3498 }), "zmq:2"), "");
      server.flush();

      assert.equal(server.gateway.orders.size, 1, "only the allowed order reached the gateway");
      assert.equal(server.blockedLines().length, 2);
      assert.deepEqual(server.blocks.map((block) => block.code), ["VOLUME_LIMIT", "HALTED"]);
    } finally {
      await server.close();
    }
  });
}

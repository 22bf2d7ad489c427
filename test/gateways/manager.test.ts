/** GatewayEngine in process: connection states as events, connect/disconnect, orders to a down gateway blocked. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Direction, MainEngine, Offset, OrderRequest, OrderType } from "../../src/kernel/index.js";
import { EVENT_GATEWAY_STATE, GatewayKinds, GatewayManagerApp, GatewayManagerError, type GatewayStatus } from "../../src/gateways/index.js";
import { tempDir, until } from "../service/helpers.js";

const kinds = new GatewayKinds();

async function engineWith(...configs: { name: string; setting: Record<string, string | number> }[]) {
  const home = tempDir("gateway-manager-");
  const mainEngine = new MainEngine({ home });
  const gateways = mainEngine.addApp(GatewayManagerApp);
  const states: string[] = [];
  mainEngine.eventEngine.register(EVENT_GATEWAY_STATE, (event) => {
    const status = event.data as GatewayStatus;
    states.push(`${status.name}:${status.state}`);
  });
  for (const c of configs) gateways.add(kinds.parse({ kind: "sim", name: c.name, setting: c.setting }, "test", home));
  return { mainEngine, gateways, states };
}

describe("gateway manager", () => {
  it("reports states, blocks orders while a gateway is disconnected and lets it connect again", async () => {
    const { mainEngine, gateways, states } = await engineWith({ name: "SIM", setting: { data_dir: ":memory:" } });
    try {
      assert.equal(gateways.list()[0]!.state, "disconnected");
      await gateways.connectAll();
      await until(() => states.includes("SIM:connected"), 5_000, "connected event");
      const contract = mainEngine.getAllContracts().find((c) => c.min_volume === 1)!;
      const req = new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: contract.pricetick, offset: Offset.OPEN });
      assert.notEqual(await mainEngine.sendOrder(req, "SIM"), "", "accepted while connected");

      await gateways.disconnect("SIM");
      assert.equal(gateways.list()[0]!.state, "disconnected");
      assert.equal(await mainEngine.sendOrder(req, "SIM"), "");
      const block = mainEngine.blockedReason(req, "SIM");
      assert.deepEqual([block?.check, block?.code, block?.params["state"]], ["gateway_state", "GATEWAY_NOT_CONNECTED", "disconnected"]);

      await gateways.connect("SIM");
      assert.equal(gateways.list()[0]!.state, "connected");
      assert.notEqual(await mainEngine.sendOrder(req, "SIM"), "");
      await until(() => states.length >= 5, 5_000, "every change as an event");
      assert.deepEqual(states, ["SIM:connecting", "SIM:connected", "SIM:disconnected", "SIM:connecting", "SIM:connected"]);
    } finally {
      await mainEngine.close();
    }
  });

  it("connects the others when one fails, leaves it disconnected with the reason, and rethrows", async () => {
    const { mainEngine, gateways } = await engineWith(
      { name: "BAD", setting: { data_dir: ":memory:", contracts_file: "no-such-folder/contracts.json" } },
      { name: "GOOD", setting: { data_dir: ":memory:" } },
    );
    try {
      await assert.rejects(gateways.connectAll());
      const byName = Object.fromEntries(gateways.list().map((g) => [g.name, g]));
      assert.equal(byName["GOOD"]!.state, "connected");
      assert.equal(byName["BAD"]!.state, "disconnected");
      assert.match(byName["BAD"]!.reason, /contracts/);
      await assert.rejects(gateways.connect("NOPE"), (error: unknown) => error instanceof GatewayManagerError && error.code === "ERR_GATEWAY_UNKNOWN");
    } finally {
      await mainEngine.close();
    }
  });
});

/** Gateway configuration: files and flags checked once with errors naming file and field; the --sim rule; masking. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GatewayConfigError, GatewayKinds, MASK, loadGatewayFiles, maskSetting, planGateways, rpcKind } from "../../src/gateways/index.js";
import { tempDir } from "../service/helpers.js";
import type { BaseGateway, EventEngine } from "../../src/kernel/index.js";
import type { SyncState } from "../../src/service/index.js";

const kinds = new GatewayKinds();
const UPSTREAM = "tcp://127.0.0.1:2014,tcp://127.0.0.1:4102";

function withHome(files: Record<string, unknown>, body: (home: string) => void): void {
  const home = tempDir("gateway-config-");
  try {
    for (const [name, value] of Object.entries(files)) writeFileSync(join(home, name), typeof value === "string" ? value : JSON.stringify(value));
    body(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function refuses(run: () => unknown, source: string, field: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof GatewayConfigError, String(error));
    assert.equal(error.source, source);
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  });
}

describe("gateway plan", () => {
  it("runs SIM alone when nothing is configured, with its journal in the home folder", () => {
    withHome({}, (home) => {
      const plan = planGateways({ home, kinds });
      assert.deepEqual(plan.map((g) => [g.kind, g.name]), [["sim", "SIM"]]);
      assert.equal(plan[0]!.setting["data_dir"], join(home, "sim"));
    });
  });

  it("--upstream adds an RPC gateway and drops the default SIM; --sim keeps it; --upstream-name renames", () => {
    withHome({}, (home) => {
      assert.deepEqual(planGateways({ home, kinds, upstream: { addresses: UPSTREAM } }).map((g) => g.name), ["RPC"]);
      const both = planGateways({ home, kinds, upstream: { addresses: UPSTREAM, name: "CTP" }, sim: true });
      assert.deepEqual(both.map((g) => g.name), ["SIM", "CTP"]);
      assert.deepEqual(both[1]!.setting, { req_address: "tcp://127.0.0.1:2014", sub_address: "tcp://127.0.0.1:4102" });
    });
  });

  it("--no-sim drops SIM even when a file configures it; SIM flags apply over the file", () => {
    withHome({ "connect_sim.json": { kind: "sim", setting: { seed: 7, ticks_per_second: 3 } } }, (home) => {
      assert.deepEqual(planGateways({ home, kinds, sim: false }), []);
      const [sim] = planGateways({ home, kinds, simSetting: { ticks_per_second: 9 } });
      assert.equal(sim!.setting["seed"], 7);
      assert.equal(sim!.setting["ticks_per_second"], 9);
      assert.equal(sim!.source, "connect_sim.json");
    });
  });

  it("reads every connect_*.json with VeighNa's Chinese keys accepted", () => {
    withHome({
      "connect_ctp.json": { kind: "rpc", name: "CTP", setting: { "主动请求地址": "ipc:///tmp/a", "推送订阅地址": "ipc:///tmp/b" } },
      "other.json": { not: "a gateway file" },
    }, (home) => {
      const files = loadGatewayFiles(home, kinds);
      assert.deepEqual(files.map((g) => [g.name, g.source]), [["CTP", "connect_ctp.json"]]);
      assert.deepEqual(planGateways({ home, kinds }).map((g) => g.name), ["CTP"], "a configured gateway: no default SIM");
    });
  });

  it("refuses bad entries naming the file and the field, without echoing values", () => {
    withHome({ "connect_a.json": { kind: "rpc", setting: { req_address: 42 } } }, (home) => {
      refuses(() => loadGatewayFiles(home, kinds), "connect_a.json", "setting.req_address", /Expected string/);
    });
    withHome({ "connect_a.json": { kind: "rpc", setting: { secret_key: "not-a-key-but-secret" } } }, (home) => {
      assert.throws(() => loadGatewayFiles(home, kinds), (error: Error) => {
        assert.ok(!error.message.includes("not-a-key-but-secret"));
        assert.match(error.message, /connect_a\.json: setting\.secret_key/);
        return true;
      });
    });
    withHome({ "connect_a.json": { kind: "rpc", setting: { req_adress: "typo" } } }, (home) => {
      refuses(() => loadGatewayFiles(home, kinds), "connect_a.json", "setting.req_adress", /Unexpected property/);
    });
    withHome({ "connect_a.json": { kind: "ctp" } }, (home) => {
      refuses(() => loadGatewayFiles(home, kinds), "connect_a.json", "kind", /unknown kind "ctp"; known: sim, rpc/);
    });
    withHome({ "connect_a.json": { kind: "sim", name: "SIM.2" } }, (home) => {
      refuses(() => loadGatewayFiles(home, kinds), "connect_a.json", "name", /vt id/);
    });
    withHome({ "connect_a.json": "{ not json" }, (home) => {
      refuses(() => loadGatewayFiles(home, kinds), "connect_a.json", "", /not valid JSON/);
    });
    withHome({ "connect_a.json": { kind: "rpc", name: "RPC" } }, (home) => {
      refuses(() => planGateways({ home, kinds, upstream: { addresses: UPSTREAM } }), "--upstream", "name", /also configured by connect_a\.json/);
    });
  });

  it("refuses malformed --upstream flags", () => {
    withHome({}, (home) => {
      refuses(() => planGateways({ home, kinds, upstream: { addresses: "tcp://127.0.0.1:2014" } }), "--upstream", "", /REQ_ADDRESS,SUB_ADDRESS/);
      refuses(() => planGateways({ home, kinds, upstream: { addresses: UPSTREAM, keyFile: "a.key" } }), "--upstream", "--upstream-server-key", /both/);
      refuses(() => planGateways({ home, kinds, upstream: { addresses: UPSTREAM, keyFile: "a.key", serverKey: "short" } }), "--upstream", "setting.server_key", /must be a CURVE key: 40 Z85 characters/);
      refuses(
        () => planGateways({ home, kinds, upstream: { addresses: UPSTREAM, keyFile: join(home, "missing.key"), serverKey: "k".repeat(40) } }),
        "--upstream", "setting.key_file", /cannot read the key file .*missing\.key: ENOENT/,
      );
    });
  });

  it("masks secrets and only secrets", () => {
    const masked = maskSetting(rpcKind, { req_address: "tcp://x:1", secret_key: "s".repeat(40), token: "", server_key: "k".repeat(40) });
    assert.deepEqual(masked, { req_address: "tcp://x:1", secret_key: MASK, token: "", server_key: "k".repeat(40) });
  });
});

describe("rpc gateway state", () => {
  // The GatewayManager lets orders through only in "connected": the relay's upstream link says when (ordersOpen).
  it("reports connected exactly while the RpcGateway says orders are open", () => {
    const reports: string[] = [];
    let handler: ((event: { data: unknown }) => void) | undefined;
    const eventEngine = { register: (_type: string, h: (event: { data: unknown }) => void) => (handler = h), unregister: () => undefined };
    const stop = rpcKind.watch!({ gatewayName: "RPC" } as BaseGateway, eventEngine as unknown as EventEngine, (state) => reports.push(state));
    const put = (state: SyncState, open: boolean, name = "RPC"): void =>
      handler!({ data: { gateway_name: name, state, previous: state, reason: "test", next_retry: null, orders_open: open } });
    put("syncing", false);
    put("synced", true);
    put("syncing", true);
    put("syncing", false);
    put("stale", false);
    put("synced", true, "OTHER");
    assert.deepEqual(reports, ["connecting", "connected", "connected", "connecting", "stale"]);
    stop();
  });
});

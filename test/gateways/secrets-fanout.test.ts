/**
 * A relay in front of our own CURVE server: the upstream sees one client per relay whatever the number of
 * clients downstream, and the relay's secret key appears in no log line and no reply (listings mask it).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Direction, EVENT_LOG, MainEngine, Offset, OrderRequest, OrderType } from "../../src/kernel/index.js";
import type { ConnectedClient, WsRpcClient } from "../../src/rpc/index.js";
import { MASK, type GatewayStatus } from "../../src/gateways/index.js";
import { RpcGateway, writeKeyFile } from "../../src/service/index.js";
import { curveKeyPair } from "../../src/zmtp/index.js";
import { tempDir, until } from "../service/helpers.js";
import { ServeProcess, consoleClient } from "./processes.js";

function ipc(home: string): { rep: string; pub: string } {
  return { rep: `ipc://${join(home, "rep.sock")}`, pub: `ipc://${join(home, "pub.sock")}` };
}

describe("relays in front of a CURVE server", () => {
  const homes: string[] = [];
  const processes: ServeProcess[] = [];
  const engines: MainEngine[] = [];
  const consoles: WsRpcClient[] = [];
  const logs: string[] = [];
  const secret = curveKeyPair();
  const flagPair = curveKeyPair();
  let upstreamConsole: WsRpcClient;
  let relayConsole: WsRpcClient;
  let relay: ServeProcess;
  let flagRelay: ServeProcess;
  let upstream: ServeProcess;
  let relayAddresses: { rep: string; pub: string };

  const home = (prefix: string): string => {
    const dir = tempDir(prefix);
    homes.push(dir);
    return dir;
  };
  const serve = (args: string[]): ServeProcess => {
    const p = new ServeProcess(args);
    processes.push(p);
    return p;
  };

  before(async () => {
    // The upstream: our server with the simulated exchange, CURVE without an allow-list (encryption only).
    const upHome = home("relay-up-");
    const up = ipc(upHome);
    writeFileSync(join(upHome, "rpc_service_setting.json"), JSON.stringify({ rep_address: up.rep, pub_address: up.pub, curve: true, curve_allow_list: false }));
    upstream = serve(["--home", upHome, "--console-port", "0", "--ticks-per-second", "5"]);
    const serverKey = (await upstream.waitFor(/clients set it as server_key\): (\S+)/))[1]!;
    upstreamConsole = await consoleClient(await upstream.consoleUrl());
    consoles.push(upstreamConsole);

    // Relay 1: configured by a gateway file holding its secret key inline.
    const relayHome = home("relay-file-");
    relayAddresses = ipc(relayHome);
    writeFileSync(join(relayHome, "connect_up.json"), JSON.stringify({
      kind: "rpc",
      name: "UP",
      setting: { req_address: up.rep, sub_address: up.pub, server_key: serverKey, secret_key: secret.secretKey },
    }));
    relay = serve(["--home", relayHome, "--rep", relayAddresses.rep, "--pub", relayAddresses.pub, "--console-port", "0"]);
    // Relay 2: the same upstream through the flags, its key in a key file.
    const flagHome = home("relay-flags-");
    const keyFile = join(flagHome, "relay.key");
    writeKeyFile(keyFile, flagPair);
    const flagAddresses = ipc(flagHome);
    flagRelay = serve([
      "--home", flagHome, "--rep", flagAddresses.rep, "--pub", flagAddresses.pub, "--no-console",
      "--upstream", `${up.rep},${up.pub}`, "--upstream-key", keyFile, "--upstream-server-key", serverKey,
    ]);
    await relay.waitFor(/Gateway UP connected/);
    await flagRelay.waitFor(/Gateway RPC connected/);
    relayConsole = await consoleClient(await relay.consoleUrl());
    consoles.push(relayConsole);
  });

  after(async () => {
    for (const engine of engines) await engine.close();
    for (const client of consoles) await client.close();
    for (const p of processes.reverse()) await p.stop();
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
  });

  it("shares one upstream connection among many downstream clients: the upstream sees one client per relay", async () => {
    for (const name of ["A", "B", "C"]) {
      const engine = new MainEngine({ home: home("relay-client-") });
      engines.push(engine);
      engine.eventEngine.register(EVENT_LOG, (event) => logs.push(event.data.msg));
      engine.addGateway(RpcGateway, name);
      await engine.connect({ req_address: relayAddresses.rep, sub_address: relayAddresses.pub }, name);
    }
    for (const engine of engines) await until(() => engine.getAllContracts().length > 0, 60_000, "contracts through the relay");
    const relayClients = (await relayConsole.call<ConnectedClient[]>("get_clients")).filter((c) => c.endpoint === "zmq" && !c.clientId.includes(":sub-")); // callers, not event subscribers
    assert.equal(relayClients.length, 3);
    const upstreamClients = (await upstreamConsole.call<ConnectedClient[]>("get_clients")).filter((c) => c.endpoint === "zmq" && !c.clientId.includes(":sub-")); // callers, not event subscribers
    assert.equal(upstreamClients.length, 2, "one per relay");
    const keys = upstreamClients.map((c) => c.publicKey).sort();
    assert.deepEqual(keys, [secret.publicKey, flagPair.publicKey].sort(), "each relay authenticates with its own key");
  });

  it("never shows the secret key: masked in the gateway list, absent from every log line and reply", async () => {
    const listed = await relayConsole.call<GatewayStatus[]>("gateway_list");
    const up = listed.find((g) => g.name === "UP")!;
    assert.equal(up.setting["secret_key"], MASK);
    assert.equal(up.state, "connected");
    assert.match(String(up.setting["server_key"]), /^.{40}$/, "a public key is not a secret");

    const replies: unknown[] = [listed];
    for (const call of ["console_info", "get_logs", "rpc_status", "get_clients", "get_all_contracts", "get_all_accounts", "get_all_orders"]) {
      replies.push(await relayConsole.call(call));
    }
    const everything = [JSON.stringify(replies), relay.output, upstream.output, flagRelay.output, logs.join("\n")];
    for (const text of everything) {
      assert.ok(!text.includes(secret.secretKey), "the inline secret key leaked");
      assert.ok(!text.includes(flagPair.secretKey), "the key file's secret leaked");
    }
    assert.ok(relay.output.includes(secret.publicKey), "the public key is logged, so an operator can allow-list it");
  });

  it("lets an admin disconnect and connect a gateway from the console; orders in between are refused", async () => {
    const client = engines[0]!;
    const disconnected = await relayConsole.call<GatewayStatus>("gateway_disconnect", ["UP"]);
    assert.equal(disconnected.state, "disconnected");
    const contract = client.getAllContracts()[0]!;
    const req = new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: contract.pricetick * 10, offset: Offset.OPEN });
    const mark = relay.mark();
    assert.equal(await client.sendOrder(req, "A"), "");
    await relay.waitFor(/Order blocked: gateway UP is disconnected \(disconnected on request\)/, 30_000, mark);
    await relayConsole.call("gateway_connect", ["UP"]);
    await relay.waitFor(/Gateway UP connected/, 60_000, mark);
    const states = (await relayConsole.call<GatewayStatus[]>("gateway_list")).map((g) => `${g.name}:${g.state}`);
    assert.deepEqual(states, ["UP:connected"]);
  });
});

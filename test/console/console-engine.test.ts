import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Direction, Exchange, MainEngine, OrderRequest, OrderType } from "../../src/kernel/index.js";
import { RiskManagerApp } from "../../src/risk/index.js";
import { RpcServiceApp } from "../../src/service/index.js";
import { RemoteError, WsRpcClient } from "../../src/rpc/index.js";
import { ConsoleApp, ConsoleStartError, TOKEN_FILENAME, isLoopbackHost, loadOrCreateToken, tokenMatches } from "../../src/console/index.js";
import { until } from "../helpers/until.js";
import { RawClient } from "../rpc/ws/helpers.js";

function tempHome(): string {
  return mkdtempSync(join(tmpdir(), "rpcservice-console-test-"));
}

test("the token is generated once, kept owner-only in the home folder, then read back", () => {
  const home = tempHome();
  try {
    const first = loadOrCreateToken(home);
    assert.equal(first.created, true);
    assert.equal(first.path, join(home, TOKEN_FILENAME));
    assert.ok(first.token.length >= 40);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    const again = loadOrCreateToken(home);
    assert.deepEqual(again, { ...first, created: false });
    writeFileSync(first.path, "short\n");
    assert.throws(() => loadOrCreateToken(home), ConsoleStartError);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("tokens compare exactly, and only loopback hosts go without one", () => {
  assert.equal(tokenMatches("secret-token-value", "secret-token-value"), true);
  assert.equal(tokenMatches("secret-token-value", "secret-token-valuE"), false);
  assert.equal(tokenMatches("secret-token-value", ""), false);
  assert.equal(tokenMatches("secret-token-value", null), false);
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com", "10.0.0.1"]) assert.equal(isLoopbackHost(host), false, host);
});

test("the console serves its page and refuses paths outside it; off loopback the page and the socket need the token", async () => {
  const home = tempHome();
  const web = join(home, "web");
  mkdirSync(join(web, "assets"), { recursive: true });
  writeFileSync(join(web, "index.html"), "<!doctype html><title>console</title>");
  writeFileSync(join(web, "assets", "app.js"), "console.log(1)");
  writeFileSync(join(home, "secret.txt"), "not for the web");
  const mainEngine = new MainEngine({ home });
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  try {
    // "always" stands in for a non-loopback bind, which a test cannot make safely.
    const started = await consoleEngine.start({ host: "127.0.0.1", port: 0, webRoot: web, token: "always" });
    assert.equal(started.tokenCreated, true);
    assert.equal(readFileSync(started.tokenPath!, "utf8").trim(), started.token);
    assert.match(started.urlWithToken, /\?token=/);

    const page = await fetch(started.url);
    assert.equal(page.status, 401);
    const withToken = await fetch(started.urlWithToken);
    assert.equal(withToken.status, 200);
    assert.match(withToken.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(withToken.headers.get("referrer-policy"), "no-referrer");
    assert.match(await withToken.text(), /<title>console/);
    const asset = await fetch(`${started.url}assets/app.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("content-type") ?? "", /javascript/);
    assert.equal((await fetch(`${started.url}..%2Fsecret.txt`)).status, 404);
    assert.equal((await fetch(`${started.url}assets/..%2F..%2Fsecret.txt`)).status, 404);
    assert.equal((await fetch(started.url, { method: "POST" })).status, 405);

    const wsUrl = `ws://127.0.0.1:${started.port}/console`;
    await assert.rejects(RawClient.open(wsUrl), /401/);
    const client = await RawClient.open(`${wsUrl}?token=${started.token}`);
    client.close();
  } finally {
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("console calls reach the MainEngine as console orders, through the risk manager, and report the rules", async () => {
  const home = tempHome();
  const mainEngine = new MainEngine({ home });
  const risk = mainEngine.addApp(RiskManagerApp);
  await risk.ready;
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  const started = await consoleEngine.start({ port: 0, webRoot: null });
  const client = await RawClient.open(`ws://127.0.0.1:${started.port}/console`);
  try {
    client.send({ id: 1, call: "console_info" });
    const info = (await client.reply(1)).result as { calls: string[]; token_required: boolean };
    assert.ok(info.calls.includes("send_order") && info.calls.includes("rpc_start"));
    assert.equal(info.token_required, false);

    client.send({ id: 2, call: "risk_rules" });
    const rules = (await client.reply(2)).result as { name: string; parameters: { name: string }[] }[];
    assert.ok(rules.some((r) => r.name === "order_size" && r.parameters.some((p) => p.name === "order_volume_limit")));

    client.send({ id: 3, call: "risk_update_rule", args: ["order_size", { order_volume_limit: "lots" }] });
    assert.match(((await client.reply(3)).error as { code: string }).code, /ERR_RISK/);

    client.send({ id: 4, call: "risk_set_state", args: ["HALTED"] });
    assert.equal((await client.reply(4)).result, "HALTED");
    client.send({ id: 5, call: "risk_set_state", args: ["PANIC"] });
    assert.equal(((await client.reply(5)).error as { code: string }).code, "INVALID_ARGUMENT");

    // Halted: the console's order goes through the same pipeline as everyone's and is blocked ("").
    const order = { $class: "OrderRequest", symbol: "rb2501", exchange: "SHFE", direction: "多", type: "限价", volume: 1, price: 3500, offset: "开" };
    client.send({ id: 6, call: "send_order", args: [order, "SIM"] });
    assert.equal((await client.reply(6)).result, "");

    client.send({ id: 7, call: "rpc_start", args: ["tcp://127.0.0.1:0", "tcp://127.0.0.1:0"] });
    assert.equal(((await client.reply(7)).error as { code: string }).code, "NOT_AVAILABLE");
    client.send({ id: 8, call: "send_order", args: ["not a request", "SIM"] });
    assert.equal(((await client.reply(8)).error as { code: string }).code, "INVALID_ARGUMENT");
    client.send({ id: 9, call: "get_clients" });
    const clients = (await client.reply(9)).result as { endpoint: string }[];
    assert.deepEqual(clients.map((c) => c.endpoint), ["console"]);
    assert.equal(new OrderRequest({ symbol: "x", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1 }).vt_symbol, "x.SHFE");
  } finally {
    client.close();
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("the console publishes every event but the timer, numbered, and keeps the log for late joiners", async () => {
  const home = tempHome();
  const mainEngine = new MainEngine({ home });
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  const started = await consoleEngine.start({ port: 0, webRoot: null });
  const client = await RawClient.open(`ws://127.0.0.1:${started.port}/console`);
  try {
    client.send({ id: 1, subscribe: { types: ["*"] } });
    await client.reply(1);
    mainEngine.writeLog("first line");
    mainEngine.writeLog("second line");
    const second = await client.next((m) => (m.data as { msg?: string } | undefined)?.msg === "second line");
    const first = client.events().find((m) => (m.data as { msg?: string }).msg === "first line")!;
    assert.equal(second.seq, (first.seq as number) + 1);
    assert.equal(client.events().some((m) => m.type === "eTimer"), false);
    client.send({ id: 2, call: "get_logs" });
    const logs = (await client.reply(2)).result as { msg: string; $class: string }[];
    assert.deepEqual(logs.slice(-2).map((l) => [l.$class, l.msg]), [["LogData", "first line"], ["LogData", "second line"]]);
  } finally {
    client.close();
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("the RPC service, started from the console, serves its functions and events on /ws too, and stops it with itself", async () => {
  const home = tempHome();
  const mainEngine = new MainEngine({ home });
  const rpc = mainEngine.addApp(RpcServiceApp);
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  const started = await consoleEngine.start({ port: 0, webRoot: null });
  const operator = await RawClient.open(`ws://127.0.0.1:${started.port}/console`);
  const wsUrl = `ws://127.0.0.1:${started.port}/ws`;
  try {
    await assert.rejects(RawClient.open(wsUrl), /503/);
    operator.send({ id: 1, call: "rpc_start", args: ["tcp://127.0.0.1:0", "tcp://127.0.0.1:0"] });
    assert.equal((await operator.reply(1)).result, true);
    assert.equal(rpc.isActive, true);

    const client = new WsRpcClient({ url: wsUrl, reconnect: false, types: ["eLog"] });
    await client.waitConnected(5_000);
    assert.deepEqual(await client.call("get_all_contracts"), []);
    await assert.rejects(client.call("connect", [{}, "SIM"]), (error: unknown) => error instanceof RemoteError && /UNKNOWN_FUNCTION/.test(error.remoteType));

    operator.send({ id: 2, call: "get_clients" });
    const clients = (await operator.reply(2)).result as { endpoint: string }[];
    assert.deepEqual(clients.map((c) => c.endpoint).sort(), ["console", "ws"]);

    operator.send({ id: 3, call: "rpc_status" });
    const status = (await operator.reply(3)).result as { active: boolean; rep_address: string; ws_address: string; log: { msg: string }[] };
    assert.equal(status.active, true);
    assert.match(status.rep_address, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.equal(status.ws_address, wsUrl);
    assert.ok(status.log.some((l) => /started successfully/.test(l.msg)));

    operator.send({ id: 4, call: "rpc_stop" });
    assert.equal((await operator.reply(4)).result, true);
    await until(() => client.state !== "connected", 5_000, "the /ws client is closed with the service");
    await assert.rejects(RawClient.open(wsUrl), /503/);
    await client.close();
  } finally {
    operator.close();
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

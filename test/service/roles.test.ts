/**
 * Roles, revocation, ownership and the audit trail, on real sockets: ZeroMQ clients with CURVE keys of each role,
 * WebSocket clients signed in as console users of each role, the console's management calls, a key revoked while
 * its client is connected, orders owned across a restart, refused calls in the log and the trail.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  BarData,
  CancelRequest,
  Direction,
  Exchange,
  HistoryRequest,
  Interval,
  DateTime,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Product,
  SubscribeRequest,
  type ContractData,
} from "../../src/kernel/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { RiskManagerApp, type RiskEngine } from "../../src/risk/index.js";
import { RemoteError, RpcClient, WsRpcClient, type ConnectionState } from "../../src/rpc/index.js";
import { ConsoleApp, type ConsoleEngine } from "../../src/console/index.js";
import { GatewayManagerApp, type GatewayEngine, type GatewayStatus } from "../../src/gateways/index.js";
import {
  AUTHORIZED_CLIENTS_FILE,
  AuditTrail,
  EVENT_RPC_LOG,
  ROLES,
  RPC_SETTING_FILENAME,
  RpcServiceApp,
  addConsoleUser,
  authorizeClient,
  revokeClient,
  writeKeyFile,
  type RpcEngine,
  type Role,
} from "../../src/service/index.js";
import { curveKeyPair, type CurveKeyPair } from "../../src/zmtp/index.js";
import { restingBuyPrice, startServerProcess, tempDir, until } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const PYTHON_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test", "service", "python");
const STANDINS_DIR = join(PYTHON_DIR, "..", "..", "python");
const zmqCheck = spawnSync(PYTHON, ["-c", "import zmq; assert zmq.has('curve')"], { encoding: "utf8" });
const noPython = zmqCheck.status !== 0 ? `needs ${PYTHON} with python3-zmq and CURVE` : false;

interface Server {
  mainEngine: MainEngine;
  rpc: RpcEngine;
  console: ConsoleEngine;
  /** Manages no gateway until a test adds one (SIM is added directly). */
  gateways: GatewayEngine;
  risk: RiskEngine;
  home: string;
  rep: string;
  pub: string;
  wsUrl: string;
  consoleUrl: string;
  keys: Record<Role, CurveKeyPair>;
  tokens: Record<Role, string>;
  logs(): string[];
  close(): Promise<void>;
}

/** `previous`: the keys and tokens of an earlier server on the same home (a restart), already on file. */
async function startServer(home = tempDir("rpc-roles-"), simDir = ":memory:", previous?: Pick<Server, "keys" | "tokens">): Promise<Server> {
  const mainEngine = new MainEngine({ home });
  try {
    return await setUp(mainEngine, home, simDir, previous);
  } catch (error) {
    await mainEngine.close();
    throw error;
  }
}

async function setUp(mainEngine: MainEngine, home: string, simDir: string, previous?: Pick<Server, "keys" | "tokens">): Promise<Server> {
  mainEngine.addGateway(SimGateway);
  await mainEngine.connect({ data_dir: simDir, ticks_per_second: 20 }, "SIM");
  const gateways = mainEngine.addApp(GatewayManagerApp);
  const risk = mainEngine.addApp(RiskManagerApp) as RiskEngine;
  await risk.ready;
  const rpc = mainEngine.addApp(RpcServiceApp) as RpcEngine;
  gateways.serveOn(rpc.server);
  const consoleEngine = mainEngine.addApp(ConsoleApp) as ConsoleEngine;
  const lines: string[] = [];
  mainEngine.eventEngine.register(EVENT_RPC_LOG, (e) => lines.push(e.data.msg));
  const keys = previous?.keys ?? ({} as Record<Role, CurveKeyPair>);
  const tokens = previous?.tokens ?? ({} as Record<Role, string>);
  for (const role of previous ? [] : ROLES) {
    keys[role] = curveKeyPair();
    authorizeClient(join(home, AUTHORIZED_CLIENTS_FILE), keys[role].publicKey, `${role}-key`, role);
    tokens[role] = addConsoleUser(home, `${role}-user`, role).token;
  }
  rpc.curve = true;
  const started = await consoleEngine.start({ host: "127.0.0.1", port: 0, webRoot: null });
  assert.equal(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", { heartbeatInterval: 1_000 }), true);
  return {
    mainEngine,
    rpc,
    console: consoleEngine,
    gateways,
    risk,
    home,
    rep: rpc.addresses!.rep,
    pub: rpc.addresses!.pub,
    wsUrl: `ws://127.0.0.1:${started.port}/ws`,
    consoleUrl: `ws://127.0.0.1:${started.port}/console`,
    keys,
    tokens,
    logs: () => {
      mainEngine.eventEngine.flush();
      return lines;
    },
    close: () => mainEngine.close(),
  };
}

function zmqClient(server: Server, pair: CurveKeyPair): RpcClient {
  return new RpcClient({
    reqAddress: server.rep,
    subAddress: server.pub,
    // Generous: the shared test machine can be very slow; the refusals under test are immediate anyway.
    timeout: 30_000,
    curve: { serverKey: server.rpc.curvePublicKey!, secretKey: pair.secretKey },
  });
}

function wsClient(url: string, token: string): WsRpcClient {
  return new WsRpcClient({ url, token, timeout: 30_000, reconnect: false });
}

/** The error text of a call, or "" when it succeeded. */
async function failureOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "";
  } catch (error) {
    return error instanceof RemoteError ? error.traceback : (error as Error).message;
  }
}

const REFUSED_BY_ROLE = /role (viewer|trader|admin) may not call/;

function future(server: Server): ContractData {
  return server.mainEngine.getAllContracts().find((c) => c.product === Product.FUTURES && c.exchange === Exchange.SHFE)!;
}

/** A buy far below the market but inside the price limits (the risk manager's order_validity checks them): it rests. */
function restingBuy(server: Server, contract = future(server)): OrderRequest {
  const limitDown = server.mainEngine.getTick(contract.vt_symbol)?.limit_down;
  return new OrderRequest({
    symbol: contract.symbol,
    exchange: contract.exchange,
    direction: Direction.LONG,
    type: OrderType.LIMIT,
    volume: 1,
    price: limitDown ? Math.round(limitDown) : contract.pricetick * 1000,
    offset: Offset.OPEN,
  });
}

/** Arguments that pass binding for each of VeighNa's 17 functions. */
function callsFor(server: Server): [string, unknown[]][] {
  const contract = future(server);
  const req = restingBuy(server, contract);
  return [
    ["subscribe", [new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM"]],
    ["send_order", [req, "SIM"]],
    ["cancel_order", [new CancelRequest({ orderid: "no-such-order", symbol: contract.symbol, exchange: contract.exchange }), "SIM"]],
    [
      "query_history",
      [
        new HistoryRequest({
          symbol: contract.symbol,
          exchange: contract.exchange,
          start: DateTime.fromDate(new Date(Date.now() - 3_600_000)),
          end: DateTime.fromDate(new Date()),
          interval: Interval.MINUTE,
        }),
        "SIM",
      ],
    ],
    ["get_tick", [contract.vt_symbol]],
    ["get_order", ["SIM.1"]],
    ["get_trade", ["SIM.1"]],
    ["get_position", ["x"]],
    ["get_account", ["x"]],
    ["get_contract", [contract.vt_symbol]],
    ["get_all_ticks", []],
    ["get_all_orders", []],
    ["get_all_trades", []],
    ["get_all_positions", []],
    ["get_all_accounts", []],
    ["get_all_contracts", []],
    ["get_all_active_orders", []],
  ];
}

const ORDER_ENTRY = new Set(["send_order", "cancel_order"]);

describe("roles on every endpoint", () => {
  let server: Server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  it("query_history answers the bars MainEngine.queryHistory lists, over ZeroMQ (a series encoded bar by bar) and /ws", async () => {
    await until(() => future(server) !== undefined, 10_000, "the venue's contracts");
    const contract = future(server);
    const history = new HistoryRequest({
      symbol: contract.symbol,
      exchange: contract.exchange,
      start: DateTime.fromDate(new Date(Date.now() - 3_600_000)),
      end: DateTime.fromDate(new Date()),
      interval: Interval.MINUTE,
    });
    const req = [history, "SIM"];
    const local = await server.mainEngine.queryHistory(history, "SIM");
    assert.ok(local.length >= 59, `an hour of minute bars, got ${local.length}`);
    const zmq = zmqClient(server, server.keys.viewer);
    const ws = wsClient(server.wsUrl, server.tokens.viewer);
    const row = (bar: BarData) => [bar.datetime.toISOString(), bar.vt_symbol, bar.interval, bar.open_price, bar.high_price, bar.low_price, bar.close_price, bar.volume, bar.turnover, bar.open_interest];
    try {
      zmq.start();
      ws.start();
      await zmq.waitConnected(10_000);
      await ws.waitConnected(10_000);
      for (const [endpoint, client] of [["zmq", zmq], ["ws", ws]] as const) {
        const bars = await client.call<BarData[]>("query_history", req);
        // The clock may have closed another minute since the local query: compare the bars both have.
        assert.deepEqual(bars.slice(0, local.length).map(row), local.map(row), endpoint);
        assert.ok(bars.every((bar) => bar instanceof BarData), `${endpoint}: BarData objects`);
      }
    } finally {
      await zmq.close();
      await ws.close();
    }
  });

  for (const role of ROLES) {
    it(`a ${role} key over ZeroMQ and a ${role} console user over /ws are allowed and refused the same 17 functions`, async () => {
      const zmq = zmqClient(server, server.keys[role]);
      const ws = wsClient(server.wsUrl, server.tokens[role]);
      try {
        zmq.start();
        ws.start();
        await zmq.waitConnected(10_000);
        await ws.waitConnected(10_000);
        for (const [name, args] of callsFor(server)) {
          for (const [endpoint, client] of [["zmq", zmq], ["ws", ws]] as const) {
            const error = await failureOf(client.call(name, args));
            const refused = REFUSED_BY_ROLE.test(error);
            assert.equal(refused, role === "viewer" && ORDER_ENTRY.has(name), `${role} ${name} over ${endpoint}: ${error || "ok"}`);
            if (refused) assert.match(error, new RegExp(`PermissionError|ERR_RPC_PERMISSION|role ${role}`));
          }
        }
      } finally {
        await zmq.close();
        ws.close();
      }
    });
  }

  it("a viewer's send_order is refused naming its role and the permission, with a log line and an audit row", async () => {
    const viewer = zmqClient(server, server.keys.viewer);
    try {
      viewer.start();
      await viewer.waitConnected(10_000);
      const before = server.mainEngine.getAllOrders().length;
      const error = await failureOf(viewer.call("send_order", [restingBuy(server), "SIM"]));
      assert.match(error, /PermissionError: role viewer may not call send_order: it needs the "trade" permission/);
      assert.equal(server.mainEngine.getAllOrders().length, before, "no order reached the venue");
      await until(() => server.logs().some((line) => /\(viewer-key, viewer\): send_order refused: role viewer may not call send_order/.test(line)), 5_000, "the log line");
      const rows = server.rpc.audit!.query({ identity: "viewer-key" }).filter((row) => row.action === "send_order");
      assert.equal(rows.at(-1)?.outcome, "refused");
      assert.equal(rows.at(-1)?.role, "viewer");
      assert.equal(rows.at(-1)?.endpoint, "zmq");
      assert.match(rows.at(-1)!.remoteAddress, /127\.0\.0\.1/);
      assert.match(rows.at(-1)!.args, /"symbol"/);
    } finally {
      await viewer.close();
    }
  });

  it("the console's management calls: only an admin may stop the service, change risk or read the audit trail", async () => {
    for (const role of ROLES) {
      const client = wsClient(server.consoleUrl, server.tokens[role]);
      try {
        client.start();
        await client.waitConnected(10_000);
        const me = await client.call<{ identity: string; role: string; permissions: string[] }>("whoami");
        assert.equal(me.identity, `${role}-user`);
        assert.equal(me.role, role);
        assert.equal(me.permissions.includes("service"), role === "admin");
        // Arguments that fail after the gate (not a string, not a state): an allowed call changes nothing.
        for (const [name, args] of [["rpc_start", []], ["rpc_stop", []], ["risk_set_state", ["BOGUS"]], ["risk_update_rule", ["x", 1]], ["audit_query", [{ limit: 1 }]]] as const) {
          if (role === "admin" && name === "rpc_stop") continue; // would really stop it; stop/start is tested in the console tests
          const error = await failureOf(client.call(name, [...args]));
          assert.equal(REFUSED_BY_ROLE.test(error), role !== "admin", `${role} ${name}: ${error || "ok"}`);
        }
        assert.equal(await failureOf(client.call("get_clients")), "", "everyone sees the clients");
      } finally {
        client.close();
      }
    }
    assert.equal(server.rpc.isActive, true);
  });

  it("a wrong or missing token gets no console connection when users exist, even on loopback", async () => {
    const stranger = wsClient(server.consoleUrl, "not-a-token-of-anyone");
    try {
      stranger.start();
      await assert.rejects(stranger.waitConnected(3_000));
    } finally {
      stranger.close();
    }
  });

  it("a trader cancels only its own orders; an admin cancels anyone's; the clients view shows roles", async () => {
    const trader = zmqClient(server, server.keys.trader);
    const admin = zmqClient(server, server.keys.admin);
    const other = wsClient(server.wsUrl, server.tokens.trader);
    try {
      for (const c of [trader, admin]) c.start();
      other.start();
      await Promise.all([trader.waitConnected(10_000), admin.waitConnected(10_000), other.waitConnected(10_000)]);
      const contract = future(server);
      const req = restingBuy(server, contract);
      const mine = await trader.call<string>("send_order", [req, "SIM"]);
      const theirs = await other.call<string>("send_order", [req, "SIM"]);
      assert.equal(server.rpc.orderOwner(mine), "trader-key");
      assert.equal(server.rpc.orderOwner(theirs), "trader-user");
      const cancel = (vt: string) => new CancelRequest({ orderid: vt.split(".")[1]!, symbol: contract.symbol, exchange: contract.exchange });
      assert.match(await failureOf(trader.call("cancel_order", [cancel(theirs), "SIM"])), /PermissionError: order SIM\.\d+ was not sent by trader-key: role trader cancels only its own orders/);
      assert.equal(await failureOf(trader.call("cancel_order", [cancel(mine), "SIM"])), "");
      assert.equal(await failureOf(admin.call("cancel_order", [cancel(theirs), "SIM"])), "");
      const roles = new Map(server.rpc.clients().map((c) => [c.identity, c.role]));
      assert.equal(roles.get("trader-key"), "trader");
      assert.equal(roles.get("admin-key"), "admin");
      assert.equal(roles.get("trader-user"), "trader");
      const actions = server.rpc.audit!.query({}).map((row) => `${row.identity} ${row.action} ${row.outcome}`);
      assert.ok(actions.includes("trader-key send_order ok"));
      assert.ok(actions.includes("trader-key cancel_order error"), "the refused cancel is in the trail");
      assert.ok(actions.includes("admin-key cancel_order ok"));
    } finally {
      await trader.close();
      await admin.close();
      other.close();
    }
  });

  it("an order a risk rule blocks answers \"\" (VeighNa's reply) and is audited as refused with the rule's code", async () => {
    const trader = zmqClient(server, server.keys.trader);
    server.risk.updateRule("order_size", { active: true, order_volume_limit: 5 });
    try {
      trader.start();
      await trader.waitConnected(10_000);
      const req = restingBuy(server);
      req.volume = 6;
      assert.equal(await trader.call<string>("send_order", [req, "SIM"]), "");
      const row = server.rpc.audit!.query({ identity: "trader-key" }).findLast((r) => r.action === "send_order");
      assert.equal(row?.outcome, "refused");
      assert.match(row.detail, /^VOLUME_LIMIT \(RiskManager\/order_size\): /);
      assert.equal(row.vtOrderid, undefined);
    } finally {
      server.risk.updateRule("order_size", { active: false });
      await trader.close();
    }
  });

  it("a key revoked while connected: its connection closes, new calls are refused, and others go on", async () => {
    const victim = curveKeyPair();
    authorizeClient(join(server.home, AUTHORIZED_CLIENTS_FILE), victim.publicKey, "victim", "trader");
    const client = zmqClient(server, victim);
    const bystander = zmqClient(server, server.keys.viewer);
    const states: ConnectionState[] = [];
    client.on("state", (state) => states.push(state));
    try {
      client.start();
      bystander.start();
      await client.waitConnected(10_000);
      await bystander.waitConnected(10_000);
      assert.ok(Array.isArray(await client.call("get_all_accounts")));
      assert.deepEqual(revokeClient(join(server.home, AUTHORIZED_CLIENTS_FILE), "victim").map((e) => e.name), ["victim"]);
      // The very next call is refused (the file is checked at each call), whatever the watcher has done yet.
      const error = await failureOf(client.call("get_all_accounts", [], { timeout: 3_000 }));
      assert.notEqual(error, "", "a revoked key's call does not succeed");
      await until(() => !server.rpc.clients().some((c) => c.identity === "victim"), 10_000, "the revoked client gone from the view");
      await until(() => states.includes("disconnected") || states.includes("connecting"), 10_000, "the client saw its connection close");
      await until(() => server.logs().some((line) => /key of victim revoked/.test(line)), 5_000, "the log line");
      assert.ok(Array.isArray(await bystander.call("get_all_contracts")), "other clients keep working");
    } finally {
      await client.close();
      await bystander.close();
    }
  });

  it("over its calls-in-flight limit a client gets an immediate rate-limited error, counted in the clients view", async () => {
    server.rpc.accessControl.limits.update({ calls_per_second: 0, burst: 1, calls_in_flight: 2, subscriptions: 0 });
    const client = zmqClient(server, server.keys.trader);
    try {
      client.start();
      await client.waitConnected(10_000);
      const contract = future(server);
      const history = callsFor(server).find(([name]) => name === "query_history")![1];
      const results = await Promise.all(Array.from({ length: 20 }, () => failureOf(client.call("query_history", history))));
      const limited = results.filter((r) => /RateLimitedError: rate limited: \d+ calls already running \(limit 2\)/.test(r)).length;
      assert.ok(limited > 0, `some of 20 concurrent calls were refused: ${results.join(" | ").slice(0, 500)}`);
      assert.ok(results.filter((r) => r === "").length >= 2, "the calls within the limit ran");
      const view = server.rpc.clients().find((c) => c.identity === "trader-key");
      assert.ok((view?.rateLimited ?? 0) >= limited, `counter ${view?.rateLimited} >= ${limited}`);
      assert.ok(server.rpc.audit!.query({ identity: "trader-key" }).some((row) => row.outcome === "refused" && /rate limited/.test(row.detail)));
      assert.equal(contract.exchange, Exchange.SHFE);
    } finally {
      server.rpc.accessControl.limits.update(server.rpc.clientLimits);
      await client.close();
    }
  });

  it("history queries draw on a bucket of their own: past its burst a client's query_history is refused at once, its other calls and another client's queries are not", async () => {
    server.rpc.accessControl.limits.update({ calls_per_second: 0, calls_in_flight: 0, subscriptions: 0, heavy_calls_per_second: 0.01, heavy_burst: 3 });
    const client = zmqClient(server, server.keys.trader);
    const other = zmqClient(server, server.keys.admin);
    try {
      client.start();
      other.start();
      await Promise.all([client.waitConnected(10_000), other.waitConnected(10_000)]);
      const history = callsFor(server).find(([name]) => name === "query_history")![1];
      const results: string[] = [];
      for (let i = 0; i < 6; i++) results.push(await failureOf(client.call("query_history", history)));
      assert.deepEqual(results.slice(0, 3), ["", "", ""], "the burst is served");
      for (const refused of results.slice(3)) assert.match(refused, /RateLimitedError: rate limited: more than 0\.01 heavy calls \(history queries\) per second \(burst 3\)/);
      assert.equal(await failureOf(client.call("get_all_contracts")), "", "a light call of the same client still runs");
      assert.equal(await failureOf(other.call("query_history", history)), "", "another client has its own bucket");
      const view = server.rpc.clients().find((c) => c.identity === "trader-key");
      assert.ok((view?.rateLimited ?? 0) >= 3, `counter ${view?.rateLimited}`);
    } finally {
      server.rpc.accessControl.limits.update(server.rpc.clientLimits);
      await client.close();
      await other.close();
    }
  });

  describe("Python VeighNa clients (pyzmq) with CURVE keys", { skip: noPython }, () => {
    const runPython = async (role: Role) => {
      const keyFile = join(server.home, `py-${role}.key`);
      writeKeyFile(keyFile, server.keys[role]);
      const { stdout } = await promisify(execFile)(PYTHON, [join(PYTHON_DIR, "curve_client.py"), server.rep, server.pub, server.rpc.curvePublicKey!, keyFile, "order"], {
        env: { ...process.env, PYTHONPATH: STANDINS_DIR },
        timeout: 30_000,
      });
      return JSON.parse(stdout.trim().split("\n").pop()!) as { answered: boolean; order: string; order_error: string; error: string };
    };

    it("a viewer key reads but its send_order gets a PermissionError naming the role; a trader key's order goes in", async () => {
      const viewer = await runPython("viewer");
      assert.equal(viewer.answered, true, viewer.error);
      assert.equal(viewer.order, "");
      assert.match(viewer.order_error, /PermissionError: role viewer may not call send_order/);
      const trader = await runPython("trader");
      assert.equal(trader.answered, true, trader.error);
      assert.equal(trader.order_error, "");
      assert.match(trader.order, /^SIM\.\d+$/);
    });
  });
});

describe("gateway connect and disconnect", () => {
  let server: Server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  it("connecting and disconnecting a gateway needs the gateway permission (admin) on ZeroMQ, /ws and the console, audited", async () => {
    // A second venue, managed (SIM is not): its contracts shadow SIM's, hence a server of its own.
    server.gateways.add({ kind: "sim", name: "SIM2", setting: { data_dir: ":memory:", ticks_per_second: 1 }, source: "test" });
    const state = () => server.gateways.list().find((g) => g.name === "SIM2")!.state;
    for (const role of ROLES) {
      const clients = [
        ["zmq", zmqClient(server, server.keys[role])],
        ["ws", wsClient(server.wsUrl, server.tokens[role])],
        ["console", wsClient(server.consoleUrl, server.tokens[role])],
      ] as const;
      try {
        for (const [, client] of clients) client.start();
        for (const [, client] of clients) await client.waitConnected(10_000);
        for (const [endpoint, client] of clients) {
          assert.deepEqual((await client.call<GatewayStatus[]>("gateway_list")).map((g) => g.name), ["SIM2"], `${role} lists over ${endpoint}`);
          const before = state();
          const action = before === "disconnected" ? "gateway_connect" : "gateway_disconnect";
          const error = await failureOf(client.call(action, ["SIM2"]));
          if (role === "admin") {
            assert.equal(error, "", `admin ${action} over ${endpoint}`);
            assert.equal(state(), action === "gateway_connect" ? "connected" : "disconnected", `admin ${action} over ${endpoint} took effect`);
          } else {
            assert.match(error, new RegExp(`role ${role} may not call ${action}: it needs the "gateway" permission`), `${role} over ${endpoint}`);
            assert.equal(state(), before, `${role}'s refused ${action} over ${endpoint} changed nothing`);
          }
        }
      } finally {
        for (const [, client] of clients) {
          if (client instanceof RpcClient) await client.close();
          else client.close();
        }
      }
    }
    const rows = server.rpc.audit!.query({}).filter((row) => row.action.startsWith("gateway_"));
    assert.ok(rows.some((row) => row.identity === "viewer-key" && row.outcome === "refused"), "a refused steer is audited");
    assert.ok(rows.some((row) => row.identity === "admin-user" && row.outcome === "ok"), "an admin's steer is audited");
  });
});

/**
 * Alice (trader-user over /ws), bob (trader-key over ZeroMQ) and the admin-user (over /ws), connected, each recording
 * the vt_orderid of every eOrder. event it receives; and an order request that rests.
 */
async function orderWatchers(server: Server) {
  const alice = wsClient(server.wsUrl, server.tokens.trader);
  const bob = zmqClient(server, server.keys.trader);
  const admin = wsClient(server.wsUrl, server.tokens.admin);
  const seen = { alice: new Set<string>(), bob: new Set<string>(), admin: new Set<string>() };
  const record = (set: Set<string>) => ({ event }: { event: { type: string; data: unknown } }) => {
    if (event.type === "eOrder.") set.add((event.data as { vt_orderid: string }).vt_orderid);
  };
  alice.on("event", record(seen.alice));
  bob.on("event", record(seen.bob));
  admin.on("event", record(seen.admin));
  const close = async () => {
    alice.close();
    await bob.close();
    admin.close();
  };
  try {
    alice.start();
    bob.start();
    admin.start();
    await Promise.all([alice.waitConnected(10_000), bob.waitConnected(10_000), admin.waitConnected(10_000)]);
  } catch (error) {
    await close();
    throw error;
  }
  const contract = future(server);
  const req = restingBuy(server, contract);
  return { alice, bob, admin, seen, req, close };
}

const orderIds = async (client: RpcClient | WsRpcClient) => (await client.call<{ vt_orderid: string }[]>("get_all_orders")).map((o) => o.vt_orderid);

describe("private streams", () => {
  let server: Server;
  before(async () => {
    server = await startServer();
    server.rpc.privateStreams = ["trader"];
    server.rpc.privateStreamsVeighna = true;
  });
  after(async () => {
    await server?.close();
  });

  it("a trader never receives another trader's order events, on /ws nor (opted in) on ZeroMQ; an admin receives all", async () => {
    const { alice, bob, admin, seen, req, close } = await orderWatchers(server);
    try {
      const bobs = await bob.call<string>("send_order", [req, "SIM"]);
      const alices = await alice.call<string>("send_order", [req, "SIM"]);
      // Each stream is in order: once a client has its own later order, the earlier one was published before it.
      await until(() => seen.alice.has(alices) && seen.bob.has(bobs), 10_000, "each trader's own order events").catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify({ seen: Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, [...v]])), alices, bobs })}`);
      });
      await until(() => seen.admin.has(alices) && seen.admin.has(bobs), 10_000, "the admin's events");
      assert.deepEqual([...seen.alice], [alices], "alice saw only her order");
      // Bob's stream (ZeroMQ) is behind alice's order possibly; whatever arrived, none of it is hers.
      assert.ok(!seen.bob.has(alices), "bob never saw alice's order");
      // Snapshots agree with the streams.
      assert.deepEqual(await orderIds(alice), [alices]);
      assert.deepEqual(await orderIds(bob), [bobs]);
      assert.equal(await alice.call("get_order", [bobs]), null);
      const all = await orderIds(admin);
      assert.ok(all.includes(alices) && all.includes(bobs));
      // Shared data stays shared.
      assert.ok((await alice.call<unknown[]>("get_all_accounts")).length > 0);
    } finally {
      await close();
    }
  });

  it("a setting per identity overrides the role: a listed trader gets the full stream, an admin a private one", async () => {
    // alice (trader-user): the full stream by her own setting; bob (trader-key): private by his role; the admin-user:
    // private by its own setting.
    server.rpc.privateStreamIdentities = { "trader-user": false, "admin-user": true };
    const { alice, bob, admin, seen, req, close } = await orderWatchers(server);
    try {
      const alices = await alice.call<string>("send_order", [req, "SIM"]);
      const admins = await admin.call<string>("send_order", [req, "SIM"]);
      const bobs = await bob.call<string>("send_order", [req, "SIM"]);
      // Each stream is in order: a client's own last order arrives after every event published before it.
      const admins2 = await admin.call<string>("send_order", [req, "SIM"]);
      await until(() => [alices, admins, bobs, admins2].every((vt) => seen.alice.has(vt)), 10_000, "alice's full stream");
      await until(() => seen.bob.has(bobs) && seen.admin.has(admins2), 10_000, "bob's and the admin's own orders");
      assert.deepEqual([...seen.admin].sort(), [admins, admins2].sort(), "the admin saw only its own orders");
      assert.ok(!seen.bob.has(alices) && !seen.bob.has(admins), "bob saw neither alice's nor the admin's order");
      assert.deepEqual((await orderIds(admin)).sort(), [admins, admins2].sort());
      assert.ok((await orderIds(alice)).includes(bobs), "alice's snapshot is the full one too");
    } finally {
      server.rpc.privateStreamIdentities = {};
      await close();
    }
  });
});

describe("private streams settings", () => {
  it("rpc_service_setting.json holds them per role and per identity; a value that is not true or false stops the start naming the field", async () => {
    const home = tempDir("rpc-private-settings-");
    writeFileSync(join(home, RPC_SETTING_FILENAME), JSON.stringify({ private_streams: ["trader"], private_streams_identities: { alice: false, desk: true } }));
    const mainEngine = new MainEngine({ home });
    try {
      const rpc = mainEngine.addApp(RpcServiceApp) as RpcEngine;
      assert.deepEqual(rpc.privateStreams, ["trader"]);
      assert.deepEqual(rpc.privateStreamIdentities, { alice: false, desk: true });
    } finally {
      await mainEngine.close();
    }
    const bad = tempDir("rpc-private-settings-bad-");
    writeFileSync(join(bad, RPC_SETTING_FILENAME), JSON.stringify({ private_streams_identities: { alice: "yes" } }));
    const other = new MainEngine({ home: bad });
    try {
      assert.throws(() => other.addApp(RpcServiceApp), (error: unknown) => error instanceof Error && /private_streams_identities/.test(error.message));
    } finally {
      await other.close();
    }
  });
});

describe("ownership and the audit trail across restarts", () => {
  it("orders keep their owner after a restart: the other trader still cannot cancel them, the owner can", async () => {
    const home = tempDir("rpc-roles-restart-");
    const sim = join(home, "sim");
    const first = await startServer(home, sim);
    let vt: string;
    let contract: ContractData;
    const alice = first.keys.trader;
    try {
      const client = zmqClient(first, alice);
      try {
        client.start();
        await client.waitConnected(10_000);
        contract = future(first);
        vt = await client.call<string>("send_order", [restingBuy(first, contract), "SIM"]);
        assert.match(vt, /^SIM\./);
      } finally {
        await client.close();
      }
    } finally {
      await first.close();
    }
    // Same home, a new process's worth of engines: keys, users, the venue journal and the audit trail on disk.
    const second = await startServer(home, sim, first);
    try {
      assert.equal(second.rpc.orderOwner(vt), "trader-key", "owner read back from the audit trail");
      const cancel = new CancelRequest({ orderid: vt.split(".")[1]!, symbol: contract.symbol, exchange: contract.exchange });
      const other = wsClient(second.wsUrl, second.tokens.trader);
      const owner = zmqClient(second, alice);
      try {
        other.start();
        owner.start();
        await other.waitConnected(10_000);
        await owner.waitConnected(10_000);
        assert.match(await failureOf(other.call("cancel_order", [cancel, "SIM"])), /was not sent by trader-user/);
        assert.equal(await failureOf(owner.call("cancel_order", [cancel, "SIM"])), "");
      } finally {
        other.close();
        await owner.close();
      }
    } finally {
      await second.close();
    }
  });

  it("rows written before a kill -9 are all there afterwards, with who, role, endpoint and outcome", async () => {
    const home = tempDir("rpc-audit-kill-");
    const { process: child, info } = await startServerProcess("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", home, "zmtp", ["--heartbeat", "2000"]);
    const client = new RpcClient({ reqAddress: info.rep, subAddress: info.pub, timeout: 30_000, name: "kill-test" });
    const sent: string[] = [];
    try {
      client.start();
      await client.waitConnected(10_000);
      const contracts = await client.call<ContractData[]>("get_all_contracts");
      const contract = contracts.find((c) => c.product === Product.FUTURES)!;
      await client.call("subscribe", [new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM"]);
      let tick = null as { last_price: number; limit_down: number } | null;
      for (let i = 0; i < 600 && !tick; i++) {
        tick = await client.call("get_tick", [contract.vt_symbol]);
        if (!tick) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(tick, "a tick arrived");
      const req = new OrderRequest({
        symbol: contract.symbol,
        exchange: contract.exchange,
        direction: Direction.LONG,
        type: OrderType.LIMIT,
        volume: 1,
        price: restingBuyPrice(tick, contract.pricetick),
        offset: Offset.OPEN,
      });
      for (let i = 0; i < 5; i++) sent.push(await client.call<string>("send_order", [req, "SIM"]));
      await child.stop("SIGKILL");
    } finally {
      await client.close();
      await child.stop("SIGKILL");
    }
    const audit = new AuditTrail(home);
    try {
      const rows = audit.query({}).filter((row) => row.action === "send_order");
      assert.deepEqual(rows.map((row) => row.vtOrderid), sent);
      for (const row of rows) {
        assert.equal(row.identity, "kill-test", "the declared name of an anonymous client");
        assert.equal(row.authenticated, false);
        assert.equal(row.role, "trader");
        assert.equal(row.endpoint, "zmq");
        assert.equal(row.outcome, "ok");
      }
    } finally {
      audit.close();
    }
  });

  it("the trail is append-only: SQL cannot update or delete a row", () => {
    const home = tempDir("rpc-audit-");
    const audit = new AuditTrail(home);
    try {
      audit.append({
        time: Date.now(),
        identity: "alice",
        authenticated: true,
        role: "trader",
        endpoint: "zmq",
        clientId: "zmq:1",
        remoteAddress: "127.0.0.1:5",
        action: "send_order",
        args: "[]",
        outcome: "ok",
        detail: '"SIM.1"',
        vtOrderid: "SIM.1",
      });
      const db = (audit as unknown as { db: { exec(sql: string): void } }).db;
      assert.throws(() => db.exec("UPDATE audit SET identity = 'mallory'"), /append-only/);
      assert.throws(() => db.exec("DELETE FROM audit"), /append-only/);
      assert.equal(audit.query({}).length, 1);
      assert.deepEqual(audit.orderOwner("SIM.1"), { identity: "alice", authenticated: true });
    } finally {
      audit.close();
    }
  });
});

/**
 * Interop with Python VeighNa, both ways, using a faithful re-creation of vnpy.rpc (test/python/vnpy; the client and server scripts in test/service/python):
 * - a VeighNa RpcClient (REQ + SUB, pickles) calls all 17 functions of our server and receives every event type;
 * - our RpcGateway connects to a VeighNa RpcServer (REP + PUB), detects it, and trades through it in lock-step.
 * Skipped with a message when /usr/bin/python3 has no zmq.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  Direction,
  EVENT_ORDER,
  EVENT_TRADE,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Status,
  SubscribeRequest,
  type TradeData,
} from "../../src/kernel/index.js";
import { RpcGateway } from "../../src/service/index.js";
import { JsonProcess, addressesFor, startServerProcess, tempDir, until, type ServerInfo } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const PYTHON_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test", "service", "python");
/** The stand-in VeighNa package (vnpy.rpc, vnpy.trader.*, vnpy.event), shared with the codec's Python check. */
const STANDINS_DIR = join(PYTHON_DIR, "..", "..", "python");
const zmqCheck = spawnSync(PYTHON, ["-c", "import zmq"], { encoding: "utf8" });
const skip = zmqCheck.status !== 0 ? `needs ${PYTHON} with python3-zmq (import zmq failed: ${zmqCheck.stderr?.trim() || zmqCheck.error?.message})` : false;

const RPC_FUNCTIONS = [
  "subscribe", "send_order", "cancel_order", "query_history", "get_tick", "get_order", "get_trade", "get_position",
  "get_account", "get_contract", "get_all_ticks", "get_all_orders", "get_all_trades", "get_all_positions",
  "get_all_accounts", "get_all_contracts", "get_all_active_orders",
];

describe("a Python VeighNa client against our server", { skip }, () => {
  let server: JsonProcess<ServerInfo>;
  let info: ServerInfo;

  before(async () => {
    const home = tempDir("rpc-py-");
    const { rep, pub } = addressesFor("tcp", home);
    ({ process: server, info } = await startServerProcess(rep, pub, home, "zmtp"));
  });
  after(async () => server?.stop("SIGKILL"));

  it("calls all 17 functions and receives every event type as vnpy Event objects", async () => {
    const { stdout, stderr } = await promisify(execFile)(PYTHON, [join(PYTHON_DIR, "veighna_client.py"), info.rep, info.pub], {
      env: { ...process.env, PYTHONPATH: STANDINS_DIR },
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim().split("\n").pop()!) as {
      calls: Record<string, boolean>;
      errors: string[];
      event_types: string[];
      events_are_Event: boolean;
      seq_increasing: boolean;
      epochs: string[];
      unknown_function: string;
      wrong_args: string;
      heartbeat: number;
    };
    assert.deepEqual(report.errors, [], stderr);
    for (const name of RPC_FUNCTIONS) assert.equal(report.calls[name], true, `${name} worked from Python; ${stdout} ${stderr}`);
    assert.equal(report.calls["get_all_active_orders(vt_symbol)"], true);
    assert.equal(report.unknown_function, "KeyError: 'no_such_function'");
    assert.match(report.wrong_args, /^TypeError: send_order\(\) argument 'req' must be OrderRequest/);
    for (const type of ["eTick.", "eTick.<id>", "eOrder.", "eOrder.<id>", "eTrade.", "eTrade.<id>", "ePosition.", "ePosition.<id>", "eAccount.", "eAccount.<id>", "eLog"]) {
      assert.ok(report.event_types.includes(type), `${type} received (got ${report.event_types.join(", ")})`);
    }
    assert.equal(report.events_are_Event, true);
    assert.equal(report.seq_increasing, true);
    assert.deepEqual(report.epochs, [info.epoch]);
    assert.ok(report.heartbeat > 1.6e9, "heartbeats arrive as time.time() floats");
  });
});

describe("our RpcGateway against a Python VeighNa server", { skip }, () => {
  let python: ReturnType<typeof spawn>;
  let addresses: { rep: string; pub: string };
  let mainEngine: MainEngine;

  before(async () => {
    python = spawn(PYTHON, [join(PYTHON_DIR, "veighna_server.py")], { env: { ...process.env, PYTHONPATH: STANDINS_DIR }, stdio: ["ignore", "pipe", "inherit"] });
    // Bounded, and a spawn that fails (EAGAIN on a machine out of processes) rejects instead of waiting forever.
    addresses = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("python server did not start within 15 s")), 15_000);
      createInterface({ input: python.stdout! }).once("line", (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
      python.once("exit", (code) => reject(new Error(`python server exited with ${code}`)));
      python.once("error", (error) => reject(error));
    });
    mainEngine = new MainEngine({ home: tempDir("rpc-py-client-") });
    mainEngine.addGateway(RpcGateway);
    await mainEngine.connect({ req_address: addresses.rep, sub_address: addresses.pub }, "RPC");
  });
  after(async () => {
    await mainEngine?.close();
    python?.kill("SIGKILL");
  });

  it("detects the VeighNa server, takes the snapshot, and trades in lock-step", async () => {
    await until(() => mainEngine.getContract("rb2501.SHFE") !== null && mainEngine.getAllAccounts().length === 1, 10_000, "snapshot");
    const gateway = mainEngine.gateways.get("RPC") as RpcGateway;
    assert.equal(gateway.client?.serverKind, "veighna");
    assert.equal(mainEngine.getAllAccounts()[0]!.vt_accountid, "RPC.0001");
    await mainEngine.subscribe(new SubscribeRequest({ symbol: "rb2501", exchange: mainEngine.getContract("rb2501.SHFE")!.exchange }), "RPC");
    await until(() => mainEngine.getTick("rb2501.SHFE") !== null, 10_000, "ticks");
    const tick = mainEngine.getTick("rb2501.SHFE")!;
    const resting = await mainEngine.sendOrder(
      new OrderRequest({ symbol: "rb2501", exchange: tick.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 3000, offset: Offset.OPEN }),
      "RPC",
    );
    assert.equal(resting, "RPC.1_-1");
    const updates: Status[] = [];
    mainEngine.eventEngine.register(EVENT_ORDER + resting, (e) => updates.push((e.data as { status: Status }).status));
    await until(() => mainEngine.getOrder(resting) !== null, 10_000, "order pushed");
    await mainEngine.cancelOrder(mainEngine.getOrder(resting)!.createCancelRequest(), "RPC");
    await until(() => mainEngine.getOrder(resting)?.status === Status.CANCELLED, 10_000, "cancelled");
    assert.ok(updates.includes(Status.CANCELLED));
    const trades: TradeData[] = [];
    mainEngine.eventEngine.register(EVENT_TRADE, (e) => trades.push(e.data));
    const filled = await mainEngine.sendOrder(
      new OrderRequest({ symbol: "rb2501", exchange: tick.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 3999, offset: Offset.OPEN }),
      "RPC",
    );
    await until(() => trades.length > 0, 10_000, "fill");
    assert.equal(trades[0]!.vt_orderid, filled);
    assert.equal(trades[0]!.gateway_name, "RPC");
    // Many concurrent calls stay correct and in order in lock-step mode.
    const results = await Promise.all(Array.from({ length: 20 }, () => gateway.client!.call<unknown[]>("get_all_orders")));
    assert.ok(results.every((orders) => orders.length === 2));
  });
});

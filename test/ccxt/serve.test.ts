/**
 * Real processes: `rpcservice serve` runs a `ccxt` gateway (a gateway file in its home, keys from the
 * environment) against the Binance double; a Python VeighNa client and our RpcGateway trade BTC/USDT through it,
 * and the console endpoint lists the crypto contracts and balances.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AccountData, ContractData, Direction, Exchange, MainEngine, OrderRequest, OrderType, Product, Status, SubscribeRequest } from "../../src/kernel/index.js";
import type { WsRpcClient } from "../../src/rpc/index.js";
import { RpcGateway } from "../../src/service/index.js";
import type { GatewayStatus } from "../../src/gateways/index.js";
import { PYTHON, STANDINS_DIR, ServeProcess, consoleClient, skipWithoutPython } from "../gateways/processes.js";
import { BinanceDouble, DOUBLE_API_KEY, DOUBLE_SECRET } from "./double/server.js";
import { until } from "./harness.js";

const CLIENT = fileURLToPath(new URL("../../../test/ccxt/python/crypto_client.py", import.meta.url));
const VT_SYMBOL = "BTC/USDT.GLOBAL";

describe("rpcservice serve with a ccxt gateway (real processes)", () => {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-ccxt-"));
  const rep = `ipc://${join(home, "rep.sock")}`;
  const pub = `ipc://${join(home, "pub.sock")}`;
  let double: BinanceDouble;
  let server: ServeProcess;
  let admin: WsRpcClient;

  before(async () => {
    double = await BinanceDouble.start();
    double.venue.deposit("USDT", 100_000);
    double.venue.deposit("BTC", 1);
    double.venue.setBook("spot", "BTCUSDT", {
      bids: [[59_990, 1], [59_980, 1], [59_970, 1], [59_960, 1], [59_950, 1]],
      asks: [[60_010, 1], [60_020, 1], [60_030, 1], [60_040, 1], [60_050, 1]],
    });
    writeFileSync(join(home, "connect_binance.json"), JSON.stringify({
      kind: "ccxt",
      name: "BINANCE",
      setting: {
        exchange: "binance",
        api_key_env: "TEST_BINANCE_KEY",
        secret_env: "TEST_BINANCE_SECRET",
        market_types: ["spot"],
        symbols: ["BTC/USDT", "ETH/USDT"],
        options: { fetchMarkets: { types: ["spot"] } },
        api_origin: double.origin,
      },
    }));
    server = new ServeProcess(["--home", home, "--rep", rep, "--pub", pub, "--console-port", "0"], {
      TEST_BINANCE_KEY: DOUBLE_API_KEY,
      TEST_BINANCE_SECRET: DOUBLE_SECRET,
    });
    await server.waitFor(/RPC service started successfully/);
    await server.waitFor(/Gateway BINANCE connected/);
    admin = await consoleClient(await server.consoleUrl());
  });

  after(async () => {
    await admin?.close();
    await server?.stop();
    await double?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test("the console lists the gateway (keys from the environment, shown nowhere), the crypto contracts and the balances", async () => {
    const gateway = (await admin.call<GatewayStatus[]>("gateway_list")).find((g) => g.name === "BINANCE")!;
    assert.equal(gateway.kind, "ccxt");
    assert.equal(gateway.state, "connected");
    assert.equal(gateway.setting["api_key_env"], "TEST_BINANCE_KEY");
    assert.ok(!JSON.stringify(gateway).includes(DOUBLE_API_KEY) && !JSON.stringify(gateway).includes(DOUBLE_SECRET));
    const contracts = await admin.call<ContractData[]>("get_all_contracts");
    assert.deepEqual(contracts.map((c) => c.vt_symbol).sort(), ["BTC/USDT.GLOBAL", "ETH/USDT.GLOBAL"]);
    assert.ok(contracts.every((c) => c.gateway_name === "BINANCE" && c.product === Product.SPOT));
    const accounts = await admin.call<AccountData[]>("get_all_accounts");
    assert.deepEqual(accounts.map((a) => [a.vt_accountid, a.balance]).sort(), [["BINANCE.spot:BTC", 1], ["BINANCE.spot:USDT", 100_000]]);
  });

  test("a Python VeighNa client trades BTC/USDT: tick, resting order cancelled, marketable order filled, accounts, history", { skip: skipWithoutPython }, async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [CLIENT, rep, pub, "BTC/USDT"], {
      env: { ...process.env, PYTHONPATH: STANDINS_DIR },
      timeout: 120_000,
    });
    const report = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    assert.deepEqual(report["errors"], []);
    assert.deepEqual(report["contract"], { vt_symbol: VT_SYMBOL, exchange: "GLOBAL", product: "SPOT", pricetick: 0.01, min_volume: 0.00001, is_ContractData: true });
    assert.deepEqual(report["tick"], [59_990, 60_010, 59_950, 60_050]);
    assert.equal(report["resting"], true);
    assert.deepEqual(report["fill"], [[60_010, 0.01, "LONG"]]);
    assert.equal(report["filled_status"], "ALLTRADED");
    assert.deepEqual(report["accounts"], [["spot:BTC", 1.01], ["spot:USDT", 100_000 - 600.1]]);
    assert.ok((report["bars"] as number) >= 100, `bars: ${report["bars"]}`);
    assert.ok(double.requests.includes("POST api.binance.com/api/v3/order"));
  });

  test("our RpcGateway trades through the server: a resting sell fills when the market reaches it", async () => {
    const engine = new MainEngine({ home: mkdtempSync(join(tmpdir(), "rpcservice-ccxt-down-")) });
    engine.addGateway(RpcGateway, "DOWN");
    try {
      await engine.connect({ req_address: rep, sub_address: pub, client_name: "test-ccxt" }, "DOWN");
      await until(() => engine.getContract(VT_SYMBOL) !== null, "contracts through the server", 60_000);
      // What the sell adds is judged from the balance before it: the Python client's test, when it ran, bought first.
      const usdt = () => engine.getAllAccounts().find((a) => a.accountid === "spot:USDT")?.balance;
      await until(() => usdt() !== undefined, "balances through the server", 30_000);
      const before = usdt()!;
      await engine.subscribe(new SubscribeRequest({ symbol: "BTC/USDT", exchange: Exchange.GLOBAL }), "DOWN");
      const id = await engine.sendOrder(
        new OrderRequest({ symbol: "BTC/USDT", exchange: Exchange.GLOBAL, direction: Direction.SHORT, type: OrderType.LIMIT, volume: 0.02, price: 65_000 }),
        "DOWN",
      );
      assert.match(id, /^DOWN\./);
      await until(() => engine.getOrder(id)?.status === Status.NOTTRADED, "resting through the server", 30_000);
      await until(() => engine.getTick(VT_SYMBOL)?.ask_price_1 === 60_010, "ticks through the server", 30_000);
      double.venue.setBook("spot", "BTCUSDT", { bids: [[65_500, 1]], asks: [[65_600, 1]] });
      await until(() => engine.getOrder(id)?.status === Status.ALLTRADED, "filled", 30_000);
      await until(() => engine.getAllTrades().some((t) => t.vt_orderid === id && t.price === 65_000 && t.volume === 0.02), "trade through the server", 30_000);
      // Within a micro-dollar: the venue may sum the two trades in another order than before + 1,300.
      await until(() => Math.abs((usdt() ?? 0) - (before + 1_300)) < 1e-6, "balance through the server", 30_000);
    } finally {
      await engine.close();
    }
    assert.ok(!server.output.includes(DOUBLE_SECRET) && !server.output.includes(DOUBLE_API_KEY), "no key in the server's output");
  });
});

/**
 * CcxtGateway against ccxt's real `binance` class, pointed at the local Binance double (always), and against
 * Binance's public testnet for the scenarios a real market can play (only when CCXT_TESTNET_API_KEY and
 * CCXT_TESTNET_SECRET are set; never contacted otherwise).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { classify, isPostOnly } from "../../src/ccxt/index.js";
import { decodePickle, encodePickle } from "../../src/codec/index.js";
import {
  ContractData,
  DateTime,
  Direction,
  Exchange,
  HistoryRequest,
  Interval,
  MainEngine,
  OrderRequest,
  OrderType,
  Product,
  Status,
  SubscribeRequest,
  UTC,
  WARNING,
  type GatewaySetting,
} from "../../src/kernel/index.js";
import { CcxtGateway } from "../../src/ccxt/index.js";
import { BinanceDouble, DOUBLE_API_KEY, DOUBLE_SECRET } from "./double/server.js";
import { doubleSetting, GATEWAY, startBench, until, type Bench } from "./harness.js";

const SPOT = "BTC/USDT";
const SWAP = "BTC/USDT:USDT";
const SPOT_VT = `${SPOT}.GLOBAL`;
const SWAP_VT = `${SWAP}.GLOBAL`;

function order(symbol: string, direction: Direction, type: OrderType, volume: number, price = 0, reference = ""): OrderRequest {
  return new OrderRequest({ symbol, exchange: Exchange.GLOBAL, direction, type, volume, price, reference });
}

async function withBench(run: (bench: Bench) => Promise<void>, extra: GatewaySetting = {}): Promise<void> {
  const bench = await startBench(extra);
  try {
    await run(bench);
  } finally {
    await bench.close();
  }
}

function send(bench: Bench, req: OrderRequest): Promise<string> {
  return bench.engine.sendOrder(req, GATEWAY);
}

function status(bench: Bench, vt_orderid: string): Status | undefined {
  return bench.engine.getOrder(vt_orderid)?.status;
}

function tradesOf(bench: Bench, vt_orderid: string) {
  return bench.engine.getAllTrades().filter((t) => t.vt_orderid === vt_orderid);
}

describe("ccxt gateway against the Binance double", () => {
  test("contracts: spot pairs and linear swaps, tick and lot from the market, the ccxt symbol round-trips the VeighNa wire", async () => {
    await withBench(async ({ engine, double }) => {
      const spot = engine.getContract(SPOT_VT)!;
      const swap = engine.getContract(SWAP_VT)!;
      assert.equal(spot.product, Product.SPOT);
      assert.equal(spot.pricetick, 0.01);
      assert.equal(spot.min_volume, 0.00001);
      assert.equal(spot.size, 1);
      assert.equal(swap.product, Product.SWAP);
      assert.equal(swap.pricetick, 0.1);
      assert.equal(swap.min_volume, 0.001);
      assert.equal(swap.exchange, Exchange.GLOBAL);
      assert.deepEqual(engine.getAllContracts().map((c) => c.vt_symbol).sort(), ["BTC/USDT.GLOBAL", "BTC/USDT:USDT.GLOBAL", "ETH/USDT.GLOBAL"]);
      // Through the pickle wire and back: the same symbol, and the vt_symbol splits at its last dot into it.
      const back = decodePickle(encodePickle(swap), { mode: "event" }) as ContractData;
      assert.equal(back.symbol, SWAP);
      assert.equal(back.vt_symbol.slice(0, back.vt_symbol.lastIndexOf(".")), SWAP);
      assert.ok(double.requests.includes("GET api.binance.com/api/v3/exchangeInfo"));
      assert.ok(double.requests.includes("GET fapi.binance.com/fapi/v1/exchangeInfo"));
    });
  });

  test("contracts: `symbols` restricts the contracts to those named; a name the exchange lacks is logged", async () => {
    await withBench(
      async ({ engine, logs }) => {
        assert.deepEqual(engine.getAllContracts().map((c) => c.symbol), [SPOT]);
        assert.ok(logs.some((l) => l.level === WARNING && l.msg.includes("DOGE/USDT")));
      },
      { symbols: [SPOT, "DOGE/USDT"], market_types: ["spot"] },
    );
  });

  test("market data: a subscribed symbol streams 5 levels and its ticker; nothing is streamed for the others", async () => {
    await withBench(async ({ engine, double }) => {
      await engine.subscribe(new SubscribeRequest({ symbol: SPOT, exchange: Exchange.GLOBAL }), GATEWAY);
      await until(() => engine.getTick(SPOT_VT)?.bid_price_3 === 59_970 && engine.getTick(SPOT_VT)?.open_price === 60_000, "first tick with book and ticker");
      double.venue.setBook("spot", "BTCUSDT", {
        bids: [[59_990, 1], [59_980, 2], [59_970, 3], [59_960, 4], [59_950, 5], [59_940, 6]],
        asks: [[60_010, 1], [60_020, 2], [60_030, 3], [60_040, 4], [60_050, 5], [60_060, 6]],
      });
      await until(() => engine.getTick(SPOT_VT)?.ask_price_5 === 60_050, "5-level tick");
      const tick = engine.getTick(SPOT_VT)!;
      assert.deepEqual([tick.bid_price_1, tick.bid_volume_1, tick.bid_price_5, tick.bid_volume_5], [59_990, 1, 59_950, 5]);
      assert.deepEqual([tick.ask_price_1, tick.ask_volume_1, tick.ask_volume_5], [60_010, 1, 5]);
      assert.equal(tick.last_price, 60_000);
      assert.deepEqual(double.subscribedStreams().map((s) => s.replace(/@\d+ms$/, "")).sort(), ["spot:btcusdt@depth", "spot:btcusdt@miniTicker"]);
      assert.equal(engine.getTick(SWAP_VT), null);
    });
  });

  test("market data: without WebSocket the gateway polls fetchTicker and fetchOrderBook", async () => {
    await withBench(
      async ({ engine, double }) => {
        await engine.subscribe(new SubscribeRequest({ symbol: SWAP, exchange: Exchange.GLOBAL }), GATEWAY);
        await until(() => engine.getTick(SWAP_VT)?.bid_price_1 === 59_990, "polled tick");
        double.venue.setBook("futures", "BTCUSDT", { bids: [[59_000, 2]], asks: [[59_100, 3]] });
        await until(() => engine.getTick(SWAP_VT)?.ask_price_1 === 59_100, "next poll");
        assert.ok(double.requests.includes("GET fapi.binance.com/fapi/v1/ticker/24hr"));
        assert.ok(double.requests.includes("GET fapi.binance.com/fapi/v1/depth"));
        assert.deepEqual(double.subscribedStreams(), []);
      },
      { websocket: false, poll_ms: 100 },
    );
  });

  test("orders: a resting LIMIT joins the book, trades in part then in full as the market comes to it; each fill is pushed once", async () => {
    await withBench(async (bench) => {
      const { engine, double } = bench;
      const id = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.1, 59_000));
      assert.match(id, /^CCXT\.rpc[a-z0-9]+n1$/);
      await until(() => status(bench, id) === Status.NOTTRADED, "resting");
      assert.equal(double.venue.openOrders("spot")[0]!.clientOrderId, id.slice("CCXT.".length), "our orderid is the client order id");
      await until(() => engine.getAccount("CCXT.spot:USDT")?.frozen === 5_900, "funds frozen");
      double.venue.setBook("spot", "BTCUSDT", { bids: [[58_990, 1]], asks: [[58_995, 0.04], [60_000, 1]] });
      await until(() => status(bench, id) === Status.PARTTRADED && tradesOf(bench, id).length === 1, "part traded");
      double.venue.setBook("spot", "BTCUSDT", { bids: [[58_990, 1]], asks: [[58_999, 1]] });
      await until(() => status(bench, id) === Status.ALLTRADED && tradesOf(bench, id).length === 2, "all traded");
      assert.deepEqual(tradesOf(bench, id).map((t) => [t.volume, t.price, t.direction]), [[0.04, 59_000, Direction.LONG], [0.06, 59_000, Direction.LONG]]);
      await until(() => engine.getAccount("CCXT.spot:BTC")?.balance === 1.1, "balance follows");
      await bench.gateway.reconcile(); // the same fills again over REST: no duplicates
      assert.equal(tradesOf(bench, id).length, 2);
      assert.equal(engine.getOrder(id)!.traded, 0.1);
    });
  });

  test("orders: cancel of a resting order; a marketable LIMIT and a MARKET fill against the book", async () => {
    await withBench(async (bench) => {
      const resting = await send(bench, order(SPOT, Direction.SHORT, OrderType.LIMIT, 0.5, 61_000));
      await until(() => status(bench, resting) === Status.NOTTRADED, "resting");
      await bench.engine.cancelOrder(bench.engine.getOrder(resting)!.createCancelRequest(), GATEWAY);
      await until(() => status(bench, resting) === Status.CANCELLED, "cancelled");
      const limit = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 1.5, 60_020));
      await until(() => status(bench, limit) === Status.ALLTRADED && tradesOf(bench, limit).length === 2, "limit walks two levels");
      assert.deepEqual(tradesOf(bench, limit).map((t) => [t.price, t.volume]), [[60_010, 1], [60_020, 0.5]]);
      const market = await send(bench, order(SPOT, Direction.SHORT, OrderType.MARKET, 2));
      await until(() => status(bench, market) === Status.ALLTRADED, "market");
      assert.equal(bench.engine.getOrder(market)!.type, OrderType.MARKET);
      assert.deepEqual(tradesOf(bench, market).map((t) => t.price), [59_990, 59_980]);
    });
  });

  test("orders: FAK keeps what fills and cancels the rest; FOK without enough liquidity fills nothing; post-only that would take is rejected", async () => {
    await withBench(async (bench) => {
      const fak = await send(bench, order(SPOT, Direction.LONG, OrderType.FAK, 1.5, 60_010));
      await until(() => status(bench, fak) === Status.CANCELLED, "FAK remainder cancelled");
      assert.equal(bench.engine.getOrder(fak)!.traded, 1);
      assert.equal(bench.engine.getOrder(fak)!.type, OrderType.FAK);
      const fok = await send(bench, order(SPOT, Direction.LONG, OrderType.FOK, 0.6, 60_015));
      await until(() => status(bench, fok) === Status.CANCELLED, "FOK expired");
      assert.equal(bench.engine.getOrder(fok)!.traded, 0);
      assert.equal(tradesOf(bench, fok).length, 0);
      const maker = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.1, 60_030, "mm post_only"));
      await until(() => status(bench, maker) === Status.REJECTED, "post-only rejected");
      assert.match(String(bench.engine.getOrder(maker)!.extra?.["reason"]), /immediately match/);
      const passive = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.1, 59_000, "post_only"));
      await until(() => status(bench, passive) === Status.NOTTRADED, "post-only rests");
      assert.equal(bench.double.venue.openOrders("spot")[0]!.type, "LIMIT_MAKER");
    });
  });

  test("rejections: insufficient funds, an invalid lot and a rate limit end REJECTED with the reason in extra and the log", async () => {
    await withBench(async (bench) => {
      // One at a time: ccxt sends concurrent requests in any order, and the rate limit hits the next to arrive.
      const broke = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 5, 59_000));
      await until(() => status(bench, broke) === Status.REJECTED, "no funds");
      const lot = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.000001, 59_000));
      await until(() => status(bench, lot) === Status.REJECTED, "below the lot");
      bench.double.failNextOrder("spot", "rate-limit");
      const limited = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.01, 59_000));
      await until(() => status(bench, limited) === Status.REJECTED, "rate limited");
      const extra = (id: string) => bench.engine.getOrder(id)!.extra as { reason: string; code: string };
      assert.equal(extra(broke).code, "INSUFFICIENT_FUNDS");
      assert.match(extra(broke).reason, /^insufficient funds: .*insufficient balance/);
      assert.equal(extra(lot).code, "INVALID_ORDER");
      assert.equal(extra(limited).code, "RATE_LIMITED");
      for (const id of [broke, lot, limited]) assert.ok(bench.logs.some((l) => l.level === WARNING && l.msg.includes(id) && l.msg.includes("rejected")));
      assert.equal(bench.double.venue.openOrders("spot").length, 0);
    });
  });

  test("a network error after the exchange took the order: found by its client order id, it keeps trading", async () => {
    await withBench(async (bench) => {
      bench.double.failNextOrder("spot", "drop-after-placing");
      const id = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.1, 59_000));
      await until(() => bench.logs.some((l) => l.level === WARNING && l.msg.includes(id) && l.msg.includes("network error")), "the failure logged");
      await until(() => status(bench, id) === Status.NOTTRADED, "found resting");
      bench.double.venue.setBook("spot", "BTCUSDT", { bids: [], asks: [[58_000, 1]] });
      await until(() => status(bench, id) === Status.ALLTRADED && tradesOf(bench, id).length === 1, "fills later");
    });
  });

  test("a network error before the exchange took the order: it ends REJECTED with the network reason, never silently", async () => {
    await withBench(async (bench) => {
      bench.double.failNextOrder("spot", "drop-before-placing");
      const id = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.1, 59_000));
      await until(() => status(bench, id) === Status.REJECTED, "rejected");
      const extra = bench.engine.getOrder(id)!.extra as { reason: string; code: string };
      assert.equal(extra.code, "NETWORK");
      assert.match(extra.reason, /^network error: .*the exchange has no such order/);
    });
  });

  test("a dropped user stream with a fill during the outage: REST reconciliation after the reconnect finds it, once", async () => {
    await withBench(async (bench) => {
      const { double } = bench;
      const spot = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.1, 59_000));
      const swap = await send(bench, order(SWAP, Direction.SHORT, OrderType.LIMIT, 0.01, 61_000));
      await until(() => status(bench, spot) === Status.NOTTRADED && status(bench, swap) === Status.NOTTRADED, "resting");
      await until(() => double.userStreamCount === 2, "both user streams up");
      double.userStreamsDown = true;
      double.venue.setBook("spot", "BTCUSDT", { bids: [], asks: [[58_000, 1]] });
      double.venue.setBook("futures", "BTCUSDT", { bids: [[62_000, 1]], asks: [] });
      assert.equal(status(bench, spot), Status.NOTTRADED, "nothing pushed during the outage");
      await until(() => bench.logs.some((l) => l.msg.includes("stream dropped")), "drop noticed");
      double.userStreamsDown = false;
      await until(() => status(bench, spot) === Status.ALLTRADED && status(bench, swap) === Status.ALLTRADED, "reconciled", 30_000);
      await until(() => tradesOf(bench, spot).length === 1 && tradesOf(bench, swap).length === 1, "fills found");
      await until(() => double.userStreamCount === 2, "streams back", 30_000);
      await bench.gateway.reconcile();
      assert.equal(tradesOf(bench, spot).length, 1);
      assert.equal(tradesOf(bench, swap).length, 1);
      // And the streams deliver again.
      const next = await send(bench, order(SPOT, Direction.SHORT, OrderType.LIMIT, 0.1, 61_000));
      await until(() => status(bench, next) === Status.NOTTRADED, "new order");
      double.venue.setBook("spot", "BTCUSDT", { bids: [[61_500, 1]], asks: [] });
      await until(() => status(bench, next) === Status.ALLTRADED, "streamed fill");
    });
  });

  test("swaps: a fill moves the net position and the swap account; closing it leaves a zero position", async () => {
    await withBench(async (bench) => {
      const { engine } = bench;
      const open = await send(bench, order(SWAP, Direction.SHORT, OrderType.MARKET, 0.01));
      await until(() => status(bench, open) === Status.ALLTRADED, "opened");
      await until(() => engine.getPosition(`CCXT.${SWAP_VT}.净`)?.volume === -0.01, "short position");
      const position = engine.getPosition(`CCXT.${SWAP_VT}.净`)!;
      assert.equal(position.direction, Direction.NET);
      assert.equal(position.price, 59_990);
      await until(() => (engine.getAccount("CCXT.swap:USDT")?.frozen ?? 0) > 0, "margin in use");
      const close = await send(bench, order(SWAP, Direction.LONG, OrderType.MARKET, 0.01));
      await until(() => status(bench, close) === Status.ALLTRADED, "closed");
      await until(() => engine.getPosition(`CCXT.${SWAP_VT}.净`)?.volume === 0, "flat");
      await until(() => engine.getAccount("CCXT.swap:USDT")?.balance === 50_000 - 0.01 * 20, "realised loss of the spread");
    });
  });

  test("history: query_history pages fetchOHLCV over a range longer than one page", async () => {
    await withBench(async ({ engine, double }) => {
      const end = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
      const start = end - 2_500 * 60_000;
      const bars = await engine.queryHistory(
        new HistoryRequest({
          symbol: SPOT,
          exchange: Exchange.GLOBAL,
          start: DateTime.fromEpochMicros(start * 1000, UTC),
          end: DateTime.fromEpochMicros(end * 1000, UTC),
          interval: Interval.MINUTE,
        }),
        GATEWAY,
      );
      assert.equal(bars.length, 2_501);
      assert.equal(bars[0]!.datetime.epochMicros(), start * 1000);
      assert.equal(bars.at(-1)!.datetime.epochMicros(), end * 1000);
      for (let i = 1; i < bars.length; i++) assert.equal(bars[i]!.datetime.epochMicros() - bars[i - 1]!.datetime.epochMicros(), 60_000_000);
      assert.equal(bars[0]!.interval, Interval.MINUTE);
      assert.ok(bars.every((b) => b.high_price >= b.low_price && b.volume > 0));
      assert.equal(double.requests.filter((r) => r === "GET api.binance.com/api/v3/klines").length, 3);
    });
  });

  test("close then connect again (a gateway disconnect/connect): one set of streams, and trading goes on", async () => {
    await withBench(async (bench) => {
      const { engine, double, gateway } = bench;
      await until(() => double.userStreamCount === 2, "streams up");
      await gateway.close();
      await until(() => double.userStreamCount === 0, "streams closed");
      await engine.connect(doubleSetting(double), GATEWAY);
      await until(() => double.userStreamCount === 2, "streams up again");
      const id = await send(bench, order(SPOT, Direction.LONG, OrderType.LIMIT, 0.1, 59_000));
      await until(() => status(bench, id) === Status.NOTTRADED, "resting");
      double.venue.setBook("spot", "BTCUSDT", { bids: [], asks: [[58_000, 1]] });
      await until(() => status(bench, id) === Status.ALLTRADED && tradesOf(bench, id).length === 1, "streamed fill after reconnect");
      assert.equal(double.userStreamCount, 2);
    });
  });

  test("keys: taken from the environment when the setting names a variable, signed on the wire, never in a log line or the default setting", async () => {
    process.env["RPCSERVICE_TEST_CCXT_KEY"] = DOUBLE_API_KEY;
    process.env["RPCSERVICE_TEST_CCXT_SECRET"] = DOUBLE_SECRET;
    try {
      await withBench(
        async (bench) => {
          const id = await send(bench, order(SPOT, Direction.LONG, OrderType.MARKET, 0.01));
          await until(() => status(bench, id) === Status.ALLTRADED, "signed order accepted");
          const text = JSON.stringify(bench.logs.map((l) => l.msg)) + JSON.stringify(bench.engine.getAllAccounts()) + JSON.stringify(bench.engine.getAllOrders());
          assert.ok(!text.includes(DOUBLE_SECRET) && !text.includes(DOUBLE_API_KEY));
          assert.deepEqual([...bench.double.apiKeysSeen], [DOUBLE_API_KEY], "only the key travels, the secret never");
          assert.equal(bench.gateway.getDefaultSetting()["api_key"], "");
          assert.equal(bench.gateway.getDefaultSetting()["secret"], "");
        },
        { api_key: "", secret: "", api_key_env: "RPCSERVICE_TEST_CCXT_KEY", secret_env: "RPCSERVICE_TEST_CCXT_SECRET" },
      );
    } finally {
      delete process.env["RPCSERVICE_TEST_CCXT_KEY"];
      delete process.env["RPCSERVICE_TEST_CCXT_SECRET"];
    }
  });

  test("keys: a wrong secret fails connect with the exchange's refusal, and the secret appears in no message", async () => {
    const double = await BinanceDouble.start();
    const logs: string[] = [];
    const engine = new MainEngine({ logSink: (log) => logs.push(log.msg) });
    engine.addGateway(CcxtGateway);
    try {
      await assert.rejects(engine.connect(doubleSetting(double, { secret: "wrong-secret-value" }), GATEWAY), (error: Error) => {
        assert.match(error.message, /Signature for this request is not valid/);
        assert.ok(!error.message.includes("wrong-secret-value"));
        return true;
      });
      assert.ok(!logs.join("\n").includes("wrong-secret-value"));
    } finally {
      await engine.close();
      await double.stop();
    }
  });
});

describe("ccxt gateway: errors and settings", () => {
  test("ccxt's error classes map to rejection codes; only a network error other than a rate limit is ambiguous", async () => {
    const ccxt = await import("ccxt");
    assert.deepEqual(classify(new ccxt.InsufficientFunds("x")), { code: "INSUFFICIENT_FUNDS", reason: "insufficient funds: x", ambiguous: false });
    assert.equal(classify(new ccxt.OrderNotFillable("x")).code, "INVALID_ORDER");
    assert.equal(classify(new ccxt.RateLimitExceeded("x")).code, "RATE_LIMITED");
    assert.equal(classify(new ccxt.DDoSProtection("x")).code, "RATE_LIMITED");
    assert.equal(classify(new ccxt.AuthenticationError("x")).code, "AUTHENTICATION");
    assert.deepEqual(classify(new ccxt.RequestTimeout("x")), { code: "NETWORK", reason: "network error: x", ambiguous: true });
    assert.equal(classify(new ccxt.ExchangeNotAvailable("x")).ambiguous, true);
    assert.equal(classify(new ccxt.ExchangeError("x")).code, "EXCHANGE");
    assert.equal(isPostOnly("grid-1 post_only"), true);
    assert.equal(isPostOnly("not_post_only_really"), false);
  });

  test("a bad setting or an unknown exchange fails connect with a clear message", async () => {
    const engine = new MainEngine();
    engine.addGateway(CcxtGateway);
    try {
      await assert.rejects(engine.connect({ exchange: "binance", market_types: ["options"] }, GATEWAY), /market_types.*"options"/);
      await assert.rejects(engine.connect({ exchange: "binance", apikey: "x" }, GATEWAY), /"apikey" is unknown/);
      await assert.rejects(engine.connect({ exchange: "nosuchexchange" }, GATEWAY), /ccxt has no exchange "nosuchexchange"/);
    } finally {
      await engine.close();
    }
  });
});

const TESTNET_KEY = process.env["CCXT_TESTNET_API_KEY"];
const TESTNET_SECRET = process.env["CCXT_TESTNET_SECRET"];

describe("ccxt gateway against Binance's spot testnet", { skip: TESTNET_KEY && TESTNET_SECRET ? false : "set CCXT_TESTNET_API_KEY and CCXT_TESTNET_SECRET (testnet.binance.vision keys) to run" }, () => {
  test("contracts, ticks, a resting order cancelled and a market order filled on the testnet", async () => {
    const engine = new MainEngine();
    engine.addGateway(CcxtGateway);
    try {
      await engine.connect({ exchange: "binance", sandbox: true, api_key: TESTNET_KEY!, secret: TESTNET_SECRET!, market_types: ["spot"], symbols: [SPOT] }, GATEWAY);
      assert.equal(engine.getContract(SPOT_VT)?.product, Product.SPOT);
      await engine.subscribe(new SubscribeRequest({ symbol: SPOT, exchange: Exchange.GLOBAL }), GATEWAY);
      await until(() => (engine.getTick(SPOT_VT)?.bid_price_5 ?? 0) > 0, "testnet tick", 30_000);
      const tick = engine.getTick(SPOT_VT)!;
      const contract = engine.getContract(SPOT_VT)!;
      const low = Math.round((tick.bid_price_5 * 0.9) / contract.pricetick) * contract.pricetick;
      const resting = await engine.sendOrder(order(SPOT, Direction.LONG, OrderType.LIMIT, 0.001, Number(low.toFixed(2))), GATEWAY);
      await until(() => engine.getOrder(resting)?.status === Status.NOTTRADED, "testnet resting", 30_000);
      await engine.cancelOrder(engine.getOrder(resting)!.createCancelRequest(), GATEWAY);
      await until(() => engine.getOrder(resting)?.status === Status.CANCELLED, "testnet cancel", 30_000);
      const market = await engine.sendOrder(order(SPOT, Direction.LONG, OrderType.MARKET, 0.001), GATEWAY);
      await until(() => engine.getAllTrades().some((t) => t.vt_orderid === market), "testnet fill", 30_000);
    } finally {
      await engine.close();
    }
  });
});

/**
 * Today's realised P&L and fees in the account summary: from trades that close positions (any gateway), fees
 * from the trades that carry them (the SIM), zero again once the trading day is past; against the SIM's own ledger,
 * and the same figures on a relay in front of it (trades keep their fee across the VeighNa wire).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHINA_TZ, DateTime, Direction, Exchange, MainEngine, Offset, OrderRequest, OrderType, PositionData, SubscribeRequest, TradeData } from "../../src/kernel/index.js";
import { ConsoleApp, DayPnlBook, type DayPnl } from "../../src/console/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { RpcGateway, RpcServiceApp } from "../../src/service/index.js";
import { until } from "../helpers/until.js";

const T0 = Date.parse("2026-12-04T10:00:00+08:00");

function trade(id: string, direction: Direction, offset: Offset, price: number, volume: number, at = T0, commission?: number): TradeData {
  const t = new TradeData({
    gateway_name: "G", symbol: "rb2701", exchange: Exchange.SHFE, orderid: id, tradeid: id, direction, offset, price, volume,
    datetime: DateTime.fromDate(new Date(at), CHINA_TZ),
  });
  if (commission !== undefined) t.extra = { commission };
  return t;
}

function position(direction: Direction, volume: number, price: number): PositionData {
  return new PositionData({ gateway_name: "G", symbol: "rb2701", exchange: Exchange.SHFE, direction, volume, price });
}

test("a close realises (price − average cost) × volume × size, long or short, whether the position update comes before or after it", () => {
  let now = T0;
  const book = new DayPnlBook(() => 10, () => now);
  book.onTrade(trade("1", Direction.LONG, Offset.OPEN, 3000, 2, T0, 0.6));
  book.onPosition(position(Direction.LONG, 2, 3000));
  book.onTrade(trade("2", Direction.SHORT, Offset.CLOSETODAY, 3010, 1, T0, 0.3)); // +100
  book.onPosition(position(Direction.LONG, 1, 3000));
  // The flat update first, then the trade that made it flat: still closed against 3000.
  book.onPosition(position(Direction.LONG, 0, 0));
  book.onTrade(trade("3", Direction.SHORT, Offset.CLOSETODAY, 2990, 1, T0, 0.3)); // −100
  // A short: sold at 3005, bought back at 2995: +100.
  book.onTrade(trade("4", Direction.SHORT, Offset.OPEN, 3005, 1, T0));
  book.onPosition(position(Direction.SHORT, 1, 3005));
  book.onTrade(trade("5", Direction.LONG, Offset.CLOSE, 2995, 1, T0));
  // A trade sent again (a gateway's reconnect) counts once.
  book.onTrade(trade("5", Direction.LONG, Offset.CLOSE, 2995, 1, T0));
  assert.deepEqual(book.summary(), [{ gateway: "G", day: "2026-12-04", realised: 100, fees: 1.2, trades: 5 }] satisfies DayPnl[]);

  // The next trading day starts from zero, before and after its first trade.
  now = T0 + 24 * 3600_000;
  assert.deepEqual(book.summary(), [{ gateway: "G", day: "2026-12-05", realised: 0, fees: 0, trades: 0 }]);
  book.onTrade(trade("6", Direction.LONG, Offset.OPEN, 3000, 1, now, 0.3));
  assert.deepEqual(book.summary(), [{ gateway: "G", day: "2026-12-05", realised: 0, fees: 0.3, trades: 1 }]);
});

test("fees no trade reports are unknown (null), not zero; a NET position realises the part a trade closes", () => {
  const book = new DayPnlBook(() => 1, () => T0);
  const net = (volume: number, price: number) => new PositionData({ gateway_name: "G", symbol: "rb2701", exchange: Exchange.SHFE, direction: Direction.NET, volume, price });
  book.onPosition(net(3, 100));
  // Sell 5 against +3 @100 at 110: 3 close (+30), 2 open short.
  book.onTrade(trade("1", Direction.SHORT, Offset.NONE, 110, 5));
  assert.deepEqual(book.summary(), [{ gateway: "G", day: "2026-12-04", realised: 30, fees: null, trades: 1 }]);
});

test("against the SIM's ledger: after a round trip, today's realised P&L minus fees is the balance's change", async () => {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-day-pnl-"));
  const mainEngine = new MainEngine({ home });
  mainEngine.addGateway(SimGateway);
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  try {
    const capital = 10_000_000;
    await mainEngine.connect({ data_dir: ":memory:", ticks_per_second: 20, capital }, "SIM");
    await until(() => mainEngine.getAllContracts().length > 0, 5_000, "contracts");
    const contract = mainEngine.getAllContracts().find((c) => c.exchange === Exchange.SHFE && c.symbol.startsWith("rb"))!;
    mainEngine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM");
    await until(() => mainEngine.getTick(contract.vt_symbol) !== undefined, 10_000, "a tick");
    const send = (direction: Direction, offset: Offset, volume: number) =>
      mainEngine.sendOrder(new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction, type: OrderType.MARKET, volume, price: 0, offset }), "SIM");
    const traded = (n: number) => until(() => mainEngine.getAllTrades().length >= n, 10_000, `${n} trade(s)`);
    assert.ok(send(Direction.LONG, Offset.OPEN, 2));
    await traded(1);
    // Let the market move between the open and the closes, so the round trip realises something.
    const opened = mainEngine.getTick(contract.vt_symbol)?.last_price;
    await until(() => mainEngine.getTick(contract.vt_symbol)?.last_price !== opened, 10_000, "a new price");
    assert.ok(send(Direction.SHORT, Offset.CLOSETODAY, 1));
    await traded(2);
    assert.ok(send(Direction.SHORT, Offset.CLOSETODAY, 1));
    await traded(3);
    await until(() => mainEngine.getAllPositions().every((p) => p.volume === 0), 10_000, "flat");
    const context = { clientId: "test", endpoint: "test" };
    // The trades reach the console through the event queue: a bounded wait for the third.
    let pnl: DayPnl[] = [];
    for (let i = 0; i < 100 && pnl[0]?.trades !== 3; i++) {
      pnl = (await consoleEngine.dispatch("account_day_pnl", [], {}, context)) as DayPnl[];
      if (pnl[0]?.trades !== 3) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(pnl[0]?.trades, 3, JSON.stringify(pnl));
    const [day] = pnl;
    const fees = mainEngine.getAllTrades().reduce((sum, t) => sum + ((t.extra as { commission: number }).commission), 0);
    assert.ok(fees > 0);
    assert.equal(day!.fees!, Math.round(fees * 10_000) / 10_000);
    // Flat, the SIM's balance is capital + realised − fees: its own ledger agrees with the console's sums.
    await until(() => {
      const account = mainEngine.getAllAccounts()[0];
      return account !== undefined && Math.abs(account.balance - (capital + day!.realised - day!.fees!)) < 0.01;
    }, 5_000, `balance = capital + ${day!.realised} − ${day!.fees}`);
  } finally {
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

/** Asks a console engine for its day figures, in-process, until they count `trades` trades (bounded). */
async function dayFigures(consoleEngine: { dispatch: (name: string, args: unknown[], kwargs: Record<string, unknown>, context: { clientId: string; endpoint: string }) => Promise<unknown> }, gateway: string, trades: number): Promise<DayPnl | undefined> {
  let day: DayPnl | undefined;
  for (let i = 0; i < 200 && day?.trades !== trades; i++) {
    day = ((await consoleEngine.dispatch("account_day_pnl", [], {}, { clientId: "test", endpoint: "test" })) as DayPnl[]).find((d) => d.gateway === gateway);
    if (day?.trades !== trades) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return day;
}

test("a relay in front of the SIM shows the same realised P&L and fees: the trades carry their fee through the VeighNa wire", async () => {
  const serverHome = mkdtempSync(join(tmpdir(), "rpcservice-day-pnl-server-"));
  const relayHome = mkdtempSync(join(tmpdir(), "rpcservice-day-pnl-relay-"));
  const server = new MainEngine({ home: serverHome });
  server.addGateway(SimGateway);
  const rpc = server.addApp(RpcServiceApp);
  const serverConsole = server.addApp(ConsoleApp);
  const relay = new MainEngine({ home: relayHome });
  relay.addGateway(RpcGateway);
  const relayConsole = relay.addApp(ConsoleApp);
  try {
    await server.connect({ data_dir: ":memory:", ticks_per_second: 20, capital: 10_000_000 }, "SIM");
    await until(() => server.getAllContracts().length > 0, 5_000, "contracts");
    assert.ok(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"));
    const { rep, pub } = rpc.addresses!;
    await relay.connect({ req_address: rep, sub_address: pub }, "RPC");
    await until(() => relay.getAllContracts().length > 0, 10_000, "the relay's contracts");
    const contract = relay.getAllContracts().find((c) => c.exchange === Exchange.SHFE && c.symbol.startsWith("rb"))!;
    relay.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "RPC");
    await until(() => relay.getTick(contract.vt_symbol) !== undefined, 10_000, "a tick at the relay");
    const send = (direction: Direction, offset: Offset) =>
      relay.sendOrder(new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction, type: OrderType.MARKET, volume: 1, price: 0, offset }), "RPC");
    assert.ok(send(Direction.LONG, Offset.OPEN));
    await until(() => relay.getAllTrades().length >= 1, 10_000, "the opening trade at the relay");
    const opened = relay.getTick(contract.vt_symbol)?.last_price;
    await until(() => relay.getTick(contract.vt_symbol)?.last_price !== opened, 10_000, "a new price");
    assert.ok(send(Direction.SHORT, Offset.CLOSETODAY));
    await until(() => relay.getAllTrades().length >= 2, 10_000, "the closing trade at the relay");
    const atServer = await dayFigures(serverConsole, "SIM", 2);
    const atRelay = await dayFigures(relayConsole, "RPC", 2);
    assert.ok(atServer && atServer.fees !== null && atServer.fees > 0, JSON.stringify(atServer));
    assert.deepEqual({ ...atRelay, gateway: "SIM" }, atServer);
  } finally {
    await relay.close();
    await server.close();
    rmSync(serverHome, { recursive: true, force: true });
    rmSync(relayHome, { recursive: true, force: true });
  }
});

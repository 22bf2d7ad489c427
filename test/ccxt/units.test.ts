/** The ccxt gateway's pure parts: URL rewriting, settings, status mapping, and the order memory's ordering rules. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Order, Trade } from "ccxt";
import { parseCcxtSetting, rewriteUrl, statusOf } from "../../src/ccxt/index.js";
import { OrderMemory, commissionOf } from "../../src/ccxt/orders.js";
import { Direction, Exchange, OrderRequest, OrderType, Status } from "../../src/kernel/index.js";

test("urls: every host maps under one origin, keeping host and path; wss follows the origin's scheme", () => {
  assert.equal(rewriteUrl("https://fapi.binance.com/fapi/v1", "http://127.0.0.1:9"), "http://127.0.0.1:9/fapi.binance.com/fapi/v1");
  assert.equal(rewriteUrl("wss://stream.binance.com:9443/ws", "http://127.0.0.1:9"), "ws://127.0.0.1:9/stream.binance.com:9443/ws");
  assert.equal(rewriteUrl("wss://ws-api.binance.com:443/ws-api/v3", "https://proxy.local"), "wss://proxy.local/ws-api.binance.com:443/ws-api/v3");
  assert.equal(rewriteUrl("not a url", "http://127.0.0.1:9"), "not a url");
});

test("settings: keys from the named environment variables unless given; lists from text; bad values refused", () => {
  const env = { MY_KEY: "k-from-env", MY_SECRET: "s-from-env" };
  const fromEnv = parseCcxtSetting({ api_key_env: "MY_KEY", secret_env: "MY_SECRET" }, env);
  assert.equal(fromEnv.apiKey, "k-from-env");
  assert.equal(fromEnv.secret, "s-from-env");
  assert.equal(parseCcxtSetting({ api_key: "given", api_key_env: "MY_KEY" }, env).apiKey, "given");
  const typed = parseCcxtSetting({ market_types: "spot, swap", symbols: "BTC/USDT,ETH/USDT", options: '{"a":1}', sandbox: "true" }, {});
  assert.deepEqual(typed.marketTypes, ["spot", "swap"]);
  assert.deepEqual(typed.symbols, ["BTC/USDT", "ETH/USDT"]);
  assert.deepEqual(typed.options, { a: 1 });
  assert.equal(typed.sandbox, true);
  assert.throws(() => parseCcxtSetting({ options: "[1]" }, {}), /"options" must be a JSON object/);
  assert.throws(() => parseCcxtSetting({ api_origin: "http://host/path" }, {}), /"api_origin" must be an origin/);
  assert.throws(() => parseCcxtSetting({ poll_ms: 1 }, {}), /"poll_ms" must be at least 50/);
});

test("status: ccxt's unified statuses map to ours, with fills telling part from all", () => {
  assert.equal(statusOf({ status: "open", filled: 0, amount: 1 }), Status.NOTTRADED);
  assert.equal(statusOf({ status: "open", filled: 0.5, amount: 1 }), Status.PARTTRADED);
  assert.equal(statusOf({ status: "closed", filled: 1, amount: 1 }), Status.ALLTRADED);
  assert.equal(statusOf({ status: "canceled", filled: 0.5, amount: 1 }), Status.CANCELLED);
  assert.equal(statusOf({ status: "expired", filled: 0, amount: 1 }), Status.CANCELLED);
  assert.equal(statusOf({ status: "rejected", filled: 0, amount: 1 }), Status.REJECTED);
});

function ccxtOrder(fields: Partial<Order>): Order {
  return { id: "900", clientOrderId: "rpcTn1", symbol: "BTC/USDT", type: "limit", side: "buy", price: 100, amount: 1, filled: 0, status: "open", info: {}, ...fields } as Order;
}

function ccxtTrade(fields: Partial<Trade>): Trade {
  return { id: "t1", order: "900", symbol: "BTC/USDT", side: "buy", price: 100, amount: 0.5, timestamp: 1, info: {}, ...fields } as Trade;
}

test("order memory: updates in any order never move an order back; a fill is pushed once, and waits for its order", () => {
  const memory = new OrderMemory("CCXT", "T");
  const orderid = memory.nextOrderid();
  assert.equal(orderid, "rpcTn1");
  memory.add(new OrderRequest({ symbol: "BTC/USDT", exchange: Exchange.GLOBAL, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 100 }), orderid);
  // A fill that overtakes its order's first update (its order id is not known yet) is kept back.
  assert.equal(memory.applyTrade(ccxtTrade({})), undefined);
  assert.equal(memory.applyOrder(ccxtOrder({ filled: 0.5 }))!.order.status, Status.PARTTRADED);
  const released = memory.releaseTrades();
  assert.equal(released.length, 1);
  assert.equal(memory.applyTrade(released[0]!)!.orderid, orderid);
  assert.equal(memory.applyTrade(ccxtTrade({})), undefined, "the same fill again (REST after WebSocket)");
  assert.equal(memory.applyOrder(ccxtOrder({ filled: 0 })), undefined, "an older update");
  assert.equal(memory.applyOrder(ccxtOrder({ status: "closed", filled: 1 }))!.order.status, Status.ALLTRADED);
  assert.equal(memory.applyOrder(ccxtOrder({ status: "open", filled: 1 })), undefined, "a final status stays");
  // Another client's order on the same account is listed under its own client id.
  assert.equal(memory.applyOrder(ccxtOrder({ id: "901", clientOrderId: "web_abc.1" }))!.order.orderid, "web_abc_1");
});

test("a fill's fee becomes the trade's commission in the market's money: quote or settle as is, base at the fill price, others unknown", () => {
  const fill = (symbol: string, currency: string, cost: number) => ({ symbol, price: 50_000, fee: { currency, cost } }) as Pick<Trade, "symbol" | "price" | "fee">;
  assert.equal(commissionOf(fill("BTC/USDT", "USDT", 0.5)), 0.5);
  assert.equal(commissionOf(fill("BTC/USDT", "BTC", 0.00001)), 0.5);
  assert.equal(commissionOf(fill("BTC/USDT:USDT", "USDT", 0.2)), 0.2);
  assert.equal(commissionOf(fill("BTC/USDT", "BNB", 0.001)), undefined);
  assert.equal(commissionOf({ symbol: "BTC/USDT", price: 1, fee: undefined } as unknown as Pick<Trade, "symbol" | "price" | "fee">), undefined);
  // Through the order memory: the pushed trade carries it.
  const memory = new OrderMemory("CCXT", "F");
  const orderid = memory.nextOrderid();
  memory.add(new OrderRequest({ symbol: "BTC/USDT", exchange: Exchange.GLOBAL, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 100 }), orderid);
  memory.applyOrder(ccxtOrder({ clientOrderId: orderid, filled: 0.5 }));
  const trade = memory.applyTrade(ccxtTrade({ fee: { currency: "USDT", cost: 0.05 } }));
  assert.deepEqual(trade?.extra, { commission: 0.05 });
});

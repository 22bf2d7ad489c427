import { test } from "node:test";
import assert from "node:assert/strict";
import { Direction, Offset, OrderRequest, OrderType, SubscribeRequest, type MainEngine, type TickData } from "../../src/kernel/index.js";
import { WsRpcClient } from "../../src/rpc/index.js";
import { PromMetrics, quantile, type MetricsSample } from "../../src/console/index.js";
import { startConsoleFixture, tradedSymbol } from "./fixture.js";
import { until } from "../helpers/until.js";
import { RawClient } from "../rpc/ws/helpers.js";

/** The value of one sample line of the Prometheus text, or undefined. */
function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) return Number(match[3]);
  }
  return undefined;
}

async function waitTick(mainEngine: MainEngine, vt_symbol: string): Promise<TickData> {
  await until(() => mainEngine.getTick(vt_symbol) !== null, 10_000, `a tick of ${vt_symbol}`);
  return mainEngine.getTick(vt_symbol)!;
}

test("histogram quantiles interpolate inside their bucket, as Prometheus does", () => {
  const bounds = [0.001, 0.01, 0.1, Infinity];
  assert.equal(quantile(bounds, [0, 0, 0, 0], 0.5), null);
  assert.equal(quantile(bounds, [10, 10, 10, 10], 0.5), 0.0005);
  assert.ok(Math.abs(quantile(bounds, [0, 10, 10, 10], 0.5)! - 0.0055) < 1e-12);
  // Past the last finite bound: that bound, not infinity.
  assert.equal(quantile(bounds, [0, 0, 0, 4], 0.99), 0.1);
});

test("published events count by stream and kind, exactly, across reads and past the remembered types", async () => {
  const metrics = new PromMetrics();
  const count = async (stream: string, type: string) => sampleValue(await metrics.registry.metrics(), "rpcservice_events_published_total", { stream, type });
  for (let i = 0; i < 3; i++) {
    metrics.eventPublished("rpc", "eTick.");
    metrics.eventPublished("rpc", "eTick.rb2501.SHFE");
  }
  metrics.eventPublished("rpc", "eOrder.");
  metrics.eventPublished("rpc", "eOrder.SIM.1");
  metrics.eventPublished("console", "eTick.");
  assert.equal(await count("rpc", "eTick."), 6, "a tick and its twin are one kind");
  assert.equal(await count("rpc", "eOrder."), 2);
  assert.equal(await count("console", "eTick."), 1, "each stream its own series");
  // A second read adds what came since, once; the sampler's read (Counter#get) sees the same.
  metrics.eventPublished("rpc", "eTick.");
  assert.equal(await count("rpc", "eTick."), 7);
  assert.equal(await count("rpc", "eTick."), 7);
  // Twins of 25,000 orders: more types than are remembered, none lost.
  for (let i = 0; i < 25_000; i++) metrics.eventPublished("rpc", `eOrder.SIM.${i}`);
  const values = (await metrics.events.get()).values;
  assert.equal(values.find((v) => v.labels["stream"] === "rpc" && v.labels["type"] === "eOrder.")?.value, 25_002);
  assert.equal(values.length, 3, "one series per stream and kind");
});

test("/metrics follows the page's token rule and reports calls, events, clients, orders, risk blocks, gateways and the process", async () => {
  const fixture = await startConsoleFixture();
  const { mainEngine, consoleEngine } = fixture;
  try {
    const url = `${fixture.started.url}metrics`;
    const operator = await RawClient.open(`ws://127.0.0.1:${fixture.started.port}/console`);
    operator.send({ id: 1, call: "rpc_start", args: ["tcp://127.0.0.1:0", "tcp://127.0.0.1:0"] });
    assert.equal((await operator.reply(1)).result, true);

    const client = new WsRpcClient({ url: `ws://127.0.0.1:${fixture.started.port}/ws`, reconnect: false, types: [] });
    await client.waitConnected(5_000);
    const vt_symbol = tradedSymbol(mainEngine);
    const contract = mainEngine.getContract(vt_symbol)!;
    await mainEngine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM");
    const tick = await waitTick(mainEngine, vt_symbol);
    for (let i = 0; i < 3; i++) await client.call("get_tick", [vt_symbol]);

    // An order that crosses the book: acknowledged, then filled.
    const buy = new OrderRequest({
      symbol: contract.symbol,
      exchange: contract.exchange,
      direction: Direction.LONG,
      type: OrderType.LIMIT,
      volume: 1,
      price: tick.ask_price_1 + contract.pricetick * 10,
      offset: Offset.OPEN,
    });
    const vt_orderid = await client.call<string>("send_order", [buy, "SIM"]);
    assert.notEqual(vt_orderid, "");
    await until(() => mainEngine.getAllTrades().some((t) => t.vt_orderid === vt_orderid), 10_000, "the fill");
    // A blocked order counts against its rule.
    operator.send({ id: 2, call: "risk_update_rule", args: ["order_size", { order_volume_limit: 1 }] });
    await operator.reply(2);
    assert.equal(await client.call("send_order", [new OrderRequest({ ...buy, volume: 5 }), "SIM"]), "");

    let text = "";
    for (let i = 0; i < 100; i++) {
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /text\/plain/);
      text = await response.text();
      if ((sampleValue(text, "rpcservice_order_first_fill_seconds_count") ?? 0) >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(sampleValue(text, "rpcservice_call_duration_seconds_count", { function: "get_tick", endpoint: "ws" }), 3);
    assert.equal(sampleValue(text, "rpcservice_call_duration_seconds_count", { function: "rpc_start", endpoint: "console" }), 1);
    assert.ok((sampleValue(text, "rpcservice_events_published_total", { stream: "rpc", type: "eTick." }) ?? 0) >= 1);
    assert.equal(sampleValue(text, "rpcservice_connected_clients", { endpoint: "ws" }), 1);
    assert.equal(sampleValue(text, "rpcservice_connected_clients", { endpoint: "console" }), 1);
    assert.ok(sampleValue(text, "rpcservice_subscriber_queued_events", { endpoint: "ws" }) !== undefined);
    assert.ok(sampleValue(text, "rpcservice_subscriber_lag_seconds", { endpoint: "ws" }) !== undefined);
    assert.equal(sampleValue(text, "rpcservice_order_ack_seconds_count"), 1);
    assert.equal(sampleValue(text, "rpcservice_order_first_fill_seconds_count"), 1);
    assert.equal(sampleValue(text, "rpcservice_risk_blocks_total", { rule: "order_size" }), 1);
    assert.equal(sampleValue(text, "rpcservice_gateway_connected", { gateway: "SIM", state: "connected" }), 1);
    assert.ok((sampleValue(text, "rpcservice_process_resident_memory_bytes") ?? 0) > 0);
    assert.ok(sampleValue(text, "rpcservice_nodejs_eventloop_lag_p99_seconds") !== undefined);
    assert.ok(sampleValue(text, "rpcservice_process_cpu_seconds_total") !== undefined);

    // The summary the page and `status` show: the same call, with its rate and percentiles.
    operator.send({ id: 3, call: "metrics_summary" });
    const summary = (await operator.reply(3)).result as { latest: MetricsSample; history: MetricsSample[] };
    const getTick = summary.latest.calls.find((c) => c.function === "get_tick" && c.endpoint === "ws");
    assert.ok(getTick, "get_tick is in the summary");
    assert.equal(getTick.count, 3);
    // Percentiles cover one interval: the calls fall in the periodic samples taken since, or in the latest figures.
    const withCalls = [...summary.history, summary.latest]
      .map((sample) => sample.calls.find((c) => c.function === "get_tick" && c.endpoint === "ws"))
      .filter((c) => c !== undefined && c.p50Ms !== null);
    assert.ok(withCalls.length > 0, "an interval holds the get_tick calls");
    for (const c of withCalls) assert.ok(c!.p50Ms! <= c!.p99Ms!);
    assert.equal(getTick.buckets[getTick.buckets.length - 1]!.count, 3);
    assert.deepEqual(summary.latest.riskBlocks, [{ rule: "order_size", count: 1 }]);
    assert.equal(summary.latest.orders.fills, 1);
    assert.ok(summary.latest.process.rssBytes > 0);
    assert.ok(summary.latest.subscribers.some((s) => s.endpoint === "ws"));

    // Names a client made up do not become series of their own.
    await assert.rejects(client.call("no_such_function_1"));
    await assert.rejects(client.call("no_such_function_2"));
    const after = await (await fetch(url)).text();
    assert.equal(sampleValue(after, "rpcservice_call_errors_total", { function: "(unknown)", endpoint: "ws" }), 2);
    assert.equal(sampleValue(after, "rpcservice_call_duration_seconds_count", { function: "(unknown)", endpoint: "ws" }), 2);
    assert.ok(!after.includes("no_such_function"));

    await client.close();
    operator.close();
  } finally {
    await fixture.stop();
  }
  assert.equal(consoleEngine.isActive, false);
});

test("the page pushes a metrics sample at each interval, and /metrics needs the token when the page does", async () => {
  const fixture = await startConsoleFixture();
  const { consoleEngine } = fixture;
  try {
    await consoleEngine.stop();
    const started = await consoleEngine.start({ host: "127.0.0.1", port: 0, token: { value: "metrics-token-0123456789" }, metricsIntervalMs: 100 });
    assert.equal((await fetch(`${started.url}metrics`)).status, 401);
    assert.equal((await fetch(`${started.url}metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status, 401);
    assert.equal((await fetch(`${started.url}metrics?token=metrics-token-0123456789`)).status, 200);
    assert.equal((await fetch(`${started.url}metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } })).status, 200);
    assert.equal((await fetch(`${started.url}metrics?token=metrics-token-0123456789`, { headers: { origin: "http://evil.example" } })).status, 403);

    const page = await RawClient.open(`ws://127.0.0.1:${started.port}/console?token=metrics-token-0123456789`);
    page.send({ id: 1, call: "console_info" });
    assert.equal((await page.reply(1)).ok, true);
    page.socket.send(JSON.stringify({ id: 2, subscribe: { types: ["eConsoleMetrics"] } }));
    await page.reply(2);
    const first = await page.next((m) => m["type"] === "eConsoleMetrics", 10_000);
    const sample = first["data"] as MetricsSample;
    assert.ok(sample.calls.some((c) => c.endpoint === "console"), "the page's own calls are in the sample");
    assert.ok(sample.clients.some((c) => c.endpoint === "console" && c.count === 1));
    page.close();
  } finally {
    await fixture.stop();
  }
});

/**
 * The console page in a real browser (Debian's Chromium, driven by playwright-core) against a real server:
 * ticks move, an order fills into the order, trade and position monitors, a resting order is cancelled, the
 * RPC service stops and starts with its log lines, and a risk rule blocks an order once changed.
 *
 * Set RPCSERVICE_SCREENSHOTS=1 to (re)write docs/screenshots/*.png.
 */
import { until as waitUntil } from "../helpers/until.js";
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { Direction, Offset, OrderRequest, OrderType } from "../../src/kernel/index.js";
import { WsRpcClient } from "../../src/rpc/index.js";
import { startConsoleFixture, tradedSymbol, type ConsoleFixture } from "./fixture.js";
import { APP_NAME as RPC_APP_NAME, RpcEngine, addConsoleUser } from "../../src/service/index.js";
import { natsSkip, startNatsCluster } from "../rpc/nats/nats-cluster.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install -y chromium): browser tests skipped`;
const SCREENSHOTS = process.env.RPCSERVICE_SCREENSHOTS ? fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url)) : null;

let fixture: ConsoleFixture;
let symbol: string;
let context: BrowserContext;
let page: Page;
let profile: string;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  fixture = await startConsoleFixture();
  symbol = tradedSymbol(fixture.mainEngine);
  profile = mkdtempSync(join(tmpdir(), "rpcservice-chromium-"));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1600, height: 1000 } });
  context.setDefaultTimeout(10_000);
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(fixture.started.urlWithToken);
  await page.getByTestId("link-state").filter({ hasText: "Online" }).waitFor();
});

after(async () => {
  if (skip) return;
  await context?.close();
  await fixture?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Polls a locator's text until it matches; bounded by `timeoutMs`. */
async function textMatching(locator: Locator, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    last = (await locator.textContent().catch(() => null)) ?? "";
    if (pattern.test(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`text ${JSON.stringify(last)} never matched ${pattern}`);
}

/** The shared `until`, polling the page every 50 ms. */
const until = (condition: () => Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> => waitUntil(condition, timeoutMs, what, 50);

async function screenshot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Sends an order from the ticket; resolves with the ticket's answer to this order ("Sent TOY.3", "Blocked..."). */
async function placeOrder(direction: "long" | "short", price: number, volume: number): Promise<string> {
  await page.getByTestId(direction === "long" ? "ticket-long" : "ticket-short").click();
  await page.getByTestId("ticket-price").fill(String(price));
  await page.getByTestId("ticket-volume").fill(String(volume));
  await page.getByTestId("ticket-send").click();
  // The page clears the previous answer on submit: wait for this order's own.
  const answer = await textMatching(page.getByTestId("ticket-result"), /Sent \S+|Blocked/);
  return answer;
}

async function lastPrice(): Promise<number> {
  const text = await page.getByTestId(`tick-${symbol}`).getByTestId("last-price").textContent();
  return Number((text ?? "").replace(/,/g, ""));
}

/** The contract's price step, so test prices are valid prices. */
function pricetick(): number {
  return fixture.mainEngine.getContract(symbol)!.pricetick;
}

test("the page loads, a symbol is added to the watch list and its ticks move", { skip }, async () => {
  await page.getByTestId("watch-input").fill(symbol);
  await page.getByTestId("watch-input").press("Enter");
  const row = page.getByTestId(`tick-${symbol}`);
  await textMatching(row.getByTestId("last-price"), /\d/);
  const first = await row.getByTestId("last-price").textContent();
  await textMatching(row.getByTestId("last-price"), new RegExp(`^(?!${first}$)\\d`));
  await page.getByTestId("chart").waitFor();
  assert.deepEqual(pageErrors, []);
});

test("an order that crosses the book fills: order, trade and position monitors follow", { skip }, async () => {
  await page.getByTestId(`tick-${symbol}`).click();
  const result = await placeOrder("long", (await lastPrice()) + 20 * pricetick(), 2);
  const vtOrderid = /Sent (\S+)/.exec(result)?.[1];
  assert.ok(vtOrderid, result);
  await textMatching(page.getByTestId(`order-${vtOrderid}`).getByTestId("order-status"), /All traded/);
  await page.getByTestId("trades-panel").locator("tbody tr", { hasText: vtOrderid }).waitFor();
  await textMatching(page.getByTestId(`position-${symbol}-多`).getByTestId("position-volume"), /^2$/);
});

test("a resting order is cancelled from the order monitor", { skip }, async () => {
  const result = await placeOrder("long", (await lastPrice()) - 50 * pricetick(), 1);
  const vtOrderid = /Sent (\S+)/.exec(result)![1]!;
  const row = page.getByTestId(`order-${vtOrderid}`);
  await textMatching(row.getByTestId("order-status"), /Not traded/);
  await screenshot("console");
  await row.getByTestId("order-cancel").click();
  await textMatching(row.getByTestId("order-status"), /Cancelled/);
});

test("the RPC service starts, stops and starts again, and its log shows each step", { skip }, async () => {
  await page.getByTestId("rep-address").fill("tcp://127.0.0.1:0");
  await page.getByTestId("pub-address").fill("tcp://127.0.0.1:0");
  await page.getByTestId("rpc-start").click();
  await textMatching(page.getByTestId("rpc-state"), /Running/);
  await textMatching(page.getByTestId("rpc-log"), /started successfully/);
  await page.getByTestId("rpc-stop").click();
  await textMatching(page.getByTestId("rpc-state"), /Stopped/);
  await textMatching(page.getByTestId("rpc-log"), /stopped/);
  await page.getByTestId("rpc-start").click();
  await textMatching(page.getByTestId("rpc-state"), /Running/);
  const log = await page.getByTestId("rpc-log").textContent();
  assert.equal(log?.match(/started successfully/g)?.length, 2, log ?? "");
  await textMatching(page.getByTestId("clients-panel"), /console:\d+/);
});

test("on a NATS bus the RPC panel shows the JetStream stream's state and follows it live as orders and trades arrive", { skip: skip || natsSkip }, async () => {
  const cluster = await startNatsCluster(1);
  const rpc = fixture.mainEngine.engines.get(RPC_APP_NAME);
  assert.ok(rpc instanceof RpcEngine);
  try {
    await rpc.stop();
    assert.ok(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", { nats: { servers: cluster.urls, name: "desk" } }), rpc.lastStartError ?? "");
    const panel = page.getByTestId("nats-stream");
    await textMatching(panel.getByTestId("nats-stream-name"), /^RPCSERVICE_desk$/);
    await textMatching(panel.getByTestId("nats-node"), new RegExp(`127\\.0\\.0\\.1:${cluster.nodes[0]!.port}`));
    await textMatching(panel.getByTestId("nats-limits"), /^1 d · 1\.0 GiB$/);
    await textMatching(panel.getByTestId("nats-replicas"), /^R1\b/);
    const messages = async () => Number(((await panel.getByTestId("nats-messages").textContent()) ?? "").replace(/,/g, ""));
    const before = await messages();
    // An order that crosses the book: its order events and its trade go into the stream, the panel follows unreloaded.
    const contract = fixture.mainEngine.getContract(symbol)!;
    const price = fixture.mainEngine.getTick(symbol)!.last_price + 20 * contract.pricetick;
    const req = new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price, offset: Offset.OPEN });
    assert.notEqual(await fixture.mainEngine.sendOrder(req, "SIM"), "");
    await until(async () => (await messages()) >= before + 2, 20_000, "the order and trade counted in the stream on the page");
    const state = (await rpc.natsStatus())!.stream!;
    await textMatching(panel.getByTestId("nats-seq"), new RegExp(`^${state.firstSeq} … \\d+$`));
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.waitForTimeout(300);
    assert.deepEqual(await layoutHolds(), [], "at 1024 px with the NATS stream shown");
    await page.setViewportSize({ width: 1600, height: 1000 });
    if (SCREENSHOTS) await page.getByTestId("rpc-panel").screenshot({ path: join(SCREENSHOTS, "console-nats.png") });
  } finally {
    await rpc.stop();
    await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", { nats: null });
    await cluster.stop();
  }
  await page.getByTestId("nats-stream").waitFor({ state: "detached" });
});

test("a risk rule, once tightened, blocks an order; switched off, it lets the same order through", { skip }, async () => {
  const rule = page.getByTestId("rule-order_size");
  await rule.locator(".rule-name").click();
  await rule.getByTestId("param-order_volume_limit").fill("2");
  await rule.getByTestId("rule-save").click();
  await until(async () => (await rule.getByTestId("rule-save").isDisabled()) && (await rule.getByTestId("param-order_volume_limit").inputValue()) === "2");

  const price = (await lastPrice()) - 50 * pricetick();
  const blocked = await placeOrder("long", price, 3);
  assert.match(blocked, /Blocked/);
  await textMatching(page.getByTestId("toast").last(), /order volume 3 exceeds the limit 2/);
  assert.equal(await page.getByTestId("toast").last().getAttribute("data-code"), "VOLUME_LIMIT");
  await screenshot("console-risk-blocked");

  await rule.getByTestId("rule-active").locator("xpath=..").click();
  await until(async () => !(await rule.getByTestId("rule-active").isChecked()));
  const passed = await placeOrder("long", price, 3);
  assert.match(passed, /Sent/);
  assert.deepEqual(pageErrors, []);
});

test("the metrics panel shows a call made from a command-line client, live, with its latency charts", { skip }, async () => {
  // What `rpcservice status` does: a WebSocket client on /console.
  const cli = new WsRpcClient({ url: `ws://127.0.0.1:${fixture.started.port}/console`, reconnect: false, types: [] });
  await cli.waitConnected(5_000);
  try {
    for (let i = 0; i < 5; i++) await cli.call("get_all_gateway_names");
  } finally {
    await cli.close();
  }
  await page.getByTestId("view-metrics").click();
  const row = page.getByTestId("metrics-call-get_all_gateway_names@console");
  await textMatching(row.getByTestId("metrics-call-total"), /^[5-9]$|^\d{2,}$/, 15_000);
  await row.click();
  await textMatching(page.getByTestId("metrics-latency"), /get_all_gateway_names@console/);
  assert.ok((await page.getByTestId("metrics-histogram").locator(".bar").count()) >= 1);
  await textMatching(page.getByTestId("metrics-risk-blocks"), /order_size \d+/);
  await textMatching(page.getByTestId("metrics-cpu"), /\d+ %/);
  await screenshot("console-metrics");
  await page.getByTestId("view-desk").click();
  await page.getByTestId("market-panel").waitFor();
  assert.deepEqual(pageErrors, []);
});

test("candles from history appear for the selected contract, change with the interval, and the last one moves with ticks", { skip }, async () => {
  await page.getByTestId(`tick-${symbol}`).click();
  const chart = page.getByTestId("chart");
  const candles = async () => Number((await chart.getAttribute("data-candles")) ?? "0");
  await until(async () => (await candles()) > 10, 20_000, "1m candles from history");
  await textMatching(page.getByTestId("chart-zone"), /exchange time \(UTC\+8\)/);
  const close = (await chart.getAttribute("data-last-close")) ?? "";
  await until(async () => ((await chart.getAttribute("data-last-close")) ?? "") !== close, 20_000, "a tick moves the last candle");
  assert.equal(await chart.getAttribute("data-step"), "60");
  await page.getByTestId("chart-interval-5m").click();
  await until(async () => (await candles()) > 10 && Number(await chart.getAttribute("data-step")) % 300 === 0, 20_000, "5m candles");
  await page.getByTestId("chart-interval-1m").click();
  await until(async () => (await candles()) > 10, 20_000, "1m candles again");
  assert.ok((await page.locator(".candles canvas").count()) >= 1, "lightweight-charts drew on a canvas");
  await screenshot("console-candles");
});

test("a click on a depth level puts its price into the order ticket", { skip }, async () => {
  // Ticks move the book 5 times a second: the level's price is read just before and just after the click.
  const shownPrice = async (testid: string) => Number(((await page.getByTestId(testid).getByTestId("depth-price").textContent()) ?? "").replace(/,/g, ""));
  for (const testid of ["depth-ask-3", "depth-bid-1"]) {
    await textMatching(page.getByTestId(testid).getByTestId("depth-price"), /\d/);
    const before = await shownPrice(testid);
    await page.getByTestId(testid).click();
    // The ticket takes the price on its next render; the level may have moved once since.
    const seen = new Set([before]);
    await until(async () => {
      seen.add(await shownPrice(testid));
      return seen.has(Number(await page.getByTestId("ticket-price").inputValue()));
    }, 5_000, `${testid}: the ticket takes the level's price`);
  }
});

test("the contract search finds a contract by its Chinese name and watches it", { skip }, async () => {
  const gold = fixture.mainEngine.getAllContracts().find((c) => c.name.includes("黄金"));
  assert.ok(gold, "the simulated universe lists gold (黄金)");
  await page.getByTestId("watch-input").fill("黄金");
  const result = page.getByTestId(`search-result-${gold.vt_symbol}`);
  await result.waitFor();
  await result.click();
  await textMatching(page.getByTestId(`tick-${gold.vt_symbol}`).getByTestId("last-price"), /\d/, 15_000);
  // Exchange and product words narrow the search too.
  await page.getByTestId("watch-input").fill(`${gold.exchange.toLowerCase()} 黄金`);
  await page.getByTestId(`search-result-${gold.vt_symbol}`).waitFor();
  await page.getByTestId("watch-input").fill("");
  await page.getByTestId(`tick-${symbol}`).click();
});

test("orders show the client that sent them; one client's orders are cancelled together; blocked tickets say so afresh", { skip }, async () => {
  const price = (await lastPrice()) - 60 * pricetick();
  const first = /Sent (\S+)/.exec(await placeOrder("long", price, 1))![1]!;
  const second = /Sent (\S+)/.exec(await placeOrder("long", price - pricetick(), 1))![1]!;
  const client = await textMatching(page.getByTestId(`order-${first}`).getByTestId("order-client"), /^console:\d+$/);
  await page.getByTestId("client-filter").selectOption(client);
  // Both orders are known to belong to this client before cancelling (the page learns an order's client a moment
  // after the order itself).
  await textMatching(page.getByTestId(`order-${second}`).getByTestId("order-client"), new RegExp(`^${client}$`));
  await textMatching(page.getByTestId("cancel-all"), new RegExp(`${client}.*\\(\\d+\\)`));
  await page.getByTestId("cancel-all").click();
  await textMatching(page.getByTestId(`order-${first}`).getByTestId("order-status"), /Cancelled/);
  await textMatching(page.getByTestId(`order-${second}`).getByTestId("order-status"), /Cancelled/);
  await page.getByTestId("client-filter").selectOption("");
  // A ticket the page itself refuses replaces the previous answer instead of leaving "Sent ...".
  await page.getByTestId("ticket-volume").fill("-1");
  await page.getByTestId("ticket-send").click();
  await textMatching(page.getByTestId("ticket-result"), /positive volume/);
});

test("a refused risk value shows the value in force and the reason beside the field", { skip }, async () => {
  const rule = page.getByTestId("rule-order_size");
  if (!(await rule.getByTestId("param-order_volume_limit").isVisible())) await rule.locator(".rule-name").click();
  await rule.getByTestId("param-order_volume_limit").fill("-3");
  await rule.getByTestId("rule-save").click();
  await textMatching(rule.getByTestId("rule-error"), /\S/);
  await textMatching(rule.getByTestId("live-order_volume_limit"), /in force: 2/);
});

test("risk toasts read as an order and a reason, not a Python repr", { skip }, async () => {
  const rule = page.getByTestId("rule-order_size");
  if (!(await rule.getByTestId("rule-active").isChecked())) {
    await rule.getByTestId("rule-active").locator("xpath=..").click();
    await until(async () => rule.getByTestId("rule-active").isChecked());
  }
  const price = (await lastPrice()) - 50 * pricetick();
  assert.match(await placeOrder("long", price, 3), /Blocked/);
  const toast = await textMatching(page.getByTestId("toast").last(), /exceeds the limit 2/);
  assert.match(toast, new RegExp(`Buy 3 ${symbol.replace(".", "\\.")} @ \\d+(\\.\\d+)?: order volume 3 exceeds the limit 2`));
  assert.doesNotMatch(toast, /OrderRequest\(|<Exchange/);
  await rule.getByTestId("rule-active").locator("xpath=..").click();
  await until(async () => !(await rule.getByTestId("rule-active").isChecked()));
});

test("positions show unrealised P&L and an unrounded average price; flatten closes through the risk manager", { skip }, async () => {
  const row = page.getByTestId(`position-${symbol}-多`);
  await textMatching(row.getByTestId("position-volume"), /^[1-9]\d*$/);
  const position = fixture.mainEngine.getAllPositions().find((p) => p.vt_symbol === symbol && p.direction === "多")!;
  const shown = Number(((await row.getByTestId("position-price").textContent()) ?? "").replace(/,/g, ""));
  assert.ok(Math.abs(shown - position.price) < 1e-4, `average ${position.price} shown as ${shown}`);
  await textMatching(row.getByTestId("position-pnl"), /\d/);
  await textMatching(page.getByTestId("accounts-panel").getByTestId("account-unrealised"), /\d/);
  const before = fixture.mainEngine.getAllOrders().length;
  const logs: string[] = [];
  const onLog = (event: { data: unknown }): void => void logs.push(String((event.data as { msg?: unknown }).msg));
  fixture.mainEngine.eventEngine.register("eLog", onLog);
  await row.getByTestId("position-flatten").click();
  await until(async () => (fixture.mainEngine.getPosition(position.vt_positionid)?.volume ?? 0) === 0, 20_000).catch((error: Error) => {
    const orders = fixture.mainEngine.getAllOrders().slice(before).map((o) => `${o.vt_orderid} ${o.direction} ${o.offset} ${o.volume}@${o.price} ${o.status} ${JSON.stringify(o.extra ?? {})}`);
    const toasts = page.getByTestId("toast").allTextContents();
    return toasts.then((t) => Promise.reject(new Error(`${error.message}: position not flat; orders sent ${JSON.stringify(orders)}; toasts ${JSON.stringify(t)}; log ${JSON.stringify(logs.slice(-8))}`)));
  });
  // The closing orders went through the engine's pipeline like any order (the risk manager saw them).
  assert.ok(fixture.mainEngine.getAllOrders().length > before);
  assert.deepEqual(pageErrors, []);
});

/** True when nothing on the page scrolls sideways and no visible header cell is cut off by its panel. */
/** What breaks the layout: sideways page scroll, header cells cut off by their panel, overflowing title bars. */
const LAYOUT_PROBLEMS = `(() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) problems.push("page scrolls sideways: " + doc.scrollWidth + " > " + doc.clientWidth);
  for (const panel of document.querySelectorAll(".panel")) {
    const body = panel.querySelector(".panel-body");
    if (!body || body.offsetParent === null) continue;
    const box = body.getBoundingClientRect();
    for (const th of panel.querySelectorAll("th")) {
      if (th.offsetParent === null) continue;
      const r = th.getBoundingClientRect();
      if (r.width > 0 && r.right > box.right + 1) problems.push(panel.dataset.testid + ": header '" + th.textContent + "' cut off");
    }
    for (const input of panel.querySelectorAll("input, select")) {
      if (input.offsetParent === null || input.closest(".panel-head")) continue;
      const r = input.getBoundingClientRect();
      if (r.width > 0 && r.right > box.right + 1) problems.push(panel.dataset.testid + ": an input spills out (" + (input.dataset.testid || input.name || input.type) + ")");
    }
    const head = panel.querySelector(".panel-head");
    if (head && head.scrollWidth > head.clientWidth + 1) problems.push(panel.dataset.testid + ": title bar overflows");
  }
  return problems;
})()`;

test("the account summary shows today's realised P&L and fees, as the server counts them from the day's trades", { skip }, async () => {
  // Earlier tests bought and flattened: the SIM's trades carry their fees, the flatten realised something.
  const money = (value: number) => value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const account = page.locator('[data-testid^="account-SIM."]').first();
  const dayOf = async () => ((await fixture.consoleEngine.dispatch("account_day_pnl", [], {}, { clientId: "test", endpoint: "test" })) as { gateway: string; realised: number; fees: number | null; trades: number }[]).find((d) => d.gateway === "SIM");
  const day = await dayOf();
  assert.ok(day && day.trades > 0 && day.fees !== null && day.fees > 0, JSON.stringify(day));
  await until(async () => {
    const now = (await dayOf())!;
    return (await account.getByTestId("account-fees").textContent()) === money(now.fees!) && (await account.getByTestId("account-realised").textContent()) === money(now.realised);
  }, 15_000, "the page's realised P&L and fees equal the server's");
  // The fees are what the SIM charged: the sum of the day's trades' commissions.
  const charged = fixture.mainEngine.getAllTrades().filter((t) => t.gateway_name === "SIM").reduce((sum, t) => sum + Number((t.extra as { commission?: number } | undefined)?.commission ?? 0), 0);
  assert.ok(Math.abs(charged - (await dayOf())!.fees!) < 1e-6);
});

async function layoutHolds(): Promise<string[]> {
  return page.evaluate(LAYOUT_PROBLEMS) as Promise<string[]>;
}

test("the layout holds at 1440 and 1024 px with five watched symbols: no sideways page scroll, no cut-off headers or inputs", { skip }, async () => {
  // The risk rule's inputs open, as a user who edits them sees them.
  const rule = page.getByTestId("rule-order_size");
  if (!(await rule.getByTestId("param-order_volume_limit").isVisible())) await rule.locator(".rule-name").click();
  for (const contract of fixture.mainEngine.getAllContracts().slice(0, 6)) {
    await page.getByTestId("watch-input").fill(contract.vt_symbol);
    await page.getByTestId("watch-input").press("Enter");
  }
  for (const [width, height] of [
    [1440, 900],
    [1024, 768],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(300);
    assert.deepEqual(await layoutHolds(), [], `at ${width} px`);
    await screenshot(`console-${width}`);
  }
  await page.setViewportSize({ width: 1600, height: 1000 });
});

/** The page's English labels: none may show on the Chinese page (names, symbols and units are not labels). */
const ENGLISH_LABELS = [
  "Trading desk", "Metrics", "Market", "Chart", "Depth", "Order ticket", "Orders", "Trades", "Positions", "Account", "Risk", "Log",
  "Connected clients", "RPC service", "Request / reply", "Event broadcast", "Start", "Stop", "Running", "Stopped", "Gateways",
  "Gateway", "State", "Since", "Connect", "Disconnect", "Client", "Endpoint", "Calls", "Behind", "Dropped", "Conflated", "Refused",
  "Price", "Volume", "Cancel", "Cancel all", "Flatten", "Bid", "Ask", "Bid vol", "Ask vol", "High", "Low", "Chg %", "Last",
  "Open", "Close", "Close today", "Close yesterday", "Limit", "Balance", "Available", "Margin", "Unrealised P&L",
  "Realised P&L today", "Fees today", "All levels", "All sources", "Audit trail", "Time", "Save", "Revert", "Online", "Server",
  "Memory (RSS)", "Event-loop lag p99", "Order → ack", "Order → first fill", "Risk blocks", "Function", "Calls/s", "Total",
  "Errors", "Latency", "Events published", "Stream", "Type", "Per second", "Slowest subscribers", "Lag ms", "Queued",
  "No call yet", "No event yet", "No subscriber", "No orders", "No trades", "No log lines yet", "No account data", "Filter…",
];

async function untranslated(target: Page): Promise<string[]> {
  const shown = (await target.evaluate(`[...document.querySelectorAll("h2, th, dt, button, option, label span, figcaption, .placeholder, td, .badge, [data-testid=link-state]")]
    .filter((e) => e.offsetParent !== null || e.tagName === "OPTION")
    .map((e) => (e.childElementCount === 0 ? e.textContent : [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("")).trim())
    .concat([...document.querySelectorAll("input[placeholder]")].map((e) => e.placeholder))`)) as string[];
  const english = new Set(ENGLISH_LABELS);
  return [...new Set(shown.filter((text) => english.has(text)))];
}

test("the page follows the server's language, and ?lang=zh shows it in Chinese", { skip }, async () => {
  const zh = await context.newPage();
  try {
    zh.on("pageerror", (error) => pageErrors.push(error.message));
    await zh.goto(`${fixture.started.url}?lang=zh`);
    await zh.getByTestId("view-metrics").filter({ hasText: "监控指标" }).waitFor();
    await zh.getByTestId("orders-panel").locator("h2", { hasText: "委托" }).waitFor();
    await zh.getByTestId("positions-panel").locator("h2", { hasText: "持仓" }).waitFor();
    await zh.getByTestId("accounts-panel").locator("h2", { hasText: "资金" }).waitFor();
    assert.equal(await zh.evaluate("document.documentElement.lang"), "zh-CN");
    // The whole snapshot, before the picture: rules, the selected contract's candles, the order clients.
    await zh.getByTestId("rule-order_size").waitFor();
    const deadline = Date.now() + 20_000;
    while (Number((await zh.getByTestId("chart").getAttribute("data-candles")) ?? "0") <= 10) {
      if (Date.now() > deadline) throw new Error("no candles on the Chinese page");
      await zh.waitForTimeout(100);
    }
    await zh.getByTestId("order-client").first().filter({ hasText: /console:/ }).waitFor();
    await zh.getByTestId("accounts-panel").locator("dt", { hasText: "今日平仓盈亏" }).waitFor();
    if (SCREENSHOTS) await zh.screenshot({ path: join(SCREENSHOTS, "console-zh.png") });
    assert.deepEqual(await untranslated(zh), [], "English labels on the Chinese desk");
    await zh.getByTestId("view-metrics").click();
    await zh.getByTestId("metrics-calls").waitFor();
    assert.deepEqual(await untranslated(zh), [], "English labels in the Chinese metrics view");
    if (SCREENSHOTS) await zh.screenshot({ path: join(SCREENSHOTS, "console-zh-metrics.png") });
  } finally {
    await zh.close();
  }
  assert.deepEqual(pageErrors, []);
});

test("orders and trades export as CSV with their client; the log filters by level, source and text and opens a full message", { skip }, async () => {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("orders-csv").click()]);
  assert.equal(download.suggestedFilename(), "orders.csv");
  const csv = readFileSync((await download.path())!, "utf8").replace(/^\ufeff/, "");
  const [header, ...lines] = csv.trim().split("\r\n");
  assert.equal(header, "vt_orderid,client,vt_symbol,direction,offset,type,price,volume,traded,status,datetime,reference");
  const sent = fixture.mainEngine.getAllOrders().filter((o) => o.reference === "console");
  assert.ok(sent.length > 0);
  for (const order of sent) assert.ok(lines.some((l) => l.startsWith(`${order.vt_orderid},console:`)), `${order.vt_orderid} in the CSV`);
  const [trades] = await Promise.all([page.waitForEvent("download"), page.getByTestId("trades-csv").click()]);
  assert.match(readFileSync((await trades.path())!, "utf8"), /vt_tradeid,vt_orderid,client,/);

  const log = page.getByTestId("log-panel");
  await log.getByTestId("log-level").selectOption("40");
  await until(async () => (await log.getByTestId("log-row").count()) > 0);
  for (const cls of await log.getByTestId("log-row").evaluateAll((rows) => rows.map((r) => r.className))) assert.equal(cls, "error");
  await log.getByTestId("log-source").selectOption("RiskManager");
  await log.getByTestId("log-text").fill("exceeds the limit");
  await until(async () => (await log.getByTestId("log-row").count()) > 0);
  const shown = (await log.getByTestId("log-row").first().locator(".msg").textContent()) ?? "";
  assert.doesNotMatch(shown, /OrderRequest\(/, "the row reads as a summary");
  await log.getByTestId("log-row").first().click();
  // The full VeighNa-format text, as the server logged it, on click.
  await textMatching(log.getByTestId("log-full"), /OrderRequest\(symbol=/);
  await log.getByTestId("log-full").click();
  await log.getByTestId("log-level").selectOption("0");
  await log.getByTestId("log-source").selectOption("");
  await log.getByTestId("log-text").fill("");
});

// After the trading tests: the fixture's venue is in memory, so connecting SIM again starts an empty one.
test("the gateways panel shows SIM connected; an admin disconnects it (orders refused) and connects it again", { skip }, async () => {
  const row = page.getByTestId("gateway-SIM");
  await textMatching(row.getByTestId("gateway-state"), /^connected$/);
  await row.getByRole("button", { name: "Disconnect" }).click();
  await textMatching(row.getByTestId("gateway-state"), /^disconnected$/);
  const contract = fixture.mainEngine.getContract(symbol)!;
  const req = new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: contract.pricetick, offset: Offset.OPEN });
  assert.equal(await fixture.mainEngine.sendOrder(req, "SIM"), "");
  await row.getByRole("button", { name: "Connect" }).click();
  await textMatching(row.getByTestId("gateway-state"), /^connected$/);
  // Connected again, it serves the market data subscribed before (the manager subscribes it once more).
  const before = fixture.mainEngine.getTick(symbol);
  await until(async () => fixture.mainEngine.getTick(symbol) !== before, 20_000, "a tick after the reconnect");
});

test("a viewer signed in with its own token sees who it is and no order ticket, cancel, service or risk controls", { skip }, async () => {
  // Last: once a user exists, the loopback console asks everyone for a token.
  const { token } = addConsoleUser(fixture.home, "vera", "viewer");
  const viewer = await context.newPage();
  try {
    viewer.on("pageerror", (error) => pageErrors.push(error.message));
    await viewer.goto(`${fixture.started.url}?token=${encodeURIComponent(token)}`);
    await viewer.getByTestId("link-state").filter({ hasText: "Online" }).waitFor();
    await viewer.getByTestId("signed-in").filter({ hasText: "vera · viewer" }).waitFor();
    assert.equal(await viewer.getByTestId("ticket-send").count(), 0, "no order ticket");
    assert.equal(await viewer.getByTestId("rpc-start").isVisible(), false, "no service controls");
    assert.equal(await viewer.getByTestId("audit-panel").count(), 0, "no audit view");
    assert.equal(await viewer.getByTestId("rule-active").first().isDisabled(), true, "risk switches read-only");
    // The server refuses it anyway: the page only hides what would be refused.
    const anonymous = await page.goto(fixture.started.url);
    assert.equal(anonymous?.status(), 401, "without a token the page is refused now that users exist");
    assert.deepEqual(pageErrors, []);
  } finally {
    await viewer.close();
  }
});

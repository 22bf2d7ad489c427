/**
 * The console page in a real browser (Debian's Chromium, driven by playwright-core) against a real server:
 * ticks move, an order fills into the order, trade and position monitors, a resting order is cancelled, the
 * RPC service stops and starts with its log lines, and a risk rule blocks an order once changed.
 *
 * Set RPCSERVICE_SCREENSHOTS=1 to (re)write docs/screenshots/*.png.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { WsRpcClient } from "../../src/rpc/index.js";
import { startConsoleFixture, tradedSymbol, type ConsoleFixture } from "./fixture.js";

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

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await page.waitForTimeout(50);
  }
}

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

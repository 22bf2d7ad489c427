/**
 * The language belongs to each MainEngine: two engines in one process (a relay and its upstream, tests running
 * side by side) log, block and reject in their own language, whatever the other one speaks. Under the old process
 * global the second engine made switched the first one's language too.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import {
  CancelRequest,
  Direction,
  EVENT_LOG,
  EVENT_ORDER,
  EVENT_ORDER_BLOCKED,
  Exchange,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Status,
  type Language,
  type LogData,
  type OrderBlock,
  type OrderData,
} from "../../src/kernel/index.js";
import { EVENT_RISK_NOTIFY, riskManagerApp, type RiskEngine } from "../../src/risk/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { tempHome } from "./helpers.js";

interface Desk {
  readonly mainEngine: MainEngine;
  readonly risk: RiskEngine;
  readonly logs: LogData[];
  readonly notices: string[];
  readonly blocks: OrderBlock[];
  readonly orders: OrderData[];
  close(): Promise<void>;
}

async function desk(language: Language): Promise<Desk> {
  const home = tempHome();
  const mainEngine = new MainEngine({ home, language });
  const logs: LogData[] = [];
  const notices: string[] = [];
  const blocks: OrderBlock[] = [];
  const orders: OrderData[] = [];
  mainEngine.eventEngine.register(EVENT_LOG, (e) => logs.push(e.data));
  mainEngine.eventEngine.register(EVENT_RISK_NOTIFY, (e) => notices.push(e.data));
  mainEngine.eventEngine.register(EVENT_ORDER_BLOCKED, (e) => blocks.push(e.data));
  mainEngine.eventEngine.register(EVENT_ORDER, (e) => orders.push(e.data));
  mainEngine.addGateway(SimGateway);
  await mainEngine.connect({ data_dir: ":memory:", ticks_per_second: 1 }, "SIM");
  const risk = mainEngine.addApp(riskManagerApp({ rulesFolder: null }));
  await risk.ready;
  mainEngine.eventEngine.flush();
  return {
    mainEngine,
    risk,
    logs,
    notices,
    blocks,
    orders,
    close: async () => {
      await mainEngine.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const MOUTAI = { symbol: "600519", exchange: Exchange.SSE };
/** More than order_size's default limit of 500 lots: the risk manager blocks it. */
const tooLarge = () => new OrderRequest({ ...MOUTAI, direction: Direction.LONG, offset: Offset.OPEN, type: OrderType.MARKET, volume: 600, price: 0 });
/** Passes the risk rules; the venue rejects it (no short selling of shares). */
const shortSale = () => new OrderRequest({ ...MOUTAI, direction: Direction.SHORT, offset: Offset.OPEN, type: OrderType.MARKET, volume: 100, price: 0 });

const linesFrom = (d: Desk, source: string) => d.logs.filter((log) => log.gateway_name === source).map((log) => log.msg);
const CHINESE = /[\u4e00-\u9fff]/;

test("two engines in one process, one English and one Chinese, each log, block and reject in their own language", async () => {
  const en = await desk("en");
  const zh = await desk("zh");
  try {
    assert.equal(en.mainEngine.language, "en");
    assert.equal(zh.mainEngine.language, "zh");
    for (const d of [en, zh]) d.logs.length = 0;

    // Interleaved, so that whichever engine acted last cannot decide the other's language.
    for (const d of [en, zh, en]) {
      const placed = await d.mainEngine.placeOrder(tooLarge(), "SIM");
      assert.equal(placed.vt_orderid, "");
      assert.equal(placed.block?.code, "VOLUME_LIMIT");
    }
    await zh.mainEngine.sendOrder(shortSale(), "SIM");
    await en.mainEngine.sendOrder(shortSale(), "SIM");
    await en.mainEngine.cancelOrder(new CancelRequest({ ...MOUTAI, orderid: "nope" }), "SIM");
    await zh.mainEngine.cancelOrder(new CancelRequest({ ...MOUTAI, orderid: "nope" }), "SIM");
    en.mainEngine.eventEngine.flush();
    zh.mainEngine.eventEngine.flush();

    // The risk engine's block: OrderBlock.msg, eRiskNotify and the log line, in the rule's catalogue.
    const enBlock = `order volume 600 exceeds the limit 500: ${String(tooLarge())}`;
    const zhBlock = `委托数量600超过上限500：${String(tooLarge())}`;
    assert.deepEqual(en.blocks.map((b) => b.msg), [enBlock, enBlock]);
    assert.deepEqual(zh.blocks.map((b) => b.msg), [zhBlock]);
    assert.deepEqual(en.notices, [enBlock, enBlock]);
    assert.deepEqual(zh.notices, [zhBlock]);
    assert.deepEqual(linesFrom(en, "RiskManager"), [`Order blocked: ${enBlock}`, `Order blocked: ${enBlock}`]);
    assert.deepEqual(linesFrom(zh, "RiskManager"), [`委托被拦截，${zhBlock}`]);

    // MainEngine's own lines.
    assert.ok(linesFrom(en, "MainEngine").includes(`Send order -> SIM: ${String(shortSale())}`));
    assert.ok(linesFrom(zh, "MainEngine").includes(`委托下单 -> SIM：${String(shortSale())}`));

    // The gateway's: the venue's rejection reason (on the order too) and its warnings.
    const enRejected = en.orders.find((o) => o.status === Status.REJECTED)!;
    const zhRejected = zh.orders.find((o) => o.status === Status.REJECTED)!;
    assert.equal(enRejected.extra?.["code"], "SHORT_SELLING");
    assert.equal(zhRejected.extra?.["code"], "SHORT_SELLING");
    assert.equal(enRejected.extra?.["reason"], "short selling 600519.SSE is not supported; sell what you hold");
    assert.equal(zhRejected.extra?.["reason"], "不支持融券卖出 600519.SSE");
    assert.ok(linesFrom(en, "SIM").includes(`order ${enRejected.vt_orderid} rejected: short selling 600519.SSE is not supported; sell what you hold`));
    assert.ok(linesFrom(zh, "SIM").includes(`委托 ${zhRejected.vt_orderid} 被拒绝：不支持融券卖出 600519.SSE`));
    assert.ok(linesFrom(en, "SIM").includes("cancel ignored: no order SIM.nope"));
    assert.ok(linesFrom(zh, "SIM").includes("撤单忽略：找不到委托 SIM.nope"));

    // Rule labels for the console and the command line.
    const dailyOf = (d: Desk) => d.risk.describeRules().find((rule) => rule.name === "daily_limit")!.display_name;
    assert.equal(dailyOf(en), "Daily limits");
    assert.equal(dailyOf(zh), "每日上限检查");

    // Nothing Chinese leaked into the English engine's log (requests print as VeighNa's repr, with its Chinese
    // enum values, in both), and every line of the Chinese one is Chinese.
    const withoutRequests = (msg: string) => msg.replace(/\w+Request\([^)]*\)/g, "");
    assert.deepEqual(en.logs.filter((log) => CHINESE.test(withoutRequests(log.msg))).map((log) => log.msg), []);
    assert.ok(zh.logs.length > 0 && zh.logs.every((log) => CHINESE.test(log.msg)), zh.logs.map((log) => log.msg).join("\n"));
  } finally {
    await en.close();
    await zh.close();
  }
});

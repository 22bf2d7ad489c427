/**
 * Daily limits on orders, cancels and trades, per contract and in total (VeighNa 2.0's DailyLimitRule), reset when
 * the trading day rolls (`trading_day_start` in `trading_day_timezone`), while the process runs.
 *
 * Counting as VeighNa: an order at the first event of its vt_orderid (whoever sent it, rejected ones included), a
 * cancel at its first CANCELLED status, a trade per vt_tradeid (fills, not volume). Orders the engine accepted
 * that no event has reported yet count too, so a burst cannot overshoot the limit.
 */
import { Status, defineMessages, type OrderData, type Language, type OrderRequest, type TradeData } from "../../kernel/index.js";
import { RiskRule, blockMessages, type RuleBlock, type RuleVerdict } from "../rule.js";
import { TradingDayBoundary, timeOfDayProblem, timeZoneProblem } from "../trading-day.js";

const text = blockMessages({
  en: {
    CONTRACT_ORDER_LIMIT: "contract order count {count} reached the limit {limit}: {req}",
    CONTRACT_CANCEL_LIMIT: "contract cancel count {count} reached the limit {limit}: {req}",
    CONTRACT_TRADE_LIMIT: "contract trade count {count} reached the limit {limit}: {req}",
    TOTAL_ORDER_LIMIT: "total order count {count} reached the limit {limit}: {req}",
    TOTAL_CANCEL_LIMIT: "total cancel count {count} reached the limit {limit}: {req}",
    TOTAL_TRADE_LIMIT: "total trade count {count} reached the limit {limit}: {req}",
  },
  zh: {
    CONTRACT_ORDER_LIMIT: "合约委托笔数{count}达到上限{limit}：{req}",
    CONTRACT_CANCEL_LIMIT: "合约撤单笔数{count}达到上限{limit}：{req}",
    CONTRACT_TRADE_LIMIT: "合约成交笔数{count}达到上限{limit}：{req}",
    TOTAL_ORDER_LIMIT: "汇总委托笔数{count}达到上限{limit}：{req}",
    TOTAL_CANCEL_LIMIT: "汇总撤单笔数{count}达到上限{limit}：{req}",
    TOTAL_TRADE_LIMIT: "汇总成交笔数{count}达到上限{limit}：{req}",
  },
});

const messages = defineMessages({
  en: { reset: "Daily risk counters reset for trading day {day}" },
  zh: { reset: "每日风控计数已重置，交易日{day}" },
});

const limit = (en: string, zh: string) => ({ kind: "integer", label: { en, zh }, min: 0 }) as const;

export class DailyLimitRule extends RiskRule {
  readonly name = "daily_limit";
  override readonly displayName = { en: "Daily limits", zh: "每日上限检查" };
  override readonly priority = 70;
  override readonly parameters = {
    total_order_limit: limit("Total order limit", "汇总委托上限"),
    total_cancel_limit: limit("Total cancel limit", "汇总撤单上限"),
    total_trade_limit: limit("Total trade limit", "汇总成交上限"),
    contract_order_limit: limit("Contract order limit", "合约委托上限"),
    contract_cancel_limit: limit("Contract cancel limit", "合约撤单上限"),
    contract_trade_limit: limit("Contract trade limit", "合约成交上限"),
    trading_day_start: {
      kind: "string",
      label: { en: "Trading day starts at (HH:MM)", zh: "交易日切换时间（HH:MM）" },
      validate: timeOfDayProblem,
    },
    trading_day_timezone: { kind: "string", label: { en: "Time zone", zh: "时区" }, validate: timeZoneProblem },
  } as const;
  override readonly variables = {
    trading_day: { en: "Trading day", zh: "交易日" },
    total_order_count: { en: "Total orders", zh: "汇总委托笔数" },
    total_cancel_count: { en: "Total cancels", zh: "汇总撤单笔数" },
    total_trade_count: { en: "Total trades", zh: "汇总成交笔数" },
    contract_order_count: { en: "Orders by contract", zh: "合约委托笔数" },
    contract_cancel_count: { en: "Cancels by contract", zh: "合约撤单笔数" },
    contract_trade_count: { en: "Trades by contract", zh: "合约成交笔数" },
  };

  total_order_limit = 20_000;
  total_cancel_limit = 10_000;
  total_trade_limit = 10_000;
  contract_order_limit = 2_000;
  contract_cancel_limit = 1_000;
  contract_trade_limit = 1_000;
  trading_day_start = "20:00";
  trading_day_timezone = "Asia/Shanghai";

  trading_day = "";
  total_order_count = 0;
  total_cancel_count = 0;
  total_trade_count = 0;
  readonly contract_order_count = new Map<string, number>();
  readonly contract_cancel_count = new Map<string, number>();
  readonly contract_trade_count = new Map<string, number>();

  private boundary = new TradingDayBoundary(this.trading_day_start, this.trading_day_timezone);
  private nextReset = Number.POSITIVE_INFINITY;
  private seenOrders = new Set<string>();
  private cancelledOrders = new Set<string>();
  private seenTrades = new Set<string>();

  override onInit(): void {
    this.startDay(false);
  }

  override onParametersChanged(names: readonly string[]): void {
    if (names.includes("trading_day_start") || names.includes("trading_day_timezone")) {
      // A new boundary only moves the next reset; today's counts stay.
      this.boundary = new TradingDayBoundary(this.trading_day_start, this.trading_day_timezone);
      const now = this.now();
      this.nextReset = this.boundary.nextStart(now);
      this.trading_day = this.boundary.tradingDay(now);
    }
  }

  override blockText(block: RuleBlock, req: OrderRequest, language: Language): string {
    return text(block, req, language);
  }

  checkAllowed(req: OrderRequest): RuleVerdict {
    if (this.now() >= this.nextReset) this.startDay(true); // exact at the boundary, not a timer second late
    const vt_symbol = req.vt_symbol;
    const own = this.host.ownOrders;
    const contractOrders = (this.contract_order_count.get(vt_symbol) ?? 0) + own.inFlightFor(vt_symbol);
    if (contractOrders >= this.contract_order_limit) return this.block("CONTRACT_ORDER_LIMIT", { count: contractOrders, limit: this.contract_order_limit });
    const contractCancels = this.contract_cancel_count.get(vt_symbol) ?? 0;
    if (contractCancels >= this.contract_cancel_limit) return this.block("CONTRACT_CANCEL_LIMIT", { count: contractCancels, limit: this.contract_cancel_limit });
    const contractTrades = this.contract_trade_count.get(vt_symbol) ?? 0;
    if (contractTrades >= this.contract_trade_limit) return this.block("CONTRACT_TRADE_LIMIT", { count: contractTrades, limit: this.contract_trade_limit });
    const totalOrders = this.total_order_count + own.inFlightCount;
    if (totalOrders >= this.total_order_limit) return this.block("TOTAL_ORDER_LIMIT", { count: totalOrders, limit: this.total_order_limit });
    if (this.total_cancel_count >= this.total_cancel_limit) return this.block("TOTAL_CANCEL_LIMIT", { count: this.total_cancel_count, limit: this.total_cancel_limit });
    if (this.total_trade_count >= this.total_trade_limit) return this.block("TOTAL_TRADE_LIMIT", { count: this.total_trade_count, limit: this.total_trade_limit });
    return true;
  }

  override onOrder(order: OrderData): void {
    if (!this.seenOrders.has(order.vt_orderid)) {
      this.seenOrders.add(order.vt_orderid);
      this.total_order_count++;
      increment(this.contract_order_count, order.vt_symbol);
      this.changed();
    }
    if (order.status === Status.CANCELLED && !this.cancelledOrders.has(order.vt_orderid)) {
      this.cancelledOrders.add(order.vt_orderid);
      this.total_cancel_count++;
      increment(this.contract_cancel_count, order.vt_symbol);
      this.changed();
    }
  }

  override onTrade(trade: TradeData): void {
    if (this.seenTrades.has(trade.vt_tradeid)) return;
    this.seenTrades.add(trade.vt_tradeid);
    this.total_trade_count++;
    increment(this.contract_trade_count, trade.vt_symbol);
    this.changed();
  }

  override onTimer(): void {
    if (this.now() >= this.nextReset) this.startDay(true);
  }

  private startDay(reset: boolean): void {
    const now = this.now();
    this.nextReset = this.boundary.nextStart(now);
    this.trading_day = this.boundary.tradingDay(now);
    if (!reset) return;
    this.total_order_count = 0;
    this.total_cancel_count = 0;
    this.total_trade_count = 0;
    this.contract_order_count.clear();
    this.contract_cancel_count.clear();
    this.contract_trade_count.clear();
    // Orders still working from yesterday are not today's orders: their next event must not count them again.
    this.seenOrders = new Set(this.host.ownOrders.ids());
    this.cancelledOrders = new Set();
    this.seenTrades = new Set();
    this.host.writeLog(messages.in(this.host.language)("reset", { day: this.trading_day }));
    this.changed();
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

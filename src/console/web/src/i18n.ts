/**
 * The page's words in English and Chinese. The page follows the server's `--language` (console_info), or
 * `?lang=zh|en` in its address. Enum values (多, 未成交...) are VeighNa's Chinese already: English labels them.
 */
export type Language = "en" | "zh";

const EN = {
  desk: "Trading desk",
  metrics: "Metrics",
  market: "Market",
  chart: "Chart",
  depth: "Depth",
  ticket: "Order ticket",
  orders: "Orders",
  trades: "Trades",
  positions: "Positions",
  accounts: "Account",
  risk: "Risk",
  log: "Log",
  clients: "Connected clients",
  rpc: "RPC service",
  search: "Search symbol, name, exchange…",
  watch: "Watch",
  loading: "Loading history…",
  selectSymbol: "Select a symbol in the market table",
  noHistory: "No history for this contract",
  exchangeTime: "exchange time",
  localTime: "local time",
  bid: "Bid",
  ask: "Ask",
  price: "Price",
  volume: "Volume",
  flatten: "Flatten",
  cancelAll: "Cancel all",
  balance: "Balance",
  available: "Available",
  margin: "Margin",
  unrealised: "Unrealised P&L",
  pnl: "P&L",
  client: "Client",
  allClients: "All clients",
  exportCsv: "CSV",
  symbol: "Symbol",
  side: "Side",
  offset: "Offset",
  type: "Type",
  status: "Status",
  timeExch: "Time (exch.)",
  timeServer: "Time (server)",
  order: "Order",
  trade: "Trade",
  last: "Last",
  traded: "Traded",
  activeOnly: "Active only",
  buyLong: "Buy / Long",
  sellShort: "Sell / Short",
  buy: "Buy",
  sell: "Sell",
  source: "Source",
  message: "Message",
  yd: "Yd",
  frozen: "Frozen",
  avg: "Avg",
  account: "Account",
  endpoint: "Endpoint",
  calls: "Calls",
  behind: "Behind",
  remote: "Remote",
  since: "Since",
  noOrders: "No orders",
  noTrades: "No trades",
  flat: "Flat",
  natsDisconnected: "not connected",
  natsStream: "Stream",
  natsMessages: "Messages",
  natsBytes: "Size",
  natsSeq: "Sequence",
  natsLimits: "Limits (age · size)",
  natsReplicas: "Replicas",
  natsLeader: "leader",
  natsConsumers: "Consumers",
  natsBacklog: "Unconfirmed",
  natsBacklogHint: "events published but not yet confirmed by the stream",
  natsNoStream: "stream state unavailable",
} as const;

export type MessageKey = keyof typeof EN;

const ZH: Record<MessageKey, string> = {
  desk: "交易",
  metrics: "监控指标",
  market: "行情",
  chart: "K线",
  depth: "盘口",
  ticket: "交易下单",
  orders: "委托",
  trades: "成交",
  positions: "持仓",
  accounts: "资金",
  risk: "风控",
  log: "日志",
  clients: "已连接客户端",
  rpc: "RPC服务",
  search: "搜索代码、名称、交易所…",
  watch: "订阅",
  loading: "加载历史数据…",
  selectSymbol: "请在行情表中选择合约",
  noHistory: "该合约没有历史数据",
  exchangeTime: "交易所时间",
  localTime: "本地时间",
  bid: "买",
  ask: "卖",
  price: "价格",
  volume: "数量",
  flatten: "平仓",
  cancelAll: "全部撤单",
  balance: "余额",
  available: "可用",
  margin: "保证金",
  unrealised: "浮动盈亏",
  pnl: "盈亏",
  client: "客户端",
  allClients: "全部客户端",
  exportCsv: "导出CSV",
  symbol: "合约",
  side: "方向",
  offset: "开平",
  type: "类型",
  status: "状态",
  timeExch: "时间（交易所）",
  timeServer: "时间（服务器）",
  order: "委托号",
  trade: "成交号",
  last: "最新价",
  traded: "已成交",
  activeOnly: "仅活动",
  buyLong: "买入 / 多",
  sellShort: "卖出 / 空",
  buy: "买入",
  sell: "卖出",
  source: "来源",
  message: "信息",
  yd: "昨仓",
  frozen: "冻结",
  avg: "均价",
  account: "账户",
  endpoint: "接口",
  calls: "调用",
  behind: "积压",
  remote: "地址",
  since: "连接时长",
  noOrders: "没有委托",
  noTrades: "没有成交",
  flat: "无持仓",
  natsDisconnected: "未连接",
  natsStream: "消息流",
  natsMessages: "消息数",
  natsBytes: "大小",
  natsSeq: "序号",
  natsLimits: "保留（时长 · 大小）",
  natsReplicas: "副本",
  natsLeader: "主节点",
  natsConsumers: "消费者",
  natsBacklog: "未确认",
  natsBacklogHint: "已发布但消息流尚未确认的事件",
  natsNoStream: "无法读取消息流状态",
};

let language: Language = pick(new URLSearchParams(location.search).get("lang")) ?? "en";
let fixedByAddress = pick(new URLSearchParams(location.search).get("lang")) !== undefined;
document.documentElement.lang = language === "zh" ? "zh-CN" : "en";

function pick(value: string | null | undefined): Language | undefined {
  return value === "zh" || value === "en" ? value : undefined;
}

export function t(key: MessageKey): string {
  return language === "zh" ? ZH[key] : EN[key];
}

export function currentLanguage(): Language {
  return language;
}

/** The server's language, unless the address chose one. */
export function useServerLanguage(value: string | undefined): void {
  if (fixedByAddress) return;
  const chosen = pick(value);
  if (chosen) language = chosen;
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
}

/** For tests of both languages in one page. */
export function setLanguageForPage(value: Language): void {
  language = value;
  fixedByAddress = true;
  document.documentElement.lang = value === "zh" ? "zh-CN" : "en";
}

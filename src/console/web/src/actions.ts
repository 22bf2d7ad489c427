/** What the page does: load the snapshot, keep the subscription, and the user's commands. */
import { useServerLanguage } from "./i18n";
import { ACTIVE_STATUSES, Direction, Offset, OrderType, toRule, type Bar, type MetricsSample, type Account, type ConnectedClient, type ConsoleInfo, type Contract, type Log, type Order, type Position, type RiskRule, type RiskRuleData, type RpcStatus, type Tick, type Trade, type AuditRow, type WhoAmI, type GatewayStatus, type DayPnl } from "./protocol";
import { ConsoleSocket, type LinkState } from "./socket";
import { byKey, store } from "./store";

/** Generic types the page always follows; ticks come per watched symbol ("eTick.<vt_symbol>"). */
const BASE_TYPES = ["eOrder.", "eTrade.", "ePosition.", "eAccount.", "eContract.", "eLog", "eRpcLog", "eRiskRule", "eOrderBlocked", "eGatewayState", "eConsoleMetrics"];

let socket: ConsoleSocket;

export function connect(): void {
  const params = new URLSearchParams(location.search);
  const token = params.get("token") ?? sessionStorage.getItem("rpcservice.token");
  if (token) sessionStorage.setItem("rpcservice.token", token);
  // Keep the token out of the address bar (and of screenshots); the session keeps it for reloads.
  if (params.has("token")) history.replaceState(null, "", location.pathname);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/console${token ? `?token=${encodeURIComponent(token)}` : ""}`;
  socket = new ConsoleSocket(url, {
    ready: (hello, snapshotNeeded) => {
      store.epoch = hello.epoch;
      store.seq = hello.seq;
      if (snapshotNeeded) void loadSnapshot();
      store.changed();
    },
    event: (event) => {
      store.seq = event.seq;
      store.epoch = event.epoch;
      store.apply(event.type, event.data);
    },
    state: (state: LinkState, detail: string) => {
      store.link = state;
      store.linkDetail = detail;
      store.changed();
    },
  });
  socket.open();
  window.setInterval(() => {
    void refreshClients();
    // The NATS stream's state moves with every order and trade: follow it while the service is on a bus.
    if (store.link === "online" && store.rpc?.nats) void refreshRpc().catch(() => undefined);
  }, 2_000);
  window.setInterval(() => {
    if (store.whoami && store.can("audit")) void refreshAudit();
    // A new trading day zeroes today's figures without a trade: ask now and then too.
    if (store.link === "online") refreshDayPnl();
  }, 5_000);
}

/**
 * Subscribes first, then asks for every table: each reply takes its place in the ordered stream, so events that
 * arrive after a reply are newer than the state it carries.
 */
async function loadSnapshot(): Promise<void> {
  try {
    await resubscribe();
    const [info, contracts, ticks] = await Promise.all([
      socket.call<ConsoleInfo>("console_info"),
      socket.call<Contract[]>("get_all_contracts"),
      socket.call<Tick[]>("get_all_ticks"),
    ]);
    store.info = info;
    useServerLanguage(info.language);
    store.whoami = await socket.call<WhoAmI>("whoami").catch(() => undefined);
    if (store.can("audit")) void refreshAudit();
    store.contracts = byKey(contracts, (c) => c.vt_symbol);
    for (const tick of ticks) if (store.watched.includes(tick.vt_symbol)) store.putTick(tick);
    if (store.watched.length === 0 && contracts.length > 0) {
      for (const contract of contracts.slice(0, 3)) await watch(contract.vt_symbol);
    } else {
      for (const vtSymbol of store.watched) await subscribeMarket(vtSymbol);
    }
    if (!store.selected) store.selected = store.watched[0] ?? "";
    store.changed();
    const [orders, trades, positions, accounts, logs] = await Promise.all([
      socket.call<Order[]>("get_all_orders"),
      socket.call<Trade[]>("get_all_trades"),
      socket.call<Position[]>("get_all_positions"),
      socket.call<Account[]>("get_all_accounts"),
      socket.call<Log[]>("get_logs"),
    ]);
    store.orders = byKey(orders, (o) => o.vt_orderid);
    store.trades = byKey(trades, (t) => t.vt_tradeid);
    store.positions = byKey(positions, (p) => p.vt_positionid);
    store.accounts = byKey(accounts, (a) => a.vt_accountid);
    store.logs = logs;
    refreshOrderClients();
    refreshDayPnl();
    store.changed();
    await Promise.all([refreshRpc(), refreshRisk(), refreshClients(), refreshGateways(), refreshMetrics()]);
  } catch (error) {
    store.toast("error", `Loading the snapshot failed: ${(error as Error).message}`);
  }
}

function resubscribe(): Promise<unknown> {
  return socket.subscribe([...BASE_TYPES, ...store.watched.map((s) => `eTick.${s}`)]);
}

async function subscribeMarket(vtSymbol: string): Promise<void> {
  const contract = store.contracts.get(vtSymbol);
  if (!contract) return;
  await socket.call("subscribe", { $class: "SubscribeRequest", symbol: contract.symbol, exchange: contract.exchange }, contract.gateway_name);
}

export async function watch(vtSymbol: string): Promise<void> {
  if (!store.contracts.has(vtSymbol)) {
    store.toast("error", `Unknown contract ${vtSymbol}`);
    return;
  }
  store.watch(vtSymbol);
  await resubscribe();
  await subscribeMarket(vtSymbol);
}

export async function unwatch(vtSymbol: string): Promise<void> {
  store.unwatch(vtSymbol);
  store.ticks.delete(vtSymbol);
  await resubscribe();
}

export interface OrderTicket {
  vt_symbol: string;
  direction: string;
  offset: string;
  type: string;
  price: number;
  volume: number;
}

export async function sendOrder(ticket: OrderTicket): Promise<string> {
  const contract = store.contracts.get(ticket.vt_symbol);
  if (!contract) throw new Error(`unknown contract ${ticket.vt_symbol}`);
  const req = {
    $class: "OrderRequest",
    symbol: contract.symbol,
    exchange: contract.exchange,
    direction: ticket.direction,
    type: ticket.type,
    volume: ticket.volume,
    price: ticket.price,
    offset: ticket.offset,
    reference: "console",
  };
  // "" means blocked (a check says why, in an eOrderBlocked toast with its code) or refused by the gateway (see the log).
  return socket.call<string>("send_order", req, contract.gateway_name);
}

export async function cancelOrder(order: Order): Promise<void> {
  const req = { $class: "CancelRequest", orderid: order.orderid, symbol: order.symbol, exchange: order.exchange };
  await socket.call("cancel_order", req, order.gateway_name);
}

/** Cancels every working order, or only those of `client`. */
export async function cancelAll(client = ""): Promise<void> {
  const active = [...store.orders.values()].filter((o) => ACTIVE_STATUSES.has(o.status) && (client === "" || store.orderClients.get(o.vt_orderid) === client));
  await Promise.all(active.map(cancelOrder));
}

/** `task` at most every 200 ms however often it is asked for (a burst of orders or trades asks once). */
function coalesced(task: () => Promise<unknown>): () => void {
  let timer = 0;
  return () => {
    if (timer) return;
    timer = window.setTimeout(() => {
      timer = 0;
      // A failed ask is repeated by the next event or poll.
      task().catch(() => undefined);
    }, 200);
  };
}

/** Asks who sent the orders. */
export const refreshOrderClients = coalesced(async () => {
  store.orderClients = new Map(Object.entries(await socket.call<Record<string, string>>("order_clients")));
  store.changed();
});
store.onNewOrder = () => refreshOrderClients();

/** Asks for today's realised P&L and fees (an older server has no such call: the summary shows "—"). */
export const refreshDayPnl = coalesced(async () => {
  store.dayPnl = byKey(await socket.call<DayPnl[]>("account_day_pnl"), (r) => r.gateway);
  store.changed();
});
store.onTrade = () => refreshDayPnl();

/** The service's state again after a service log line (started, stopped: maybe by a command, not this page). */
store.onRpcLog = coalesced(() => refreshRpc());

export async function refreshRpc(): Promise<void> {
  store.rpc = await socket.call<RpcStatus>("rpc_status");
  store.changed();
}

export async function rpcStart(rep: string, pub: string): Promise<void> {
  try {
    await socket.call<boolean>("rpc_start", rep, pub);
  } catch (error) {
    store.toast("error", (error as Error).message);
  }
  await refreshRpc();
}

export async function rpcStop(): Promise<void> {
  try {
    await socket.call<boolean>("rpc_stop");
  } catch (error) {
    store.toast("error", (error as Error).message);
  }
  await refreshRpc();
}

export async function refreshGateways(): Promise<void> {
  store.gateways = byKey(await socket.call<GatewayStatus[]>("gateway_list"), (g) => g.name);
  store.changed();
}

/** Connect or disconnect a gateway; its new state arrives as eGatewayState events. */
export async function steerGateway(name: string, action: "connect" | "disconnect"): Promise<void> {
  try {
    await socket.call<GatewayStatus | null>(`gateway_${action}`, name);
  } catch (error) {
    store.toast("error", `Gateway ${name}: ${(error as Error).message}`);
  }
  await refreshGateways();
}

export async function refreshClients(): Promise<void> {
  if (store.link !== "online") return;
  try {
    store.clients = await socket.call<ConnectedClient[]>("get_clients");
    store.changed();
  } catch {
    // The next poll tries again; a lost connection shows in the header.
  }
}

export async function refreshRisk(): Promise<void> {
  const [rules, state] = await Promise.all([socket.call<(RiskRule | RiskRuleData)[]>("risk_rules"), socket.call<string | null>("risk_state")]);
  store.rules = byKey(rules.map(toRule), (r) => r.name);
  store.tradingState = state;
  store.changed();
}

/** Changes a rule; resolves with null, or with the server's reason when it refused (the rule is unchanged). */
export async function updateRule(name: string, setting: Record<string, unknown>): Promise<string | null> {
  try {
    await socket.call("risk_update_rule", name, setting);
    await refreshRisk();
    return null;
  } catch (error) {
    const reason = (error as Error).message;
    store.toast("error", `Rule ${name}: ${reason}`);
    return reason;
  }
}

/** The newest rows of the audit trail (admins only; the server refuses anyone else). */
export async function refreshAudit(): Promise<void> {
  try {
    store.audit = await socket.call<AuditRow[]>("audit_query", { limit: 50 });
    store.changed();
  } catch {
    // Not available (no RPC service) or not allowed: the panel stays empty.
  }
}

export async function refreshMetrics(): Promise<void> {
  const summary = await socket.call<{ latest: MetricsSample; history: MetricsSample[] }>("metrics_summary");
  store.metrics = summary.history;
  store.metricsNow = summary.latest;
  store.changed();
}

/** Bars of `contract` between two instants; interval as the server knows it ("1m", "1h", "d"). */
export function queryHistory(contract: Contract, interval: string, start: Date, end: Date): Promise<Bar[]> {
  const req = { $class: "HistoryRequest", symbol: contract.symbol, exchange: contract.exchange, start: start.toISOString(), end: end.toISOString(), interval };
  return socket.call<Bar[]>("query_history", req, contract.gateway_name);
}

/**
 * Closes a position with marketable limit orders (five ticks through the touch), through the same pipeline and
 * risk checks as any order. SHFE and INE close today's and yesterday's lots separately, as their rules want.
 */
export async function flatten(position: Position): Promise<string[]> {
  const contract = store.contracts.get(position.vt_symbol);
  const tick = store.ticks.get(position.vt_symbol);
  if (!contract || !tick) throw new Error(`no market data for ${position.vt_symbol}: watch it first`);
  const long = position.direction === Direction.LONG;
  const through = contract.pricetick * 5;
  const px = long ? (tick.bid_price_1 || tick.last_price) - through : (tick.ask_price_1 || tick.last_price) + through;
  const direction = long ? Direction.SHORT : Direction.LONG;
  const closable = position.volume - position.frozen;
  if (!(closable > 0)) throw new Error(`${position.vt_symbol}: nothing left to close (${position.frozen} already in closing orders)`);
  const legs: { offset: string; volume: number }[] = [];
  if (contract.exchange === "SHFE" || contract.exchange === "INE") {
    const today = Math.max(0, position.volume - position.yd_volume);
    const yesterday = Math.min(position.yd_volume, closable);
    if (today > 0) legs.push({ offset: Offset.CLOSETODAY, volume: Math.min(today, closable) });
    if (yesterday > 0 && closable - today > 0) legs.push({ offset: Offset.CLOSE, volume: Math.min(yesterday, closable - today) });
  } else legs.push({ offset: Offset.CLOSE, volume: closable });
  const ids: string[] = [];
  for (const leg of legs) {
    ids.push(await sendOrder({ vt_symbol: position.vt_symbol, direction, offset: leg.offset, type: OrderType.LIMIT, price: roundToTick(px, contract.pricetick), volume: leg.volume }));
  }
  return ids;
}

function roundToTick(value: number, tick: number): number {
  const decimals = Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9));
  return Number((Math.round(value / tick) * tick).toFixed(decimals));
}

/** Contracts whose symbol, name, exchange or product contains every word of `query` (case-insensitive). */
export function searchContracts(query: string, limit = 20): Contract[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const out: Contract[] = [];
  for (const c of store.contracts.values()) {
    const text = `${c.vt_symbol} ${c.name} ${c.exchange} ${c.product ?? ""}`.toLowerCase();
    if (words.every((w) => text.includes(w))) out.push(c);
  }
  // Symbols that start with the query first, then by symbol.
  const head = words[0]!;
  out.sort((a, b) => Number(!a.symbol.toLowerCase().startsWith(head)) - Number(!b.symbol.toLowerCase().startsWith(head)) || a.vt_symbol.localeCompare(b.vt_symbol));
  return out.slice(0, limit);
}

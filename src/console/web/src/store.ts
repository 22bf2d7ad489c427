/**
 * Everything the page shows, kept from snapshots and events. Views re-render at most once per animation
 * frame however fast ticks arrive.
 */
import { mergeRule, type MetricsSample, type Account, type ConnectedClient, type ConsoleInfo, type Contract, type Log, type Order, type Position, type RiskRule, type RiskRuleData, type RpcStatus, type Tick, type Trade, type AuditRow, type WhoAmI, type GatewayStatus, type DayPnl, type OrderBlock } from "./protocol";
import { readable } from "./format";
import type { LinkState } from "./socket";

const LOG_KEEP = 300;
/** Metrics samples kept for the charts (5 minutes at the server's 2 s interval). */
const METRICS_KEEP = 150;

export interface Toast {
  id: number;
  kind: "error" | "info";
  text: string;
  /** A blocked order's code (OrderBlock.code), for programs and tests. */
  code?: string;
}

export class Store {
  link: LinkState = "connecting";
  linkDetail = "";
  epoch = "";
  seq = 0;
  info: ConsoleInfo | undefined;
  contracts = new Map<string, Contract>();
  ticks = new Map<string, Tick>();
  previous = new Map<string, number>();
  orders = new Map<string, Order>();
  trades = new Map<string, Trade>();
  positions = new Map<string, Position>();
  accounts = new Map<string, Account>();
  /** gateway -> today's realised P&L and fees (account_day_pnl). */
  dayPnl = new Map<string, DayPnl>();
  logs: Log[] = [];
  rpc: RpcStatus | undefined;
  clients: ConnectedClient[] = [];
  gateways = new Map<string, GatewayStatus>();
  rules = new Map<string, RiskRule>();
  tradingState: string | null = null;
  /** Who the page is signed in as; undefined until known (an older server: everything shown). */
  whoami: WhoAmI | undefined;
  audit: AuditRow[] = [];
  toasts: Toast[] = [];
  watched: string[] = loadWatched();
  selected = "";
  view: "desk" | "metrics" = "desk";
  /** vt_orderid -> the client that sent it ("console:2", an RPC identity, "local"). */
  orderClients = new Map<string, string>();
  /** The client whose orders and trades the tables show; "" for all. */
  clientFilter = "";
  /** A price handed to the order ticket (a click in the depth ladder); `n` makes each click new. */
  ticketPrice: { value: number; n: number } | undefined;
  /** Periodic samples, oldest first; `metricsNow` is the latest (or a fresh one at load). */
  metrics: MetricsSample[] = [];
  metricsNow: MetricsSample | undefined;
  /** "function@endpoint" whose latency the charts show. */
  metricsCall = "";

  /** Called for an order not seen before (the page then asks who sent it). */
  onNewOrder: ((vt_orderid: string) => void) | undefined;
  /** A trade: today's realised P&L and fees change. */
  onTrade: (() => void) | undefined;
  /** A service log line: the service started, stopped or changed (a command may have done it, not this page). */
  onRpcLog: (() => void) | undefined;

  /** Whether the signed-in role has a permission ("trade", "risk", "service", "audit"...): the page hides the rest. */
  can(permission: string): boolean {
    return this.whoami === undefined || this.whoami.permissions.includes(permission);
  }

  private listeners = new Set<() => void>();
  private frame = 0;
  private toastId = 0;

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const listener of this.listeners) listener();
    });
  }

  watch(vtSymbol: string): void {
    if (!this.watched.includes(vtSymbol)) this.watched = [...this.watched, vtSymbol];
    if (!this.selected) this.selected = vtSymbol;
    saveWatched(this.watched);
    this.changed();
  }

  unwatch(vtSymbol: string): void {
    this.watched = this.watched.filter((s) => s !== vtSymbol);
    if (this.selected === vtSymbol) this.selected = this.watched[0] ?? "";
    saveWatched(this.watched);
    this.changed();
  }

  toast(kind: Toast["kind"], text: string, code?: string): void {
    const toast: Toast = { id: ++this.toastId, kind, text, ...(code === undefined ? {} : { code }) };
    this.toasts = [...this.toasts.slice(-4), toast];
    window.setTimeout(() => {
      this.toasts = this.toasts.filter((t) => t !== toast);
      this.changed();
    }, 8_000);
    this.changed();
  }

  putTick(tick: Tick): void {
    const old = this.ticks.get(tick.vt_symbol);
    if (old) this.previous.set(tick.vt_symbol, old.last_price);
    this.ticks.set(tick.vt_symbol, tick);
  }

  putMetrics(sample: MetricsSample): void {
    this.metrics.push(sample);
    if (this.metrics.length > METRICS_KEEP) this.metrics.splice(0, this.metrics.length - METRICS_KEEP);
    this.metricsNow = sample;
  }

  putLog(log: Log): void {
    this.logs.push(log);
    if (this.logs.length > LOG_KEEP) this.logs.splice(0, this.logs.length - LOG_KEEP);
  }

  putRpcLog(log: Log): void {
    if (!this.rpc) return;
    this.rpc = { ...this.rpc, log: [...this.rpc.log.slice(-LOG_KEEP), log] };
  }

  /** Applies one pushed event (by its generic type; the page subscribes to generic types and specific ticks). */
  apply(type: string, data: unknown): void {
    if (type.startsWith("eTick.")) this.putTick(data as Tick);
    else if (type === "eOrder.") {
      const order = data as Order;
      if (!this.orders.has(order.vt_orderid)) this.onNewOrder?.(order.vt_orderid);
      this.orders.set(order.vt_orderid, order);
    }
    else if (type === "eTrade.") {
      this.trades.set((data as Trade).vt_tradeid, data as Trade);
      this.onTrade?.();
    }
    else if (type === "ePosition.") this.positions.set((data as Position).vt_positionid, data as Position);
    else if (type === "eAccount.") this.accounts.set((data as Account).vt_accountid, data as Account);
    else if (type === "eContract.") this.contracts.set((data as Contract).vt_symbol, data as Contract);
    else if (type === "eLog") this.putLog(data as Log);
    else if (type === "eRpcLog") {
      this.putRpcLog(data as Log);
      this.onRpcLog?.();
    }
    else if (type === "eRiskRule") {
      const rule = data as RiskRuleData;
      this.rules.set(rule.name, mergeRule(this.rules.get(rule.name), rule));
      // The kill switch is a rule too: the header follows it.
      if (rule.name === "trading_state") this.tradingState = rule.parameters.active === false ? "ACTIVE" : String(rule.parameters.state ?? "ACTIVE");
    }
    else if (type === "eGatewayState") this.gateways.set((data as GatewayStatus).name, data as GatewayStatus);
    else if (type === "eOrderBlocked") this.toast("error", blockText(data as OrderBlock), (data as OrderBlock).code);
    else if (type === "eRiskState" && typeof data === "string") this.tradingState = data;
    else if (type === "eConsoleMetrics") this.putMetrics(data as MetricsSample);
    this.changed();
  }
}

export function byKey<T>(items: T[], key: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [key(item), item]));
}

function loadWatched(): string[] {
  try {
    const saved = JSON.parse(localStorage.getItem("rpcservice.watched") ?? "[]") as unknown;
    return Array.isArray(saved) ? saved.filter((s): s is string => typeof s === "string") : [];
  } catch {
    return [];
  }
}

function saveWatched(list: string[]): void {
  try {
    localStorage.setItem("rpcservice.watched", JSON.stringify(list));
  } catch {
    // Private windows may refuse storage; the watch list then lasts for the session.
  }
}

export const store = new Store();

/** A blocked order's toast: the risk manager's blocks read "Risk: …" as before, other checks' "Blocked: …". */
function blockText(block: OrderBlock): string {
  return `${block.check === "RiskManager" ? "Risk" : "Blocked"}: ${readable(block.msg)}`;
}

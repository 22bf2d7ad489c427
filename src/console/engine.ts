/**
 * ConsoleApp / ConsoleEngine: the web console. One HTTP server (default http://127.0.0.1:8080) serves the
 * page, the console's own WebSocket (`/console`: trading and management calls, every event, always on while the
 * console runs) and, once the RPC service adopts it, the RPC service's WebSocket endpoint (`/ws`).
 *
 *   const consoleEngine = mainEngine.addApp(ConsoleApp);
 *   const started = await consoleEngine.start({ host: "127.0.0.1", port: 8080 });
 *   console.log(`console: ${started.urlWithToken}`);
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  BaseEngine,
  CancelRequest,
  EVENT_LOG,
  EVENT_POSITION,
  EVENT_TIMER,
  EVENT_TRADE,
  Event,
  HistoryRequest,
  OrderRequest,
  SubscribeRequest,
  type AppClass,
  type EventEngine,
  type LogData,
  type MainEngine,
  ERROR,
  WARNING,
  type PositionData,
  type TradeData,
} from "../kernel/index.js";
import type { CallContext, CallDispatcher } from "../rpc/endpoint.js";
import { GATEWAY_MANAGER_NAME, GatewayEngine } from "../gateways/index.js";
import { runGated } from "../rpc/gate.js";
import { RISK_ENGINE_NAME, RiskEngine, TRADING_STATES, type TradingState } from "../risk/index.js";
import { APP_NAME as RPC_APP_NAME, EVENT_RPC_LOG, RpcEngine, definePermission, isRole, permissionsOf, type AuditQuery } from "../service/index.js";
import { DayPnlBook } from "./day-pnl.js";
import { ConsoleCallError, ConsoleStartError } from "./errors.js";
import { isLoopbackHost, loadOrCreateToken } from "./token.js";
import { PromMetrics } from "./metrics.js";
import { MetricsSampler, type MetricsSample } from "./metrics-sampler.js";
import { WebHost } from "./web-host.js";
import { WsEndpoint } from "../rpc/ws/endpoint.js";

export const CONSOLE_APP_NAME = "Console";
/** The console-only event that carries one metrics sample to the page (never on the RPC stream). */
export const EVENT_CONSOLE_METRICS = "eConsoleMetrics";
/** Samples kept for the page's charts: 5 minutes at the default interval. */
const METRICS_HISTORY = 150;

export interface ConsoleStartOptions {
  /** Default "127.0.0.1". Any other address requires the token. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /**
   * "auto" (default): required off loopback, read from or created in `<home>/console_token`;
   * "always": required everywhere; or the token itself.
   */
  token?: "auto" | "always" | { value: string };
  /** Folder of the built page; default the one `npm run build` writes (dist/console-web); null: no page. */
  webRoot?: string | null;
  /**
   * Host names the console answers to besides its bound address (and loopback names when bound to loopback):
   * any other `Host` header is refused, which is what stops DNS rebinding.
   */
  allowedHosts?: readonly string[];
  /** How often the page gets a metrics sample, ms; default 2 000. */
  metricsIntervalMs?: number;
}

export interface ConsoleStarted {
  readonly url: string;
  /** The URL to open: with `?token=` when a token is required. Print it, never log it as an event. */
  readonly urlWithToken: string;
  readonly host: string;
  readonly port: number;
  readonly token: string | null;
  /** Where the token lives and whether this start generated it (print it once, then). */
  readonly tokenPath?: string;
  readonly tokenCreated: boolean;
}

type ConsoleFunction = (args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>, context: CallContext) => unknown;

const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../console-web/", import.meta.url));
const LOG_KEEP = 500;

export class ConsoleEngine extends BaseEngine {
  /** The console's own WebSocket endpoint (`/console`). */
  readonly endpoint: WsEndpoint;
  /** The RPC service's WebSocket endpoint (`/ws`), served by the console's HTTP server. */
  readonly rpcEndpoint: WsEndpoint;
  private readonly functions = new Map<string, ConsoleFunction>();
  private readonly epoch = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  private seq = 0;
  private readonly rpcLog: LogData[] = [];
  private readonly log: LogData[] = [];
  private host: WebHost | undefined;
  private started: ConsoleStarted | undefined;
  private watchingUsers = false;
  /** Prometheus figures of the whole process (installed on the MainEngine): /metrics, the page, `status`. */
  readonly metrics = new PromMetrics();
  private sampler: MetricsSampler | undefined;
  private sampling: NodeJS.Timeout | undefined;
  private readonly samples: MetricsSample[] = [];
  /** Today's realised P&L and fees per gateway, from the trades (the account summary). */
  private readonly dayPnl = new DayPnlBook((vtSymbol) => this.mainEngine.getContract(vtSymbol)?.size);
  /** vt_orderid -> the console client that sent it. */
  private readonly orderClients = new Map<string, string>();

  constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
    super(mainEngine, eventEngine, CONSOLE_APP_NAME);
    this.endpoint = new WsEndpoint({ name: "console", path: "/console" });
    this.rpcEndpoint = new WsEndpoint({ name: "ws", path: "/ws" });
    this.registerTradingCalls();
    this.registerManagementCalls();
    this.metrics.attach(mainEngine);
    this.metrics.addClients(() => this.allClients());
    eventEngine.registerGeneral(this.processEvent);
  }

  get isActive(): boolean {
    return this.started !== undefined;
  }

  /** Adds (or replaces) a console call. */
  register(name: string, fn: ConsoleFunction): void {
    this.functions.set(name, fn);
  }

  /** Names of every console call. */
  callNames(): string[] {
    return [...this.functions.keys()].sort();
  }

  async start(options: ConsoleStartOptions = {}): Promise<ConsoleStarted> {
    if (this.started) return this.started;
    const host = options.host ?? "127.0.0.1";
    const port = options.port ?? 8080;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConsoleStartError(`port must be 0..65535, got ${port}`);
    const mode = options.token ?? "auto";
    let token: string | null = null;
    let tokenPath: string | undefined;
    let tokenCreated = false;
    if (typeof mode === "object") {
      if (mode.value.length < 16) throw new ConsoleStartError("a console token must have at least 16 characters");
      token = mode.value;
    } else if (mode === "always" || !isLoopbackHost(host)) {
      const file = loadOrCreateToken(this.mainEngine.home);
      token = file.token;
      tokenPath = file.path;
      tokenCreated = file.created;
    }
    const rpcService = this.rpcService();
    const users = rpcService?.consoleUsers;
    const web = new WebHost({
      host,
      port,
      token,
      staticRoot: options.webRoot === undefined ? DEFAULT_WEB_ROOT : options.webRoot,
      allowedHosts: options.allowedHosts ?? [],
      ...(users ? { users } : {}),
    });
    if (users && !this.watchingUsers) {
      this.watchingUsers = true;
      // A removed user's console connections close with the RPC ones (the RPC service closes its own).
      users.onRemoved((names) => this.endpoint.closeClients((client) => client.authenticatedBy === "token" && names.includes(client.identity ?? ""), "console user removed"));
    }
    this.endpoint.attachTo(web);
    this.rpcEndpoint.attachTo(web);
    web.addDataRoute("/metrics", () => this.metrics.text());
    const address = await web.listen();
    await this.endpoint.start({ dispatch: this.dispatch, position: () => ({ epoch: this.epoch, seq: this.seq }) });
    this.host = web;
    // The RPC service serves its functions and events on `/ws` too, from its next start on.
    const rpc = this.rpcService();
    rpc?.addEndpoint(this.rpcEndpoint);
    if (rpc?.isActive) this.mainEngine.writeLog("The RPC service is already running: it serves /ws from its next start", CONSOLE_APP_NAME, WARNING);
    const started: ConsoleStarted = {
      url: address.url,
      urlWithToken: token === null ? address.url : `${address.url}?token=${encodeURIComponent(token)}`,
      host: address.host,
      port: address.port,
      token,
      tokenCreated,
      ...(tokenPath === undefined ? {} : { tokenPath }),
    };
    this.started = started;
    this.startSampling(options.metricsIntervalMs ?? 2_000);
    return started;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = undefined;
    clearInterval(this.sampling);
    this.sampling = undefined;
    this.sampler?.close();
    this.sampler = undefined;
    await this.endpoint.stop();
    await this.rpcEndpoint.stop();
    await this.host?.close();
    this.host = undefined;
  }

  override async close(): Promise<void> {
    this.eventEngine.unregisterGeneral(this.processEvent);
    await this.stop();
    this.metrics.detach();
  }

  /**
   * Runs a console call as the WebSocket endpoint does (also handy for in-process use and tests), through the RPC
   * service's call gate when it is loaded: the same roles, limits and audit as every RPC endpoint.
   */
  readonly dispatch: CallDispatcher = async (name, args, kwargs, context) => {
    const fn = this.functions.get(name);
    if (!fn) throw new ConsoleCallError("UNKNOWN_CALL", `no console call named ${JSON.stringify(name)}`);
    const started = performance.now();
    try {
      const result = await runGated(this.rpcService()?.accessControl, { name, args, context }, (gated) => fn(args, kwargs, gated));
      this.metrics.callFinished(name, context.endpoint, (performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      this.metrics.callFinished(name, context.endpoint, (performance.now() - started) / 1000, false);
      throw error;
    }
  };

  /** Figures up to now (since the last periodic sample) and the recent periodic samples, oldest first. */
  async metricsSummary(): Promise<{ latest: MetricsSample; history: MetricsSample[] }> {
    this.sampler ??= new MetricsSampler(this.metrics);
    return { latest: await this.sampler.sample(false), history: [...this.samples] };
  }

  private readonly processEvent = (event: Event): void => {
    if (event.type === EVENT_TIMER) return;
    if (event.type === EVENT_TRADE) this.dayPnl.onTrade(event.data as TradeData);
    else if (event.type === EVENT_POSITION) this.dayPnl.onPosition(event.data as PositionData);
    if (event.type === EVENT_RPC_LOG) keep(this.rpcLog, event.data as LogData);
    else if (event.type === EVENT_LOG) keep(this.log, event.data as LogData);
    this.publish(event);
  };

  private publish(event: Event): void {
    this.endpoint.publish({ seq: ++this.seq, epoch: this.epoch, event });
    this.metrics.eventPublished("console", event.type);
  }

  private allClients() {
    const rpc = this.rpcService();
    return [...(rpc?.clients() ?? []), ...(rpc?.subscribers() ?? []), ...this.endpoint.clients()];
  }

  private startSampling(intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs < 50) throw new ConsoleStartError(`metricsIntervalMs must be at least 50, got ${intervalMs}`);
    this.sampler = new MetricsSampler(this.metrics);
    this.sampling = setInterval(() => {
      this.takeSample().then(
        (sample) => this.publish(new Event(EVENT_CONSOLE_METRICS, sample)),
        (error: unknown) => this.mainEngine.writeLog(`metrics sample failed: ${String(error)}`, CONSOLE_APP_NAME, ERROR),
      );
    }, intervalMs);
    this.sampling.unref();
  }

  private async takeSample(): Promise<MetricsSample> {
    this.sampler ??= new MetricsSampler(this.metrics);
    const sample = await this.sampler.sample();
    this.samples.push(sample);
    if (this.samples.length > METRICS_HISTORY) this.samples.splice(0, this.samples.length - METRICS_HISTORY);
    return sample;
  }

  private rpcService(): RpcEngine | undefined {
    const engine = this.mainEngine.engines.get(RPC_APP_NAME);
    return engine instanceof RpcEngine ? engine : undefined;
  }

  private gatewayManager(): GatewayEngine | undefined {
    const engine = this.mainEngine.engines.get(GATEWAY_MANAGER_NAME);
    return engine instanceof GatewayEngine ? engine : undefined;
  }

  private riskManager(): RiskEngine | undefined {
    const engine = this.mainEngine.engines.get(RISK_ENGINE_NAME);
    return engine instanceof RiskEngine ? engine : undefined;
  }

  private registerTradingCalls(): void {
    const me = this.mainEngine;
    this.register("subscribe", ([req, gateway]) => me.subscribe(arg(req, SubscribeRequest, "req"), text(gateway, "gateway_name")));
    // Through the RPC service when loaded: it records who sent each order and checks who may cancel it.
    this.register("send_order", async ([req, gateway], _kw, context) => {
      const order = arg(req, OrderRequest, "req");
      const rpc = this.rpcService();
      const vt_orderid = rpc
        ? await rpc.sendOrder(order, text(gateway, "gateway_name"), context, "console")
        : await me.sendOrder(order, text(gateway, "gateway_name"), { kind: "console", clientId: context.clientId });
      if (vt_orderid) this.orderClients.set(vt_orderid, context.clientId);
      return vt_orderid;
    });
    this.register("cancel_order", ([req, gateway], _kw, context) => {
      const cancel = arg(req, CancelRequest, "req");
      const rpc = this.rpcService();
      return rpc ? rpc.cancelOrder(cancel, text(gateway, "gateway_name"), context) : me.cancelOrder(cancel, text(gateway, "gateway_name"));
    });
    this.register("query_history", ([req, gateway]) => me.queryHistory(arg(req, HistoryRequest, "req"), text(gateway, "gateway_name")));
    this.register("get_tick", ([id]) => me.getTick(text(id, "vt_symbol")));
    this.register("get_order", ([id]) => me.getOrder(text(id, "vt_orderid")));
    this.register("get_trade", ([id]) => me.getTrade(text(id, "vt_tradeid")));
    this.register("get_position", ([id]) => me.getPosition(text(id, "vt_positionid")));
    this.register("get_account", ([id]) => me.getAccount(text(id, "vt_accountid")));
    this.register("get_contract", ([id]) => me.getContract(text(id, "vt_symbol")));
    this.register("get_all_ticks", () => me.getAllTicks());
    this.register("get_all_orders", () => me.getAllOrders());
    this.register("get_all_trades", () => me.getAllTrades());
    this.register("get_all_positions", () => me.getAllPositions());
    this.register("get_all_accounts", () => me.getAllAccounts());
    // Today's realised P&L and fees per gateway (VeighNa's AccountData has no such fields): whoever reads accounts.
    definePermission("account_day_pnl", "read");
    this.register("account_day_pnl", () => this.dayPnl.summary());
    this.register("get_all_contracts", () => me.getAllContracts());
    this.register("get_all_active_orders", () => me.getAllActiveOrders());
    this.register("get_all_gateway_names", () => me.getAllGatewayNames());
  }

  private registerManagementCalls(): void {
    this.register("console_info", () => ({
      epoch: this.epoch,
      seq: this.seq,
      gateways: this.mainEngine.getAllGatewayNames(),
      apps: this.mainEngine.getAllApps().map((app) => ({ app_name: app.appName, display_name: app.displayName })),
      calls: this.callNames(),
      token_required: this.host?.tokenRequired ?? false,
      language: this.mainEngine.language,
    }));
    this.register("get_logs", () => [...this.log]);
    // Who the page is signed in as, and what it may do (the page hides the rest; the server refuses it anyway).
    this.register("whoami", (_args, _kw, context) => {
      const role = isRole(context.role) ? context.role : "admin";
      return {
        identity: context.identity ?? null,
        authenticated: context.authenticatedBy !== undefined,
        role,
        permissions: permissionsOf(role),
      };
    });
    this.register("audit_query", ([query]) => {
      const audit = this.need(this.rpcService()?.audit ?? undefined, "the audit trail is not available");
      const q = (query ?? {}) as Record<string, unknown>;
      const wanted: AuditQuery = { limit: typeof q["limit"] === "number" ? Math.min(5_000, Math.max(1, q["limit"])) : 200 };
      if (typeof q["since"] === "number") wanted.since = q["since"];
      if (typeof q["identity"] === "string" && q["identity"]) wanted.identity = q["identity"];
      return audit.query(wanted);
    });
    // Who sent each order: a console client, an RPC client (its identity), or "local" (this process).
    this.register("order_clients", () => {
      const rpc = this.rpcService();
      const out: Record<string, string> = {};
      for (const order of this.mainEngine.getAllOrders()) {
        out[order.vt_orderid] = this.orderClients.get(order.vt_orderid) ?? rpc?.orderOwner(order.vt_orderid) ?? "local";
      }
      return out;
    });
    this.register("rpc_status", async () => {
      const rpc = this.rpcService();
      // While running, the addresses actually bound (a port 0 resolved); else the ones the next start uses.
      const bound = rpc?.addresses;
      return {
        available: rpc !== undefined,
        active: rpc?.isActive ?? false,
        rep_address: bound?.rep ?? rpc?.repAddress ?? "",
        pub_address: bound?.pub ?? rpc?.pubAddress ?? "",
        ws_address: this.started && rpc ? `${this.started.url.replace(/^http/, "ws")}ws` : "",
        // Why the last start failed, so whoever asked for it (a command, the page) can say why.
        start_error: rpc?.lastStartError ?? "",
        log: [...this.rpcLog],
        // How far behind the server is: events waiting, ticks conflated past the queue's bound, overload.
        event_queue: { pending: this.eventEngine.pending, conflated: this.eventEngine.conflated, overloaded: this.eventEngine.overloaded },
        // The NATS endpoint, when serving on a bus: its node and its JetStream stream's state.
        nats: (await rpc?.natsStatus()) ?? null,
      };
    });
    this.register("rpc_start", async ([rep, pub]) => {
      const rpc = this.need(this.rpcService(), "the RPC service app is not loaded");
      return rpc.start(text(rep, "rep_address"), text(pub, "pub_address"));
    });
    this.register("rpc_stop", async () => this.need(this.rpcService(), "the RPC service app is not loaded").stop());
    this.register("get_clients", () => this.allClients());
    this.register("metrics_summary", () => this.metricsSummary());
    // Connection states beside get_all_gateway_names, which keeps VeighNa's shape (a list of names).
    this.register("gateway_list", () => this.gatewayManager()?.list() ?? []);
    for (const action of ["connect", "disconnect"] as const) {
      this.register(`gateway_${action}`, ([name]) =>
        this.need(this.gatewayManager(), "the gateway manager app is not loaded").steer(text(name, "name"), action),
      );
    }
    // Rules with labels, kinds and bounds: what a form needs (eRiskRule events then carry the new values).
    this.register("risk_rules", () => this.riskManager()?.describeRules() ?? []);
    this.register("risk_update_rule", ([name, setting]) => {
      const risk = this.need(this.riskManager(), "the risk manager app is not loaded");
      if (setting === null || typeof setting !== "object" || Array.isArray(setting)) {
        throw new ConsoleCallError("INVALID_ARGUMENT", "setting must be an object of parameter values");
      }
      return risk.updateRule(text(name, "name"), setting as Record<string, unknown>);
    });
    this.register("risk_state", () => this.riskManager()?.getTradingState() ?? null);
    this.register("risk_set_state", ([state]) => {
      const risk = this.need(this.riskManager(), "the risk manager app is not loaded");
      const wanted = text(state, "state");
      if (!(TRADING_STATES as readonly string[]).includes(wanted)) {
        throw new ConsoleCallError("INVALID_ARGUMENT", `state must be one of ${TRADING_STATES.join(", ")}`);
      }
      risk.setTradingState(wanted as TradingState);
      return risk.getTradingState();
    });
  }

  private need<T>(value: T | undefined, message: string): T {
    if (value === undefined) throw new ConsoleCallError("NOT_AVAILABLE", message);
    return value;
  }
}

function keep(list: LogData[], log: LogData): void {
  list.push(log);
  if (list.length > LOG_KEEP) list.splice(0, list.length - LOG_KEEP);
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string") throw new ConsoleCallError("INVALID_ARGUMENT", `${name} must be a string`);
  return value;
}

function arg<T>(value: unknown, cls: abstract new (...args: never[]) => T, name: string): T {
  if (!(value instanceof cls)) throw new ConsoleCallError("INVALID_ARGUMENT", `${name} must be a ${cls.name} ({"$class": "${cls.name}", ...})`);
  return value;
}

export const ConsoleApp: AppClass<ConsoleEngine> = {
  appName: CONSOLE_APP_NAME,
  displayName: "Web console",
  engineClass: ConsoleEngine,
};

/**
 * GatewayManagerApp / GatewayEngine: runs the configured gateways and knows each one's connection state.
 *
 *   const gateways = mainEngine.addApp(GatewayManagerApp);
 *   for (const config of planGateways({ home, kinds })) gateways.add(config);
 *   await gateways.connectAll();
 *
 * Every state change is an `eGatewayState` event (the console's gateway view) and a log line. Orders to a
 * gateway that is not connected are blocked at once, first in the order-check pipeline, with the reason: never
 * queued, never sent later. `list()` shows settings with their secrets masked; the secrets themselves only ever
 * reach the gateway's `connect`.
 */
import {
  BaseEngine,
  ERROR,
  EVENT_GATEWAY_STATE,
  Event,
  WARNING,
  defineMessages,
  type AppClass,
  type BaseGateway,
  type EventEngine,
  type GatewaySetting,
  type MainEngine,
  type OrderBlock,
  type OrderRequest,
  messageOf,
} from "../kernel/index.js";
import { str, type RpcServer } from "../rpc/index.js";
import type { GatewayConfig, GatewayKinds } from "./config.js";
import { GatewayKinds as Kinds } from "./config.js";
import { GatewayManagerError } from "./errors.js";
import { maskSetting, type GatewayKind, type GatewayState } from "./kind.js";

export const GATEWAY_MANAGER_NAME = "GatewayManager";
/** Before the risk manager (100): an order a dead link cannot carry must not count against any limit. */
export const GATEWAY_CHECK_PRIORITY = 10;
/** The check's name in the pipeline, and the rule of its blocks (code GATEWAY_NOT_CONNECTED). */
export const GATEWAY_CHECK_NAME = "gateway_state";

declare module "../kernel/event-types.js" {
  interface EventMap {
    eGatewayState: GatewayStatus;
  }
}

/** One gateway as the console and the CLI list it (VeighNa's `get_all_gateway_names` stays a list of names). */
export interface GatewayStatus {
  readonly name: string;
  readonly kind: string;
  readonly source: string;
  readonly state: GatewayState;
  readonly reason: string;
  /** ms since the epoch of the last state change. */
  readonly since: number;
  /** Secrets masked. */
  readonly setting: GatewaySetting;
}

const messages = defineMessages({
  en: {
    state: "Gateway {name} {state}: {reason}",
    blocked: "Order blocked: gateway {name} is {state} ({reason})",
    connectFailed: "Gateway {name} failed to connect: {error}",
    resubscribeFailed: "Gateway {name}: market data of {symbol} not subscribed again: {error}",
    unknown: "no gateway named {name}; configured: {names}",
    byRequest: "disconnected on request",
    configured: "configured, not connected yet",
    connectReturned: "connected",
  },
  zh: {
    state: "接口{name}{state}：{reason}",
    blocked: "委托被拦截，接口{name}处于{state}（{reason}）",
    connectFailed: "接口{name}连接失败：{error}",
    resubscribeFailed: "接口{name}：{symbol}行情重新订阅失败：{error}",
    unknown: "没有名为{name}的接口；已配置：{names}",
    byRequest: "已按请求断开",
    configured: "已配置，尚未连接",
    connectReturned: "已连接",
  },
});

interface Managed {
  readonly config: GatewayConfig;
  readonly kind: GatewayKind;
  readonly gateway: BaseGateway;
  state: GatewayState;
  reason: string;
  since: number;
  unwatch: (() => void) | null;
}

export class GatewayEngine extends BaseEngine {
  private readonly t = messages.in(this.mainEngine.language);
  kinds: GatewayKinds = new Kinds();
  private readonly managed = new Map<string, Managed>();
  private readonly removeCheck: () => void;

  constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
    super(mainEngine, eventEngine, GATEWAY_MANAGER_NAME);
    this.removeCheck = mainEngine.addOrderCheck({ name: GATEWAY_CHECK_NAME, check: (req, name) => this.check(req, name) }, GATEWAY_CHECK_PRIORITY);
  }

  /** Adds the gateway to MainEngine under its name (not connected yet). */
  add(config: GatewayConfig): BaseGateway {
    const kind = this.kinds.get(config.kind);
    if (!kind) throw new GatewayManagerError("ERR_GATEWAY_UNKNOWN", `unknown gateway kind ${config.kind}`);
    if (this.managed.has(config.name) || this.mainEngine.gateways.has(config.name)) {
      throw new GatewayManagerError("ERR_GATEWAY_STATE", `a gateway named ${config.name} already exists`);
    }
    const gateway = this.mainEngine.addGateway(kind.gatewayClass, config.name);
    this.managed.set(config.name, { config, kind, gateway, state: "disconnected", reason: this.t("configured"), since: Date.now(), unwatch: null });
    return gateway;
  }

  /**
   * Connects every gateway; one that fails is logged and left disconnected while the others still connect, and
   * the first failure is then rethrown (a server must not start half-configured without saying so).
   */
  async connectAll(): Promise<void> {
    let first: unknown;
    for (const name of this.managed.keys()) {
      try {
        await this.connect(name);
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }

  /** Connects one gateway (a no-op when it is connected or connecting); rejects when its connect throws. */
  async connect(name: string): Promise<void> {
    const entry = this.entry(name);
    if (entry.state !== "disconnected") return;
    if (entry.kind.watch) {
      entry.unwatch = entry.kind.watch(entry.gateway, this.eventEngine, (state, reason) => this.setState(entry, state, reason));
    }
    this.setState(entry, "connecting", "connect requested");
    try {
      await this.mainEngine.connect({ ...entry.config.setting }, name);
    } catch (error) {
      const message = messageOf(error);
      this.stopWatching(entry);
      this.mainEngine.writeLog(this.t("connectFailed", { name, error: message }), GATEWAY_MANAGER_NAME, ERROR);
      this.setState(entry, "disconnected", message);
      throw error;
    }
    if (!entry.kind.watch) this.setState(entry, "connected", this.t("connectReturned"));
    // A gateway connected again has forgotten its market data: ask for what was subscribed before.
    for (const req of this.mainEngine.subscriptionsOf(name)) {
      try {
        await entry.gateway.subscribe(req);
      } catch (error) {
        const message = messageOf(error);
        this.mainEngine.writeLog(this.t("resubscribeFailed", { name, symbol: req.vt_symbol, error: message }), GATEWAY_MANAGER_NAME, WARNING);
      }
    }
  }

  /** Closes one gateway's connection; orders to it are blocked until it connects again. */
  async disconnect(name: string): Promise<void> {
    const entry = this.entry(name);
    if (entry.state === "disconnected" && !entry.unwatch) return;
    this.stopWatching(entry);
    await entry.gateway.close();
    this.setState(entry, "disconnected", this.t("byRequest"));
  }

  /** Connects or disconnects one gateway; its status afterwards (the console and the RPC calls answer with it). */
  async steer(name: string, action: "connect" | "disconnect"): Promise<GatewayStatus | null> {
    if (action === "connect") await this.connect(name);
    else await this.disconnect(name);
    return this.list().find((g) => g.name === name) ?? null;
  }

  /**
   * Serves `gateway_list`, `gateway_connect(name)` and `gateway_disconnect(name)` on an RPC server (every endpoint
   * of it: ZeroMQ, /ws, NATS). The server's call gate decides who may: steering needs the "gateway" permission.
   */
  serveOn(server: RpcServer): void {
    server.register("gateway_list", [], () => this.list());
    server.register("gateway_connect", [{ name: "name", type: str }], ([name]) => this.steer(name as string, "connect"));
    server.register("gateway_disconnect", [{ name: "name", type: str }], ([name]) => this.steer(name as string, "disconnect"));
  }

  list(): GatewayStatus[] {
    return [...this.managed.values()].map((entry) => ({
      name: entry.config.name,
      kind: entry.config.kind,
      source: entry.config.source,
      state: entry.state,
      reason: entry.reason,
      since: entry.since,
      setting: maskSetting(entry.kind, entry.config.setting),
    }));
  }

  override close(): void {
    this.removeCheck();
    for (const entry of this.managed.values()) this.stopWatching(entry);
  }

  private check(_req: OrderRequest, name: string): OrderBlock | null {
    const entry = this.managed.get(name);
    if (!entry || entry.state === "connected") return null;
    const params = { name, state: entry.state, reason: entry.reason };
    const msg = this.t("blocked", params);
    this.mainEngine.writeLog(msg, GATEWAY_MANAGER_NAME, ERROR);
    return { check: GATEWAY_CHECK_NAME, rule: GATEWAY_CHECK_NAME, code: "GATEWAY_NOT_CONNECTED", params, msg };
  }

  private entry(name: string): Managed {
    const entry = this.managed.get(name);
    if (!entry) throw new GatewayManagerError("ERR_GATEWAY_UNKNOWN", this.t("unknown", { name, names: [...this.managed.keys()].join(", ") || "none" }));
    return entry;
  }

  private stopWatching(entry: Managed): void {
    entry.unwatch?.();
    entry.unwatch = null;
  }

  private setState(entry: Managed, state: GatewayState, reason: string): void {
    if (entry.state === state && entry.reason === reason) return;
    entry.state = state;
    entry.reason = reason;
    entry.since = Date.now();
    const level = state === "disconnected" || state === "stale" ? WARNING : undefined;
    this.mainEngine.writeLog(this.t("state", { name: entry.config.name, state, reason }), GATEWAY_MANAGER_NAME, level);
    const status = this.list().find((s) => s.name === entry.config.name)!;
    this.eventEngine.put(new Event(EVENT_GATEWAY_STATE, status));
  }
}

export const GatewayManagerApp: AppClass<GatewayEngine> = {
  appName: GATEWAY_MANAGER_NAME,
  displayName: "Gateways",
  engineClass: GatewayEngine,
};

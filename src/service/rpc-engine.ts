/**
 * RpcEngine / RpcServiceApp: turn this trading process into an RPC server (vnpy_rpcservice's RpcEngine).
 *
 * The 17 functions keep VeighNa's names and positional signatures and are resolved on MainEngine at call time,
 * so a remote order takes the same order-check pipeline as a local one whatever the order in which apps were
 * added (VeighNa captures the methods at construction and lets RPC orders bypass a later risk manager).
 * Every event except the timer is published with the server's sequence number.
 *
 * Order ownership: the engine records which client sent each order. `cancel_policy` decides who may cancel:
 * "any" (default, VeighNa's behaviour) or "own" (only the client that sent it). A client is identified by its
 * CURVE key when it has one (the allow-list name of the key, else the key): that identity survives reconnects and
 * client restarts and cannot be claimed by anyone else. Without CURVE it is the name the client declares (not
 * authenticated), else its connection. The permissive default is deliberate: a VeighNa client without CURVE has
 * no stable identity, so a strategy process that restarts could no longer cancel its own resting orders.
 *
 * Security (`curve: true`): CURVE on both sockets with the key pair in `<home>/curve_server.key` (generated at the
 * first start, mode 0600; the public key is logged at every start and kept in `curve_server.key.pub`). With
 * `curve_allow_list` (the default) only the keys in `<home>/authorized_clients` get in; the file is read at each
 * start. NULL-mechanism (plain VeighNa) clients cannot connect to a CURVE server.
 */
import { join } from "node:path";
import {
  BaseEngine,
  CancelRequest,
  EVENT_TIMER,
  Event,
  HistoryRequest,
  LogData,
  OrderRequest,
  SubscribeRequest,
  defineMessages,
  loadJsonSetting,
  saveJsonSetting,
  type EventEngine,
  type MainEngine,
  type OrderData,
  type AppClass,
} from "../kernel/index.js";
import {
  RpcCallError,
  RpcServer,
  ZmqEndpoint,
  instanceOf,
  messageOf,
  nullable,
  str,
  type CallContext,
  type ConnectedClient,
  type Param,
  type ServerEndpoint,
  type TransportKind,
  type ZmqCurveOptions,
} from "../rpc/index.js";
import { AUTHORIZED_CLIENTS_FILE, isKeyFileExposed, loadOrCreateServerKeys, readAuthorizedClients } from "./curve-keys.js";

export const APP_NAME = "RpcService";
export const EVENT_RPC_LOG = "eRpcLog";
export const RPC_SETTING_FILENAME = "rpc_service_setting.json";
export const DEFAULT_REP_ADDRESS = "tcp://127.0.0.1:2014";
export const DEFAULT_PUB_ADDRESS = "tcp://127.0.0.1:4102";

export type CancelPolicy = "any" | "own";

/** `rpc_service_setting.json`: VeighNa's two keys, plus ours. */
export interface RpcServiceSetting {
  rep_address: string;
  pub_address: string;
  transport?: TransportKind;
  /** ms between heartbeats (VeighNa: 10,000). */
  heartbeat_interval?: number;
  cancel_policy?: CancelPolicy;
  /** CURVE encryption and authentication on both sockets (default false: VeighNa's NULL mechanism). */
  curve?: boolean;
  /** With curve: only client keys listed in `<home>/authorized_clients` may connect (default true). */
  curve_allow_list?: boolean;
}

export interface RpcStartOptions {
  transport?: TransportKind;
  heartbeatInterval?: number;
  /** Overrides the saved `curve` setting (and is saved with the others after a successful start). */
  curve?: boolean;
}

const t = defineMessages({
  en: {
    started: "RPC service started successfully",
    stopped: "RPC service stopped",
    running: "RPC service is already running",
    notStarted: "RPC service not started",
    failed: "RPC service failed to start: {error}",
    exposed: "RPC service binds {address}, reachable beyond this machine: the channel is unauthenticated and unencrypted",
    exposedOpen: "RPC service binds {address}, reachable beyond this machine: encrypted, but any client key is accepted",
    notOwner: "order {vt_orderid} was not sent by this client",
    keyCreated: "CURVE: created the server key pair in {path}",
    keyExposed: "CURVE: {path} can be read by other users; make it private (chmod 600)",
    serverKey: "CURVE server public key (clients set it as server_key): {key}",
    allowList: "CURVE: {count} client key(s) authorized in {path}",
    noAllowList: "CURVE: {path} does not exist, so no client can connect; add one with: rpcservice keys authorize <public key> --home {home}",
    anyKey: "CURVE without an allow-list: any client key is accepted (encryption and server authentication only)",
  },
  zh: {
    started: "RPC服务启动成功",
    stopped: "RPC服务已停止",
    running: "RPC服务运行中",
    notStarted: "RPC服务未启动",
    failed: "RPC服务启动失败：{error}",
    exposed: "RPC服务绑定了非本机地址{address}：通道没有认证，也没有加密",
    exposedOpen: "RPC服务绑定了非本机地址{address}：通道已加密，但接受任何客户端密钥",
    notOwner: "委托{vt_orderid}不是由该客户端发出的",
    keyCreated: "CURVE：已生成服务器密钥对 {path}",
    keyExposed: "CURVE：{path} 可被其他用户读取，请设为私有（chmod 600）",
    serverKey: "CURVE服务器公钥（客户端的server_key）：{key}",
    allowList: "CURVE：{path} 中授权了{count}个客户端密钥",
    noAllowList: "CURVE：{path} 不存在，任何客户端都无法连接；添加方法：rpcservice keys authorize <公钥> --home {home}",
    anyKey: "CURVE未启用白名单：接受任何客户端密钥（仅加密和服务器认证）",
  },
});

const p = (name: string, type: Param["type"], optional = false, defaultValue?: unknown): Param =>
  optional ? { name, type, optional, defaultValue } : { name, type };

export class RpcEngine extends BaseEngine {
  readonly server: RpcServer;
  repAddress = DEFAULT_REP_ADDRESS;
  pubAddress = DEFAULT_PUB_ADDRESS;
  transport: TransportKind | undefined;
  heartbeatInterval: number | undefined;
  cancelPolicy: CancelPolicy = "any";
  /** CURVE on both sockets, from the next start. */
  curve = false;
  /** With CURVE: only keys in `<home>/authorized_clients` may connect. */
  curveAllowList = true;
  private endpoint: ZmqEndpoint | null = null;
  /** Endpoints started and stopped with the ZeroMQ one (the console's WebSocket endpoint). */
  private readonly extraEndpoints: ServerEndpoint[] = [];
  /** vt_orderid -> the client that sent it. */
  private readonly owners = new Map<string, Owner>();
  private starting: Promise<boolean> | null = null;
  /** Why the last start failed (the transport's words: EADDRINUSE, ENOTFOUND...); null after a successful start. */
  lastStartError: string | null = null;

  constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
    super(mainEngine, eventEngine, APP_NAME);
    this.server = new RpcServer({ log: (level, message) => this.writeLog(message, level), metrics: () => mainEngine.metrics });
    this.registerFunctions();
    this.loadSetting();
    eventEngine.registerGeneral(this.processEvent);
  }

  get isActive(): boolean {
    return this.server.isActive;
  }

  /** The addresses actually bound while active (a port 0 resolved). */
  get addresses(): { rep: string; pub: string } | null {
    return this.endpoint?.addresses ?? null;
  }

  /**
   * Serves the same functions and events through one more endpoint (e.g. the WebSocket one) from the next
   * start on; started and stopped with the ZeroMQ endpoint.
   */
  addEndpoint(endpoint: ServerEndpoint): void {
    if (!this.extraEndpoints.includes(endpoint)) this.extraEndpoints.push(endpoint);
  }

  clients(): ConnectedClient[] {
    return this.server.clients();
  }

  /** Which client sent an order (its CURVE identity, else its declared name or connection id); undefined for local orders. */
  orderOwner(vt_orderid: string): string | undefined {
    return this.owners.get(vt_orderid)?.id;
  }

  /** The server's CURVE public key while running with CURVE (what clients need as `server_key`). */
  get curvePublicKey(): string | null {
    return this.endpoint?.curvePublicKey ?? null;
  }

  async start(repAddress = this.repAddress, pubAddress = this.pubAddress, options: RpcStartOptions = {}): Promise<boolean> {
    if (this.server.isActive || this.starting) {
      this.lastStartError = "the RPC service is already running";
      this.writeLog(t("running"));
      return false;
    }
    this.starting = this.doStart(repAddress, pubAddress, options);
    try {
      return await this.starting;
    } finally {
      this.starting = null;
    }
  }

  private async doStart(repAddress: string, pubAddress: string, options: RpcStartOptions): Promise<boolean> {
    const transport = options.transport ?? this.transport;
    const heartbeatInterval = options.heartbeatInterval ?? this.heartbeatInterval;
    const useCurve = options.curve ?? this.curve;
    let endpoint: ZmqEndpoint;
    try {
      const curve = useCurve ? this.curveOptions() : undefined;
      endpoint = new ZmqEndpoint({
        repAddress,
        pubAddress,
        ...(transport ? { transport } : {}),
        ...(heartbeatInterval ? { heartbeatInterval } : {}),
        ...(curve ? { curve } : {}),
      });
      await this.server.start([endpoint, ...this.extraEndpoints]);
    } catch (error) {
      this.lastStartError = messageOf(error);
      this.writeLog(t("failed", { error: this.lastStartError }), 40);
      return false;
    }
    this.lastStartError = null;
    this.endpoint = endpoint;
    this.repAddress = repAddress;
    this.pubAddress = pubAddress;
    this.curve = useCurve;
    if (useCurve) this.writeLog(t("serverKey", { key: endpoint.curvePublicKey! }));
    const guarded = useCurve && this.curveAllowList;
    for (const address of [repAddress, pubAddress]) {
      if (!guarded && !isLocalAddress(address)) this.writeLog(t(useCurve ? "exposedOpen" : "exposed", { address }), 30);
    }
    this.saveSetting();
    this.writeLog(t("started"));
    return true;
  }

  /** The server key pair (created on first use) and the allow-list, read afresh at each start. */
  private curveOptions(): ZmqCurveOptions {
    const home = this.mainEngine.home;
    const keys = loadOrCreateServerKeys(home);
    if (keys.created) this.writeLog(t("keyCreated", { path: keys.path }));
    else if (isKeyFileExposed(keys.path)) this.writeLog(t("keyExposed", { path: keys.path }), 30);
    if (!this.curveAllowList) {
      this.writeLog(t("anyKey"), 30);
      return keys.pair;
    }
    const path = join(home, AUTHORIZED_CLIENTS_FILE);
    const authorizedClients = readAuthorizedClients(path);
    if (authorizedClients === null) this.writeLog(t("noAllowList", { path, home }), 30);
    else this.writeLog(t("allowList", { count: authorizedClients.size, path }));
    return { ...keys.pair, authorizedClients: authorizedClients ?? new Map() };
  }

  async stop(): Promise<boolean> {
    if (!this.server.isActive) {
      this.writeLog(t("notStarted"));
      return false;
    }
    await this.server.stop();
    this.endpoint = null;
    this.writeLog(t("stopped"));
    return true;
  }

  override async close(): Promise<void> {
    if (this.server.isActive) await this.stop();
    this.eventEngine.unregisterGeneral(this.processEvent);
  }

  /** Logs to the RPC log (eRpcLog, as VeighNa) and to the main log. */
  writeLog(msg: string, level = 20): void {
    const log = new LogData({ msg, gateway_name: APP_NAME, level });
    this.eventEngine.put(new Event(EVENT_RPC_LOG, log));
    this.mainEngine.writeLog(msg, APP_NAME, level);
  }

  private readonly processEvent = (event: Event): void => {
    if (event.type !== EVENT_TIMER) this.server.publish(event);
  };

  private loadSetting(): void {
    const setting = loadJsonSetting<RpcServiceSetting>(this.mainEngine.home, RPC_SETTING_FILENAME);
    if (typeof setting.rep_address === "string" && setting.rep_address) this.repAddress = setting.rep_address;
    if (typeof setting.pub_address === "string" && setting.pub_address) this.pubAddress = setting.pub_address;
    if (setting.transport === "zmtp" || setting.transport === "zeromq") this.transport = setting.transport;
    if (typeof setting.heartbeat_interval === "number" && setting.heartbeat_interval > 0) this.heartbeatInterval = setting.heartbeat_interval;
    if (setting.cancel_policy === "any" || setting.cancel_policy === "own") this.cancelPolicy = setting.cancel_policy;
    if (typeof setting.curve === "boolean") this.curve = setting.curve;
    if (typeof setting.curve_allow_list === "boolean") this.curveAllowList = setting.curve_allow_list;
  }

  private saveSetting(): void {
    const setting: RpcServiceSetting = {
      rep_address: this.repAddress,
      pub_address: this.pubAddress,
      ...(this.transport ? { transport: this.transport } : {}),
      ...(this.heartbeatInterval ? { heartbeat_interval: this.heartbeatInterval } : {}),
      cancel_policy: this.cancelPolicy,
      curve: this.curve,
      curve_allow_list: this.curveAllowList,
    };
    saveJsonSetting(this.mainEngine.home, RPC_SETTING_FILENAME, setting);
  }

  private registerFunctions(): void {
    const me = (): MainEngine => this.mainEngine;
    const s = this.server;
    const vt = (name: string) => [p(name, str)];
    s.register("subscribe", [p("req", instanceOf(SubscribeRequest)), p("gateway_name", str)], ([req, gateway]) =>
      me().subscribe(req as SubscribeRequest, gateway as string).then(() => null),
    );
    s.register("send_order", [p("req", instanceOf(OrderRequest)), p("gateway_name", str)], (args, context) =>
      this.sendOrder(args[0] as OrderRequest, args[1] as string, context),
    );
    s.register("cancel_order", [p("req", instanceOf(CancelRequest)), p("gateway_name", str)], (args, context) =>
      this.cancelOrder(args[0] as CancelRequest, args[1] as string, context),
    );
    s.register("query_history", [p("req", instanceOf(HistoryRequest)), p("gateway_name", str)], ([req, gateway]) =>
      me().queryHistory(req as HistoryRequest, gateway as string),
    );
    s.register("get_tick", vt("vt_symbol"), ([id]) => me().getTick(id as string));
    s.register("get_order", vt("vt_orderid"), ([id]) => me().getOrder(id as string));
    s.register("get_trade", vt("vt_tradeid"), ([id]) => me().getTrade(id as string));
    s.register("get_position", vt("vt_positionid"), ([id]) => me().getPosition(id as string));
    s.register("get_account", vt("vt_accountid"), ([id]) => me().getAccount(id as string));
    s.register("get_contract", vt("vt_symbol"), ([id]) => me().getContract(id as string));
    s.register("get_all_ticks", [], () => me().getAllTicks());
    s.register("get_all_orders", [], () => me().getAllOrders());
    s.register("get_all_trades", [], () => me().getAllTrades());
    s.register("get_all_positions", [], () => me().getAllPositions());
    s.register("get_all_accounts", [], () => me().getAllAccounts());
    s.register("get_all_contracts", [], () => me().getAllContracts());
    // VeighNa 3.x clients pass a vt_symbol filter, 4.x clients none: accept both and apply the filter.
    s.register("get_all_active_orders", [p("vt_symbol", nullable(str), true, "")], ([symbol]) => {
      const orders = me().getAllActiveOrders();
      return symbol ? orders.filter((order: OrderData) => order.vt_symbol === symbol) : orders;
    });
  }

  private async sendOrder(req: OrderRequest, gatewayName: string, context: CallContext): Promise<string> {
    const vt_orderid = await this.mainEngine.sendOrder(req, gatewayName, { kind: "rpc", clientId: context.clientId });
    if (vt_orderid) this.owners.set(vt_orderid, ownerOf(context));
    return vt_orderid;
  }

  private async cancelOrder(req: CancelRequest, gatewayName: string, context: CallContext): Promise<null> {
    if (this.cancelPolicy === "own") {
      const vt_orderid = `${gatewayName}.${req.orderid}`;
      if (!sameOwner(this.owners.get(vt_orderid), ownerOf(context))) {
        throw new RpcCallError("ERR_RPC_FAILED", "PermissionError", t("notOwner", { vt_orderid }));
      }
    }
    await this.mainEngine.cancelOrder(req, gatewayName);
    return null;
  }
}

/** Who sent an order. Authenticated and declared names live apart: declaring "alice" does not make one alice. */
interface Owner {
  readonly id: string;
  readonly authenticated: boolean;
}

function ownerOf(context: CallContext): Owner {
  if (context.identity !== undefined) return { id: context.identity, authenticated: true };
  return { id: context.clientName ?? context.clientId, authenticated: false };
}

function sameOwner(a: Owner | undefined, b: Owner): boolean {
  return a !== undefined && a.id === b.id && a.authenticated === b.authenticated;
}

/** Loopback tcp, ipc and inproc stay on this machine; anything else is reachable from the network. */
export function isLocalAddress(address: string): boolean {
  if (address.startsWith("ipc://") || address.startsWith("inproc://")) return true;
  const match = /^tcp:\/\/(.+):[^:]+$/.exec(address);
  if (!match) return false;
  const host = match[1]!.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

export const RpcServiceApp: AppClass<RpcEngine> = {
  appName: APP_NAME,
  displayName: "RPC service",
  engineClass: RpcEngine,
};

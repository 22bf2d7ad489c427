/**
 * RpcEngine / RpcServiceApp: turn this trading process into an RPC server (vnpy_rpcservice's RpcEngine).
 *
 * The 17 functions keep VeighNa's names and positional signatures and are resolved on MainEngine at call time,
 * so a remote order takes the same order-check pipeline as a local one whatever the order in which apps were
 * added (VeighNa captures the methods at construction and lets RPC orders bypass a later risk manager).
 * Every event except the timer is published with the server's sequence number.
 *
 * Order ownership: the engine records which client sent each order. `cancel_policy` decides who may cancel:
 * "any" (default, VeighNa's behaviour) or "own" (only the client that sent it, identified by the name it declares,
 * else by its connection). The permissive default is deliberate: a VeighNa client has no stable identity, so a
 * strategy process that restarts could no longer cancel its own resting orders under "own".
 */
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
} from "../rpc/index.js";

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
}

export interface RpcStartOptions {
  transport?: TransportKind;
  heartbeatInterval?: number;
}

const t = defineMessages({
  en: {
    started: "RPC service started successfully",
    stopped: "RPC service stopped",
    running: "RPC service is already running",
    notStarted: "RPC service not started",
    failed: "RPC service failed to start: {error}",
    exposed: "RPC service binds {address}, reachable beyond this machine: the channel is unauthenticated and unencrypted",
    notOwner: "order {vt_orderid} was not sent by this client",
  },
  zh: {
    started: "RPC服务启动成功",
    stopped: "RPC服务已停止",
    running: "RPC服务运行中",
    notStarted: "RPC服务未启动",
    failed: "RPC服务启动失败：{error}",
    exposed: "RPC服务绑定了非本机地址{address}：通道没有认证，也没有加密",
    notOwner: "委托{vt_orderid}不是由该客户端发出的",
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
  private endpoint: ZmqEndpoint | null = null;
  /** Endpoints started and stopped with the ZeroMQ one (the console's WebSocket endpoint). */
  private readonly extraEndpoints: ServerEndpoint[] = [];
  /** vt_orderid -> owner key (declared client name, else connection id). */
  private readonly owners = new Map<string, string>();
  private starting: Promise<boolean> | null = null;

  constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
    super(mainEngine, eventEngine, APP_NAME);
    this.server = new RpcServer({ log: (level, message) => this.writeLog(message, level) });
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

  /** Which client sent an order (its declared name or connection id); undefined for local orders. */
  orderOwner(vt_orderid: string): string | undefined {
    return this.owners.get(vt_orderid);
  }

  async start(repAddress = this.repAddress, pubAddress = this.pubAddress, options: RpcStartOptions = {}): Promise<boolean> {
    if (this.server.isActive || this.starting) {
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
    let endpoint: ZmqEndpoint;
    try {
      endpoint = new ZmqEndpoint({
        repAddress,
        pubAddress,
        ...(transport ? { transport } : {}),
        ...(heartbeatInterval ? { heartbeatInterval } : {}),
      });
      await this.server.start([endpoint, ...this.extraEndpoints]);
    } catch (error) {
      this.writeLog(t("failed", { error: messageOf(error) }), 40);
      return false;
    }
    this.endpoint = endpoint;
    this.repAddress = repAddress;
    this.pubAddress = pubAddress;
    for (const address of [repAddress, pubAddress]) {
      if (!isLocalAddress(address)) this.writeLog(t("exposed", { address }), 30);
    }
    this.saveSetting();
    this.writeLog(t("started"));
    return true;
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
  }

  private saveSetting(): void {
    const setting: RpcServiceSetting = {
      rep_address: this.repAddress,
      pub_address: this.pubAddress,
      ...(this.transport ? { transport: this.transport } : {}),
      ...(this.heartbeatInterval ? { heartbeat_interval: this.heartbeatInterval } : {}),
      cancel_policy: this.cancelPolicy,
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
    if (vt_orderid) this.owners.set(vt_orderid, ownerKey(context));
    return vt_orderid;
  }

  private async cancelOrder(req: CancelRequest, gatewayName: string, context: CallContext): Promise<null> {
    if (this.cancelPolicy === "own") {
      const vt_orderid = `${gatewayName}.${req.orderid}`;
      if (this.owners.get(vt_orderid) !== ownerKey(context)) {
        throw new RpcCallError("ERR_RPC_FAILED", "PermissionError", t("notOwner", { vt_orderid }));
      }
    }
    await this.mainEngine.cancelOrder(req, gatewayName);
    return null;
  }
}

function ownerKey(context: CallContext): string {
  return context.clientName ?? context.clientId;
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

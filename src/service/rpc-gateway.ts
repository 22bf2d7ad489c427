/**
 * RpcGateway: a remote RPC server seen as a local broker (vnpy_rpcservice's RpcGateway, without its defects).
 *
 * `connect` returns at once; the client connects in the background and, on every (re)connection, server restart
 * or gap in the event stream, takes a fresh snapshot: contracts -> accounts -> positions -> orders -> trades, each
 * with a log line, then re-subscribes market data. Pushed events that arrive during a snapshot are held back and
 * replayed afterwards, except those the snapshot already contains (their seq is not above the seq its reply
 * carried), so an older snapshot never overwrites a newer update. Trades already seen are not emitted twice.
 *
 * Naming. Everything from the server is relabelled consistently: `gateway_name` becomes this gateway's name,
 * every vt id is rebuilt from it, and specific events are re-derived locally, so `eOrder.RPC.<id>` listeners fire
 * for pushed updates. Server vt ids are split at the first dot. When the server runs a single gateway, ids keep
 * their server form: server `SIM.42` is `RPC.42` here. When it runs several (seen in the contract snapshot, or
 * forced with `namespace: "prefixed"`), every local id carries its server gateway: orderid, tradeid, quoteid
 * and accountid become `<serverGateway>:<id>` (`RPC.CTP:42`, `RPC.CTP2:42`) and a position is
 * `RPC.<serverGateway>:<vt_symbol>.<direction>`, so two accounts never collide. The mode is fixed for the life of
 * the gateway (ids must not change under a running strategy). A vt_symbol has one home: the server gateway of
 * the first contract seen for it (the server's own contract table keeps one per vt_symbol, the last published,
 * as VeighNa's OmsEngine does). Orders, subscriptions and history go there, and ticks and contract updates for
 * that vt_symbol from another server gateway (another venue, other prices) are not passed on. Cancels go back
 * to the gateway that holds the order; orders, trades, positions and accounts of every gateway are passed on.
 *
 * CURVE (a server with `curve: true`): `server_key` (服务器公钥) is the server's public key; our own key pair comes
 * from `key_file` (客户端密钥文件, written by `rpcservice keys generate`) or `secret_key`. Without either, a one-off
 * key pair is made: enough for a server without allow-list, but the server cannot recognise us after a restart.
 */
import { Type, type Static } from "@sinclair/typebox";
import {
  AccountData,
  BaseGateway,
  BarData,
  CancelRequest,
  ContractData,
  EVENT_ACCOUNT,
  EVENT_CONTRACT,
  EVENT_GATEWAY_STATE,
  EVENT_LOG,
  EVENT_ORDER,
  EVENT_POSITION,
  EVENT_QUOTE,
  EVENT_TICK,
  EVENT_TIMER,
  EVENT_TRADE,
  Exchange,
  LogData,
  OrderData,
  PositionData,
  QuoteData,
  Status,
  TickData,
  TradeData,
  defineMessages,
  parseSettings,
  type Event,
  type GatewaySetting,
  type HistoryRequest,
  type OrderRequest,
  type SubscribeRequest,
  ERROR,
  INFO,
  WARNING,
  messageOf,
} from "../kernel/index.js";
import {
  RpcClient,
  WsRpcClient,
  NatsRpcClient,
  DEFAULT_NATS_SERVER_NAME,
  type NatsRpcClientOptions,
  isCurveKey,
  type ConnectionState,
  type RpcCaller,
  type StreamEvent,
  type RpcClientCurve,
  type TransportKind,
} from "../rpc/index.js";
import { curveKeyPair, curvePublicKey } from "../zmtp/index.js";
import { readKeyFile } from "./curve-keys.js";
import { GatewayNotReadyError, ResyncMachine, type ResyncCause, type SyncState, type SyncStatus } from "./resync.js";
import { DEFAULT_PUB_ADDRESS, DEFAULT_REP_ADDRESS } from "./rpc-engine.js";

export const EVENT_RPC_CONNECTION = "eRpcConnection";
export const REQ_ADDRESS_KEY = "主动请求地址";
export const SUB_ADDRESS_KEY = "推送订阅地址";
/** CURVE: the server's public key (English key: server_key). */
export const SERVER_KEY_KEY = "服务器公钥";
/** CURVE: our secret key file (English key: key_file). */
export const KEY_FILE_KEY = "客户端密钥文件";

/** A client connects where the server binds by default (VeighNa's client defaults too). */
export const DEFAULT_REQ_ADDRESS = DEFAULT_REP_ADDRESS;
export const DEFAULT_SUB_ADDRESS = DEFAULT_PUB_ADDRESS;

export type NamespaceMode = "auto" | "flat" | "prefixed";

/**
 * What `eRpcConnection` carries on every state change of the gateway: connecting -> connected -> syncing -> synced,
 * stale (the server is quiet, or a snapshot failed and will be retried), disconnected (with the reason).
 */
declare module "../kernel/event-types.js" {
  interface EventMap {
    eRpcConnection: RpcConnectionStatus;
    eRpcLog: LogData;
  }
}

export interface RpcConnectionStatus {
  readonly gateway_name: string;
  readonly state: SyncState;
  readonly previous: SyncState;
  readonly reason: string;
  /** When the next attempt (to connect, or to take the snapshot) is due, epoch ms; null if none is scheduled. */
  readonly next_retry: number | null;
  /** Orders may be routed (SyncStatus.ordersOpen): synced, or resyncing the same server run's event stream. */
  readonly orders_open: boolean;
}

/** How long `ready()` waits by default, ms. */
export const DEFAULT_READY_TIMEOUT = 30_000;

const messages = defineMessages({
  en: {
    connecting: "Connecting to the RPC server {req} / {sub}",
    connected: "Server connected, starting initial queries",
    state: "RPC connection {state}: {reason}",
    stateRetry: "RPC connection {state}: {reason} (next try at {at})",
    resync: "Resynchronising ({reason}: {detail})",
    contracts: "Contracts queried",
    accounts: "Accounts queried",
    positions: "Positions queried",
    orders: "Orders queried",
    trades: "Trades queried",
    snapshotFailed: "Initial queries failed ({error}); retrying",
    unknownSymbol: "No server gateway lists contract {vt_symbol}",
    callFailed: "{name} failed: {error}",
    secondGateway: "The server has another gateway ({name}) but ids are in flat mode; set namespace to \"prefixed\"",
    badSetting: "Invalid RPC gateway setting: {detail}",
    curveOn: "CURVE on, our public key: {key}",
    vanished: "Order {vt_orderid} is no longer listed by the server after a resync; marked cancelled",
    oneOffKey: "CURVE: no key_file or secret_key given, using a one-off key pair (a server with an allow-list will refuse it)",
  },
  zh: {
    connecting: "连接RPC服务器 {req} / {sub}",
    connected: "服务器连接成功，开始初始化查询",
    state: "RPC连接{state}：{reason}",
    stateRetry: "RPC连接{state}：{reason}（{at}重试）",
    resync: "重新同步（{reason}：{detail}）",
    contracts: "合约信息查询成功",
    accounts: "资金信息查询成功",
    positions: "持仓信息查询成功",
    orders: "委托信息查询成功",
    trades: "成交信息查询成功",
    snapshotFailed: "初始化查询失败（{error}），稍后重试",
    unknownSymbol: "服务器没有合约{vt_symbol}",
    callFailed: "{name}失败：{error}",
    secondGateway: "服务器有另一个接口（{name}），但编号为扁平模式；请将namespace设为\"prefixed\"",
    badSetting: "RPC接口配置无效：{detail}",
    curveOn: "已启用CURVE，本机公钥：{key}",
    vanished: "重新同步后服务器不再有委托{vt_orderid}，标记为已撤销",
    oneOffKey: "CURVE：未设置key_file或secret_key，使用临时密钥对（有白名单的服务器会拒绝）",
  },
});

type Family = "contract" | "account" | "position" | "order" | "trade" | "quote";
const FAMILY_OF_TYPE: Readonly<Record<string, Family>> = {
  [EVENT_CONTRACT]: "contract",
  [EVENT_ACCOUNT]: "account",
  [EVENT_POSITION]: "position",
  [EVENT_ORDER]: "order",
  [EVENT_TRADE]: "trade",
  [EVENT_QUOTE]: "quote",
};
const SPECIFIC_PREFIXES = [EVENT_TICK, EVENT_ORDER, EVENT_TRADE, EVENT_POSITION, EVENT_ACCOUNT, EVENT_QUOTE];

/** `eTick.rb2501.SHFE` and the like: re-derived locally with local ids, so the server's copy is never used. */
function isSpecificTwin(type: string): boolean {
  for (const prefix of SPECIFIC_PREFIXES) if (type.length > prefix.length && type.startsWith(prefix)) return true;
  return false;
}

const text = Type.Optional(Type.String());
/** A CURVE key in Z85: 40 characters of its alphabet ("" for none). */
const curveKey = Type.Optional(Type.String({ pattern: "^([0-9a-zA-Z.:+=^!/*?&<>()\\[\\]{}@%$#-]{40})?$", errorMessage: "must be a CURVE key: 40 Z85 characters" }));

/**
 * What `connect` takes (and a gateway file of kind `rpc`): VeighNa's Chinese keys beside the English ones, CURVE,
 * the transport, and the NATS client's keys. Closed: an unknown key is refused (it is usually a typo).
 */
export const RpcGatewaySettingSchema = Type.Object(
  {
    req_address: text,
    sub_address: text,
    [REQ_ADDRESS_KEY]: text,
    [SUB_ADDRESS_KEY]: text,
    server_key: curveKey,
    [SERVER_KEY_KEY]: curveKey,
    key_file: text,
    [KEY_FILE_KEY]: text,
    secret_key: curveKey,
    token: text,
    client_name: text,
    transport: Type.Optional(Type.Union([Type.Literal("zmtp"), Type.Literal("zeromq")])),
    namespace: Type.Optional(Type.Union([Type.Literal("auto"), Type.Literal("flat"), Type.Literal("prefixed")])),
    timeout: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    heartbeat_tolerance: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    server_name: text,
    nats_user: text,
    nats_password: text,
    nats_creds: text,
    history: Type.Optional(Type.Union([Type.Literal("all"), Type.Literal("new")])),
  },
  { additionalProperties: false },
);
/** Settings whose values are never echoed in an error or a listing. */
export const RPC_GATEWAY_SECRETS: readonly string[] = ["secret_key", "token", "nats_password"];

export class RpcGateway extends BaseGateway {
  private readonly t = messages.in(this.language);
  static override readonly defaultName = "RPC";
  static override readonly defaultSetting: Readonly<GatewaySetting> = {
    [REQ_ADDRESS_KEY]: DEFAULT_REQ_ADDRESS,
    [SUB_ADDRESS_KEY]: DEFAULT_SUB_ADDRESS,
    [SERVER_KEY_KEY]: "",
    [KEY_FILE_KEY]: "",
  };
  static override readonly exchanges: readonly Exchange[] = Object.values(Exchange);

  client: RpcCaller | null = null;
  private namespace: NamespaceMode = "auto";
  private prefixed = false;
  private namespaceDecided = false;
  /** vt_symbol -> server gateway that listed it first. */
  private readonly symbolGateway = new Map<string, string>();
  /** local orderid -> server gateway (flat mode needs it to route cancels). */
  private readonly orderGateway = new Map<string, string>();
  private readonly serverGateways = new Set<string>();
  private readonly subscriptions = new Map<string, SubscribeRequest>();
  private readonly seenTrades = new Set<string>();
  private readonly lastOrderState = new Map<string, string>();
  /** Orders last seen active, by local vt_orderid: a snapshot that no longer lists one corrects it. */
  private readonly activeOrders = new Map<string, OrderData>();

  private sync: ResyncMachine | null = null;
  /** While a snapshot runs, pushed events of its families wait in `held`. */
  private holding = false;
  private held: StreamEvent[] = [];
  /** Per family, the seq the snapshot reply carried during the current sync. */
  private snapshotSeq = new Map<Family, number>();

  /** Starts connecting and returns at once; progress arrives as log lines and eRpcConnection events. */
  connect(setting: GatewaySetting): void {
    let checked: Static<typeof RpcGatewaySettingSchema>;
    try {
      checked = parseSettings(RpcGatewaySettingSchema, setting, "RPC setting", undefined, { text: true, secrets: RPC_GATEWAY_SECRETS });
    } catch (error) {
      this.writeLog(this.t("badSetting", { detail: messageOf(error) }), ERROR);
      return;
    }
    setting = checked as GatewaySetting;
    const req = pickString(setting, ["req_address", REQ_ADDRESS_KEY]) ?? DEFAULT_REQ_ADDRESS;
    const sub = pickString(setting, ["sub_address", SUB_ADDRESS_KEY]) ?? DEFAULT_SUB_ADDRESS;
    if (this.client) return; // already connected or connecting: VeighNa's no-op
    let curve: RpcClientCurve | undefined;
    try {
      curve = this.curveSetting(setting);
    } catch (error) {
      this.writeLog(this.t("badSetting", { detail: messageOf(error) }), ERROR);
      return;
    }
    this.namespace = checked.namespace ?? "auto";
    if (this.namespace !== "auto") {
      this.prefixed = this.namespace === "prefixed";
      this.namespaceDecided = true;
    }
    const client = createCaller(req, sub, setting, curve);
    this.sync = new ResyncMachine(client, (cause) => this.resync(client, cause), (status) => this.onStatus(status));
    client.on("event", (pushed) => this.onPushed(pushed));
    client.on("warning", (message) => this.writeLog(message, WARNING));
    this.client = client;
    this.writeLog(this.t("connecting", { req, sub }));
    if (curve) this.writeLog(this.t("curveOn", { key: curvePublicKey(curve.secretKey) }));
    client.start();
  }

  /** CURVE settings, or undefined without a server key; throws on a malformed key or an unreadable key file. */
  private curveSetting(setting: GatewaySetting): RpcClientCurve | undefined {
    const serverKey = pickString(setting, ["server_key", SERVER_KEY_KEY]);
    if (serverKey === undefined) return undefined;
    if (!isCurveKey(serverKey)) throw new Error(`server_key is not a CURVE public key (40 Z85 characters)`);
    const keyFile = pickString(setting, ["key_file", KEY_FILE_KEY]);
    const secretKey = pickString(setting, ["secret_key"]);
    if (keyFile !== undefined) return { serverKey, secretKey: readKeyFile(keyFile).secretKey };
    if (secretKey !== undefined) {
      if (!isCurveKey(secretKey)) throw new Error("secret_key is not a CURVE secret key (40 Z85 characters)");
      return { serverKey, secretKey };
    }
    this.writeLog(this.t("oneOffKey"), WARNING);
    return { serverKey, secretKey: curveKeyPair().secretKey };
  }

  /** Returns within a second: sockets close with zero linger. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.sync?.close();
    await client?.close();
  }

  /** The transport's state (connecting, connected, stale, disconnected). */
  get connectionState(): ConnectionState {
    return this.client?.state ?? "disconnected";
  }

  /** Where the gateway stands: the transport's state, or syncing / synced once connected. */
  get syncState(): SyncState {
    return this.sync?.state ?? "disconnected";
  }

  /**
   * Resolves once the snapshot is in (state "synced"): orders can be routed, positions and orders are current.
   * Rejects with GatewayNotReadyError after `timeout` ms (the error names the state and the last failure), or at
   * once when `connect` was not called.
   */
  ready(timeout = DEFAULT_READY_TIMEOUT): Promise<void> {
    if (!this.sync) return Promise.reject(new GatewayNotReadyError("connect() was not called (or the gateway was closed)", "disconnected"));
    return this.sync.ready(timeout);
  }

  async subscribe(req: SubscribeRequest): Promise<void> {
    this.subscriptions.set(req.vt_symbol, req);
    const gateway = this.symbolGateway.get(req.vt_symbol);
    if (gateway === undefined) {
      // Remembered: it is sent once a contract for it shows up.
      this.writeLog(this.t("unknownSymbol", { vt_symbol: req.vt_symbol }), WARNING);
      return;
    }
    await this.remote("subscribe", [req, gateway]);
  }

  async sendOrder(req: OrderRequest): Promise<string> {
    const gateway = this.symbolGateway.get(req.vt_symbol);
    if (gateway === undefined) {
      this.writeLog(this.t("unknownSymbol", { vt_symbol: req.vt_symbol }), WARNING);
      return "";
    }
    const serverId = await this.remote<string>("send_order", [req, gateway]);
    if (typeof serverId !== "string" || !serverId) return "";
    const { gateway: serverGateway, id } = splitVtId(serverId);
    const orderid = this.localId(serverGateway, id);
    this.orderGateway.set(orderid, serverGateway);
    return `${this.gatewayName}.${orderid}`;
  }

  async cancelOrder(req: CancelRequest): Promise<void> {
    const { gateway, id } = this.serverRef(req.orderid, req.vt_symbol);
    if (!gateway) {
      this.writeLog(this.t("unknownSymbol", { vt_symbol: req.vt_symbol }), WARNING);
      return;
    }
    await this.remote("cancel_order", [new CancelRequest({ orderid: id, symbol: req.symbol, exchange: req.exchange }), gateway]);
  }

  override async queryHistory(req: HistoryRequest): Promise<BarData[]> {
    const gateway = this.symbolGateway.get(req.vt_symbol);
    if (gateway === undefined) return [];
    const bars = await this.remote<unknown>("query_history", [req, gateway]);
    if (!Array.isArray(bars)) return [];
    return bars.filter((bar): bar is BarData => bar instanceof BarData).map((bar) => {
      bar.gateway_name = this.gatewayName;
      return bar;
    });
  }

  // The snapshot keeps accounts and positions current; VeighNa's RpcGateway has these as no-ops too.
  queryAccount(): void {}
  queryPosition(): void {}

  // ---- connection and snapshot -------------------------------------------------------------------------------

  private onStatus(status: SyncStatus): void {
    const { state, previous, reason, nextRetry, ordersOpen } = status;
    const at = nextRetry !== null ? new Date(nextRetry).toISOString().slice(11, 23) : "";
    const line = at ? this.t("stateRetry", { state, reason, at }) : this.t("state", { state, reason });
    this.writeLog(line, state === "disconnected" || state === "stale" ? WARNING : INFO);
    const event: RpcConnectionStatus = { gateway_name: this.gatewayName, state, previous, reason, next_retry: nextRetry, orders_open: ordersOpen };
    this.onEvent(EVENT_RPC_CONNECTION, event);
  }

  /** One full snapshot, run by the ResyncMachine (which retries it until it succeeds). */
  private async resync(client: RpcCaller, cause: ResyncCause): Promise<void> {
    this.held = [];
    this.holding = true;
    this.snapshotSeq = new Map();
    if (cause.reason === "connected") this.writeLog(this.t("connected"));
    else this.writeLog(this.t("resync", { reason: cause.reason, detail: cause.detail }));
    try {
      await this.snapshot(client, "get_all_contracts", "contract", "contracts", (c: ContractData) => this.applyContract(c));
      await this.snapshot(client, "get_all_accounts", "account", "accounts", (a: AccountData) => this.applyAccount(a));
      await this.snapshot(client, "get_all_positions", "position", "positions", (p: PositionData) => this.applyPosition(p));
      await this.snapshot(client, "get_all_orders", "order", "orders", (o: OrderData) => this.applyOrder(o));
      await this.snapshot(client, "get_all_trades", "trade", "trades", (tr: TradeData) => this.applyTrade(tr));
      // A restarted server has forgotten our market data subscriptions; subscribing twice is harmless.
      for (const req of this.subscriptions.values()) {
        const gateway = this.symbolGateway.get(req.vt_symbol);
        if (gateway !== undefined) await client.call("subscribe", [req, gateway]);
      }
    } catch (error) {
      this.writeLog(this.t("snapshotFailed", { error: messageOf(error) }), ERROR);
      throw error;
    } finally {
      this.holding = false;
      this.replayHeld();
    }
  }

  private async snapshot<T>(
    client: RpcCaller,
    name: string,
    family: Family,
    message: "contracts" | "accounts" | "positions" | "orders" | "trades",
    apply: (item: T) => void,
  ): Promise<void> {
    const { value, position } = await client.callWithPosition<unknown>(name, []);
    if (position) this.snapshotSeq.set(family, position.seq);
    const items = Array.isArray(value) ? (value as T[]) : [];
    if (family === "contract") this.decideNamespace(items as ContractData[]);
    for (const item of items) apply(item);
    if (family === "order") this.closeVanishedOrders(items as OrderData[]);
    this.writeLog(this.t(message));
  }

  private decideNamespace(contracts: readonly ContractData[]): void {
    if (this.namespaceDecided) return;
    const names = new Set(contracts.map((c) => c.gateway_name));
    this.prefixed = names.size > 1;
    this.namespaceDecided = true;
  }

  private replayHeld(): void {
    const held = this.held;
    this.held = [];
    for (const pushed of held) {
      const family = FAMILY_OF_TYPE[pushed.event.type];
      const covered = family !== undefined ? this.snapshotSeq.get(family) : undefined;
      if (pushed.seq !== null && covered !== undefined && pushed.seq <= covered) continue;
      this.applyEvent(pushed.event);
    }
  }

  // ---- pushed events -----------------------------------------------------------------------------------------

  private onPushed(pushed: StreamEvent): void {
    if (this.holding && FAMILY_OF_TYPE[pushed.event.type] !== undefined) {
      this.held.push(pushed);
      return;
    }
    // Handled before the next event of the same socket read is decoded (see EventEngine.deliver).
    this.eventEngine.deliver(this.applyEvent, pushed.event);
  }

  /** Bound once (an arrow), so `deliver` takes it without a closure per event. */
  private readonly applyEvent = (event: Event): void => {
    const { type, data } = event;
    switch (type) {
      case EVENT_TICK:
        if (data instanceof TickData) {
          if (!this.isHome(data.gateway_name, data.vt_symbol)) return;
          data.gateway_name = this.gatewayName;
          this.onTick(data);
        }
        return;
      case EVENT_ORDER:
        if (data instanceof OrderData) this.applyOrder(data);
        return;
      case EVENT_TRADE:
        if (data instanceof TradeData) this.applyTrade(data);
        return;
      case EVENT_POSITION:
        if (data instanceof PositionData) this.applyPosition(data);
        return;
      case EVENT_ACCOUNT:
        if (data instanceof AccountData) this.applyAccount(data);
        return;
      case EVENT_CONTRACT:
        if (data instanceof ContractData) this.applyContract(data);
        return;
      case EVENT_QUOTE:
        if (data instanceof QuoteData) this.applyQuote(data);
        return;
      case EVENT_LOG:
        if (data instanceof LogData) {
          // Keep where the line came from: "RPC.MainEngine", "RPC.SIM".
          data.gateway_name = `${this.gatewayName}.${data.gateway_name}`;
          this.onLog(data);
        }
        return;
      case EVENT_TIMER:
      // The server's own links (a relay's upstream): not ours, and same-named ones would be taken for ours.
      case EVENT_RPC_CONNECTION:
      case EVENT_GATEWAY_STATE:
        return;
    }
    // Specific twins are re-derived locally with local ids by the on* methods above.
    if (isSpecificTwin(type)) return;
    this.onEvent(type, data);
  };

  private applyContract(contract: ContractData): void {
    const serverGateway = contract.gateway_name;
    this.noteServerGateway(serverGateway);
    const known = this.symbolGateway.has(contract.vt_symbol);
    if (!known) this.symbolGateway.set(contract.vt_symbol, serverGateway);
    else if (!this.isHome(serverGateway, contract.vt_symbol)) return; // the same symbol at another venue
    contract.gateway_name = this.gatewayName;
    this.onContract(contract);
    // A contract that appeared after connect becomes routable; a pending subscription can go now.
    const pending = this.subscriptions.get(contract.vt_symbol);
    if (!known && pending && !this.holding) void this.remote("subscribe", [pending, serverGateway]);
  }

  private applyAccount(account: AccountData): void {
    const serverGateway = account.gateway_name;
    this.noteServerGateway(serverGateway);
    account.accountid = this.localId(serverGateway, account.accountid);
    account.gateway_name = this.gatewayName;
    account.vt_accountid = `${this.gatewayName}.${account.accountid}`;
    this.onAccount(account);
  }

  private applyPosition(position: PositionData): void {
    const serverGateway = position.gateway_name;
    position.gateway_name = this.gatewayName;
    const scope = this.prefixed ? `${serverGateway}:` : "";
    position.vt_positionid = `${this.gatewayName}.${scope}${position.vt_symbol}.${position.direction}`;
    this.onPosition(position);
  }

  private applyOrder(order: OrderData): void {
    const serverGateway = order.gateway_name;
    order.orderid = this.localId(serverGateway, order.orderid);
    order.gateway_name = this.gatewayName;
    order.vt_orderid = `${this.gatewayName}.${order.orderid}`;
    this.orderGateway.set(order.orderid, serverGateway);
    // A resync re-sends every order; an unchanged one is not news.
    const state = `${order.status}|${order.traded}`;
    if (this.lastOrderState.get(order.vt_orderid) === state) return;
    this.lastOrderState.set(order.vt_orderid, state);
    if (order.isActive()) this.activeOrders.set(order.vt_orderid, order);
    else this.activeOrders.delete(order.vt_orderid);
    this.onOrder(order);
  }

  /**
   * An order we hold as active that the server's full order list no longer has (a restarted VeighNa process
   * forgot it) is not working anywhere we can see: it is pushed as cancelled with a warning, so no client keeps
   * a stale "active" order. Its applied form is what the snapshot listed, relabelled in place by applyOrder;
   * the stored order is already in local form.
   */
  private closeVanishedOrders(listed: readonly OrderData[]): void {
    const present = new Set(listed.map((order) => order.vt_orderid));
    for (const [vt_orderid, order] of this.activeOrders) {
      if (present.has(vt_orderid)) continue;
      const closed = Object.assign(Object.create(Object.getPrototypeOf(order) as object) as OrderData, order, { status: Status.CANCELLED });
      this.activeOrders.delete(vt_orderid);
      this.lastOrderState.set(vt_orderid, `${closed.status}|${closed.traded}`);
      this.writeLog(this.t("vanished", { vt_orderid }), WARNING);
      this.onOrder(closed);
    }
  }

  private applyTrade(trade: TradeData): void {
    const serverGateway = trade.gateway_name;
    trade.orderid = this.localId(serverGateway, trade.orderid);
    trade.tradeid = this.localId(serverGateway, trade.tradeid);
    trade.gateway_name = this.gatewayName;
    trade.vt_orderid = `${this.gatewayName}.${trade.orderid}`;
    trade.vt_tradeid = `${this.gatewayName}.${trade.tradeid}`;
    // A trade must reach a strategy once, or its position count drifts.
    if (this.seenTrades.has(trade.vt_tradeid)) return;
    this.seenTrades.add(trade.vt_tradeid);
    this.onTrade(trade);
  }

  private applyQuote(quote: QuoteData): void {
    const serverGateway = quote.gateway_name;
    quote.quoteid = this.localId(serverGateway, quote.quoteid);
    quote.gateway_name = this.gatewayName;
    quote.vt_quoteid = `${this.gatewayName}.${quote.quoteid}`;
    this.onQuote(quote);
  }

  // ---- naming ------------------------------------------------------------------------------------------------

  private noteServerGateway(name: string): void {
    if (this.serverGateways.has(name)) return;
    this.serverGateways.add(name);
    if (this.namespaceDecided && !this.prefixed && this.serverGateways.size > 1) {
      this.writeLog(this.t("secondGateway", { name }), WARNING);
    }
  }

  /** Whether market data of `vt_symbol` from this server gateway is ours: it is the one orders go to. */
  private isHome(serverGateway: string, vt_symbol: string): boolean {
    const home = this.symbolGateway.get(vt_symbol);
    return home === undefined || home === serverGateway;
  }

  private localId(serverGateway: string, id: string): string {
    return this.prefixed ? `${serverGateway}:${id}` : id;
  }

  /** The server gateway and server-side id behind a local orderid. */
  private serverRef(localOrderid: string, vt_symbol: string): { gateway: string | undefined; id: string } {
    if (this.prefixed) {
      const colon = localOrderid.indexOf(":");
      if (colon > 0) return { gateway: localOrderid.slice(0, colon), id: localOrderid.slice(colon + 1) };
    }
    return { gateway: this.orderGateway.get(localOrderid) ?? this.symbolGateway.get(vt_symbol), id: localOrderid };
  }

  /** A call that logs its failure instead of throwing into a strategy (VeighNa's contract: "" / no-op). */
  private async remote<T = unknown>(name: string, args: readonly unknown[]): Promise<T | undefined> {
    const client = this.client;
    if (!client) return undefined;
    try {
      return await client.call<T>(name, args);
    } catch (error) {
      this.writeLog(this.t("callFailed", { name, error: messageOf(error) }), ERROR);
      return undefined;
    }
  }
}

/**
 * The RpcCaller for a request address: ws:// and wss:// mean the native WebSocket endpoint (one connection, JSON,
 * no subscribe address); nats:// (a comma-separated list of cluster nodes) a server named `server_name` on a NATS
 * bus; anything else is VeighNa's two ZeroMQ sockets.
 */
function createCaller(req: string, sub: string, setting: GatewaySetting, curve: RpcClientCurve | undefined): RpcCaller {
  const timeout = setting["timeout"];
  const common = {
    ...(typeof timeout === "number" && timeout > 0 ? { timeout } : {}),
    ...(typeof setting["client_name"] === "string" && setting["client_name"] ? { name: setting["client_name"] } : {}),
  };
  if (/^(nats|tls):\/\//.test(req)) return new NatsRpcClient({ ...natsClientSetting(req, setting), ...common });
  if (/^wss?:\/\//.test(req)) {
    return new WsRpcClient({
      url: req,
      ...(typeof setting["token"] === "string" && setting["token"] ? { token: setting["token"] } : {}),
      ...common,
    });
  }
  const transport = setting["transport"];
  return new RpcClient({
    reqAddress: req,
    subAddress: sub,
    ...(transport ? { transport: transport as TransportKind } : {}),
    ...common,
    ...(typeof setting["heartbeat_tolerance"] === "number" ? { heartbeatTolerance: setting["heartbeat_tolerance"] } : {}),
    // VeighNa servers publish every event twice (generic + specific); half the decoding is saved here, and our
    // servers do not even send the specific ticks.
    skipEvent: isSpecificTwin,
    specificTicks: false,
    ...(curve ? { curve } : {}),
  });
}

/**
 * A NATS client's settings: `server_name`, and `nats_user`/`nats_password` or `nats_creds` when the bus wants them;
 * `nats_inbox_prefix` where replies come (default `_INBOX.<nats_user>`; set it with a credentials file).
 */
function natsClientSetting(servers: string, setting: GatewaySetting): NatsRpcClientOptions {
  const user = pickString(setting, ["nats_user"]);
  const pass = pickString(setting, ["nats_password"]);
  const creds = pickString(setting, ["nats_creds"]);
  const inboxPrefix = pickString(setting, ["nats_inbox_prefix"]);
  const history = setting["history"];
  return {
    servers,
    server: pickString(setting, ["server_name"]) ?? DEFAULT_NATS_SERVER_NAME,
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { pass } : {}),
    ...(creds !== undefined ? { credsFile: creds } : {}),
    ...(inboxPrefix !== undefined ? { inboxPrefix } : {}),
    ...(history === "all" || history === "new" ? { history } : {}),
  };
}

function pickString(setting: GatewaySetting, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = setting[key];
    if (typeof value === "string" && value.trim()) return value.trim();
  }
  return undefined;
}

/** Splits a server vt id at the first dot: the gateway name never contains one, the id may. */
export function splitVtId(vtId: string): { gateway: string; id: string } {
  const dot = vtId.indexOf(".");
  return dot < 0 ? { gateway: "", id: vtId } : { gateway: vtId.slice(0, dot), id: vtId.slice(dot + 1) };
}

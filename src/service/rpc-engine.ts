/**
 * RpcEngine / RpcServiceApp: turn this trading process into an RPC server (vnpy_rpcservice's RpcEngine).
 *
 * The 17 functions keep VeighNa's names and positional signatures and are resolved on MainEngine at call time,
 * so a remote order takes the same order-check pipeline as a local one whatever the order in which apps were
 * added (VeighNa captures the methods at construction and lets RPC orders bypass a later risk manager).
 * Every event except the timer and eOrderBlocked (isLocalEvent) is published with the server's sequence number.
 *
 * Order ownership: the engine records which client sent each order. `cancel_policy` decides who may cancel:
 * "any" (default, VeighNa's behaviour) or "own" (only the client that sent it). A client is identified by its
 * CURVE key when it has one (the allow-list name of the key, else the key): that identity survives reconnects and
 * client restarts and cannot be claimed by anyone else. Without CURVE it is the name the client declares (not
 * authenticated), else its connection. The permissive default is deliberate: a VeighNa client without CURVE has
 * no stable identity, so a strategy process that restarts could no longer cancel its own resting orders.
 *
 * Roles, limits and the audit trail (access.ts) apply to every call on every endpoint: each identity (a CURVE
 * key's allow-list name, a console user) is a viewer, trader or admin (roles.ts); clients that prove no identity
 * get `anonymous_role` (default trader, VeighNa's behaviour). An authenticated trader cancels only its own
 * orders; an anonymous one follows `cancel_policy`; an admin cancels any. Every state-changing or refused call
 * is a row in `<home>/audit.db`, which also keeps order ownership across restarts.
 *
 * Security (`curve: true`): CURVE on both sockets with the key pair in `<home>/curve_server.key` (generated at the
 * first start, mode 0600; the public key is logged at every start and kept in `curve_server.key.pub`). With
 * `curve_allow_list` (the default) only the keys in `<home>/authorized_clients` get in; the file is read at each
 * start and again whenever it changes: a key removed is refused at once and its connections are closed.
 * NULL-mechanism (plain VeighNa) clients cannot connect to a CURVE server.
 */
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import {
  BaseEngine,
  CancelRequest,
  isLocalEvent,
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
  boundLogMessage,
  ERROR,
  INFO,
  WARNING,
  messageOf,
} from "../kernel/index.js";
import {
  RpcCallError,
  RpcServer,
  ZmqEndpoint,
  NatsEndpoint,
  DEFAULT_NATS_SERVER_NAME,
  type NatsStreamState,
  instanceOf,
  nullable,
  str,
  type CallContext,
  type ConnectedClient,
  type Param,
  type ServerEndpoint,
  type TransportKind,
  type ZmqCurveOptions,
} from "../rpc/index.js";
import { AUTHORIZED_CLIENTS_FILE, isKeyFileExposed, loadOrCreateServerKeys, readAuthorizedClientEntries } from "./curve-keys.js";
import { AccessControl, DEFAULT_ACCESS, type AccessSettings } from "./access.js";
import { AuditTrail } from "./audit.js";
import { ClientKeyFile } from "./client-keys.js";
import { ConsoleUsers } from "./console-users.js";
import { ClientLimits, DEFAULT_CLIENT_LIMITS, parseClientLimits, type ClientLimitSettings } from "./limits.js";
import { isRole, roleAllows, type Role } from "./roles.js";

export const APP_NAME = "RpcService";
export const EVENT_RPC_LOG = "eRpcLog";
export const RPC_SETTING_FILENAME = "rpc_service_setting.json";
export const DEFAULT_REP_ADDRESS = "tcp://127.0.0.1:2014";
export const DEFAULT_PUB_ADDRESS = "tcp://127.0.0.1:4102";

export type CancelPolicy = "any" | "own";

/** What `rpc_service_setting.json` may hold: every key optional, every value of its type, no unknown key (else the start stops). */
const RoleSchema = Type.Union([Type.Literal("viewer"), Type.Literal("trader"), Type.Literal("admin")]);

export const RpcServiceSettingSchema = Type.Object({
  rep_address: Type.Optional(Type.String({ minLength: 1 })),
  pub_address: Type.Optional(Type.String({ minLength: 1 })),
  transport: Type.Optional(Type.Union([Type.Literal("zmtp"), Type.Literal("zeromq")])),
  heartbeat_interval: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  publish_queue_messages: Type.Optional(Type.Integer({ minimum: 1 })),
  publish_queue_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
  publish_max_lag_ms: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  cancel_policy: Type.Optional(Type.Union([Type.Literal("any"), Type.Literal("own")])),
  curve: Type.Optional(Type.Boolean()),
  curve_allow_list: Type.Optional(Type.Boolean()),
  anonymous_role: Type.Optional(RoleSchema),
  console_anonymous_role: Type.Optional(RoleSchema),
  // Checked field by field by parseClientLimits, which names the limits it knows.
  client_limits: Type.Optional(Type.Unknown()),
  private_streams: Type.Optional(Type.Array(RoleSchema)),
  private_streams_identities: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Boolean())),
  private_streams_veighna: Type.Optional(Type.Boolean()),
  nats_servers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  nats_name: Type.Optional(Type.String({ minLength: 1 })),
  nats_creds: Type.Optional(Type.String({ minLength: 1 })),
  nats_stream: Type.Optional(
    Type.Object({
      max_age_ms: Type.Optional(Type.Number({ minimum: 0 })),
      max_bytes: Type.Optional(Type.Number()),
      replicas: Type.Optional(Type.Integer({ minimum: 1 })),
      tick_max_age_ms: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()])),
    }),
  ),
  nats_trust_request_info: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

/** `rpc_service_setting.json`: VeighNa's two keys, plus ours. */
export interface RpcServiceSetting {
  rep_address: string;
  pub_address: string;
  transport?: TransportKind;
  /** ms between heartbeats (VeighNa: 10,000). */
  heartbeat_interval?: number;
  /**
   * Each event subscriber's queue beyond its socket buffer, in messages and bytes (zmtp: default 20,000 and 32 MiB;
   * a tick replaces its unsent predecessor, other events fill it, and a full one cuts the subscriber).
   */
  publish_queue_messages?: number;
  publish_queue_bytes?: number;
  /** A subscriber whose oldest queued event waited longer than this is cut with a log line (zmtp; default 30,000 ms). */
  publish_max_lag_ms?: number;
  cancel_policy?: CancelPolicy;
  /** CURVE encryption and authentication on both sockets (default false: VeighNa's NULL mechanism). */
  curve?: boolean;
  /** With curve: only client keys listed in `<home>/authorized_clients` may connect (default true). */
  curve_allow_list?: boolean;
  /** Role of clients that prove no identity (no CURVE key, no console token); default "trader". */
  anonymous_role?: Role;
  /** Role of the console page without a token (loopback only); default "admin". */
  console_anonymous_role?: Role;
  /** Per-client limits (see limits.ts); missing fields keep their defaults. */
  client_limits?: Partial<ClientLimitSettings>;
  /**
   * Roles whose clients receive only their own orders and trades (ticks, contracts, account and positions stay
   * shared), in events and in get_* answers, on the native endpoints (WebSocket; any endpoint that addresses one
   * client). Default [] (everyone sees everything, as VeighNa).
   */
  private_streams?: Role[];
  /**
   * Per proven identity (a CURVE key's allow-list name, a console user), over its role: true gives it a private
   * stream whatever its role, false the full stream even when its role is listed in `private_streams`.
   */
  private_streams_identities?: Record<string, boolean>;
  /**
   * Also on the VeighNa (ZeroMQ) endpoint: other clients' order and trade events are withheld from CURVE-
   * authenticated connections whose role is in `private_streams`. Costs VeighNa compatibility: such a client's
   * OMS no longer sees the account's other orders (its positions and account still move with them). Default false.
   */
  private_streams_veighna?: boolean;
  /** Also serve on a NATS cluster: its nats:// URLs (none: no NATS endpoint). */
  nats_servers?: string[];
  /** This server's name on the bus (default "main"). */
  nats_name?: string;
  /** A NATS credentials file (JWT + nkey seed). */
  nats_creds?: string;
  /** The JetStream stream of orders, trades, positions, accounts and logs. */
  nats_stream?: NatsStreamSetting;
  /**
   * Identify callers by the NATS user nats-server certifies (Nats-Request-Info): only when every caller reaches
   * the calls through a service import with `share: true` from another account (see README). Default false.
   */
  nats_trust_request_info?: boolean;
}

/** Stream limits as saved: ms and bytes. */
export interface NatsStreamSetting {
  max_age_ms?: number;
  max_bytes?: number;
  replicas?: number;
  /** Keep ticks too, this long (ms); null or absent: ticks are not kept. */
  tick_max_age_ms?: number | null;
}

/** What `serve --nats` sets; saved with the other settings after a successful start. */
export interface NatsServeOptions {
  servers: string[];
  name?: string;
  creds?: string;
}

/** The NATS side of the service for status views. */
export interface NatsStatus {
  servers: string[];
  name: string;
  /** The node the server is connected to now. */
  connected_to: string | null;
  stream: NatsStreamState | null;
  /** Why the stream state could not be read, if it could not. */
  stream_error?: string;
}

export interface RpcStartOptions {
  transport?: TransportKind;
  heartbeatInterval?: number;
  /** Overrides the saved `curve` setting (and is saved with the others after a successful start). */
  curve?: boolean;
  /** Overrides the saved NATS settings; `null` turns the NATS endpoint off. */
  nats?: NatsServeOptions | null;
}

const messages = defineMessages({
  en: {
    started: "RPC service started successfully",
    stopped: "RPC service stopped",
    running: "RPC service is already running",
    notStarted: "RPC service not started",
    failed: "RPC service failed to start: {error}",
    exposed: "RPC service binds {address}, reachable beyond this machine: the channel is unauthenticated and unencrypted",
    exposedOpen: "RPC service binds {address}, reachable beyond this machine: encrypted, but any client key is accepted",
    notOwner: "order {vt_orderid} was not sent by this client",
    notOwnerRole: "order {vt_orderid} was not sent by {identity}: role {role} cancels only its own orders (admin cancels any)",
    keyRevoked: "CURVE: key of {name} revoked or its role changed: {count} connection(s) closed",
    userRemoved: "console user {name} removed or its role changed: {count} connection(s) closed",
    badSetting: "rpc_service_setting.json: {problem}",
    auditUnavailable: "audit trail unavailable: {error}",
    keyCreated: "CURVE: created the server key pair in {path}",
    keyExposed: "CURVE: {path} can be read by other users; make it private (chmod 600)",
    serverKey: "CURVE server public key (clients set it as server_key): {key}",
    allowList: "CURVE: {count} client key(s) authorized in {path}",
    noAllowList: "CURVE: {path} does not exist, so no client can connect; add one with: rpcservice keys authorize <public key> --home {home}",
    anyKey: "CURVE without an allow-list: any client key is accepted (encryption and server authentication only)",
    saveFailed: "RPC settings not saved (the service runs with them): {error}",
    natsOn: "NATS: serving as {name} on {servers}; orders, trades, positions, accounts and logs in stream {stream}",
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
    notOwnerRole: "委托{vt_orderid}不是由{identity}发出的：角色{role}只能撤销自己的委托（admin可撤销任何委托）",
    keyRevoked: "CURVE：{name}的密钥已撤销或角色已变更，关闭了{count}个连接",
    userRemoved: "控制台用户{name}已删除或角色已变更，关闭了{count}个连接",
    badSetting: "rpc_service_setting.json：{problem}",
    auditUnavailable: "审计记录不可用：{error}",
    keyCreated: "CURVE：已生成服务器密钥对 {path}",
    keyExposed: "CURVE：{path} 可被其他用户读取，请设为私有（chmod 600）",
    serverKey: "CURVE服务器公钥（客户端的server_key）：{key}",
    allowList: "CURVE：{path} 中授权了{count}个客户端密钥",
    noAllowList: "CURVE：{path} 不存在，任何客户端都无法连接；添加方法：rpcservice keys authorize <公钥> --home {home}",
    anyKey: "CURVE未启用白名单：接受任何客户端密钥（仅加密和服务器认证）",
    saveFailed: "RPC设置未保存（服务按当前设置运行）：{error}",
    natsOn: "NATS：以{name}服务于{servers}；委托、成交、持仓、资金和日志存于流{stream}",
  },
});

const p = (name: string, type: Param["type"], optional = false, defaultValue?: unknown): Param =>
  optional ? { name, type, optional, defaultValue } : { name, type };

export class RpcEngine extends BaseEngine {
  private readonly t = messages.in(this.mainEngine.language);
  readonly server: RpcServer;
  repAddress = DEFAULT_REP_ADDRESS;
  pubAddress = DEFAULT_PUB_ADDRESS;
  transport: TransportKind | undefined;
  heartbeatInterval: number | undefined;
  /** Per-subscriber queue bounds (publish_queue_messages, publish_queue_bytes, publish_max_lag_ms); unset: the endpoint's defaults. */
  publishQueue: { messages?: number; bytes?: number; maxLagMs?: number } = {};
  cancelPolicy: CancelPolicy = "any";
  /** CURVE on both sockets, from the next start. */
  curve = false;
  /** With CURVE: only keys in `<home>/authorized_clients` may connect. */
  curveAllowList = true;
  /** Role of clients that prove no identity, and of the console page without a token. */
  access: AccessSettings = { ...DEFAULT_ACCESS };
  clientLimits: ClientLimitSettings = { ...DEFAULT_CLIENT_LIMITS };
  /** Roles that receive only their own orders and trades (see RpcServiceSetting.private_streams). */
  privateStreams: Role[] = [];
  /** Per proven identity, over its role (see RpcServiceSetting.private_streams_identities). */
  privateStreamIdentities: Record<string, boolean> = {};
  /** Private streams on the VeighNa endpoint too (CURVE clients; see RpcServiceSetting.private_streams_veighna). */
  privateStreamsVeighna = false;
  /** Roles, limits and the audit of every call, on every endpoint. */
  readonly accessControl: AccessControl;
  /** `<home>/audit.db`; null if it could not be opened (logged: trading goes on). */
  readonly audit: AuditTrail | null;
  /** Named console users (`<home>/console_users.json`), re-read when it changes. */
  readonly consoleUsers: ConsoleUsers;
  /** The allow-list while running with CURVE and an allow-list. */
  private keyFile: ClientKeyFile | null = null;
  private endpoint: ZmqEndpoint | null = null;
  /** NATS: the cluster's URLs (empty: no NATS endpoint), this server's name, credentials, stream limits. */
  natsServers: string[] = [];
  natsName = DEFAULT_NATS_SERVER_NAME;
  natsCreds: string | undefined;
  natsStream: NatsStreamSetting = {};
  natsTrustRequestInfo = false;
  private natsEndpoint: NatsEndpoint | null = null;
  /** Endpoints started and stopped with the ZeroMQ one (the console's WebSocket endpoint). */
  private readonly extraEndpoints: ServerEndpoint[] = [];
  /** vt_orderid -> the client that sent it. */
  private readonly owners = new Map<string, Owner>();
  private starting: Promise<boolean> | null = null;
  /** The settings file as last read or written. */
  private savedSetting: Record<string, unknown> = {};
  /** Why the last start failed (the transport's words: EADDRINUSE, ENOTFOUND...); null after a successful start. */
  lastStartError: string | null = null;

  constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
    super(mainEngine, eventEngine, APP_NAME);
    this.server = new RpcServer({ log: (level, message) => this.writeLog(message, level), metrics: () => mainEngine.metrics });
    this.registerFunctions();
    this.loadSetting();
    this.audit = this.openAudit();
    this.consoleUsers = new ConsoleUsers(mainEngine.home, (error) => this.writeLog(this.t("badSetting", { problem: error }), ERROR));
    this.consoleUsers.onRemoved((names) => {
      for (const name of names) {
        const count = this.server.closeClients((client) => client.authenticatedBy === "token" && client.identity === name, "console user removed");
        this.writeLog(this.t("userRemoved", { name, count }), WARNING);
      }
    });
    this.consoleUsers.watch();
    this.accessControl = new AccessControl({
      keys: () => this.keyFile,
      users: this.consoleUsers,
      audit: this.audit,
      limits: new ClientLimits(this.clientLimits),
      settings: () => this.access,
      log: (level, message) => this.writeLog(message, level),
    });
    this.server.setGate(this.accessControl);
    this.server.setStreamFilter({
      withheld: (event) => this.privateStreamsOn() && isPrivateType(event.type),
      visible: (event, viewer) => this.visible(event, viewer),
    });
    eventEngine.registerGeneral(this.processEvent);
  }

  /**
   * Private streams: whether `viewer` may see this event. Only orders and trades are private; an order whose
   * sender is unknown (a local strategy's) is not shown to a private client.
   */
  visible(event: Event, viewer: CallContext): boolean {
    if (!this.privateStreamsOn()) return true;
    const type = event.type;
    if (!isPrivateType(type)) return true;
    const vt_orderid = (event.data as { vt_orderid?: unknown } | null)?.vt_orderid;
    return typeof vt_orderid !== "string" || this.ownsOrder(viewer, vt_orderid);
  }

  /** True unless private streams hide this order from this caller. */
  private ownsOrder(context: CallContext, vt_orderid: string): boolean {
    // VeighNa's endpoint: only when asked for, and only for clients with a proven identity.
    if (context.endpoint === "zmq" && !(this.privateStreamsVeighna && context.authenticatedBy === "curve")) return true;
    let role: Role;
    try {
      role = isRole(context.role) ? context.role : this.accessControl.caller(context).role;
    } catch {
      return false;
    }
    if (!this.hasPrivateStream(context, role)) return true;
    return sameOwner(this.ownerRecord(vt_orderid), ownerOf(context));
  }

  /** Whether anyone at all gets a private stream (else every event goes to everyone unchecked). */
  private privateStreamsOn(): boolean {
    if (this.privateStreams.length > 0) return true;
    for (const key in this.privateStreamIdentities) if (this.privateStreamIdentities[key]) return true;
    return false;
  }

  /** A proven identity's own setting first (a declared name proves nothing), then its role's. */
  private hasPrivateStream(context: CallContext, role: Role): boolean {
    const identity = context.authenticatedBy !== undefined ? context.identity : undefined;
    const own = identity !== undefined && Object.hasOwn(this.privateStreamIdentities, identity) ? this.privateStreamIdentities[identity] : undefined;
    return own ?? this.privateStreams.includes(role);
  }

  /** get_* answers under private streams: only the caller's own orders and trades. */
  private own<T extends { vt_orderid: string }>(items: T[], context: CallContext): T[] {
    return !this.privateStreamsOn() ? items : items.filter((item) => this.ownsOrder(context, item.vt_orderid));
  }

  private openAudit(): AuditTrail | null {
    try {
      return new AuditTrail(this.mainEngine.home);
    } catch (error) {
      this.writeLog(this.t("auditUnavailable", { error: messageOf(error) }), ERROR);
      return null;
    }
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

  /** Subscribers of the event socket with their queues: behind, dropped, conflated. */
  subscribers(): ConnectedClient[] {
    return this.server.subscribers();
  }

  /**
   * Which client sent an order (its CURVE identity or console user, else its declared name or connection id);
   * undefined for local orders. Orders of an earlier run are found in the audit trail.
   */
  orderOwner(vt_orderid: string): string | undefined {
    return this.ownerRecord(vt_orderid)?.id;
  }

  private ownerRecord(vt_orderid: string): Owner | undefined {
    const known = this.owners.get(vt_orderid);
    if (known) return known;
    const recorded = this.audit?.orderOwner(vt_orderid);
    if (!recorded) return undefined;
    const owner = { id: recorded.identity, authenticated: recorded.authenticated };
    this.owners.set(vt_orderid, owner);
    return owner;
  }

  /** The server's CURVE public key while running with CURVE (what clients need as `server_key`). */
  get curvePublicKey(): string | null {
    return this.endpoint?.curvePublicKey ?? null;
  }

  async start(repAddress = this.repAddress, pubAddress = this.pubAddress, options: RpcStartOptions = {}): Promise<boolean> {
    if (this.server.isActive || this.starting) {
      this.lastStartError = "the RPC service is already running";
      this.writeLog(this.t("running"));
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
    let natsEndpoint: NatsEndpoint | null;
    try {
      const curve = useCurve ? this.curveOptions() : undefined;
      endpoint = new ZmqEndpoint({
        repAddress,
        pubAddress,
        ...(transport ? { transport } : {}),
        ...(heartbeatInterval ? { heartbeatInterval } : {}),
        ...(this.publishQueue.messages !== undefined ? { publishHighWaterMark: this.publishQueue.messages } : {}),
        ...(this.publishQueue.bytes !== undefined ? { publishHighWaterMarkBytes: this.publishQueue.bytes } : {}),
        ...(this.publishQueue.maxLagMs !== undefined ? { publishMaxLag: this.publishQueue.maxLagMs } : {}),
        ...(curve ? { curve } : {}),
      });
      const nats = this.natsFor(options.nats);
      natsEndpoint = nats.servers.length > 0 ? this.createNatsEndpoint(nats) : null;
      await this.server.start([endpoint, ...this.extraEndpoints, ...(natsEndpoint ? [natsEndpoint] : [])]);
      this.natsServers = nats.servers;
      this.natsName = nats.name ?? DEFAULT_NATS_SERVER_NAME;
      this.natsCreds = nats.creds;
    } catch (error) {
      this.lastStartError = messageOf(error);
      this.writeLog(this.t("failed", { error: this.lastStartError }), ERROR);
      return false;
    }
    this.lastStartError = null;
    this.endpoint = endpoint;
    this.natsEndpoint = natsEndpoint;
    if (natsEndpoint) this.writeLog(this.t("natsOn", { name: natsEndpoint.serverName, servers: natsEndpoint.servers.join(","), stream: natsEndpoint.streamName }));
    this.repAddress = repAddress;
    this.pubAddress = pubAddress;
    this.curve = useCurve;
    if (useCurve) this.writeLog(this.t("serverKey", { key: endpoint.curvePublicKey! }));
    const guarded = useCurve && this.curveAllowList;
    for (const address of [repAddress, pubAddress]) {
      if (!guarded && !isLocalAddress(address)) this.writeLog(this.t(useCurve ? "exposedOpen" : "exposed", { address }), WARNING);
    }
    this.saveSetting();
    this.writeLog(this.t("started"));
    return true;
  }

  /** The server key pair (created on first use) and the allow-list, read afresh at each start. */
  private curveOptions(): ZmqCurveOptions {
    const home = this.mainEngine.home;
    const keys = loadOrCreateServerKeys(home);
    if (keys.created) this.writeLog(this.t("keyCreated", { path: keys.path }));
    else if (isKeyFileExposed(keys.path)) this.writeLog(this.t("keyExposed", { path: keys.path }), WARNING);
    if (!this.curveAllowList) {
      this.writeLog(this.t("anyKey"), WARNING);
      return keys.pair;
    }
    const path = join(home, AUTHORIZED_CLIENTS_FILE);
    readAuthorizedClientEntries(path); // a malformed file fails the start, with its line; later edits are only logged
    const keyFile = this.liveKeyFile(path);
    if (!keyFile.exists) this.writeLog(this.t("noAllowList", { path, home }), WARNING);
    else this.writeLog(this.t("allowList", { count: keyFile.size, path }));
    return { ...keys.pair, authorizedClients: keyFile };
  }

  /** The allow-list, live: a key removed (or given another role) loses its open connections at once. */
  private liveKeyFile(path: string): ClientKeyFile {
    this.keyFile?.close();
    const keyFile = new ClientKeyFile(path, (error) => this.writeLog(this.t("badSetting", { problem: error }), ERROR));
    keyFile.onRevoked((entries) => {
      for (const entry of entries) {
        const count = this.server.closeClients((client) => client.publicKey === entry.publicKey, "key revoked");
        this.writeLog(this.t("keyRevoked", { name: entry.name || entry.publicKey, count }), WARNING);
      }
    });
    keyFile.watch();
    this.keyFile = keyFile;
    return keyFile;
  }

  async stop(): Promise<boolean> {
    if (!this.server.isActive) {
      this.writeLog(this.t("notStarted"));
      return false;
    }
    await this.server.stop();
    this.endpoint = null;
    this.keyFile?.close();
    this.keyFile = null;
    this.natsEndpoint = null;
    this.writeLog(this.t("stopped"));
    return true;
  }

  override async close(): Promise<void> {
    if (this.server.isActive) await this.stop();
    this.eventEngine.unregisterGeneral(this.processEvent);
    this.consoleUsers.close();
    this.audit?.close();
  }

  /** Logs to the RPC log (eRpcLog, as VeighNa) and to the main log. */
  writeLog(msg: string, level: number = INFO): void {
    const log = new LogData({ msg: boundLogMessage(msg), gateway_name: APP_NAME, level });
    this.eventEngine.put(new Event(EVENT_RPC_LOG, log));
    this.mainEngine.writeLog(msg, APP_NAME, level);
  }

  private readonly processEvent = (event: Event): void => {
    if (!isLocalEvent(event.type)) this.server.publish(event);
  };

  private loadSetting(): void {
    const setting = loadJsonSetting(this.mainEngine.home, RPC_SETTING_FILENAME, RpcServiceSettingSchema);
    this.savedSetting = setting;
    if (setting.rep_address !== undefined) this.repAddress = setting.rep_address;
    if (setting.pub_address !== undefined) this.pubAddress = setting.pub_address;
    if (setting.transport !== undefined) this.transport = setting.transport;
    if (setting.heartbeat_interval !== undefined) this.heartbeatInterval = setting.heartbeat_interval;
    if (setting.publish_queue_messages !== undefined) this.publishQueue.messages = setting.publish_queue_messages;
    if (setting.publish_queue_bytes !== undefined) this.publishQueue.bytes = setting.publish_queue_bytes;
    if (setting.publish_max_lag_ms !== undefined) this.publishQueue.maxLagMs = setting.publish_max_lag_ms;
    if (setting.cancel_policy !== undefined) this.cancelPolicy = setting.cancel_policy;
    if (setting.curve !== undefined) this.curve = setting.curve;
    if (setting.curve_allow_list !== undefined) this.curveAllowList = setting.curve_allow_list;
    if (setting.anonymous_role !== undefined) this.access.anonymousRole = setting.anonymous_role;
    if (setting.console_anonymous_role !== undefined) this.access.consoleAnonymousRole = setting.console_anonymous_role;
    if (setting.private_streams !== undefined) this.privateStreams = [...setting.private_streams];
    if (setting.private_streams_identities !== undefined) this.privateStreamIdentities = { ...setting.private_streams_identities };
    if (setting.private_streams_veighna !== undefined) this.privateStreamsVeighna = setting.private_streams_veighna;
    const problems: string[] = [];
    this.clientLimits = parseClientLimits(setting.client_limits, problems);
    // Logged once the engine is up (the log needs the event engine, which is ready: the constructor runs after it).
    for (const problem of problems) this.writeLog(this.t("badSetting", { problem }), WARNING);
    if (setting.nats_servers !== undefined) this.natsServers = [...setting.nats_servers];
    if (setting.nats_name !== undefined) this.natsName = setting.nats_name;
    if (setting.nats_creds !== undefined) this.natsCreds = setting.nats_creds;
    if (setting.nats_stream !== undefined) this.natsStream = { ...setting.nats_stream };
    if (setting.nats_trust_request_info !== undefined) this.natsTrustRequestInfo = setting.nats_trust_request_info;
  }

  /** Saves the settings in use when they differ from the file. A failed write (full disk) is an error line, not a crash. */
  private saveSetting(): void {
    // A file already holding these values is not touched.
    const next: Record<string, unknown> = {
      ...this.savedSetting,
      rep_address: this.repAddress,
      pub_address: this.pubAddress,
      ...(this.transport ? { transport: this.transport } : {}),
      ...(this.heartbeatInterval ? { heartbeat_interval: this.heartbeatInterval } : {}),
      ...(this.publishQueue.messages !== undefined ? { publish_queue_messages: this.publishQueue.messages } : {}),
      ...(this.publishQueue.bytes !== undefined ? { publish_queue_bytes: this.publishQueue.bytes } : {}),
      ...(this.publishQueue.maxLagMs !== undefined ? { publish_max_lag_ms: this.publishQueue.maxLagMs } : {}),
      cancel_policy: this.cancelPolicy,
      curve: this.curve,
      curve_allow_list: this.curveAllowList,
      anonymous_role: this.access.anonymousRole,
      console_anonymous_role: this.access.consoleAnonymousRole,
      client_limits: { ...this.clientLimits },
      private_streams: [...this.privateStreams],
      ...(Object.keys(this.privateStreamIdentities).length > 0 ? { private_streams_identities: { ...this.privateStreamIdentities } } : {}),
      private_streams_veighna: this.privateStreamsVeighna,
      ...(this.natsServers.length > 0 ? { nats_servers: this.natsServers, nats_name: this.natsName } : {}),
      ...(this.natsCreds ? { nats_creds: this.natsCreds } : {}),
      ...(Object.keys(this.natsStream).length > 0 ? { nats_stream: this.natsStream } : {}),
      ...(this.natsTrustRequestInfo ? { nats_trust_request_info: true } : {}),
    };
    try {
      saveJsonSetting(this.mainEngine.home, RPC_SETTING_FILENAME, next);
      this.savedSetting = next;
    } catch (error) {
      this.writeLog(this.t("saveFailed", { error: messageOf(error) }), ERROR);
    }
  }

  /** The NATS side while running: where it is connected and the stream's state (null without NATS). */
  async natsStatus(): Promise<NatsStatus | null> {
    const endpoint = this.natsEndpoint;
    if (!endpoint) return null;
    const status: NatsStatus = { servers: [...endpoint.servers], name: endpoint.serverName, connected_to: endpoint.connectedServer ?? null, stream: null };
    try {
      status.stream = await endpoint.streamState();
    } catch (error) {
      status.stream_error = messageOf(error);
    }
    return status;
  }

  private natsFor(override: NatsServeOptions | null | undefined): { servers: string[]; name?: string; creds?: string } {
    if (override === null) return { servers: [] };
    if (override === undefined) return { servers: this.natsServers, name: this.natsName, ...(this.natsCreds ? { creds: this.natsCreds } : {}) };
    return override;
  }

  /** Options validated here, once: a bad URL, name or limit fails the start with its reason. */
  private createNatsEndpoint(nats: { servers: string[]; name?: string; creds?: string }): NatsEndpoint {
    const stream = this.natsStream;
    return new NatsEndpoint({
      servers: nats.servers,
      serverName: nats.name ?? DEFAULT_NATS_SERVER_NAME,
      ...(nats.creds ? { credsFile: nats.creds } : {}),
      trustRequestInfo: this.natsTrustRequestInfo,
      stream: {
        ...(stream.max_age_ms !== undefined ? { maxAge: stream.max_age_ms } : {}),
        ...(stream.max_bytes !== undefined ? { maxBytes: stream.max_bytes } : {}),
        ...(stream.replicas !== undefined ? { replicas: stream.replicas } : {}),
        ...(stream.tick_max_age_ms !== undefined ? { tickMaxAge: stream.tick_max_age_ms } : {}),
      },
    });
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
    // Long (a day of minute bars is thousands): clients take turns, so one client's flood of them waits behind itself.
    // The gateway's own form (a BarSeries where it has one): the endpoints encode it a bar at a time.
    s.register("query_history", [p("req", instanceOf(HistoryRequest)), p("gateway_name", str)], ([req, gateway]) =>
      me().queryHistorySeries(req as HistoryRequest, gateway as string),
      { heavy: true },
    );
    s.register("get_tick", vt("vt_symbol"), ([id]) => me().getTick(id as string));
    // Under private streams, another client's order or trade is as if it did not exist.
    s.register("get_order", vt("vt_orderid"), ([id], context) => {
      const order = me().getOrder(id as string);
      return order && this.own([order], context).length > 0 ? order : null;
    });
    s.register("get_trade", vt("vt_tradeid"), ([id], context) => {
      const trade = me().getTrade(id as string);
      return trade && this.own([trade], context).length > 0 ? trade : null;
    });
    s.register("get_position", vt("vt_positionid"), ([id]) => me().getPosition(id as string));
    s.register("get_account", vt("vt_accountid"), ([id]) => me().getAccount(id as string));
    s.register("get_contract", vt("vt_symbol"), ([id]) => me().getContract(id as string));
    s.register("get_all_ticks", [], () => me().getAllTicks());
    s.register("get_all_orders", [], (_args, context) => this.own(me().getAllOrders(), context));
    s.register("get_all_trades", [], (_args, context) => this.own(me().getAllTrades(), context));
    s.register("get_all_positions", [], () => me().getAllPositions());
    s.register("get_all_accounts", [], () => me().getAllAccounts());
    s.register("get_all_contracts", [], () => me().getAllContracts());
    // VeighNa 3.x clients pass a vt_symbol filter, 4.x clients none: accept both and apply the filter.
    s.register("get_all_active_orders", [p("vt_symbol", nullable(str), true, "")], ([symbol], context) => {
      const orders = this.own(me().getAllActiveOrders(), context);
      return symbol ? orders.filter((order: OrderData) => order.vt_symbol === symbol) : orders;
    });
  }

  /** Sends an order for a client (RPC or console) and records it as that client's. */
  async sendOrder(req: OrderRequest, gatewayName: string, context: CallContext, kind: "rpc" | "console" = "rpc"): Promise<string> {
    const { vt_orderid, block } = await this.mainEngine.placeOrder(req, gatewayName, { kind, clientId: context.clientId });
    if (vt_orderid) this.owners.set(vt_orderid, ownerOf(context));
    // The caller gets VeighNa's "" whatever the reason; the audit row says which check blocked it and why.
    if (block) context.reportRefusal?.(`${block.code} (${block.check}/${block.rule}): ${block.msg}`);
    return vt_orderid;
  }

  /**
   * Cancels for a client: an admin cancels any order; an authenticated trader only its own; an anonymous client
   * as `cancel_policy` says ("any", VeighNa's behaviour, or "own").
   */
  async cancelOrder(req: CancelRequest, gatewayName: string, context: CallContext): Promise<null> {
    const role = isRole(context.role) ? context.role : undefined;
    const owner = ownerOf(context);
    const mayCancelAny = role !== undefined && roleAllows(role, "cancel_any");
    const ownOnly = !mayCancelAny && (owner.authenticated || this.cancelPolicy === "own");
    if (ownOnly) {
      const vt_orderid = `${gatewayName}.${req.orderid}`;
      if (!sameOwner(this.ownerRecord(vt_orderid), owner)) {
        const message = role ? this.t("notOwnerRole", { vt_orderid, identity: owner.id, role }) : this.t("notOwner", { vt_orderid });
        throw new RpcCallError("ERR_RPC_FAILED", "PermissionError", message); // logged by the endpoint like any failed call
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

/** Orders and trades (and their specific twins, "eOrder.SIM.1"): the events private streams may withhold. */
function isPrivateType(type: string): boolean {
  return type.startsWith("eOrder") || type.startsWith("eTrade");
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

/** The browser's view of the native WebSocket protocol (src/console/PROTOCOL.md); data stays plain JSON. */

export interface Hello {
  protocol: number;
  server: string;
  endpoint: string;
  client_id: string;
  epoch: string;
  seq: number;
}

export interface WireError {
  code: string;
  message: string;
  path?: string;
}

export interface SubscribeResult {
  epoch: string;
  seq: number;
  resumed?: boolean;
  replayed?: number;
  reason?: string;
}

export interface WireEvent {
  seq: number;
  epoch: string;
  type: string;
  data: unknown;
}

type Json = Record<string, unknown>;

/** Data objects as they arrive: VeighNa field names, enum values, ISO datetimes. */
export interface Tick extends Json {
  vt_symbol: string;
  symbol: string;
  exchange: string;
  gateway_name: string;
  datetime: string;
  last_price: number;
  volume: number;
  open_price: number;
  high_price: number;
  low_price: number;
  pre_close: number;
  bid_price_1: number;
  ask_price_1: number;
  bid_volume_1: number;
  ask_volume_1: number;
}

export interface Order extends Json {
  vt_orderid: string;
  orderid: string;
  vt_symbol: string;
  symbol: string;
  exchange: string;
  gateway_name: string;
  type: string;
  direction: string | null;
  offset: string;
  price: number;
  volume: number;
  traded: number;
  status: string;
  datetime: string | null;
  reference: string;
}

export interface Trade extends Json {
  vt_tradeid: string;
  vt_orderid: string;
  vt_symbol: string;
  direction: string | null;
  offset: string;
  price: number;
  volume: number;
  datetime: string | null;
}

export interface Position extends Json {
  vt_positionid: string;
  vt_symbol: string;
  direction: string;
  volume: number;
  yd_volume: number;
  frozen: number;
  price: number;
  pnl: number;
}

export interface Account extends Json {
  gateway_name: string;
  vt_accountid: string;
  accountid: string;
  balance: number;
  frozen: number;
  available: number;
}

export interface Contract extends Json {
  vt_symbol: string;
  symbol: string;
  exchange: string;
  name: string;
  gateway_name: string;
  product?: string;
  size: number;
  pricetick: number;
  min_volume: number;
}

export interface Log extends Json {
  msg: string;
  level: number;
  time: string;
  gateway_name: string;
}

export interface ConnectedClient extends Json {
  clientId: string;
  endpoint: string;
  remoteAddress: string;
  identity?: string;
  /** CURVE public key (Z85) of a client that connected with CURVE. */
  publicKey?: string;
  since: number;
  calls: number;
  eventsBehind: number;
  eventsDropped: number;
  /** Ticks replaced, unsent, by a newer one of the same symbol (a slow subscriber). */
  eventsConflated?: number;
  /** The role the server gives it, and calls it refused (rate limited; lacking permission). */
  role?: string;
  rateLimited?: number;
  refused?: number;
}

/** Who the page is signed in as (the console call `whoami`). */
export interface WhoAmI extends Json {
  identity: string | null;
  authenticated: boolean;
  role: string;
  permissions: string[];
}

/** One row of the audit trail (the console call `audit_query`). */
export interface AuditRow extends Json {
  id: number;
  time: number;
  identity: string;
  authenticated: boolean;
  role: string;
  endpoint: string;
  remoteAddress: string;
  action: string;
  args: string;
  outcome: string;
  detail: string;
}

/** A rule as VeighNa's get_data() gives it (eRiskRule events): values only. */
export interface RiskRuleData {
  name: string;
  class_name: string;
  parameters: Record<string, unknown>;
  variables: Record<string, unknown>;
}

/** eOrderBlocked: why an order-entry check blocked an order (the kernel's OrderBlock). */
export interface OrderBlock {
  check: string;
  rule: string;
  code: string;
  params: Record<string, string | number | boolean>;
  msg: string;
}

export interface RuleParameter {
  name: string;
  kind: "integer" | "number" | "boolean" | "string";
  label: string;
  value: unknown;
  min?: number;
  max?: number;
  choices?: string[];
}

/** A rule as the risk manager describes it for forms (labels, kinds, bounds); what the page shows. */
export interface RiskRule {
  name: string;
  class_name: string;
  display_name: string;
  active: boolean;
  parameters: RuleParameter[];
  variables: { name: string; label: string; value: unknown }[];
}

/** Accepts either shape: a description, or a bare data dict (labels then fall back to field names). */
export function toRule(raw: RiskRule | RiskRuleData): RiskRule {
  if (Array.isArray(raw.parameters)) return raw as RiskRule;
  const data = raw as RiskRuleData;
  return {
    name: data.name,
    class_name: data.class_name,
    display_name: data.name,
    active: data.parameters.active !== false,
    parameters: Object.entries(data.parameters).map(([name, value]) => ({
      name,
      label: name,
      value,
      kind: typeof value === "boolean" ? "boolean" : typeof value === "number" ? (Number.isInteger(value) ? "integer" : "number") : "string",
    })),
    variables: Object.entries(data.variables).map(([name, value]) => ({ name, label: name, value })),
  };
}

/** Puts new values (an eRiskRule event) into a rule the page already describes. */
export function mergeRule(known: RiskRule | undefined, data: RiskRuleData): RiskRule {
  if (!known) return toRule(data);
  return {
    ...known,
    active: data.parameters.active !== false,
    parameters: known.parameters.map((p) => (p.name in data.parameters ? { ...p, value: data.parameters[p.name] } : p)),
    variables: known.variables.map((v) => (v.name in data.variables ? { ...v, value: data.variables[v.name] } : v)),
  };
}

export interface RpcStatus {
  available: boolean;
  active: boolean;
  rep_address: string;
  pub_address: string;
  ws_address: string;
  /** Why the last start failed; "" after a successful one. */
  start_error: string;
  log: Log[];
  /** The NATS endpoint, when the service serves on a bus (null otherwise). */
  nats?: NatsStatus | null;
}

/** Today's realised P&L and fees of one gateway's account (account_day_pnl). */
export interface DayPnl {
  gateway: string;
  day: string;
  realised: number;
  /** null: the gateway does not report fees. */
  fees: number | null;
  trades: number;
}

/** What rpc_status says of the NATS side: the node, and the server's JetStream stream. */
export interface NatsStatus {
  servers: string[];
  name: string;
  connected_to: string | null;
  stream: NatsStreamState | null;
  stream_error?: string;
}

export interface NatsStreamState {
  name: string;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumers: number;
  replicas: number;
  leader?: string;
  /** ms */
  maxAge: number;
  maxBytes: number;
  /** Events not yet confirmed by the stream. */
  backlog: number;
}

/** A gateway as `gateway_list` and eGatewayState give it (secrets masked by the server). */
export interface GatewayStatus {
  name: string;
  kind: string;
  source: string;
  state: "connecting" | "connected" | "stale" | "disconnected";
  reason: string;
  since: number;
  setting: Record<string, unknown>;
}

export interface ConsoleInfo {
  epoch: string;
  seq: number;
  gateways: string[];
  apps: { app_name: string; display_name: string }[];
  calls: string[];
  token_required: boolean;
  /** The server's `--language`: the page follows it. */
  language?: string;
}

/** VeighNa's enum values (what the wire carries) and the English the page shows. */
export const LABELS: Record<string, string> = {
  多: "Long",
  空: "Short",
  净: "Net",
  开: "Open",
  平: "Close",
  平今: "Close today",
  平昨: "Close yest.",
  提交中: "Submitting",
  未成交: "Not traded",
  部分成交: "Part traded",
  全部成交: "All traded",
  已撤销: "Cancelled",
  拒单: "Rejected",
  限价: "Limit",
  市价: "Market",
  询价: "RFQ",
};

export const Direction = { LONG: "多", SHORT: "空" } as const;
export const Offset = { NONE: "", OPEN: "开", CLOSE: "平", CLOSETODAY: "平今", CLOSEYESTERDAY: "平昨" } as const;
export const OrderType = { LIMIT: "限价", MARKET: "市价", FAK: "FAK", FOK: "FOK" } as const;
export const ACTIVE_STATUSES = new Set(["提交中", "未成交", "部分成交"]);

/** One metrics sample (the server's MetricsSample): the last interval's rates and percentiles. */
export interface CallFigures {
  function: string;
  endpoint: string;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  count: number;
  errors: number;
  buckets: { leMs: number; count: number }[];
}

export interface MetricsSample {
  at: number;
  intervalSeconds: number;
  calls: CallFigures[];
  events: { stream: string; type: string; perSecond: number; count: number }[];
  subscribers: { clientId: string; endpoint: string; queued: number; dropped: number; lagMs: number | null }[];
  clients: { endpoint: string; count: number }[];
  orders: { acks: number; ackP50Ms: number | null; ackP99Ms: number | null; fills: number; fillP50Ms: number | null; fillP99Ms: number | null };
  riskBlocks: { rule: string; count: number }[];
  gateways: { gateway: string; state: string }[];
  process: { cpuPercent: number; rssBytes: number; eventLoopLagMs: number };
}

export interface Bar extends Json {
  vt_symbol: string;
  datetime: string;
  interval: string | null;
  open_price: number;
  high_price: number;
  low_price: number;
  close_price: number;
  volume: number;
}

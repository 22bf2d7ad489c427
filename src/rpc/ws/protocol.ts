/**
 * The native WebSocket protocol (see ../PROTOCOL.md): message schemas, validated once as each message arrives.
 *
 * Client -> server: a call `{"id", "call", "args", "kwargs"}` or a subscription `{"id", "subscribe": {...}}`.
 * Server -> client: `{"hello": {...}}` once, replies `{"id", "ok", "result" | "error"}`, events `{"seq", "epoch", "type", "data"}`.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import {
  DATA_CLASSES,
  DateTime,
  ENGLISH_VALUES,
  ENUMS,
  enumMemberByValue,
  enumValueByName,
  isEnumName,
  type DataClassName,
  type EnumName,
  type FieldKinds,
} from "../../kernel/index.js";
import { WireError } from "./errors.js";

export const WS_PROTOCOL_VERSION = 1;

/** Close codes the server uses besides the standard ones (1001 going away, 1009 message too big). */
export const CloseCode = {
  /** The endpoint stopped (RPC service stopped, console closed). */
  GOING_AWAY: 1001,
  /** Closed on purpose by the server's operator (console "disconnect"). */
  POLICY: 1008,
  /** A message exceeded the size limit (sent by the ws library itself). */
  MESSAGE_TOO_BIG: 1009,
  /** The client read too slowly: its queue reached the limit, so it alone was dropped. */
  SLOW_CONSUMER: 4008,
  /** No pong to the server's pings: the connection is dead. */
  HEARTBEAT_TIMEOUT: 4009,
} as const;

const Id = Type.Union([Type.Integer(), Type.String({ maxLength: 64 })], { description: "echoed in the reply" });

export const CallMessage = Type.Object(
  {
    id: Id,
    call: Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]{0,63}$", description: "function name, e.g. send_order" }),
    args: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 64 })),
    kwargs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const ResumePoint = Type.Object(
  { epoch: Type.String({ maxLength: 128 }), seq: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const SubscribeMessage = Type.Object(
  {
    id: Id,
    subscribe: Type.Object(
      {
        /** Exact event types ("eOrder.", "eTick.rb2501.SHFE", "eLog"); "*" = every generic type. */
        types: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1024 }),
        /** When given, events that carry a vt_symbol pass only for these symbols. */
        symbols: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 10_000 }), Type.Null()])),
        /** Replay what was missed since this point, from the server's ring of recent events. */
        resume: Type.Optional(ResumePoint),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const ClientMessage = Type.Union([CallMessage, SubscribeMessage]);
export type CallMessage = Static<typeof CallMessage>;
export type SubscribeMessage = Static<typeof SubscribeMessage>;
export type ClientMessage = Static<typeof ClientMessage>;
export type MessageId = Static<typeof Id>;

/** What the server sends. */
export interface HelloMessage {
  hello: { protocol: number; server: "rpcservice"; endpoint: string; client_id: string; epoch: string; seq: number };
}
export interface ErrorBody {
  code: string;
  message: string;
  path?: string;
}
export type ReplyMessage = { id: MessageId | null; ok: true; result: unknown } | { id: MessageId | null; ok: false; error: ErrorBody };
export interface EventMessage {
  seq: number;
  epoch: string;
  type: string;
  data: unknown;
}
/** The result of a subscribe: where the stream stands, and whether the missed events could be replayed. */
export interface SubscribeResult {
  epoch: string;
  seq: number;
  /** Only when a resume was asked: true = the gap is replayed next; false = take a fresh snapshot. */
  resumed?: boolean;
  replayed?: number;
  reason?: string;
}

const clientMessageCheck = TypeCompiler.Compile(ClientMessage);
const callCheck = TypeCompiler.Compile(CallMessage);
const subscribeCheck = TypeCompiler.Compile(SubscribeMessage);

/** Validates a parsed JSON message; throws a WireError naming the first bad field. */
export function parseClientMessage(value: unknown): ClientMessage {
  if (clientMessageCheck.Check(value)) return value;
  // Report against the branch the client evidently meant, so the error names the real field.
  const meant: TypeCheck<TSchema> =
    value !== null && typeof value === "object" && "subscribe" in value ? subscribeCheck : callCheck;
  const first = meant.Errors(value).First();
  const path = first?.path || "/";
  throw new WireError("INVALID_MESSAGE", `${path}: ${first?.message ?? "not a call or a subscription"}`, path);
}

/** The id of a message that failed validation, so its error reply can still be matched. */
export function salvageId(value: unknown): MessageId | null {
  if (value === null || typeof value !== "object") return null;
  const id = (value as { id?: unknown }).id;
  return (typeof id === "number" && Number.isInteger(id)) || (typeof id === "string" && id.length <= 64) ? id : null;
}

// ---- Request objects a client may send as arguments ----------------------------------------------------------

/** An enum field accepts the kernel value or vnpy's English value (an English-locale peer sends those). */
function enumSchema(name: EnumName): TSchema {
  const values = new Set<string>(Object.values(ENUMS[name]) as string[]);
  for (const english of Object.values(ENGLISH_VALUES[name] ?? {})) values.add(english);
  return Type.Union([...values].map((v) => Type.Literal(v)), { description: `${name} value` });
}

const IsoDateTime = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:?\\d{2})?$",
  description: "ISO 8601 datetime",
});
const SymbolField = Type.String({ minLength: 1, maxLength: 64 });
const Finite = Type.Number({ minimum: -1e300, maximum: 1e300 });
const Reference = Type.Optional(Type.String({ maxLength: 256 }));
/** Derived ids a client may echo back; ignored and recomputed. */
const Derived = { $class: Type.String(), vt_symbol: Type.Optional(Type.String()) };

export const RequestSchemas = {
  SubscribeRequest: Type.Object({ ...Derived, symbol: SymbolField, exchange: enumSchema("Exchange") }, { additionalProperties: false }),
  OrderRequest: Type.Object(
    {
      ...Derived,
      symbol: SymbolField,
      exchange: enumSchema("Exchange"),
      direction: enumSchema("Direction"),
      type: enumSchema("OrderType"),
      volume: Finite,
      price: Type.Optional(Finite),
      offset: Type.Optional(enumSchema("Offset")),
      reference: Reference,
    },
    { additionalProperties: false },
  ),
  CancelRequest: Type.Object(
    { ...Derived, orderid: Type.String({ minLength: 1, maxLength: 128 }), symbol: SymbolField, exchange: enumSchema("Exchange") },
    { additionalProperties: false },
  ),
  HistoryRequest: Type.Object(
    {
      ...Derived,
      symbol: SymbolField,
      exchange: enumSchema("Exchange"),
      start: IsoDateTime,
      end: Type.Optional(Type.Union([IsoDateTime, Type.Null()])),
      interval: Type.Optional(Type.Union([enumSchema("Interval"), Type.Null()])),
    },
    { additionalProperties: false },
  ),
  QuoteRequest: Type.Object(
    {
      ...Derived,
      symbol: SymbolField,
      exchange: enumSchema("Exchange"),
      bid_price: Finite,
      bid_volume: Finite,
      ask_price: Finite,
      ask_volume: Finite,
      bid_offset: Type.Optional(enumSchema("Offset")),
      ask_offset: Type.Optional(enumSchema("Offset")),
      reference: Reference,
    },
    { additionalProperties: false },
  ),
} as const;

export type RequestClassName = keyof typeof RequestSchemas;
const requestChecks = {} as Record<RequestClassName, TypeCheck<TSchema>>;
for (const name of Object.keys(RequestSchemas) as RequestClassName[]) requestChecks[name] = TypeCompiler.Compile(RequestSchemas[name] as TSchema);

function isRequestClass(name: string): name is RequestClassName {
  return Object.prototype.hasOwnProperty.call(RequestSchemas, name);
}

/**
 * Turns call arguments into kernel objects: every `$class` object is validated against its schema and built
 * (enum values normalised, datetimes parsed). Only request classes are accepted from clients.
 */
export function decodeArgs(value: unknown, path = "/args"): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item, i) => decodeArgs(item, `${path}/${i}`));
  const record = value as Record<string, unknown>;
  const className = record.$class;
  if (className === undefined) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record)) out[key] = decodeArgs(record[key], `${path}/${key}`);
    return out;
  }
  if (typeof className !== "string" || !isRequestClass(className)) {
    throw new WireError("INVALID_ARGUMENT", `${path}/$class: ${JSON.stringify(className)} is not a request class (${Object.keys(RequestSchemas).join(", ")})`, `${path}/$class`);
  }
  const check = requestChecks[className];
  if (!check.Check(record)) {
    const first = check.Errors(record).First();
    const at = `${path}${first?.path ?? ""}`;
    throw new WireError("INVALID_ARGUMENT", `${at}: ${first?.message ?? "invalid"}`, at);
  }
  return buildRequest(className, record);
}

function buildRequest(className: RequestClassName, record: Record<string, unknown>): object {
  const cls = DATA_CLASSES[className as DataClassName] as unknown as { new (init: never): object; fieldKinds: FieldKinds };
  const init: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (key === "$class" || key === "vt_symbol") continue;
    const raw = record[key];
    const kind = cls.fieldKinds[key];
    if (kind === "datetime") init[key] = typeof raw === "string" ? DateTime.parse(raw) : raw;
    else if (kind !== undefined && isEnumName(kind) && typeof raw === "string") init[key] = canonicalEnumValue(kind, raw);
    else init[key] = raw;
  }
  return new cls(init as never);
}

/** The kernel's value for a value given in either language (the schema already checked it exists). */
function canonicalEnumValue(kind: EnumName, value: string): string {
  const member = enumMemberByValue(kind, value);
  return member === undefined ? value : (enumValueByName(kind, member) as string);
}

/**
 * RpcServer: the function table, the numbered event stream and the endpoints that carry both.
 *
 * Unlike VeighNa's single-threaded REP loop, every call runs as soon as it arrives (a slow history query never
 * holds up an order), arguments are bound and checked before the function runs, and nothing a client sends can
 * stop the server: each failure becomes an error reply and a log line.
 */
import { ERROR, NO_METRICS, isMarketDataType, type Event, type MetricsRecorder } from "../kernel/index.js";
import { settled, type CallContext, type CallDispatcher, type CallSettling, type ConnectedClient, type EndpointHost, type ServerEndpoint, type StreamPosition } from "./endpoint.js";
import { RpcError, deadlinePassed, unknownFunction } from "./errors.js";
import { FairQueue } from "./fair-queue.js";
import { settleGated, type CallGate } from "./gate.js";
import { newEpoch } from "./protocol.js";
import { bindArguments, type Param } from "./signature.js";

export type RpcHandler = (args: unknown[], context: CallContext) => unknown;

export interface RpcFunctionSpec {
  readonly name: string;
  readonly params: readonly Param[];
  readonly handler: RpcHandler;
  /** Long work (a history query): runs in fair turns between clients, a few at a time (see fair-queue.ts). */
  readonly heavy: boolean;
}

export interface RpcFunctionOptions {
  /** Long work that must not crowd out other clients' calls (e.g. query_history): see fair-queue.ts. */
  heavy?: boolean;
}

/** Heavy calls running at once, all clients together. */
export const DEFAULT_HEAVY_CONCURRENCY = 2;

/** Private streams: which events may be withheld from some clients, and from whom. */
export interface StreamFilter {
  /** Cheap, once per event: false means everyone receives it (no per-client check). */
  withheld(event: Event): boolean;
  visible(event: Event, viewer: CallContext): boolean;
}
/** The function label of calls to names the server does not have. */
export const UNKNOWN_FUNCTION_LABEL = "(unknown)";

export type ServerLog = (level: number, message: string) => void;

export interface RpcServerOptions {
  /** Where log lines go (level as LogData); default: stderr for warnings and errors. */
  log?: ServerLog;
  /** The policy every call passes, on every endpoint (roles, limits, audit); see gate.ts. */
  gate?: CallGate;
  /** Where call latencies and published events are counted; read at each use. Default: nowhere. */
  metrics?: () => MetricsRecorder;
  /** Heavy calls (RpcFunctionOptions.heavy) running at once; the rest wait their client's turn. Default 2. */
  heavyConcurrency?: number;
}

export class RpcServer {
  private readonly functions = new Map<string, RpcFunctionSpec>();
  private endpoints: ServerEndpoint[] = [];
  private readonly log: ServerLog;
  private readonly metrics: () => MetricsRecorder;
  private active = false;
  private currentEpoch = "";
  private lastSeq = 0;
  private publishedCount = 0;
  private gate: CallGate | undefined;
  private streamFilter: StreamFilter | undefined;
  private readonly heavyQueue: FairQueue;

  constructor(options: RpcServerOptions = {}) {
    this.heavyQueue = new FairQueue(Math.max(1, options.heavyConcurrency ?? DEFAULT_HEAVY_CONCURRENCY));
    this.log = options.log ?? ((level, message) => (level >= 30 ? console.error(message) : undefined));
    this.metrics = options.metrics ?? (() => NO_METRICS);
    this.gate = options.gate;
  }

  /** Sets (or removes) who may receive which event, asked by endpoints that can address one client (see EndpointHost). */
  setStreamFilter(filter: StreamFilter | undefined): void {
    this.streamFilter = filter;
  }

  /** Sets (or removes) the policy every call passes from now on. */
  setGate(gate: CallGate | undefined): void {
    this.gate = gate;
  }

  /** Registers (or replaces) a function; `params` are checked before `handler` runs. */
  register(name: string, params: readonly Param[], handler: RpcHandler, options: RpcFunctionOptions = {}): void {
    this.functions.set(name, { name, params, handler, heavy: options.heavy === true });
  }

  functionNames(): string[] {
    return [...this.functions.keys()];
  }

  get isActive(): boolean {
    return this.active;
  }

  get epoch(): string {
    return this.currentEpoch;
  }

  position(): StreamPosition {
    return { epoch: this.currentEpoch, seq: this.lastSeq, published: this.publishedCount };
  }

  /** Events published since the server was constructed, market data included (seq does not count ticks). */
  get published(): number {
    return this.publishedCount;
  }

  /**
   * Starts every endpoint with a fresh epoch and seq 0. If one cannot start, those already started are stopped
   * again and the error is rethrown: nothing stays bound, so a retry on the same server works.
   */
  async start(endpoints: readonly ServerEndpoint[]): Promise<void> {
    if (this.active) throw new RpcError("ERR_RPC_STATE", "the RPC server is already running");
    if (endpoints.length === 0) throw new RpcError("ERR_RPC_OPTIONS", "the RPC server needs at least one endpoint");
    this.currentEpoch = newEpoch();
    this.lastSeq = 0;
    const host: EndpointHost = {
      dispatch: this.dispatch,
      dispatchInto: this.dispatchInto,
      position: () => this.position(),
      functions: () => this.functionNames(),
      log: (level, message) => this.log(level, message),
      withheld: (event) => this.streamFilter?.withheld(event) ?? false,
      visible: (event, viewer) => this.streamFilter?.visible(event, viewer) ?? true,
      heavy: (name) => this.functions.get(name)?.heavy === true,
      refuseEarly: (name, context) => this.refuseEarly(name, context),
    };
    const started: ServerEndpoint[] = [];
    try {
      for (const endpoint of endpoints) {
        await endpoint.start(host);
        started.push(endpoint);
      }
    } catch (error) {
      for (const endpoint of started.reverse()) await endpoint.stop().catch(() => undefined);
      throw error;
    }
    this.endpoints = [...endpoints];
    this.active = true;
  }

  /** Stops every endpoint; the server may be started again. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    const endpoints = this.endpoints;
    this.endpoints = [];
    for (const endpoint of endpoints) {
      await endpoint.stop().catch((error: unknown) => this.log(ERROR, `RPC endpoint ${endpoint.name} failed to stop: ${String(error)}`));
    }
  }

  /**
   * Numbers the event and hands it to every endpoint. No-op while stopped. Market data (ticks) takes no number of
   * its own: it carries the seq of the last numbered event, because a slow subscriber's queue may conflate it
   * away; so a missing number always means an event was lost (a client resynchronises), never a skipped tick.
   */
  publish(event: Event): void {
    if (!this.active) return;
    this.publishedCount++;
    const seq = isMarketDataType(event.type) ? this.lastSeq : ++this.lastSeq;
    const published = { seq, epoch: this.currentEpoch, event };
    for (let i = 0; i < this.endpoints.length; i++) this.endpoints[i]!.publish(published);
    this.metrics().eventPublished("rpc", event.type);
  }

  clients(): ConnectedClient[] {
    const clients = this.endpoints.flatMap((endpoint) => endpoint.clients());
    const gate = this.gate;
    return gate?.describe ? clients.map((client) => ({ ...client, ...gate.describe!(client) })) : clients;
  }

  /** Closes the selected clients' connections on every endpoint that can; returns how many. */
  closeClients(which: (client: ConnectedClient) => boolean, reason: string): number {
    let closed = 0;
    for (const endpoint of this.endpoints) closed += endpoint.closeClients?.(which, reason) ?? 0;
    return closed;
  }

  /** Event-socket subscribers of endpoints that have them, with their queues and counters. */
  subscribers(): ConnectedClient[] {
    return this.endpoints.flatMap((endpoint) => endpoint.subscribers?.() ?? []);
  }

  /** A call refused before its arguments are decoded (see CallGate.refuseEarly); counted as a failed call. */
  private refuseEarly(name: string, context: CallContext): Error | undefined {
    const spec = this.functions.get(name);
    if (!spec) return undefined;
    const refusal = this.gate?.refuseEarly?.(name, context, spec.heavy);
    if (refusal) this.metrics().callFinished(name, context.endpoint, 0, false);
    return refusal;
  }

  private readonly dispatch: CallDispatcher = (name, args, kwargs, context) =>
    settled((settle) => this.dispatchInto(name, args, kwargs, context, settle));

  /** Runs a call and settles it: at once, with no promise made, when its function answers at once (every call's path). */
  private readonly dispatchInto: CallSettling = (name, args, kwargs, context, settle) => {
    const metrics = this.metrics();
    if (metrics === NO_METRICS) return this.run(name, args, kwargs, context, settle);
    const started = performance.now();
    // Names a client made up must not become label values: one series each would have no bound.
    const label = this.functions.has(name) ? name : UNKNOWN_FUNCTION_LABEL;
    this.run(name, args, kwargs, context, (ok, value) => {
      metrics.callFinished(label, context.endpoint, (performance.now() - started) / 1000, ok);
      settle(ok, value);
    });
  };

  private readonly run: CallSettling = (name, args, kwargs, context, settle) => {
    const spec = this.functions.get(name);
    if (!spec) return settle(false, unknownFunction(name));
    let bound: unknown[];
    try {
      bound = bindArguments(name, spec.params, args, kwargs);
    } catch (error) {
      return settle(false, error);
    }
    if (context.deadline !== undefined && context.deadline > 0 && Date.now() >= context.deadline) return settle(false, deadlinePassed(name));
    if (!spec.heavy) return settleGated(this.gate, { name, args: bound, context }, (gated) => spec.handler(bound, gated), settle);
    // Admitted (and counted in flight) by the gate first: a client over its limit is refused now, not queued.
    settleGated(
      this.gate,
      { name, args: bound, context, heavy: true },
      (gated) =>
        this.heavyQueue.run(context.identity ?? context.clientId, () => spec.handler(bound, gated), () => {
          if (context.signal?.aborted) throw deadlinePassed(name);
          if (context.deadline !== undefined && context.deadline > 0 && Date.now() >= context.deadline) throw deadlinePassed(name);
        }),
      settle,
    );
  };
}

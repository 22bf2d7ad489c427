/**
 * The Prometheus recorder (prom-client): implements the kernel's MetricsRecorder for the hot paths, and reads
 * the rest (connected clients, subscriber backlogs, gateway states) only when scraped.
 *
 *   const metrics = new PromMetrics();
 *   metrics.attach(mainEngine);              // order ack/fill latency, gateway states, mainEngine.metrics = this
 *   metrics.addClients(() => rpc.clients()); // connected clients and their backlogs
 *   await metrics.text();                    // the /metrics page
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import {
  EVENT_ORDER,
  EVENT_TRADE,
  NO_METRICS,
  Status,
  type Event,
  type MainEngine,
  type MetricsRecorder,
  type OrderData,
  type TradeData,
} from "../kernel/index.js";
import type { ConnectedClient } from "../rpc/endpoint.js";

/** Seconds: from 50 µs (an in-process call) to 10 s (a slow history query). */
export const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Orders waiting for their ack or first fill; the oldest are forgotten past this. */
const PENDING_ORDERS_KEPT = 10_000;

type ClientSource = () => readonly ConnectedClient[];

interface PendingOrder {
  readonly sentAt: number;
  acked: boolean;
}

/** A gateway's connection state, when the gateway tells it ("connected", "stale", ...), else up/down. */
function gatewayState(gateway: object): string {
  const state = (gateway as { connectionState?: unknown }).connectionState;
  if (typeof state === "string") return state;
  const connected = (gateway as { connected?: unknown }).connected;
  if (typeof connected === "boolean") return connected ? "connected" : "disconnected";
  return "unknown";
}

/** Published events of one stream and kind not yet moved into the prom-client counter. */
interface EventTally {
  readonly labels: { stream: string; type: string };
  uncounted: number;
}

/** Event types remembered with their tally (symbols' twins, orders' twins); past this the table starts afresh. */
const MAX_TALLIED_TYPES = 20_000;

export class PromMetrics implements MetricsRecorder {
  readonly registry = new Registry();
  readonly callDuration: Histogram<"function" | "endpoint">;
  /** Failed calls; all calls are the duration histogram's `_count`. */
  readonly callErrors: Counter<"function" | "endpoint">;
  readonly events: Counter<"stream" | "type">;
  readonly orderAck: Histogram<string>;
  readonly orderFill: Histogram<string>;
  readonly riskBlocks: Counter<"rule">;
  private readonly clientSources: ClientSource[] = [];
  private readonly pending = new Map<string, PendingOrder>();
  /** Label objects and children kept per name: the hot path then allocates nothing. */
  private readonly callLabels = new Map<string, Map<string, { function: string; endpoint: string }>>();
  /**
   * Published events counted by kind, moved into `events` when it is read (a scrape, the console's sampler): a
   * prom-client `inc` builds its label hash string per call, twice per tick (the tick and its twin), on the
   * server's publish path. The full event type finds its tally, so a twin's kind is not sliced out per event.
   */
  private readonly eventTallies = new Map<string, EventTally>();
  private readonly tallyByType = new Map<string, EventTally>();
  private mainEngine: MainEngine | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "rpcservice_" });
    this.callDuration = new Histogram({
      name: "rpcservice_call_duration_seconds",
      help: "Time from a call's arrival to its reply, by function and endpoint",
      labelNames: ["function", "endpoint"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.callErrors = new Counter({ name: "rpcservice_call_errors_total", help: "Calls answered with an error, by function and endpoint", labelNames: ["function", "endpoint"], registers });
    const tallies = this.eventTallies;
    this.events = new Counter({
      name: "rpcservice_events_published_total",
      help: "Events sent to subscribers, by stream and event type",
      labelNames: ["stream", "type"],
      registers,
      collect() {
        for (const tally of tallies.values()) {
          if (tally.uncounted === 0) continue;
          this.inc(tally.labels, tally.uncounted);
          tally.uncounted = 0;
        }
      },
    });
    this.orderAck = new Histogram({ name: "rpcservice_order_ack_seconds", help: "From an order leaving the checks to its gateway's first answer", buckets: LATENCY_BUCKETS, registers });
    this.orderFill = new Histogram({ name: "rpcservice_order_first_fill_seconds", help: "From an order leaving the checks to its first fill", buckets: LATENCY_BUCKETS, registers });
    this.riskBlocks = new Counter({ name: "rpcservice_risk_blocks_total", help: "Orders blocked by the risk manager, by rule", labelNames: ["rule"], registers });
    const sources = this.clientSources;
    new Gauge({
      name: "rpcservice_connected_clients",
      help: "Clients connected, by endpoint",
      labelNames: ["endpoint"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const client of allClients(sources)) counts.set(client.endpoint, (counts.get(client.endpoint) ?? 0) + 1);
        for (const [endpoint, count] of counts) this.set({ endpoint }, count);
      },
    });
    const perClient = (name: string, help: string, read: (client: ConnectedClient) => number | undefined): void => {
      new Gauge({
        name,
        help,
        labelNames: ["client", "endpoint"],
        registers,
        collect() {
          this.reset();
          for (const client of allClients(sources)) {
            const value = read(client);
            if (value !== undefined) this.set({ client: client.clientId, endpoint: client.endpoint }, value);
          }
        },
      });
    };
    perClient("rpcservice_subscriber_queued_events", "Events queued for a subscriber and not yet written", (c) => c.eventsBehind);
    perClient("rpcservice_subscriber_dropped_events", "Events a subscriber lost (dropped as a slow consumer)", (c) => c.eventsDropped);
    perClient("rpcservice_subscriber_lag_seconds", "Age of the oldest event queued for a subscriber", (c) => (c.lagMs === undefined ? undefined : c.lagMs / 1000));
    const engine = (): MainEngine | undefined => this.mainEngine;
    new Gauge({
      name: "rpcservice_gateway_connected",
      help: "1 for each gateway's current connection state",
      labelNames: ["gateway", "state"],
      registers,
      collect() {
        this.reset();
        for (const [name, gateway] of engine()?.gateways ?? []) this.set({ gateway: name, state: gatewayState(gateway) }, 1);
      },
    });
  }

  /** Installs this recorder on `mainEngine` and follows its orders and trades for the ack and fill latencies. */
  attach(mainEngine: MainEngine): void {
    if (this.mainEngine === mainEngine) return;
    this.mainEngine = mainEngine;
    mainEngine.metrics = this;
    mainEngine.eventEngine.register(EVENT_ORDER, this.onOrder);
    mainEngine.eventEngine.register(EVENT_TRADE, this.onTrade);
  }

  detach(): void {
    const mainEngine = this.mainEngine;
    if (!mainEngine) return;
    this.mainEngine = undefined;
    if (mainEngine.metrics === this) mainEngine.metrics = NO_METRICS;
    mainEngine.eventEngine.unregister(EVENT_ORDER, this.onOrder);
    mainEngine.eventEngine.unregister(EVENT_TRADE, this.onTrade);
  }

  /** Adds a source of connected clients (an RPC server, an endpoint); read at each scrape. */
  addClients(source: ClientSource): void {
    this.clientSources.push(source);
  }

  clients(): ConnectedClient[] {
    return allClients(this.clientSources);
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  // ---- MetricsRecorder (hot paths) ----------------------------------------------------------------------------

  callFinished(fn: string, endpoint: string, seconds: number, ok: boolean): void {
    // One label object per (function, endpoint), made once: nothing is allocated per call after the first.
    let byFunction = this.callLabels.get(endpoint);
    if (!byFunction) this.callLabels.set(endpoint, (byFunction = new Map()));
    let labels = byFunction.get(fn);
    if (!labels) byFunction.set(fn, (labels = { function: fn, endpoint }));
    this.callDuration.observe(labels, seconds);
    if (!ok) this.callErrors.inc(labels);
  }

  eventPublished(stream: string, type: string): void {
    const byType = stream === "rpc" ? type : `${stream}\u0000${type}`;
    let tally = this.tallyByType.get(byType);
    if (tally === undefined) {
      tally = this.tallyOf(stream, type);
      // Twins of orders and trades are one type each: the table starts afresh rather than grow with them.
      if (this.tallyByType.size >= MAX_TALLIED_TYPES) this.tallyByType.clear();
      this.tallyByType.set(byType, tally);
    }
    tally.uncounted++;
  }

  /** "eTick.rb2501.SHFE" counts as "eTick.": one series per kind, not per symbol or order. */
  private tallyOf(stream: string, type: string): EventTally {
    const dot = type.indexOf(".");
    const kind = dot >= 0 && dot < type.length - 1 ? type.slice(0, dot + 1) : type;
    const key = `${stream}\u0000${kind}`;
    let tally = this.eventTallies.get(key);
    if (tally === undefined) this.eventTallies.set(key, (tally = { labels: { stream, type: kind }, uncounted: 0 }));
    return tally;
  }

  orderSent(vt_orderid: string, sentAt: number): void {
    if (this.pending.size >= PENDING_ORDERS_KEPT) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(vt_orderid, { sentAt, acked: false });
  }

  riskBlocked(rule: string): void {
    this.riskBlocks.inc({ rule });
  }

  private readonly onOrder = (event: Event<OrderData>): void => {
    const order = event.data;
    const pending = this.pending.get(order.vt_orderid);
    if (!pending) return;
    if (!pending.acked && order.status !== Status.SUBMITTING) {
      pending.acked = true;
      this.orderAck.observe((performance.now() - pending.sentAt) / 1000);
    }
    // Finished without a fill (cancelled, rejected): nothing more to wait for.
    if (!order.isActive() && order.traded === 0) this.pending.delete(order.vt_orderid);
  };

  private readonly onTrade = (event: Event<TradeData>): void => {
    const trade = event.data;
    const pending = this.pending.get(trade.vt_orderid);
    if (!pending) return;
    this.pending.delete(trade.vt_orderid);
    this.orderFill.observe((performance.now() - pending.sentAt) / 1000);
  };
}

function allClients(sources: readonly ClientSource[]): ConnectedClient[] {
  return sources.flatMap((source) => source());
}

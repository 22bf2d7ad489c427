/**
 * Turns the Prometheus counters into what a person reads: rates and p50/p99 over the last interval, the slowest
 * subscribers, process load. The console publishes one sample per interval to its page and `rpcservice status`
 * prints the latest; a monitoring system scrapes /metrics instead.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from "prom-client";
import type { PromMetrics } from "./metrics.js";

export interface CallFigures {
  readonly function: string;
  readonly endpoint: string;
  /** Calls per second over the interval. */
  readonly perSecond: number;
  /** Over the interval; null when no call finished in it. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Since start. */
  readonly count: number;
  readonly errors: number;
  /** Cumulative counts per upper bound (ms; the last is +Inf), since start: the latency histogram. */
  readonly buckets: readonly { readonly leMs: number; readonly count: number }[];
}

export interface MetricsSample {
  /** Epoch ms. */
  readonly at: number;
  readonly intervalSeconds: number;
  readonly calls: readonly CallFigures[];
  readonly events: readonly { readonly stream: string; readonly type: string; readonly perSecond: number; readonly count: number }[];
  /** Every subscriber, most behind first. */
  readonly subscribers: readonly { readonly clientId: string; readonly endpoint: string; readonly queued: number; readonly dropped: number; readonly lagMs: number | null }[];
  readonly clients: readonly { readonly endpoint: string; readonly count: number }[];
  readonly orders: {
    readonly acks: number;
    readonly ackP50Ms: number | null;
    readonly ackP99Ms: number | null;
    readonly fills: number;
    readonly fillP50Ms: number | null;
    readonly fillP99Ms: number | null;
  };
  readonly riskBlocks: readonly { readonly rule: string; readonly count: number }[];
  readonly gateways: readonly { readonly gateway: string; readonly state: string }[];
  readonly process: { readonly cpuPercent: number; readonly rssBytes: number; readonly eventLoopLagMs: number };
}

type Values = MetricValue<string>[];

/** Cumulative bucket counts of one labelled histogram series, by upper bound (seconds). */
interface Series {
  readonly bounds: number[];
  readonly counts: number[];
}

export class MetricsSampler {
  private readonly metrics: PromMetrics;
  private previousCalls = new Map<string, Series>();
  private previousCounts = new Map<string, number>();
  private previousAt = performance.now();
  private previousCpu = process.cpuUsage();
  private readonly loopDelay: IntervalHistogram;

  constructor(metrics: PromMetrics) {
    this.metrics = metrics;
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
  }

  close(): void {
    this.loopDelay.disable();
  }

  /**
   * Figures since the previous sample (or since construction). `advance: false` peeks: the next sample still
   * covers the whole interval (what `status` uses, so it never shortens the page's intervals).
   */
  async sample(advance = true): Promise<MetricsSample> {
    const now = performance.now();
    const seconds = Math.max((now - this.previousAt) / 1000, 1e-3);
    const cpu = process.cpuUsage(this.previousCpu);
    const lagMs = this.loopDelay.count > 0 ? this.loopDelay.percentile(99) / 1e6 : 0;
    if (advance) {
      this.previousAt = now;
      this.previousCpu = process.cpuUsage();
      this.loopDelay.reset();
    }

    const durations = seriesByKey((await this.metrics.callDuration.get()).values, ["endpoint", "function"]);
    const callErrors = (await this.metrics.callErrors.get()).values;
    const calls: CallFigures[] = [];
    const nextCalls = new Map<string, Series>();
    for (const [key, series] of durations) {
      nextCalls.set(key, series);
      const before = this.previousCalls.get(key);
      const delta = series.counts.map((count, i) => count - (before?.counts[i] ?? 0));
      const inInterval = delta[delta.length - 1] ?? 0;
      const [endpoint, fn] = key.split("\u0000") as [string, string];
      const total = series.counts[series.counts.length - 1] ?? 0;
      calls.push({
        function: fn,
        endpoint,
        perSecond: inInterval / seconds,
        p50Ms: toMs(quantile(series.bounds, delta, 0.5)),
        p99Ms: toMs(quantile(series.bounds, delta, 0.99)),
        count: total,
        errors: sumWhere(callErrors, { function: fn, endpoint }),
        buckets: series.bounds.map((le, i) => ({ leMs: le * 1000, count: series.counts[i] ?? 0 })),
      });
    }
    if (advance) this.previousCalls = nextCalls;
    calls.sort((a, b) => b.perSecond - a.perSecond || b.count - a.count);

    const events = (await this.metrics.events.get()).values.map((v) => {
      const stream = String(v.labels["stream"]);
      const type = String(v.labels["type"]);
      const key = `${stream}\u0000${type}`;
      const perSecond = (v.value - (this.previousCounts.get(key) ?? 0)) / seconds;
      if (advance) this.previousCounts.set(key, v.value);
      return { stream, type, perSecond, count: v.value };
    });
    events.sort((a, b) => b.perSecond - a.perSecond);

    const clients = this.metrics.clients();
    const byEndpoint = new Map<string, number>();
    for (const c of clients) byEndpoint.set(c.endpoint, (byEndpoint.get(c.endpoint) ?? 0) + 1);
    const subscribers = clients
      .map((c) => ({ clientId: c.clientId, endpoint: c.endpoint, queued: c.eventsBehind, dropped: c.eventsDropped, lagMs: c.lagMs ?? null }))
      .sort((a, b) => (b.lagMs ?? 0) - (a.lagMs ?? 0) || b.queued - a.queued || b.dropped - a.dropped);

    const ack = seriesByKey((await this.metrics.orderAck.get()).values, []).get("") ?? { bounds: [], counts: [] };
    const fill = seriesByKey((await this.metrics.orderFill.get()).values, []).get("") ?? { bounds: [], counts: [] };
    const gateways = (await this.metrics.registry.getSingleMetric("rpcservice_gateway_connected")!.get()).values.map((v) => ({
      gateway: String(v.labels["gateway"]),
      state: String(v.labels["state"]),
    }));

    return {
      at: Date.now(),
      intervalSeconds: seconds,
      calls,
      events,
      subscribers,
      clients: [...byEndpoint].map(([endpoint, count]) => ({ endpoint, count })),
      orders: {
        acks: ack.counts[ack.counts.length - 1] ?? 0,
        ackP50Ms: toMs(quantile(ack.bounds, ack.counts, 0.5)),
        ackP99Ms: toMs(quantile(ack.bounds, ack.counts, 0.99)),
        fills: fill.counts[fill.counts.length - 1] ?? 0,
        fillP50Ms: toMs(quantile(fill.bounds, fill.counts, 0.5)),
        fillP99Ms: toMs(quantile(fill.bounds, fill.counts, 0.99)),
      },
      riskBlocks: (await this.metrics.riskBlocks.get()).values.map((v) => ({ rule: String(v.labels["rule"]), count: v.value })),
      gateways,
      process: {
        cpuPercent: ((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100,
        rssBytes: process.memoryUsage.rss(),
        eventLoopLagMs: lagMs,
      },
    };
  }
}

/** Groups `_bucket` values by the given labels (joined by NUL), bounds ascending, +Inf last. */
function seriesByKey(values: Values | MetricObjectWithValues<MetricValueWithName<string>>["values"], keyLabels: readonly string[]): Map<string, Series> {
  const out = new Map<string, { bounds: number[]; counts: number[] }>();
  for (const value of values) {
    if (!("metricName" in value) || !String(value.metricName).endsWith("_bucket")) continue;
    const key = keyLabels.map((label) => String(value.labels[label])).join("\u0000");
    let series = out.get(key);
    if (!series) out.set(key, (series = { bounds: [], counts: [] }));
    const le = value.labels["le"];
    series.bounds.push(le === "+Inf" ? Infinity : Number(le));
    series.counts.push(value.value);
  }
  return out;
}

/**
 * The q-quantile of cumulative bucket counts, interpolated linearly inside its bucket (as Prometheus's
 * histogram_quantile does); null when there is no observation. Past the last finite bound: that bound.
 */
export function quantile(bounds: readonly number[], cumulative: readonly number[], q: number): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const count = cumulative[i]!;
    if (count < rank) continue;
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    if (upper === Infinity) return lower;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const inBucket = count - below;
    return inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
  }
  return bounds[bounds.length - 2] ?? null;
}

function toMs(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}

function sumWhere(values: Values, labels: Record<string, string>): number {
  let sum = 0;
  for (const v of values) if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  return sum;
}

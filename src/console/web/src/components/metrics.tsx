/**
 * How the server performs, live (one sample per interval from the server): calls with their rates and
 * p50/p99, the selected call's latency histogram and its p50/p99 over time, event rates, the slowest
 * subscribers, orders, risk blocks, gateways and the process.
 */
import { t } from "../i18n";
import type { CallFigures, MetricsSample } from "../protocol";
import type { Store } from "../store";
import { Empty, Panel } from "./panel";

const key = (c: CallFigures): string => `${c.function}@${c.endpoint}`;

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value < 1 ? value.toFixed(3) : value < 100 ? value.toFixed(2) : value.toFixed(0);
}

function rate(value: number): string {
  return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
}

export function MetricsView({ store }: { store: Store }) {
  const now = store.metricsNow;
  if (!now) return <div class="placeholder">{t("waitingMetrics")}</div>;
  const selected = now.calls.find((c) => key(c) === store.metricsCall) ?? now.calls[0];
  return (
    <main class="metrics-view" data-testid="metrics-view">
      <ProcessPanel now={now} />
      <CallsPanel store={store} now={now} selected={selected} />
      <LatencyPanel history={store.metrics} selected={selected} />
      <EventsPanel now={now} />
      <SubscribersPanel now={now} />
    </main>
  );
}

function ProcessPanel({ now }: { now: MetricsSample }) {
  return (
    <Panel title={t("server")} testid="metrics-process" class="m-process">
      <dl class="facts">
        <dt>CPU</dt>
        <dd data-testid="metrics-cpu">{now.process.cpuPercent.toFixed(0)} %</dd>
        <dt>{t("memory")}</dt>
        <dd>{(now.process.rssBytes / 2 ** 20).toFixed(0)} MiB</dd>
        <dt>{t("loopLag")}</dt>
        <dd>{ms(now.process.eventLoopLagMs)} ms</dd>
        <dt>{t("clients")}</dt>
        <dd>{now.clients.map((c) => `${c.endpoint} ${c.count}`).join(" · ") || t("none")}</dd>
        <dt>{t("gateways")}</dt>
        <dd>
          {now.gateways.map((g) => (
            <span class={`badge ${g.state === "connected" ? "ok" : "bad"}`}>
              {g.gateway} {g.state}
            </span>
          ))}
        </dd>
        <dt>{t("orderAck")}</dt>
        <dd>
          p50 {ms(now.orders.ackP50Ms)} · p99 {ms(now.orders.ackP99Ms)} ms <span class="dim">({now.orders.acks})</span>
        </dd>
        <dt>{t("orderFill")}</dt>
        <dd>
          p50 {ms(now.orders.fillP50Ms)} · p99 {ms(now.orders.fillP99Ms)} ms <span class="dim">({now.orders.fills})</span>
        </dd>
        <dt>{t("riskBlocks")}</dt>
        <dd data-testid="metrics-risk-blocks">{now.riskBlocks.map((b) => `${b.rule} ${b.count}`).join(" · ") || t("none")}</dd>
      </dl>
    </Panel>
  );
}

function CallsPanel({ store, now, selected }: { store: Store; now: MetricsSample; selected: CallFigures | undefined }) {
  return (
    <Panel title={t("calls")} testid="metrics-calls" class="m-calls" tools={<span class="count">{t("lastSeconds", { n: now.intervalSeconds.toFixed(0) })}</span>}>
      <table class="grid">
        <thead>
          <tr>
            <th>{t("function")}</th>
            <th>{t("endpoint")}</th>
            <th class="num">{t("callsPerSecond")}</th>
            <th class="num">p50 ms</th>
            <th class="num">p99 ms</th>
            <th class="num">{t("total")}</th>
            <th class="num">{t("errors")}</th>
          </tr>
        </thead>
        <tbody>
          {now.calls.length === 0 ? <Empty columns={7} text={t("noCall")} /> : null}
          {now.calls.map((c) => (
            <tr
              key={key(c)}
              data-testid={`metrics-call-${key(c)}`}
              class={selected && key(c) === key(selected) ? "selected" : ""}
              onClick={() => {
                store.metricsCall = key(c);
                store.changed();
              }}
            >
              <td class="mono">{c.function}</td>
              <td>{c.endpoint}</td>
              <td class="num">{rate(c.perSecond)}</td>
              <td class="num">{ms(c.p50Ms)}</td>
              <td class="num">{ms(c.p99Ms)}</td>
              <td class="num" data-testid="metrics-call-total">{c.count}</td>
              <td class={`num ${c.errors > 0 ? "short" : ""}`}>{c.errors}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/** The selected call: its latency histogram since start, and p50/p99 per interval over the kept samples. */
function LatencyPanel({ history, selected }: { history: MetricsSample[]; selected: CallFigures | undefined }) {
  if (!selected) {
    return (
      <Panel title={t("latency")} testid="metrics-latency" class="m-latency">
        <div class="placeholder">{t("noCall")}</div>
      </Panel>
    );
  }
  const id = key(selected);
  const perBucket = selected.buckets.map((b, i) => ({ leMs: b.leMs, count: b.count - (i === 0 ? 0 : selected.buckets[i - 1]!.count) }));
  // Trim empty buckets at both ends so the bars use the width.
  const first = Math.max(0, perBucket.findIndex((b) => b.count > 0));
  const last = perBucket.length - 1 - [...perBucket].reverse().findIndex((b) => b.count > 0);
  const shown = perBucket.slice(first, Math.max(first, last) + 1);
  const top = Math.max(1, ...shown.map((b) => b.count));
  const series = history.map((s) => s.calls.find((c) => key(c) === id)).map((c) => ({ p50: c?.p50Ms ?? null, p99: c?.p99Ms ?? null }));
  const highest = Math.max(0.001, ...series.flatMap((p) => [p.p50 ?? 0, p.p99 ?? 0]));
  const W = 600;
  const H = 120;
  const x = (i: number) => (series.length <= 1 ? W : (i / (series.length - 1)) * W);
  const y = (v: number) => H - (v / highest) * (H - 6);
  const line = (pick: (p: { p50: number | null; p99: number | null }) => number | null) =>
    series
      .map((p, i) => [i, pick(p)] as const)
      .filter(([, v]) => v !== null)
      .map(([i, v]) => `${x(i).toFixed(1)},${y(v!).toFixed(1)}`)
      .join(" ");
  return (
    <Panel title={`${t("latency")} · ${id}`} testid="metrics-latency" class="m-latency">
      <div class="m-charts">
        <figure>
          <figcaption>{t("histogram")}</figcaption>
          <div class="bars" data-testid="metrics-histogram">
            {shown.map((b) => (
              <div class="bar" title={`≤ ${Number.isFinite(b.leMs) ? `${ms(b.leMs)} ms` : "∞"}: ${b.count}`}>
                <i style={{ height: `${(b.count / top) * 100}%` }} />
                <span>{Number.isFinite(b.leMs) ? ms(b.leMs) : "∞"}</span>
              </div>
            ))}
          </div>
        </figure>
        <figure>
          <figcaption>
            p50 <span class="long">━</span> · p99 <span class="warn">━</span> per interval (ms, top {ms(highest)})
          </figcaption>
          <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" class="spark" data-testid="metrics-percentiles">
            <polyline points={line((p) => p.p99)} class="p99" />
            <polyline points={line((p) => p.p50)} class="p50" />
          </svg>
        </figure>
      </div>
    </Panel>
  );
}

function EventsPanel({ now }: { now: MetricsSample }) {
  return (
    <Panel title={t("eventsPublished")} testid="metrics-events" class="m-events">
      <table class="grid">
        <thead>
          <tr>
            <th>{t("stream")}</th>
            <th>{t("type")}</th>
            <th class="num">{t("perSecond")}</th>
            <th class="num">{t("total")}</th>
          </tr>
        </thead>
        <tbody>
          {now.events.length === 0 ? <Empty columns={4} text={t("noEvent")} /> : null}
          {now.events.map((e) => (
            <tr key={`${e.stream}:${e.type}`}>
              <td>{e.stream}</td>
              <td class="mono">{e.type}</td>
              <td class="num">{rate(e.perSecond)}</td>
              <td class="num">{e.count.toLocaleString("en-US")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

function SubscribersPanel({ now }: { now: MetricsSample }) {
  return (
    <Panel title={t("slowest")} testid="metrics-subscribers" class="m-subscribers">
      <table class="grid">
        <thead>
          <tr>
            <th>{t("client")}</th>
            <th>{t("endpoint")}</th>
            <th class="num">{t("lagMs")}</th>
            <th class="num">{t("queued")}</th>
            <th class="num">{t("dropped")}</th>
          </tr>
        </thead>
        <tbody>
          {now.subscribers.length === 0 ? <Empty columns={5} text={t("noSubscriber")} /> : null}
          {now.subscribers.slice(0, 10).map((s) => (
            <tr key={s.clientId}>
              <td class="mono">{s.clientId}</td>
              <td>{s.endpoint}</td>
              <td class="num">{s.lagMs === null ? "—" : ms(s.lagMs)}</td>
              <td class="num">{s.queued}</td>
              <td class={`num ${s.dropped > 0 ? "short" : ""}`}>{s.dropped}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/**
 * Candles of the selected contract (lightweight-charts): history from query_history, the last candle moved by
 * each tick, the client's working orders as price lines and its fills as markers. Times are the exchange's
 * wall clock (the axis says so), as in the order and trade tables.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import {
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  LineStyle,
  type CandlestickData,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { queryHistory } from "../actions";
import { ACTIVE_STATUSES, Direction, type Bar } from "../protocol";
import type { Store } from "../store";
import { Panel } from "./panel";
import { t } from "../i18n";

export type CandleInterval = "1m" | "5m" | "1h" | "1d";
export const CANDLE_INTERVALS: readonly CandleInterval[] = ["1m", "5m", "1h", "1d"];
const SECONDS: Record<CandleInterval, number> = { "1m": 60, "5m": 300, "1h": 3600, "1d": 86400 };
/** How far back each interval asks, ms. */
const LOOKBACK: Record<CandleInterval, number> = { "1m": 86_400_000, "5m": 5 * 86_400_000, "1h": 30 * 86_400_000, "1d": 365 * 86_400_000 };

/**
 * Seconds of an ISO datetime's own wall clock, read as if it were UTC ("09:30+08:00" -> 09:30): the chart then
 * shows exchange time whatever the browser's zone.
 */
export function wallSeconds(iso: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)/.exec(iso);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
}

/** The zone of an ISO datetime as "UTC+8" (empty when naive). */
export function zoneLabel(iso: string | null | undefined): string {
  const m = iso ? /([+-])(\d\d):?(\d\d)$/.exec(iso) : null;
  if (!m) return "";
  const minutes = Number(m[3]);
  return `UTC${m[1]}${Number(m[2])}${minutes ? `:${m[3]}` : ""}`;
}

function bucket(seconds: number, interval: CandleInterval): UTCTimestamp {
  const size = SECONDS[interval];
  return (Math.floor(seconds / size) * size) as UTCTimestamp;
}

/** Bars (1m, 1h or d from the server) into candles of `interval`, oldest first. */
export function toCandles(bars: readonly Bar[], interval: CandleInterval): CandlestickData<UTCTimestamp>[] {
  const out: CandlestickData<UTCTimestamp>[] = [];
  for (const bar of bars) {
    const time = bucket(wallSeconds(bar.datetime), interval);
    const last = out[out.length - 1];
    if (last && last.time === time) {
      last.high = Math.max(last.high, bar.high_price);
      last.low = Math.min(last.low, bar.low_price);
      last.close = bar.close_price;
    } else if (!last || time > last.time) {
      out.push({ time, open: bar.open_price, high: bar.high_price, low: bar.low_price, close: bar.close_price });
    }
  }
  return out;
}

export function CandlePanel({ store }: { store: Store }) {
  const vtSymbol = store.selected;
  const [interval, setInterval] = useState<CandleInterval>("1m");
  const [status, setStatus] = useState("");
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; series: ISeriesApi<"Candlestick">; markers: ISeriesMarkersPluginApi<Time>; lines: Map<string, IPriceLine> } | null>(null);
  const candles = useRef<CandlestickData<UTCTimestamp>[]>([]);
  const lastTick = useRef("");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const api = createChart(el, {
      autoSize: true,
      layout: { background: { color: "#121821" }, textColor: "#7b8798", fontSize: 11, attributionLogo: false },
      grid: { vertLines: { color: "#1a2230" }, horzLines: { color: "#1a2230" } },
      rightPriceScale: { borderColor: "#222c3a" },
      timeScale: { borderColor: "#222c3a", timeVisible: true, secondsVisible: false },
      crosshair: { mode: 0 },
    });
    const series = api.addSeries(CandlestickSeries, {
      upColor: "#2ebd85",
      downColor: "#f6465d",
      borderVisible: false,
      wickUpColor: "#2ebd85",
      wickDownColor: "#f6465d",
    });
    chart.current = { api, series, markers: createSeriesMarkers(series, []), lines: new Map() };
    return () => {
      api.remove();
      chart.current = null;
    };
  }, []);

  // History whenever the contract or the interval changes.
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    candles.current = [];
    c.series.setData([]);
    lastTick.current = "";
    const contract = store.contracts.get(vtSymbol);
    if (!contract) {
      setStatus(vtSymbol ? t("loading") : t("selectSymbol"));
      return;
    }
    let cancelled = false;
    setStatus(t("loading"));
    const end = Date.now();
    const serverInterval = interval === "1h" ? "1h" : interval === "1d" ? "d" : "1m";
    queryHistory(contract, serverInterval, new Date(end - LOOKBACK[interval]), new Date(end))
      .then((bars) => {
        if (cancelled || !chart.current) return;
        // Ticks may have started candles while the history was on its way: history first, then those.
        const live = candles.current;
        const merged = toCandles(bars, interval);
        for (const candle of live) {
          const last = merged[merged.length - 1];
          if (last && last.time === candle.time) {
            last.high = Math.max(last.high, candle.high);
            last.low = Math.min(last.low, candle.low);
            last.close = candle.close;
          } else if (!last || candle.time > last.time) merged.push({ ...candle });
        }
        candles.current = merged;
        chart.current.series.setData(merged);
        chart.current.api.timeScale().scrollToRealTime();
        setStatus(merged.length === 0 ? t("noHistory") : "");
      })
      .catch((error: unknown) => !cancelled && setStatus((error as Error).message));
    return () => {
      cancelled = true;
    };
  }, [vtSymbol, interval, store.contracts.has(vtSymbol)]);

  // Each new tick moves (or starts) the last candle.
  const tick = store.ticks.get(vtSymbol);
  useEffect(() => {
    const c = chart.current;
    if (!c || !tick || !tick.last_price) return;
    const stamp = `${tick.datetime}|${tick.last_price}|${tick.volume}`;
    if (stamp === lastTick.current) return;
    lastTick.current = stamp;
    const time = bucket(wallSeconds(tick.datetime), interval);
    const list = candles.current;
    const last = list[list.length - 1];
    let candle: CandlestickData<UTCTimestamp>;
    if (last && last.time === time) {
      candle = { ...last, high: Math.max(last.high, tick.last_price), low: Math.min(last.low, tick.last_price), close: tick.last_price };
      list[list.length - 1] = candle;
    } else if (!last || time > last.time) {
      candle = { time, open: tick.last_price, high: tick.last_price, low: tick.last_price, close: tick.last_price };
      list.push(candle);
    } else return;
    c.series.update(candle);
  }, [tick]);

  // The client's working orders as price lines, its fills as arrows.
  const orders = [...store.orders.values()].filter((o) => o.vt_symbol === vtSymbol && ACTIVE_STATUSES.has(o.status));
  const trades = [...store.trades.values()].filter((tr) => tr.vt_symbol === vtSymbol);
  const orderKey = orders.map((o) => `${o.vt_orderid}:${o.price}`).join(",");
  const tradeKey = `${vtSymbol}|${interval}|${trades.length}`;
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const wanted = new Set(orders.map((o) => o.vt_orderid));
    for (const [id, line] of c.lines) {
      if (!wanted.has(id)) {
        c.series.removePriceLine(line);
        c.lines.delete(id);
      }
    }
    for (const o of orders) {
      if (c.lines.has(o.vt_orderid)) continue;
      const long = o.direction === Direction.LONG;
      c.lines.set(
        o.vt_orderid,
        c.series.createPriceLine({ price: o.price, color: long ? "#2ebd85" : "#f6465d", lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: true, title: `${long ? "B" : "S"} ${o.volume - o.traded}` }),
      );
    }
  }, [orderKey]);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const markers: SeriesMarker<Time>[] = trades
      .filter((tr) => tr.datetime)
      .map((tr) => {
        const long = tr.direction === Direction.LONG;
        return {
          time: bucket(wallSeconds(tr.datetime!), interval),
          position: long ? "belowBar" : "aboveBar",
          shape: long ? "arrowUp" : "arrowDown",
          color: long ? "#2ebd85" : "#f6465d",
          text: `${long ? "B" : "S"}${tr.volume}@${tr.price}`,
        } satisfies SeriesMarker<Time>;
      })
      .sort((a, b) => (a.time as number) - (b.time as number));
    c.markers.setMarkers(markers);
  }, [tradeKey]);

  const zone = zoneLabel(tick?.datetime);
  return (
    <Panel
      title={vtSymbol ? `${t("chart")} · ${vtSymbol}` : t("chart")}
      testid="chart-panel"
      tools={
        <>
          <span class="count" data-testid="chart-zone">
            {t("exchangeTime")}
            {zone ? ` (${zone})` : ""}
          </span>
          <div class="segmented small" role="group">
            {CANDLE_INTERVALS.map((value) => (
              <button type="button" class={value === interval ? "on" : ""} data-testid={`chart-interval-${value}`} onClick={() => setInterval(value)}>
                {value}
              </button>
            ))}
          </div>
        </>
      }
    >
      <div
        class="candles"
        ref={box}
        data-testid="chart"
        data-candles={candles.current.length}
        data-last-close={candles.current[candles.current.length - 1]?.close ?? ""}
        data-step={candleStep(candles.current)}
      />
      {status ? <div class="chart-status">{status}</div> : null}
    </Panel>
  );
}

/** The smallest gap between the last candles, seconds (what the tests read to tell 1m from 5m). */
function candleStep(list: readonly CandlestickData<UTCTimestamp>[]): number {
  let step = Infinity;
  for (let i = Math.max(1, list.length - 50); i < list.length; i++) step = Math.min(step, list[i]!.time - list[i - 1]!.time);
  return Number.isFinite(step) ? step : 0;
}

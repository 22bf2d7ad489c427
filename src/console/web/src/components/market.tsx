/** Market data of the watched symbols, a chart of the selected one's last price, and the order ticket. */
import { useEffect, useState } from "preact/hooks";
import { sendOrder, unwatch, watch } from "../actions";
import { clock, price, qty } from "../format";
import { Direction, Offset, OrderType } from "../protocol";
import type { Store } from "../store";
import { Empty, Panel } from "./panel";

export function MarketPanel({ store }: { store: Store }) {
  const [symbol, setSymbol] = useState("");
  const add = async (e: Event) => {
    e.preventDefault();
    if (symbol.trim()) await watch(symbol.trim());
    setSymbol("");
  };
  return (
    <Panel
      title="Market"
      testid="market-panel"
      tools={
        <form class="inline" onSubmit={add}>
          <input list="contracts" placeholder="Add symbol…" value={symbol} onInput={(e) => setSymbol(e.currentTarget.value)} data-testid="watch-input" spellcheck={false} />
          <datalist id="contracts">
            {[...store.contracts.keys()].map((s) => (
              <option value={s} />
            ))}
          </datalist>
          <button type="submit">Watch</button>
        </form>
      }
    >
      <table class="grid market">
        <thead>
          <tr>
            <th>Symbol</th>
            <th class="num">Last</th>
            <th class="num">Chg %</th>
            <th class="num">Bid vol</th>
            <th class="num">Bid</th>
            <th class="num">Ask</th>
            <th class="num">Ask vol</th>
            <th class="num">Volume</th>
            <th class="num">High</th>
            <th class="num">Low</th>
            <th>Time</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {store.watched.length === 0 ? <Empty columns={12} text="Watch a symbol to see its ticks" /> : null}
          {store.watched.map((vtSymbol) => {
            const tick = store.ticks.get(vtSymbol);
            const tickSize = store.contracts.get(vtSymbol)?.pricetick ?? 0.01;
            const before = store.previous.get(vtSymbol);
            const move = tick && before !== undefined ? Math.sign(tick.last_price - before) : 0;
            const base = tick?.pre_close || tick?.open_price || 0;
            const change = tick && base ? ((tick.last_price - base) / base) * 100 : 0;
            return (
              <tr
                key={vtSymbol}
                class={store.selected === vtSymbol ? "selected" : ""}
                onClick={() => {
                  store.selected = vtSymbol;
                  store.changed();
                }}
                data-testid={`tick-${vtSymbol}`}
              >
                <td class="mono strong">{vtSymbol}</td>
                <td class={`num strong ${move > 0 ? "up" : move < 0 ? "down" : ""}`} data-testid="last-price">
                  {tick ? price(tick.last_price, tickSize) : "—"}
                </td>
                <td class={`num ${change > 0 ? "up" : change < 0 ? "down" : ""}`}>{tick && base ? `${change >= 0 ? "+" : ""}${change.toFixed(2)}` : "—"}</td>
                <td class="num dim">{tick ? qty(tick.bid_volume_1) : ""}</td>
                <td class="num long">{tick ? price(tick.bid_price_1, tickSize) : ""}</td>
                <td class="num short">{tick ? price(tick.ask_price_1, tickSize) : ""}</td>
                <td class="num dim">{tick ? qty(tick.ask_volume_1) : ""}</td>
                <td class="num">{tick ? qty(tick.volume) : ""}</td>
                <td class="num dim">{tick ? price(tick.high_price, tickSize) : ""}</td>
                <td class="num dim">{tick ? price(tick.low_price, tickSize) : ""}</td>
                <td class="mono dim">{tick ? clock(tick.datetime) : ""}</td>
                <td>
                  <button
                    class="icon"
                    title="Stop watching"
                    onClick={(e) => {
                      e.stopPropagation();
                      void unwatch(vtSymbol);
                    }}
                  >
                    ×
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}

const CHART_W = 640;
const CHART_H = 200;
const PAD = { left: 8, right: 64, top: 10, bottom: 16 };

/** The last price of the selected symbol as an SVG line, with its range and the last value on the right axis. */
export function ChartPanel({ store }: { store: Store }) {
  const vtSymbol = store.selected;
  const series = store.history.get(vtSymbol) ?? [];
  const tickSize = store.contracts.get(vtSymbol)?.pricetick ?? 0.01;
  let body;
  if (series.length < 2) {
    body = <div class="placeholder">{vtSymbol ? "Waiting for ticks…" : "Select a symbol in the market table"}</div>;
  } else {
    let low = Math.min(...series);
    let high = Math.max(...series);
    if (high === low) {
      high += tickSize * 5;
      low -= tickSize * 5;
    }
    const w = CHART_W - PAD.left - PAD.right;
    const h = CHART_H - PAD.top - PAD.bottom;
    const x = (i: number) => PAD.left + (i / (series.length - 1)) * w;
    const y = (v: number) => PAD.top + (1 - (v - low) / (high - low)) * h;
    const points = series.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const last = series[series.length - 1]!;
    const first = series[0]!;
    const rising = last >= first;
    // Gridlines on whole ticks, at most five, so no two axis labels read the same.
    const stepTicks = Math.max(1, Math.ceil((high - low) / tickSize / 4));
    const grid: number[] = [];
    for (let v = Math.ceil(low / (stepTicks * tickSize)) * stepTicks * tickSize; v <= high + 1e-9 && grid.length < 6; v += stepTicks * tickSize) grid.push(v);
    body = (
      <svg viewBox={`0 0 ${CHART_W} ${CHART_H}`} preserveAspectRatio="none" class="chart" data-testid="chart" role="img" aria-label={`last price of ${vtSymbol}`}>
        {grid.map((v) => (
          <g>
            <line x1={PAD.left} x2={PAD.left + w} y1={y(v)} y2={y(v)} class="gridline" />
            <text x={PAD.left + w + 6} y={y(v) + 3} class="axis">
              {price(v, tickSize)}
            </text>
          </g>
        ))}
        <polygon points={`${x(0)},${PAD.top + h} ${points} ${x(series.length - 1)},${PAD.top + h}`} class={`area ${rising ? "up" : "down"}`} />
        <polyline points={points} class={`line ${rising ? "up" : "down"}`} />
        <line x1={PAD.left} x2={PAD.left + w} y1={y(last)} y2={y(last)} class="lastline" />
        <rect x={PAD.left + w + 2} y={y(last) - 8} width={PAD.right - 4} height={16} rx={2} class={`tag ${rising ? "up" : "down"}`} />
        <text x={PAD.left + w + 6} y={y(last) + 4} class="tagtext">
          {price(last, tickSize)}
        </text>
      </svg>
    );
  }
  return (
    <Panel title={vtSymbol ? `Chart · ${vtSymbol}` : "Chart"} testid="chart-panel" tools={<span class="count">{series.length} ticks</span>}>
      {body}
    </Panel>
  );
}

export function TicketPanel({ store }: { store: Store }) {
  const [vtSymbol, setSymbol] = useState("");
  const [direction, setDirection] = useState<string>(Direction.LONG);
  const [offset, setOffset] = useState<string>(Offset.OPEN);
  const [type, setType] = useState<string>(OrderType.LIMIT);
  const [priceText, setPrice] = useState("");
  const [volumeText, setVolume] = useState("1");
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  // Follow the symbol selected in the market table, and offer its last price once there is one.
  useEffect(() => {
    if (store.selected && store.selected !== vtSymbol) {
      setSymbol(store.selected);
      const tick = store.ticks.get(store.selected);
      setPrice(tick ? String(tick.last_price) : "");
    }
  }, [store.selected]);
  const lastPrice = store.ticks.get(vtSymbol)?.last_price;
  useEffect(() => {
    if (priceText === "" && lastPrice !== undefined) setPrice(String(lastPrice));
  }, [vtSymbol, lastPrice === undefined]);

  const fillPrice = (which: "bid" | "ask" | "last") => {
    const tick = store.ticks.get(vtSymbol);
    if (!tick) return;
    setPrice(String(which === "bid" ? tick.bid_price_1 : which === "ask" ? tick.ask_price_1 : tick.last_price));
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setResult(null);
    const volume = Number(volumeText);
    const priceValue = Number(priceText || "0");
    if (!vtSymbol || !(volume > 0) || !Number.isFinite(priceValue)) {
      setResult({ ok: false, text: "Symbol, a positive volume and a price are needed" });
      return;
    }
    try {
      const id = await sendOrder({ vt_symbol: vtSymbol, direction, offset, type, price: priceValue, volume });
      setResult(id ? { ok: true, text: `Sent ${id}` } : { ok: false, text: "Blocked or rejected: see the log" });
    } catch (error) {
      setResult({ ok: false, text: (error as Error).message });
    }
  };

  const long = direction === Direction.LONG;
  return (
    <Panel title="Order ticket" testid="ticket-panel">
      <form class="form ticket" onSubmit={submit}>
        <label>
          <span>Symbol</span>
          <select value={vtSymbol} onChange={(e) => setSymbol(e.currentTarget.value)} data-testid="ticket-symbol">
            <option value="">—</option>
            {[...store.contracts.keys()].sort().map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <div class="segmented" role="group" aria-label="Direction">
          <button type="button" class={long ? "on long" : ""} onClick={() => setDirection(Direction.LONG)} data-testid="ticket-long">
            Buy / Long
          </button>
          <button type="button" class={!long ? "on short" : ""} onClick={() => setDirection(Direction.SHORT)} data-testid="ticket-short">
            Sell / Short
          </button>
        </div>
        <div class="row2">
          <label>
            <span>Offset</span>
            <select value={offset} onChange={(e) => setOffset(e.currentTarget.value)} data-testid="ticket-offset">
              <option value={Offset.OPEN}>Open</option>
              <option value={Offset.CLOSE}>Close</option>
              <option value={Offset.CLOSETODAY}>Close today</option>
              <option value={Offset.CLOSEYESTERDAY}>Close yesterday</option>
              <option value={Offset.NONE}>None</option>
            </select>
          </label>
          <label>
            <span>Type</span>
            <select value={type} onChange={(e) => setType(e.currentTarget.value)} data-testid="ticket-type">
              <option value={OrderType.LIMIT}>Limit</option>
              <option value={OrderType.MARKET}>Market</option>
              <option value={OrderType.FAK}>FAK</option>
              <option value={OrderType.FOK}>FOK</option>
            </select>
          </label>
        </div>
        <div class="row2">
          <label>
            <span>
              Price
              <span class="quick">
                <a onClick={() => fillPrice("bid")}>bid</a>
                <a onClick={() => fillPrice("last")}>last</a>
                <a onClick={() => fillPrice("ask")}>ask</a>
              </span>
            </span>
            <input type="number" step="any" value={priceText} onInput={(e) => setPrice(e.currentTarget.value)} data-testid="ticket-price" />
          </label>
          <label>
            <span>Volume</span>
            <input type="number" step="any" min="0" value={volumeText} onInput={(e) => setVolume(e.currentTarget.value)} data-testid="ticket-volume" />
          </label>
        </div>
        <button type="submit" class={`send ${long ? "long" : "short"}`} data-testid="ticket-send">
          {long ? "Buy" : "Sell"} {volumeText || 0} {vtSymbol || ""}
        </button>
        {result ? (
          <div class={`result ${result.ok ? "ok" : "bad"}`} data-testid="ticket-result">
            {result.text}
          </div>
        ) : null}
      </form>
    </Panel>
  );
}

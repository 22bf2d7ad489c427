/** Market data of the watched symbols (with the contract search) and the order ticket. */
import { useEffect, useState } from "preact/hooks";
import { searchContracts, sendOrder, unwatch, watch } from "../actions";
import { t } from "../i18n";
import { clock, price, qty } from "../format";
import { Direction, Offset, OrderType } from "../protocol";
import type { Store } from "../store";
import { Empty, Panel } from "./panel";

export function MarketPanel({ store }: { store: Store }) {
  const [symbol, setSymbol] = useState("");
  const [open, setOpen] = useState(false);
  const results = open ? searchContracts(symbol) : [];
  const choose = async (vtSymbol: string) => {
    setSymbol("");
    setOpen(false);
    await watch(vtSymbol);
  };
  const add = async (e: Event) => {
    e.preventDefault();
    const text = symbol.trim();
    if (!text) return;
    // An exact vt_symbol is taken as typed; anything else picks the best match of the search.
    await choose(store.contracts.has(text) ? text : (searchContracts(text, 1)[0]?.vt_symbol ?? text));
  };
  return (
    <Panel
      title={t("market")}
      testid="market-panel"
      tools={
        <form class="inline search" onSubmit={add}>
          <input
            placeholder={t("search")}
            value={symbol}
            onInput={(e) => {
              setSymbol(e.currentTarget.value);
              setOpen(true);
            }}
            onBlur={() => window.setTimeout(() => setOpen(false), 200)}
            data-testid="watch-input"
            spellcheck={false}
            autocomplete="off"
          />
          <button type="submit">{t("watch")}</button>
          {results.length > 0 ? (
            <ul class="search-results" data-testid="search-results">
              {results.map((c) => (
                <li data-testid={`search-result-${c.vt_symbol}`} onMouseDown={(e) => (e.preventDefault(), void choose(c.vt_symbol))}>
                  <span class="mono strong">{c.vt_symbol}</span>
                  <span>{c.name}</span>
                  <span class="dim">{c.product ?? ""}</span>
                </li>
              ))}
            </ul>
          ) : null}
        </form>
      }
    >
      <table class="grid market">
        <thead>
          <tr>
            <th>{t("symbol")}</th>
            <th class="num">{t("last")}</th>
            <th class="num p2">{t("chgPct")}</th>
            <th class="num p2">{t("bidVol")}</th>
            <th class="num">{t("bid")}</th>
            <th class="num">{t("ask")}</th>
            <th class="num p2">{t("askVol")}</th>
            <th class="num p3">{t("volume")}</th>
            <th class="num p3">{t("high")}</th>
            <th class="num p3">{t("low")}</th>
            <th class="p1" title={t("exchangeTime")}>{t("timeExch")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {store.watched.length === 0 ? <Empty columns={12} text={t("watchHint")} /> : null}
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
                <td class={`num p2 ${change > 0 ? "up" : change < 0 ? "down" : ""}`}>{tick && base ? `${change >= 0 ? "+" : ""}${change.toFixed(2)}` : "—"}</td>
                <td class="num dim p2">{tick ? qty(tick.bid_volume_1) : ""}</td>
                <td class="num long">{tick ? price(tick.bid_price_1, tickSize) : ""}</td>
                <td class="num short">{tick ? price(tick.ask_price_1, tickSize) : ""}</td>
                <td class="num dim p2">{tick ? qty(tick.ask_volume_1) : ""}</td>
                <td class="num p3">{tick ? qty(tick.volume) : ""}</td>
                <td class="num dim p3">{tick ? price(tick.high_price, tickSize) : ""}</td>
                <td class="num dim p3">{tick ? price(tick.low_price, tickSize) : ""}</td>
                <td class="mono dim p1">{tick ? clock(tick.datetime) : ""}</td>
                <td>
                  <button
                    class="icon"
                    title={t("stopWatching")}
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

  // A click in the depth ladder.
  useEffect(() => {
    if (store.ticketPrice) setPrice(String(store.ticketPrice.value));
  }, [store.ticketPrice?.n]);

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
      setResult({ ok: false, text: t("ticketInvalid") });
      return;
    }
    try {
      const id = await sendOrder({ vt_symbol: vtSymbol, direction, offset, type, price: priceValue, volume });
      setResult(id ? { ok: true, text: `${t("sent")} ${id}` } : { ok: false, text: t("blockedSeeLog") });
    } catch (error) {
      setResult({ ok: false, text: (error as Error).message });
    }
  };

  const long = direction === Direction.LONG;
  return (
    <Panel title={t("ticket")} testid="ticket-panel">
      {/* noValidate: the browser's own checks would silently keep the previous answer on screen. */}
      <form class="form ticket" onSubmit={submit} noValidate>
        <label>
          <span>{t("symbol")}</span>
          <select value={vtSymbol} onChange={(e) => setSymbol(e.currentTarget.value)} data-testid="ticket-symbol">
            <option value="">—</option>
            {[...store.contracts.keys()].sort().map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <div class="segmented" role="group" aria-label={t("side")}>
          <button type="button" class={long ? "on long" : ""} onClick={() => setDirection(Direction.LONG)} data-testid="ticket-long">
            {t("buyLong")}
          </button>
          <button type="button" class={!long ? "on short" : ""} onClick={() => setDirection(Direction.SHORT)} data-testid="ticket-short">
            {t("sellShort")}
          </button>
        </div>
        <div class="row2">
          <label>
            <span>{t("offset")}</span>
            <select value={offset} onChange={(e) => setOffset(e.currentTarget.value)} data-testid="ticket-offset">
              <option value={Offset.OPEN}>{t("offsetOpen")}</option>
              <option value={Offset.CLOSE}>{t("offsetClose")}</option>
              <option value={Offset.CLOSETODAY}>{t("offsetCloseToday")}</option>
              <option value={Offset.CLOSEYESTERDAY}>{t("offsetCloseYesterday")}</option>
              <option value={Offset.NONE}>{t("offsetNone")}</option>
            </select>
          </label>
          <label>
            <span>{t("type")}</span>
            <select value={type} onChange={(e) => setType(e.currentTarget.value)} data-testid="ticket-type">
              <option value={OrderType.LIMIT}>{t("typeLimit")}</option>
              <option value={OrderType.MARKET}>{t("typeMarket")}</option>
              <option value={OrderType.FAK}>FAK</option>
              <option value={OrderType.FOK}>FOK</option>
            </select>
          </label>
        </div>
        <div class="row2">
          <label>
            <span>
              {t("price")}
              <span class="quick">
                <a onClick={() => fillPrice("bid")}>bid</a>
                <a onClick={() => fillPrice("last")}>last</a>
                <a onClick={() => fillPrice("ask")}>ask</a>
              </span>
            </span>
            <input type="number" step="any" value={priceText} onInput={(e) => setPrice(e.currentTarget.value)} data-testid="ticket-price" />
          </label>
          <label>
            <span>{t("volume")}</span>
            <input type="number" step="any" min="0" value={volumeText} onInput={(e) => setVolume(e.currentTarget.value)} data-testid="ticket-volume" />
          </label>
        </div>
        <button type="submit" class={`send ${long ? "long" : "short"}`} data-testid="ticket-send">
          {long ? t("buy") : t("sell")} {volumeText || 0} {vtSymbol || ""}
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

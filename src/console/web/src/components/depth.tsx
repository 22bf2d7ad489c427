/** Five levels of the selected contract's book from its tick; a click on a level puts its price in the ticket. */
import { price, qty } from "../format";
import { t } from "../i18n";
import type { Store } from "../store";
import { Panel } from "./panel";

const LEVELS = [1, 2, 3, 4, 5] as const;

export function DepthPanel({ store }: { store: Store }) {
  const vtSymbol = store.selected;
  const tick = store.ticks.get(vtSymbol);
  const tickSize = store.contracts.get(vtSymbol)?.pricetick ?? 0.01;
  const level = (side: "bid" | "ask", n: number) => ({
    px: Number(tick?.[`${side}_price_${n}`] ?? 0),
    vol: Number(tick?.[`${side}_volume_${n}`] ?? 0),
  });
  const asks = LEVELS.map((n) => ({ n, ...level("ask", n) })).reverse();
  const bids = LEVELS.map((n) => ({ n, ...level("bid", n) }));
  const top = Math.max(1, ...asks.map((l) => l.vol), ...bids.map((l) => l.vol));
  const pick = (value: number) => {
    if (!value) return;
    store.ticketPrice = { value, n: (store.ticketPrice?.n ?? 0) + 1 };
    store.changed();
  };
  const row = (side: "bid" | "ask", l: { n: number; px: number; vol: number }) => (
    <tr key={`${side}${l.n}`} class={`depth-${side}`} data-testid={`depth-${side}-${l.n}`} onClick={() => pick(l.px)} title={l.px ? `${t("price")} → ${t("ticket")}` : ""}>
      <td class="dim">{side === "ask" ? `${t("ask")}${l.n}` : `${t("bid")}${l.n}`}</td>
      <td class={`num ${side === "ask" ? "short" : "long"}`} data-testid="depth-price">
        {l.px ? price(l.px, tickSize) : "—"}
      </td>
      <td class="num depth-vol">
        <i style={{ width: `${(l.vol / top) * 100}%` }} />
        <span>{l.vol ? qty(l.vol) : ""}</span>
      </td>
    </tr>
  );
  return (
    <Panel title={vtSymbol ? `${t("depth")} · ${vtSymbol}` : t("depth")} testid="depth-panel">
      {!tick ? (
        <div class="placeholder">{t("selectSymbol")}</div>
      ) : (
        <table class="grid depth">
          <tbody>
            {asks.map((l) => row("ask", l))}
            <tr class="depth-last">
              <td colSpan={3} class="num strong">
                {price(tick.last_price, tickSize)}
              </td>
            </tr>
            {bids.map((l) => row("bid", l))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/** VeighNa Trader's monitors: orders (with cancel), trades, positions, accounts. */
import { useState } from "preact/hooks";
import { cancelAll, cancelOrder, flatten } from "../actions";
import { clock, downloadCsv, label, money, price, qty, sideClass } from "../format";
import { t } from "../i18n";
import { ACTIVE_STATUSES, Direction, type Position } from "../protocol";
import type { Store } from "../store";
import { Empty, Panel } from "./panel";

function statusClass(status: string): string {
  if (status === "全部成交") return "filled";
  if (status === "已撤销") return "cancelled";
  if (status === "拒单") return "rejected";
  if (ACTIVE_STATUSES.has(status)) return "working";
  return "";
}

/** The client filter shared by orders and trades: every client that sent an order, plus "all". */
function ClientFilter({ store }: { store: Store }) {
  const clients = [...new Set(store.orderClients.values())].sort();
  return (
    <select
      class="small"
      value={store.clientFilter}
      data-testid="client-filter"
      onChange={(e) => {
        store.clientFilter = e.currentTarget.value;
        store.changed();
      }}
    >
      <option value="">{t("allClients")}</option>
      {clients.map((c) => (
        <option value={c}>{c}</option>
      ))}
    </select>
  );
}

export function OrdersPanel({ store }: { store: Store }) {
  const [activeOnly, setActiveOnly] = useState(false);
  const client = store.clientFilter;
  const all = [...store.orders.values()].reverse().filter((o) => client === "" || store.orderClients.get(o.vt_orderid) === client);
  const rows = activeOnly ? all.filter((o) => ACTIVE_STATUSES.has(o.status)) : all;
  const activeCount = all.filter((o) => ACTIVE_STATUSES.has(o.status)).length;
  const exportCsv = () =>
    downloadCsv(
      "orders.csv",
      ["vt_orderid", "client", "vt_symbol", "direction", "offset", "type", "price", "volume", "traded", "status", "datetime", "reference"],
      rows.map((o) => [o.vt_orderid, store.orderClients.get(o.vt_orderid) ?? "", o.vt_symbol, o.direction ?? "", o.offset, o.type, o.price, o.volume, o.traded, o.status, o.datetime ?? "", o.reference]),
    );
  return (
    <Panel
      title={t("orders")}
      testid="orders-panel"
      tools={
        <>
          <ClientFilter store={store} />
          <label class="check">
            <input type="checkbox" checked={activeOnly} onChange={(e) => setActiveOnly(e.currentTarget.checked)} />
            {t("activeOnly")}
          </label>
          <button class="small" style={store.can("trade") ? undefined : { display: "none" }} disabled={activeCount === 0} onClick={() => void cancelAll(client)} data-testid="cancel-all">
            {client ? `${t("cancelAll")} · ${client}` : t("cancelAll")} ({activeCount})
          </button>
          <button class="small" onClick={exportCsv} data-testid="orders-csv">
            {t("exportCsv")}
          </button>
        </>
      }
    >
      <table class="grid">
        <thead>
          <tr>
            <th class="p2">{t("order")}</th>
            <th>{t("client")}</th>
            <th>{t("symbol")}</th>
            <th>{t("side")}</th>
            <th class="p3">{t("offset")}</th>
            <th class="p3">{t("type")}</th>
            <th class="num">{t("price")}</th>
            <th class="num">{t("volume")}</th>
            <th class="num p2">{t("traded")}</th>
            <th>{t("status")}</th>
            <th class="p1" title={t("exchangeTime")}>{t("timeExch")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={12} text={t("noOrders")} /> : null}
          {rows.map((o) => {
            const tickSize = store.contracts.get(o.vt_symbol)?.pricetick ?? 0.01;
            return (
              <tr key={o.vt_orderid} data-testid={`order-${o.vt_orderid}`}>
                <td class="mono p2">{o.vt_orderid}</td>
                <td class="mono dim" data-testid="order-client">{store.orderClients.get(o.vt_orderid) ?? ""}</td>
                <td class="mono">{o.vt_symbol}</td>
                <td class={sideClass(o.direction)}>{label(o.direction)}</td>
                <td class="p3">{label(o.offset)}</td>
                <td class="p3">{label(o.type)}</td>
                <td class="num">{price(o.price, tickSize)}</td>
                <td class="num">{qty(o.volume)}</td>
                <td class="num p2">{qty(o.traded)}</td>
                <td>
                  <span class={`status ${statusClass(o.status)}`} data-testid="order-status">
                    {label(o.status)}
                  </span>
                </td>
                <td class="mono dim p1">{clock(o.datetime)}</td>
                <td>
                  {ACTIVE_STATUSES.has(o.status) ? (
                    <button class="small danger" style={store.can("trade") ? undefined : { display: "none" }} onClick={() => void cancelOrder(o)} data-testid="order-cancel">
                      {t("cancel")}
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}

export function TradesPanel({ store }: { store: Store }) {
  const client = store.clientFilter;
  const rows = [...store.trades.values()].reverse().filter((tr) => client === "" || store.orderClients.get(tr.vt_orderid) === client);
  const exportCsv = () =>
    downloadCsv(
      "trades.csv",
      ["vt_tradeid", "vt_orderid", "client", "vt_symbol", "direction", "offset", "price", "volume", "datetime"],
      rows.map((tr) => [tr.vt_tradeid, tr.vt_orderid, store.orderClients.get(tr.vt_orderid) ?? "", tr.vt_symbol, tr.direction ?? "", tr.offset, tr.price, tr.volume, tr.datetime ?? ""]),
    );
  return (
    <Panel
      title={t("trades")}
      testid="trades-panel"
      tools={
        <>
          <span class="count">{rows.length}</span>
          <button class="small" onClick={exportCsv} data-testid="trades-csv">
            {t("exportCsv")}
          </button>
        </>
      }
    >
      <table class="grid">
        <thead>
          <tr>
            <th class="p2">{t("trade")}</th>
            <th class="p3">{t("order")}</th>
            <th>{t("client")}</th>
            <th>{t("symbol")}</th>
            <th>{t("side")}</th>
            <th class="p3">{t("offset")}</th>
            <th class="num">{t("price")}</th>
            <th class="num">{t("volume")}</th>
            <th class="p1" title={t("exchangeTime")}>{t("timeExch")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={9} text={t("noTrades")} /> : null}
          {rows.map((tr) => (
            <tr key={tr.vt_tradeid} data-testid={`trade-${tr.vt_tradeid}`}>
              <td class="mono p2">{tr.vt_tradeid}</td>
              <td class="mono dim p3">{tr.vt_orderid}</td>
              <td class="mono dim">{store.orderClients.get(tr.vt_orderid) ?? ""}</td>
              <td class="mono">{tr.vt_symbol}</td>
              <td class={sideClass(tr.direction)}>{label(tr.direction)}</td>
              <td class="p3">{label(tr.offset)}</td>
              <td class="num">{price(tr.price, store.contracts.get(tr.vt_symbol)?.pricetick ?? 0.01)}</td>
              <td class="num">{qty(tr.volume)}</td>
              <td class="mono dim p1">{clock(tr.datetime)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/** Unrealised P&L at the last price when there is a tick, else what the gateway reported. */
function unrealised(store: Store, p: Position): number {
  const tick = store.ticks.get(p.vt_symbol);
  const size = store.contracts.get(p.vt_symbol)?.size ?? 1;
  if (!tick?.last_price || !p.price || p.volume === 0) return p.pnl;
  return (tick.last_price - p.price) * p.volume * size * (p.direction === Direction.SHORT ? -1 : 1);
}

/** An average price keeps its own decimals: rounding it to the tick would misstate the cost (3,070.75). */
function averagePrice(value: number, tick: number): string {
  if (!value) return "—";
  const tickDecimals = Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9));
  return value.toLocaleString("en-US", { minimumFractionDigits: tickDecimals, maximumFractionDigits: Math.max(tickDecimals, 4) });
}

export function PositionsPanel({ store }: { store: Store }) {
  const rows = [...store.positions.values()].filter((p) => p.volume !== 0 || p.frozen !== 0);
  const [busy, setBusy] = useState("");
  const close = async (p: Position) => {
    setBusy(p.vt_positionid);
    try {
      const ids = await flatten(p);
      if (ids.some((id) => id === "")) store.toast("error", `${t("flatten")} ${p.vt_symbol}: blocked or rejected`);
    } catch (error) {
      store.toast("error", (error as Error).message);
    } finally {
      setBusy("");
    }
  };
  return (
    <Panel title={t("positions")} testid="positions-panel" tools={<span class="count">{rows.length}</span>}>
      <table class="grid">
        <thead>
          <tr>
            <th>{t("symbol")}</th>
            <th>{t("side")}</th>
            <th class="num">{t("volume")}</th>
            <th class="num p3">{t("yd")}</th>
            <th class="num p2">{t("frozen")}</th>
            <th class="num p1">{t("avg")}</th>
            <th class="num" title={t("unrealised")}>{t("pnl")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={8} text={t("flat")} /> : null}
          {rows.map((p) => {
            const pnl = unrealised(store, p);
            const avg = averagePrice(p.price, store.contracts.get(p.vt_symbol)?.pricetick ?? 0.01);
            // The narrowest layout (1024 px) drops the average price column: the symbol's tooltip keeps it.
            return (
              <tr key={p.vt_positionid} data-testid={`position-${p.vt_symbol}-${p.direction}`}>
                <td class="mono" title={`${t("avg")} ${avg}`}>{p.vt_symbol}</td>
                <td class={sideClass(p.direction)}>{label(p.direction)}</td>
                <td class="num strong" data-testid="position-volume">
                  {qty(p.volume)}
                </td>
                <td class="num dim p3">{qty(p.yd_volume)}</td>
                <td class="num dim p2">{qty(p.frozen)}</td>
                <td class="num p1" data-testid="position-price">{avg}</td>
                <td class={`num ${pnl > 0 ? "up" : pnl < 0 ? "down" : ""}`} data-testid="position-pnl">{money(pnl)}</td>
                <td>
                  <button class="small danger" disabled={busy === p.vt_positionid || p.volume - p.frozen <= 0} onClick={() => void close(p)} data-testid="position-flatten">
                    {t("flatten")}
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

export function AccountsPanel({ store }: { store: Store }) {
  const rows = [...store.accounts.values()];
  const floating = [...store.positions.values()].reduce((sum, p) => sum + (p.volume ? unrealised(store, p) : 0), 0);
  const signed = (value: number) => (value > 0 ? "up" : value < 0 ? "down" : "");
  return (
    <Panel title={t("accounts")} testid="accounts-panel">
      {rows.length === 0 ? <div class="placeholder">{t("noAccount")}</div> : null}
      {rows.map((a) => {
        // Realised P&L and fees are the gateway's day (one account per gateway); "—" when it does not say.
        const day = store.dayPnl.get(a.gateway_name);
        return (
          <dl class="account" key={a.vt_accountid} data-testid={`account-${a.vt_accountid}`}>
            <dt>{t("account")}</dt>
            <dd class="mono">{a.vt_accountid}</dd>
            <dt>{t("balance")}</dt>
            <dd class="strong">{money(a.balance)}</dd>
            <dt>{t("available")}</dt>
            <dd>{money(a.available)}</dd>
            <dt>{t("margin")}</dt>
            <dd class="dim">{money(a.frozen)}</dd>
            <dt>{t("unrealised")}</dt>
            <dd class={signed(floating)} data-testid="account-unrealised">
              {money(floating)}
            </dd>
            <dt title={day ? day.day : undefined}>{t("realisedToday")}</dt>
            <dd class={day ? signed(day.realised) : "dim"} data-testid="account-realised">
              {day ? money(day.realised) : "—"}
            </dd>
            <dt>{t("feesToday")}</dt>
            <dd class="dim" data-testid="account-fees" title={day && day.fees === null ? t("feesUnknown") : undefined}>
              {day && day.fees !== null ? money(day.fees) : "—"}
            </dd>
          </dl>
        );
      })}
    </Panel>
  );
}

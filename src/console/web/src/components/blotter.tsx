/** VeighNa Trader's monitors: orders (with cancel), trades, positions, accounts. */
import { useState } from "preact/hooks";
import { cancelAll, cancelOrder } from "../actions";
import { clock, label, money, price, qty, sideClass } from "../format";
import { ACTIVE_STATUSES } from "../protocol";
import type { Store } from "../store";
import { Empty, Panel } from "./panel";

function statusClass(status: string): string {
  if (status === "全部成交") return "filled";
  if (status === "已撤销") return "cancelled";
  if (status === "拒单") return "rejected";
  if (ACTIVE_STATUSES.has(status)) return "working";
  return "";
}

export function OrdersPanel({ store }: { store: Store }) {
  const [activeOnly, setActiveOnly] = useState(false);
  const all = [...store.orders.values()].reverse();
  const rows = activeOnly ? all.filter((o) => ACTIVE_STATUSES.has(o.status)) : all;
  const activeCount = all.filter((o) => ACTIVE_STATUSES.has(o.status)).length;
  return (
    <Panel
      title="Orders"
      testid="orders-panel"
      tools={
        <>
          <label class="check">
            <input type="checkbox" checked={activeOnly} onChange={(e) => setActiveOnly(e.currentTarget.checked)} />
            Active only
          </label>
          <button class="small" style={store.can("trade") ? undefined : { display: "none" }} disabled={activeCount === 0} onClick={() => void cancelAll()}>
            Cancel all ({activeCount})
          </button>
        </>
      }
    >
      <table class="grid">
        <thead>
          <tr>
            <th>Order</th>
            <th>Symbol</th>
            <th>Side</th>
            <th>Offset</th>
            <th>Type</th>
            <th class="num">Price</th>
            <th class="num">Volume</th>
            <th class="num">Traded</th>
            <th>Status</th>
            <th>Time</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={11} text="No orders" /> : null}
          {rows.map((o) => {
            const tickSize = store.contracts.get(o.vt_symbol)?.pricetick ?? 0.01;
            return (
              <tr key={o.vt_orderid} data-testid={`order-${o.vt_orderid}`}>
                <td class="mono">{o.vt_orderid}</td>
                <td class="mono">{o.vt_symbol}</td>
                <td class={sideClass(o.direction)}>{label(o.direction)}</td>
                <td>{label(o.offset)}</td>
                <td>{label(o.type)}</td>
                <td class="num">{price(o.price, tickSize)}</td>
                <td class="num">{qty(o.volume)}</td>
                <td class="num">{qty(o.traded)}</td>
                <td>
                  <span class={`status ${statusClass(o.status)}`} data-testid="order-status">
                    {label(o.status)}
                  </span>
                </td>
                <td class="mono dim">{clock(o.datetime)}</td>
                <td>
                  {ACTIVE_STATUSES.has(o.status) ? (
                    <button class="small danger" style={store.can("trade") ? undefined : { display: "none" }} onClick={() => void cancelOrder(o)} data-testid="order-cancel">
                      Cancel
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
  const rows = [...store.trades.values()].reverse();
  return (
    <Panel title="Trades" testid="trades-panel" tools={<span class="count">{rows.length}</span>}>
      <table class="grid">
        <thead>
          <tr>
            <th>Trade</th>
            <th>Order</th>
            <th>Symbol</th>
            <th>Side</th>
            <th>Offset</th>
            <th class="num">Price</th>
            <th class="num">Volume</th>
            <th>Time</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={8} text="No trades" /> : null}
          {rows.map((t) => (
            <tr key={t.vt_tradeid} data-testid={`trade-${t.vt_tradeid}`}>
              <td class="mono">{t.vt_tradeid}</td>
              <td class="mono dim">{t.vt_orderid}</td>
              <td class="mono">{t.vt_symbol}</td>
              <td class={sideClass(t.direction)}>{label(t.direction)}</td>
              <td>{label(t.offset)}</td>
              <td class="num">{price(t.price, store.contracts.get(t.vt_symbol)?.pricetick ?? 0.01)}</td>
              <td class="num">{qty(t.volume)}</td>
              <td class="mono dim">{clock(t.datetime)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

export function PositionsPanel({ store }: { store: Store }) {
  const rows = [...store.positions.values()].filter((p) => p.volume !== 0 || p.frozen !== 0);
  return (
    <Panel title="Positions" testid="positions-panel" tools={<span class="count">{rows.length}</span>}>
      <table class="grid">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Side</th>
            <th class="num">Volume</th>
            <th class="num">Yd</th>
            <th class="num">Frozen</th>
            <th class="num">Avg price</th>
            <th class="num">PnL</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={7} text="Flat" /> : null}
          {rows.map((p) => (
            <tr key={p.vt_positionid} data-testid={`position-${p.vt_symbol}-${p.direction}`}>
              <td class="mono">{p.vt_symbol}</td>
              <td class={sideClass(p.direction)}>{label(p.direction)}</td>
              <td class="num strong" data-testid="position-volume">
                {qty(p.volume)}
              </td>
              <td class="num dim">{qty(p.yd_volume)}</td>
              <td class="num dim">{qty(p.frozen)}</td>
              <td class="num">{price(p.price, store.contracts.get(p.vt_symbol)?.pricetick ?? 0.01)}</td>
              <td class={`num ${p.pnl > 0 ? "up" : p.pnl < 0 ? "down" : ""}`}>{money(p.pnl)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

export function AccountsPanel({ store }: { store: Store }) {
  const rows = [...store.accounts.values()];
  return (
    <Panel title="Accounts" testid="accounts-panel">
      <table class="grid">
        <thead>
          <tr>
            <th>Account</th>
            <th class="num">Balance</th>
            <th class="num">Frozen</th>
            <th class="num">Available</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={4} text="No account data" /> : null}
          {rows.map((a) => (
            <tr key={a.vt_accountid}>
              <td class="mono">{a.vt_accountid}</td>
              <td class="num strong">{money(a.balance)}</td>
              <td class="num dim">{money(a.frozen)}</td>
              <td class="num">{money(a.available)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

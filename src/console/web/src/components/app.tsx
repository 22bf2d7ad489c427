/** The page: a header with the link state, three columns of panels, and toasts. */
import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import type { Store } from "../store";
import { AccountsPanel, OrdersPanel, PositionsPanel, TradesPanel } from "./blotter";
import { CandlePanel } from "./chart";
import { DepthPanel } from "./depth";
import { MarketPanel, TicketPanel } from "./market";
import { MetricsView } from "./metrics";
import { RiskPanel } from "./risk";
import { AuditPanel, ClientsPanel, GatewaysPanel, LogPanel, RpcPanel } from "./service";

export function App({ store }: { store: Store }) {
  const [, setVersion] = useState(0);
  useEffect(() => store.onChange(() => setVersion((v) => v + 1)), [store]);
  return (
    <div class="shell">
      <Header store={store} />
      {store.view === "metrics" ? <MetricsView store={store} /> : null}
      <main class="columns" hidden={store.view !== "desk"}>
        <div class="col left">
          <RpcPanel store={store} />
          <GatewaysPanel store={store} />
          <ClientsPanel store={store} />
          <LogPanel store={store} />
          {store.whoami && store.can("audit") ? <AuditPanel store={store} /> : null}
        </div>
        <div class="col center">
          <MarketPanel store={store} />
          <div class="chart-row">
            <CandlePanel store={store} />
            <DepthPanel store={store} />
          </div>
          <OrdersPanel store={store} />
          <TradesPanel store={store} />
        </div>
        <div class="col right">
          {store.can("trade") ? <TicketPanel store={store} /> : null}
          <PositionsPanel store={store} />
          <AccountsPanel store={store} />
          <RiskPanel store={store} />
        </div>
      </main>
      <div class="toasts" aria-live="polite">
        {store.toasts.map((t) => (
          <div key={t.id} class={`toast ${t.kind}`} data-testid="toast" data-code={t.code}>
            {t.text}
          </div>
        ))}
      </div>
    </div>
  );
}

function Header({ store }: { store: Store }) {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(new Date()), 1_000);
    return () => window.clearInterval(timer);
  }, []);
  const linkText = t(({ connecting: "linkConnecting", online: "linkOnline", offline: "linkOffline", refused: "linkRefused" } as const)[store.link]);
  return (
    <header class="topbar">
      <div class="brand">
        <svg viewBox="0 0 16 16" width="18" height="18" aria-hidden="true">
          <rect width="16" height="16" rx="3" fill="#3d9be9" />
          <path d="M3 11l3-4 3 2 4-5" stroke="white" stroke-width="1.6" fill="none" />
        </svg>
        <strong>rpcservice</strong>
        <span class="dim">console</span>
      </div>
      <div class={`link ${store.link}`} data-testid="link-state" title={store.linkDetail}>
        <i />
        {linkText}
        {store.link === "online" ? <span class="dim mono"> {store.linkDetail}</span> : null}
      </div>
      <nav class="views" role="tablist">
        {(["desk", "metrics"] as const).map((view) => (
          <button
            role="tab"
            aria-selected={store.view === view}
            class={store.view === view ? "active" : ""}
            data-testid={`view-${view}`}
            onClick={() => {
              store.view = view;
              store.changed();
            }}
          >
            {t(view)}
          </button>
        ))}
      </nav>
      <div class="meta mono dim" title={t("streamHint")}>
        {store.epoch ? `${store.epoch} · #${store.seq}` : ""}
      </div>
      <div class="meta">
        {(store.info?.gateways ?? []).map((g) => (
          <span class="chip">{g}</span>
        ))}
      </div>
      <div class="spacer" />
      {store.whoami ? (
        <span class="chip" data-testid="signed-in" title={store.whoami.permissions.join(", ")}>
          {store.whoami.identity ?? t("localOperator")} · {store.whoami.role}
        </span>
      ) : null}
      {store.tradingState ? <span class={`badge ${store.tradingState === "ACTIVE" ? "ok" : "bad"}`}>{t("trading")} {store.tradingState}</span> : null}
      <div class="clock mono" title={t("clockHint")} data-testid="clock">
        {now.toLocaleTimeString("en-GB")} <span class="dim">{t("localTime")}</span>
      </div>
    </header>
  );
}

/** VeighNa's RpcManager, on the web: the two addresses, start / stop, state, the service log; then the clients. */
import { useEffect, useRef, useState } from "preact/hooks";
import { rpcStart, rpcStop, steerGateway } from "../actions";
import { bytes, clock, duration, readable, since } from "../format";
import { t, type MessageKey } from "../i18n";
import type { Log, NatsStatus } from "../protocol";
import type { Store } from "../store";
import { Empty, Panel } from "./panel";

export function RpcPanel({ store }: { store: Store }) {
  const rpc = store.rpc;
  const [rep, setRep] = useState("");
  const [pub, setPub] = useState("");
  const [busy, setBusy] = useState(false);
  // Prefill from the server once it told us its addresses (VeighNa prefills from the saved setting).
  useEffect(() => {
    if (rpc && rep === "" && pub === "") {
      setRep(rpc.rep_address);
      setPub(rpc.pub_address);
    }
  }, [rpc?.rep_address, rpc?.pub_address]);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };
  const active = rpc?.active ?? false;
  const state = !rpc ? "…" : !rpc.available ? t("notLoaded") : active ? t("running") : t("stopped");
  return (
    <Panel
      title={t("rpc")}
      testid="rpc-panel"
      tools={<span class={`badge ${active ? "ok" : "off"}`} data-testid="rpc-state">{state}</span>}
    >
      <div class="form rpc-form">
        <label>
          <span>{t("requestReply")}</span>
          <input data-testid="rep-address" value={active ? rpc!.rep_address : rep} disabled={active} onInput={(e) => setRep(e.currentTarget.value)} spellcheck={false} />
        </label>
        <label>
          <span>{t("broadcast")}</span>
          <input data-testid="pub-address" value={active ? rpc!.pub_address : pub} disabled={active} onInput={(e) => setPub(e.currentTarget.value)} spellcheck={false} />
        </label>
        {rpc?.ws_address ? (
          <label>
            <span>WebSocket</span>
            <input value={rpc.ws_address} readOnly />
          </label>
        ) : null}
        {store.can("service") ? (
        <div class="buttons">
          <button class="primary" data-testid="rpc-start" disabled={busy || active || !rpc?.available} onClick={() => run(() => rpcStart(rep, pub))}>
            {t("start")}
          </button>
          <button data-testid="rpc-stop" disabled={busy || !active} onClick={() => run(rpcStop)}>
            {t("stop")}
          </button>
        </div>
        ) : null}
      </div>
      {rpc?.nats ? <NatsStream nats={rpc.nats} /> : null}
      <LogBox lines={rpc?.log ?? []} testid="rpc-log" />
    </Panel>
  );
}

/** The NATS side of the service: the node it is on and its JetStream stream (rpc_status, refreshed while shown). */
function NatsStream({ nats }: { nats: NatsStatus }) {
  const stream = nats.stream;
  const row = (label: string, value: string, testid?: string, title?: string) => (
    <div class="kv" title={title}>
      <span class="dim">{label}</span>
      <span class="mono" data-testid={testid}>
        {value}
      </span>
    </div>
  );
  return (
    <div class="nats" data-testid="nats-stream">
      <div class="nats-head">
        <strong>NATS</strong>
        <span class="mono">{nats.name}</span>
        <span class={`badge ${nats.connected_to ? "ok" : "bad"}`} data-testid="nats-node" title={nats.servers.join(", ")}>
          {nats.connected_to ?? t("natsDisconnected")}
        </span>
      </div>
      {stream ? (
        <div class="kvs">
          {row(t("natsStream"), stream.name, "nats-stream-name")}
          {row(t("natsMessages"), stream.messages.toLocaleString("en-US"), "nats-messages")}
          {row(t("natsBytes"), bytes(stream.bytes), "nats-bytes", `${stream.bytes} B`)}
          {row(t("natsSeq"), `${stream.firstSeq} … ${stream.lastSeq}`, "nats-seq")}
          {row(t("natsLimits"), `${duration(stream.maxAge)} · ${bytes(stream.maxBytes)}`, "nats-limits")}
          {row(t("natsReplicas"), `R${stream.replicas}${stream.leader ? ` · ${t("natsLeader")} ${stream.leader}` : ""}`, "nats-replicas")}
          {row(t("natsConsumers"), String(stream.consumers), "nats-consumers")}
          {row(t("natsBacklog"), String(stream.backlog), "nats-backlog", t("natsBacklogHint"))}
        </div>
      ) : (
        <div class="warn" data-testid="nats-stream-error">
          {t("natsNoStream")}
          {nats.stream_error ? `: ${nats.stream_error}` : ""}
        </div>
      )}
    </div>
  );
}

/** VeighNa's log box: `time<TAB>msg`, newest at the bottom, following the end unless the user scrolled up. */
function LogBox({ lines, testid }: { lines: Log[]; testid: string }) {
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 40) el.scrollTop = el.scrollHeight;
  }, [lines.length]);
  return (
    <pre class="logbox" ref={box} data-testid={testid}>
      {lines.map((log) => (
        <div class={log.level >= 40 ? "error" : log.level >= 30 ? "warn" : ""}>
          <time>{clock(log.time)}</time>
          {log.msg}
        </div>
      ))}
    </pre>
  );
}

/** The gateways with their connection state; an admin connects or disconnects one. Secrets arrive masked. */
export function GatewaysPanel({ store }: { store: Store }) {
  const gateways = [...store.gateways.values()];
  const [busy, setBusy] = useState("");
  const steer = async (name: string, action: "connect" | "disconnect") => {
    setBusy(name);
    try {
      await steerGateway(name, action);
    } finally {
      setBusy("");
    }
  };
  const badge = { connected: "ok", connecting: "off", stale: "bad", disconnected: "bad" } as const;
  return (
    <Panel title={t("gateways")} testid="gateways-panel" tools={<span class="count">{gateways.length}</span>}>
      <table class="grid">
        <thead>
          <tr>
            <th>{t("gateway")}</th>
            <th>{t("state")}</th>
            <th class="p2">{t("since")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {gateways.length === 0 ? <Empty columns={4} text={t("noGateway")} /> : null}
          {gateways.map((g) => (
            <tr key={g.name} data-testid={`gateway-${g.name}`} title={Object.entries(g.setting).map(([k, v]) => `${k}: ${String(v)}`).join("\n")}>
              <td class="mono">
                {g.name}
                <span class="dim"> {g.kind}</span>
              </td>
              <td title={g.reason}>
                <span class={`badge ${badge[g.state]}`} data-testid="gateway-state">{t(GATEWAY_STATE[g.state])}</span>
                <span class="dim p3"> {g.reason}</span>
              </td>
              <td class="p2">{since(g.since)}</td>
              <td>
                {!store.can("gateway") ? null : g.state === "disconnected" ? (
                  <button disabled={busy === g.name} onClick={() => steer(g.name, "connect")}>{t("connect")}</button>
                ) : (
                  <button disabled={busy === g.name} onClick={() => steer(g.name, "disconnect")}>{t("disconnect")}</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

const GATEWAY_STATE = { connected: "gwConnected", connecting: "gwConnecting", stale: "gwStale", disconnected: "gwDisconnected" } as const;

export function ClientsPanel({ store }: { store: Store }) {
  return (
    <Panel title={t("clients")} testid="clients-panel" tools={<span class="count">{store.clients.length}</span>}>
      <table class="grid">
        <thead>
          <tr>
            <th>{t("client")}</th>
            <th>{t("endpoint")}</th>
            <th class="p3">{t("remote")}</th>
            <th class="p2">{t("since")}</th>
            <th class="num">{t("calls")}</th>
            <th class="num">{t("behind")}</th>
            <th class="num p2">{t("dropped")}</th>
            <th class="num p3">{t("conflated")}</th>
            <th class="num p3" title={t("refusedHint")}>{t("refused")}</th>
          </tr>
        </thead>
        <tbody>
          {store.clients.length === 0 ? <Empty columns={9} text={t("noClient")} /> : null}
          {store.clients.map((c) => (
            <tr key={c.clientId} title={c.publicKey ? `CURVE key: ${c.publicKey}` : undefined}>
              <td class="mono">
                {c.clientId}
                {c.identity ? <span class="dim"> {c.identity}</span> : null}
                {c.role ? <span class="chip">{c.role}</span> : null}
              </td>
              <td>{c.endpoint}</td>
              <td class="mono dim p3">{c.remoteAddress}</td>
              <td class="p2">{since(c.since)}</td>
              <td class="num">{c.calls}</td>
              <td class={`num ${c.eventsBehind > 100 ? "warn" : ""}`}>{c.eventsBehind}</td>
              <td class={`num p2 ${c.eventsDropped > 0 ? "warn" : ""}`}>{c.eventsDropped}</td>
              <td class="num p3">{c.eventsConflated ?? 0}</td>
              <td class={`num p3 ${(c.rateLimited ?? 0) + (c.refused ?? 0) > 0 ? "warn" : ""}`} data-testid="client-refused">
                {c.rateLimited ?? 0} / {c.refused ?? 0}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

const LEVELS: { value: number; text: MessageKey }[] = [
  { value: 0, text: "allLevels" },
  { value: 30, text: "warningPlus" },
  { value: 40, text: "errorPlus" },
];

export function LogPanel({ store }: { store: Store }) {
  const [minLevel, setMinLevel] = useState(0);
  const [source, setSource] = useState("");
  const [text, setText] = useState("");
  const [open, setOpen] = useState<Log | null>(null);
  const sources = [...new Set(store.logs.map((l) => l.gateway_name))].sort();
  const needle = text.trim().toLowerCase();
  const rows = store.logs
    .filter((l) => l.level >= minLevel && (source === "" || l.gateway_name === source) && (needle === "" || l.msg.toLowerCase().includes(needle)))
    .slice(-200)
    .reverse();
  return (
    <Panel
      title={t("log")}
      testid="log-panel"
      tools={
        <div class="log-filter">
          <select class="small" value={minLevel} onChange={(e) => setMinLevel(Number(e.currentTarget.value))} data-testid="log-level">
            {LEVELS.map((l) => (
              <option value={l.value}>{t(l.text)}</option>
            ))}
          </select>
          <select class="small" value={source} onChange={(e) => setSource(e.currentTarget.value)} data-testid="log-source">
            <option value="">{t("allSources")}</option>
            {sources.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
          <input class="small" placeholder={t("filter")} value={text} onInput={(e) => setText(e.currentTarget.value)} data-testid="log-text" />
        </div>
      }
    >
      {open ? (
        <div class="log-full" data-testid="log-full" onClick={() => setOpen(null)} title={t("close")}>
          <div class="dim mono">
            {open.time} · {open.gateway_name}
          </div>
          <pre>{open.msg}</pre>
        </div>
      ) : null}
      <table class="grid log">
        <thead>
          <tr>
            <th title={t("serverTimeHint")}>{t("timeServer")}</th>
            <th>{t("source")}</th>
            <th>{t("message")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <Empty columns={3} text={t("noLog")} /> : null}
          {rows.map((log, i) => (
            <tr key={`${log.time}-${i}`} class={log.level >= 40 ? "error" : log.level >= 30 ? "warn" : ""} onClick={() => setOpen(log)} data-testid="log-row">
              <td class="mono dim">{clock(log.time)}</td>
              <td class="dim">{log.gateway_name}</td>
              <td class="msg" title={log.msg}>
                {readable(log.msg)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

/** The newest rows of the audit trail: who changed what, and what was refused (admins only). */
export function AuditPanel({ store }: { store: Store }) {
  return (
    <Panel title={t("audit")} testid="audit-panel" tools={<span class="count">{store.audit.length}</span>}>
      <table class="grid">
        <thead>
          <tr>
            <th class="p2">{t("time")}</th>
            <th>{t("who")}</th>
            <th>{t("action")}</th>
            <th class="p3">{t("outcome")}</th>
          </tr>
        </thead>
        <tbody>
          {store.audit.length === 0 ? <Empty columns={4} text={t("nothingRecorded")} /> : null}
          {[...store.audit].reverse().map((row) => (
            <tr key={row.id} title={`${row.endpoint} ${row.remoteAddress} ${row.args}`}>
              <td class="mono p2">{new Date(row.time).toLocaleTimeString("en-GB")}</td>
              <td>
                {row.identity}
                <span class="dim"> {row.role}</span>
              </td>
              <td class="mono">{row.action}</td>
              <td class={row.outcome === "ok" ? "p3" : "p3 warn"} title={row.detail}>
                {row.outcome}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

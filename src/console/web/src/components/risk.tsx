/** The risk rules: a switch each, their parameters (editable, saved on the server) and their live counters. */
import { useEffect, useState } from "preact/hooks";
import { updateRule } from "../actions";
import type { RiskRule, RuleParameter } from "../protocol";
import type { Store } from "../store";
import { t } from "../i18n";
import { Panel } from "./panel";

export function RiskPanel({ store }: { store: Store }) {
  const rules = [...store.rules.values()];
  const state = store.tradingState;
  return (
    <Panel
      title={t("risk")}
      testid="risk-panel"
      tools={state ? <span class={`badge ${state === "ACTIVE" ? "ok" : "bad"}`} data-testid="trading-state">{state}</span> : null}
    >
      {rules.length === 0 ? <div class="placeholder">{t("noRisk")}</div> : null}
      {rules.map((rule) => (
        <RuleCard key={rule.name} rule={rule} editable={store.can("risk")} />
      ))}
    </Panel>
  );
}

/** `mayEdit` false: the role may not change risk settings, so switches and edits are shown read-only. */
function RuleCard({ rule, editable: mayEdit }: { rule: RiskRule; editable: boolean }) {
  const editable = rule.parameters.filter((p) => p.name !== "active");
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [open, setOpen] = useState(false);
  /** Why the server refused the last save; the fields then show the value in force beside the edit. */
  const [refused, setRefused] = useState<string | null>(null);
  // A saved change (or one made elsewhere) arrives as new values: drop the edits they replace.
  useEffect(() => {
    setDraft({});
    setRefused(null);
  }, [JSON.stringify(rule.parameters.map((p) => p.value))]);

  const dirty = Object.keys(draft).length > 0;
  const save = async () => {
    const setting: Record<string, unknown> = {};
    for (const p of editable) if (p.name in draft) setting[p.name] = parse(p, draft[p.name]!);
    const reason = await updateRule(rule.name, setting);
    setRefused(reason);
    if (reason === null) setDraft({});
  };
  return (
    <div class={`rule ${rule.active ? "" : "inactive"}`} data-testid={`rule-${rule.name}`}>
      <div class="rule-head">
        <label class="switch" title={rule.active ? "Enabled: click to disable" : "Disabled: click to enable"}>
          <input type="checkbox" checked={rule.active} disabled={!mayEdit} onChange={(e) => void updateRule(rule.name, { active: e.currentTarget.checked })} data-testid="rule-active" />
          <span />
        </label>
        <button class="rule-name" onClick={() => setOpen(!open)} title={rule.class_name}>
          {rule.display_name}
        </button>
        <span class="counters">
          {rule.variables.slice(0, 3).map((v) => (
            <span class="counter" title={v.label}>
              {summary(v.value)}
            </span>
          ))}
        </span>
        <button class="icon" onClick={() => setOpen(!open)} aria-label="details">
          {open ? "▾" : "▸"}
        </button>
      </div>
      {open ? (
        <div class="rule-body">
          {editable.map((p) => (
            <label class="param">
              <span title={p.name}>{p.label}</span>
              {p.kind === "boolean" ? (
                <input
                  type="checkbox"
                  checked={p.name in draft ? draft[p.name] === "true" : p.value === true}
                  onChange={(e) => setDraft({ ...draft, [p.name]: String(e.currentTarget.checked) })}
                />
              ) : p.choices ? (
                <select value={draft[p.name] ?? String(p.value)} onChange={(e) => setDraft({ ...draft, [p.name]: e.currentTarget.value })} data-testid={`param-${p.name}`}>
                  {p.choices.map((c) => (
                    <option value={c}>{c}</option>
                  ))}
                </select>
              ) : (
                <input
                  type={p.kind === "string" ? "text" : "number"}
                  value={draft[p.name] ?? String(p.value)}
                  min={p.min}
                  max={p.max}
                  step={p.kind === "integer" ? 1 : "any"}
                  onInput={(e) => setDraft({ ...draft, [p.name]: e.currentTarget.value })}
                  data-testid={`param-${p.name}`}
                />
              )}
              {p.name in draft && draft[p.name] !== String(p.value) ? (
                <small class="live" data-testid={`live-${p.name}`}>
                  in force: {summary(p.value)}
                </small>
              ) : null}
            </label>
          ))}
          {refused ? (
            <div class="param-error" data-testid="rule-error">
              {refused}
            </div>
          ) : null}
          {rule.variables.map((v) => (
            <div class="param variable">
              <span title={v.name}>{v.label}</span>
              <output>{summary(v.value)}</output>
            </div>
          ))}
          {mayEdit ? (
          <div class="buttons">
            <button class="primary small" disabled={!dirty} onClick={() => void save()} data-testid="rule-save">
              {t("save")}
            </button>
            <button class="small" disabled={!dirty} onClick={() => setDraft({})}>
              {t("revert")}
            </button>
          </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function parse(p: RuleParameter, text: string): unknown {
  if (p.kind === "boolean") return text === "true";
  if (p.kind === "integer" || p.kind === "number") return Number(text);
  return text;
}

/** A counter as one short text: numbers as they are, maps as their total, lists as their length. */
function summary(value: unknown): string {
  if (typeof value === "number") return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
  if (Array.isArray(value)) return String(value.length);
  if (value !== null && typeof value === "object") {
    const numbers = Object.values(value).filter((v): v is number => typeof v === "number");
    return numbers.length ? numbers.reduce((a, b) => a + b, 0).toLocaleString("en-US") : String(Object.keys(value).length);
  }
  return value === undefined || value === null ? "—" : String(value);
}

/**
 * RiskEngine: server-side pre-trade risk control.
 *
 * It is one check in MainEngine's order pipeline (`addOrderCheck`), so every order passes it: from a local
 * strategy, any RPC client or the console, whatever the order in which apps were added. (VeighNa's risk manager
 * monkey-patches `send_order`, and an RPC server created before it keeps the unpatched method.)
 *
 * Rules run in ascending `priority`, ties by `name`; the first active rule that blocks stops the chain, so later
 * rules neither see nor count the order. The built-in order: trading_state 0, order_validity 10, order_size 20,
 * self_trade 30, active_order 40, order_flow 50, duplicate_order 60, daily_limit 70; user rules default to 100.
 * When every rule passed, rules with `onAccepted` count the order, and it joins the engine's own-order book
 * (see own-orders.ts) until its gateway reports it.
 *
 * A blocked order: MainEngine returns "" (VeighNa's contract) and puts an eOrderBlocked event with the typed
 * OrderBlock (rule, code, params: see RiskBlockCode); the engine writes an ERROR eLog line "Order blocked: <text>"
 * from "RiskManager" and an eRiskNotify event carrying the text, as VeighNa's clients expect. Rule state travels as eRiskRule events: at once
 * when parameters change, otherwise at most once per rule per timer second.
 *
 * Settings: `<home>/risk_manager_setting.json`, `{ "<rule name>": { "active": true, "<parameter>": value } }`.
 * A broken file stops the engine from starting rather than running with limits nobody chose.
 */
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import {
  BaseEngine,
  ERROR,
  EVENT_ORDER,
  EVENT_TICK,
  EVENT_TIMER,
  EVENT_TRADE,
  Event,
  INFO,
  SettingsError,
  WARNING,
  defineMessages,
  loadJsonSetting,
  messageOf,
  saveJsonSetting,
  type EventEngine,
  type EventHandler,
  type Language,
  type MainEngine,
  type BlockParams,
  type OrderBlock,
  type OrderCheck,
  type OrderData,
  type OrderOrigin,
  type OrderRequest,
  type TickData,
  type TradeData,
} from "../kernel/index.js";
import { RiskError } from "./errors.js";
import { EVENT_RISK_NOTIFY, EVENT_RISK_RULE } from "./events.js";
import { importRuleFiles, listRuleFiles } from "./loader.js";
import { OwnOrders } from "./own-orders.js";
import { labelText, validateChanges, type ParameterSpec, type ParameterValue } from "./parameters.js";
import type { RiskRule, RiskRuleData, RuleHost, RuleVerdict } from "./rule.js";
import { builtinRules, TradingStateRule, type TradingState } from "./rules/index.js";

export const RISK_ENGINE_NAME = "RiskManager";
export const RISK_SETTING_FILENAME = "risk_manager_setting.json";
/**
 * `risk_manager_setting.json`: rule name -> its parameters. The shape is checked here (a rule's section must be an
 * object of plain values); each rule then checks its own values against its parameter specs.
 */
export const RiskSettingSchema = Type.Record(Type.String(), Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean(), Type.String()])));
/** Where the engine sits in MainEngine's pipeline: after checks that decide who may trade at all. */
export const RISK_CHECK_PRIORITY = 100;

const messages = defineMessages({
  en: {
    started: "Risk manager started with {count} rules: {names}",
    blocked: "Order blocked: {reason}",
    RULES_LOADING: "risk rules are still loading: {req}",
    RULE_FAILED: "rule {rule} failed ({error}): {req}",
    RULE_REJECTED: "rule {rule} rejected the order: {req}",
    hookFailed: "Risk rule {rule} failed in {hook}: {error}",
    ruleUpdated: "Risk rule {rule} updated: {changes}",
    ruleLoaded: "Risk rule {rule} loaded from {file}",
    ruleFileFailed: "Risk rule file {file} failed to load: {error}",
    ruleNotAdded: "Risk rule {rule} from {file} not added: {error}",
    noRules: "Risk rule file {file} exports no rule",
    unusedSettings: "risk_manager_setting.json has settings for rules not loaded (kept): {names}",
    staleOrders: "{count} accepted orders had no answer or event within {seconds} s and no longer count as working",
  },
  zh: {
    started: "交易风控启动，共{count}条规则：{names}",
    blocked: "委托被拦截，{reason}",
    RULES_LOADING: "风控规则尚在加载：{req}",
    RULE_FAILED: "风控规则{rule}出错（{error}）：{req}",
    RULE_REJECTED: "风控规则{rule}拒绝委托：{req}",
    hookFailed: "风控规则{rule}在{hook}中出错：{error}",
    ruleUpdated: "风控规则{rule}参数更新：{changes}",
    ruleLoaded: "风控规则[{rule}]加载成功，模块：{file}",
    ruleFileFailed: "风控规则[{file}]加载失败：{error}",
    ruleNotAdded: "风控规则[{rule}]（{file}）未能添加：{error}",
    noRules: "风控规则文件{file}中没有规则",
    unusedSettings: "risk_manager_setting.json中有未加载规则的设置（已保留）：{names}",
    staleOrders: "{count}笔已通过风控的委托在{seconds}秒内没有回报，不再计为活动委托",
  },
});

export interface RiskEngineOptions {
  /** The clock, epoch milliseconds (default Date.now); tests inject one to drive time windows and day rolls. */
  now?: () => number;
  /** The rules to start with (default: `builtinRules()`). */
  rules?: () => RiskRule[];
  /** Folder of user rule modules (default `<home>/risk_rules`); null loads none. */
  rulesFolder?: string | null | undefined;
  /** Priority of the engine's check in MainEngine's pipeline (default RISK_CHECK_PRIORITY). */
  checkPriority?: number;
  /** Seconds an accepted order may go without a gateway answer or event before it stops counting (default 60). */
  inFlightTimeout?: number;
}

export interface RiskParameterDescription {
  readonly name: string;
  readonly kind: ParameterSpec["kind"];
  readonly label: string;
  readonly value: ParameterValue;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
}

/** Everything a form or a command needs to show and edit one rule. */
export interface RiskRuleDescription {
  readonly name: string;
  readonly class_name: string;
  readonly display_name: string;
  readonly priority: number;
  readonly active: boolean;
  readonly parameters: readonly RiskParameterDescription[];
  readonly variables: readonly { readonly name: string; readonly label: string; readonly value: unknown }[];
}

export class RiskEngine extends BaseEngine implements OrderCheck, RuleHost {
  /** The check's name in MainEngine's pipeline. */
  readonly name = RISK_ENGINE_NAME;
  readonly ownOrders: OwnOrders;
  /** Settles once the user rules are loaded; until then every order is blocked (fail closed). */
  readonly ready: Promise<void>;
  readonly now: () => number;
  /** The main engine's: what block texts, rule labels and log lines are written in. */
  readonly language: Language = this.mainEngine.language;

  private rules: RiskRule[] = [];
  // Per-hook lists, rebuilt whenever rules change, so the hot paths loop over plain arrays.
  private checking: RiskRule[] = [];
  private accepting: RiskRule[] = [];
  private orderRules: RiskRule[] = [];
  private tradeRules: RiskRule[] = [];
  private tickRules: RiskRule[] = [];
  private timerRules: RiskRule[] = [];
  private setting: Record<string, unknown>;
  private loading = false;
  private closed = false;
  private readonly inFlightTimeoutMs: number;
  private readonly removeCheck: () => void;
  /** Its own log lines and block texts (bound before the constructor body logs). */
  private readonly t = messages.in(this.language);

  constructor(mainEngine: MainEngine, eventEngine: EventEngine, options: RiskEngineOptions = {}) {
    super(mainEngine, eventEngine, RISK_ENGINE_NAME);
    const inFlightTimeout = options.inFlightTimeout ?? 60;
    if (!(inFlightTimeout > 0)) throw new RangeError(`inFlightTimeout must be > 0 seconds, got ${inFlightTimeout}`);
    this.inFlightTimeoutMs = inFlightTimeout * 1000;
    this.now = options.now ?? Date.now;
    this.ownOrders = new OwnOrders(mainEngine.oms);
    this.setting = loadJsonSetting(mainEngine.home, RISK_SETTING_FILENAME, RiskSettingSchema) as Record<string, unknown>;
    for (const rule of (options.rules ?? builtinRules)()) this.addRule(rule);

    eventEngine.register(EVENT_ORDER, this.processOrder);
    eventEngine.register(EVENT_TIMER, this.processTimer);
    this.rebuild();
    this.removeCheck = mainEngine.addOrderCheck(this, options.checkPriority ?? RISK_CHECK_PRIORITY);

    const folder = options.rulesFolder === undefined ? join(mainEngine.home, "risk_rules") : options.rulesFolder;
    const files = folder === null ? [] : listRuleFiles(folder);
    this.loading = files.length > 0;
    this.ready = this.loading ? this.loadUserRules(files) : Promise.resolve();
    if (!this.loading) this.warnUnusedSettings();

    this.writeLog(this.t("started", { count: this.rules.length, names: this.rules.map((rule) => rule.name).join(", ") }));
    for (const rule of this.rules) this.putRuleEvent(rule);
  }

  // ---- the order pipeline (hot path) ------------------------------------------------------------------------

  check(req: OrderRequest, gatewayName: string, origin: OrderOrigin): OrderBlock | null {
    if (this.loading) return this.block(RISK_ENGINE_NAME, "RULES_LOADING", {}, this.t("RULES_LOADING", { req }));
    const rules = this.checking;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      let verdict: RuleVerdict;
      try {
        verdict = rule.checkAllowed(req, gatewayName, origin);
      } catch (error) {
        const params = { error: messageOf(error) };
        return this.block(rule.name, "RULE_FAILED", params, this.t("RULE_FAILED", { rule: rule.name, ...params, req })); // fail closed
      }
      if (verdict !== true) return this.blockBy(rule, verdict, req);
    }
    this.ownOrders.accept(req, this.now());
    const accepting = this.accepting;
    for (let i = 0; i < accepting.length; i++) {
      try {
        accepting[i]!.onAccepted!(req, gatewayName, origin);
      } catch (error) {
        this.hookFailed(accepting[i]!, "onAccepted", error);
      }
    }
    return null;
  }

  settled(req: OrderRequest, _gatewayName: string, _origin: OrderOrigin, vt_orderid: string): void {
    this.ownOrders.settle(req, vt_orderid, this.now());
  }

  /** A rule's verdict other than `true`, as a block with its text: a string is the text, `false` a generic one. */
  private blockBy(rule: RiskRule, verdict: Exclude<RuleVerdict, true>, req: OrderRequest): OrderBlock {
    if (typeof verdict === "object") {
      let msg: string;
      try {
        msg = rule.blockText(verdict, req, this.language);
      } catch (error) {
        this.hookFailed(rule, "blockText", error);
        msg = `${rule.name} ${verdict.code}: ${String(req)}`;
      }
      return this.block(rule.name, verdict.code, verdict.params, msg);
    }
    const msg = typeof verdict === "string" && verdict !== "" ? verdict : this.t("RULE_REJECTED", { rule: rule.name, req });
    return this.block(rule.name, "RULE_REJECTED", {}, msg);
  }

  /** Logs the block ("Order blocked: <text>", VeighNa's line) and sends the text as eRiskNotify. */
  private block(rule: string, code: string, params: BlockParams, msg: string): OrderBlock {
    this.mainEngine.metrics.riskBlocked(code === "RULES_LOADING" ? "loading" : rule);
    this.writeLog(this.t("blocked", { reason: msg }), ERROR);
    this.eventEngine.put(new Event(EVENT_RISK_NOTIFY, msg));
    return { check: RISK_ENGINE_NAME, rule, code, params, msg };
  }

  // ---- what the command line, the console and the RPC layer use -------------------------------------------

  /** Every rule's data dict, in chain order. */
  getRules(): RiskRuleData[] {
    return this.rules.map((rule) => rule.getData());
  }

  getRule(name: string): RiskRuleData {
    return this.requireRule(name).getData();
  }

  /** Rules with labels (in the engine's language), kinds and bounds of their parameters, for forms and help. */
  describeRules(): RiskRuleDescription[] {
    return this.rules.map((rule) => {
      const data = rule.getData();
      return {
        name: rule.name,
        class_name: data.class_name,
        display_name: labelText(rule.displayName, this.language) || rule.name,
        priority: rule.priority,
        active: rule.active,
        parameters: Object.entries(rule.parameterSpecs()).map(([name, spec]) => ({
          name,
          kind: spec.kind,
          label: labelText(spec.label, this.language),
          value: data.parameters[name]!,
          ...("min" in spec && spec.min !== undefined ? { min: spec.min } : {}),
          ...("max" in spec && spec.max !== undefined ? { max: spec.max } : {}),
          ...("choices" in spec && spec.choices ? { choices: spec.choices } : {}),
        })),
        variables: Object.entries(rule.variables).map(([name, label]) => ({ name, label: labelText(label, this.language), value: data.variables[name] })),
      };
    });
  }

  /**
   * Changes a rule's parameters (`active` included) at once. All values are validated first (RiskError
   * ERR_RISK_UNKNOWN_RULE / ERR_RISK_UNKNOWN_PARAMETER / ERR_RISK_INVALID_PARAMETER) and the settings file is
   * written before anything changes, so a change that cannot be saved is not made. Logged, and sent as eRiskRule.
   */
  updateRule(name: string, changes: Readonly<Record<string, unknown>>): RiskRuleData {
    const rule = this.requireRule(name);
    const values = validateChanges(rule.name, rule.parameterSpecs(), changes);
    const names = Object.keys(values);
    if (names.length === 0) return rule.getData();

    const next: Record<string, unknown> = { ...this.setting };
    for (const each of this.rules) next[each.name] = each === rule ? { ...rule.parameterValues(), ...values } : each.parameterValues();
    try {
      saveJsonSetting(this.mainEngine.home, RISK_SETTING_FILENAME, next);
    } catch (error) {
      throw new SettingsError(`cannot save ${RISK_SETTING_FILENAME}: ${messageOf(error)}`, { cause: error });
    }
    this.setting = next;

    rule.assignParameters(values);
    if (rule.onParametersChanged) {
      try {
        rule.onParametersChanged(names);
      } catch (error) {
        this.hookFailed(rule, "onParametersChanged", error);
      }
    }
    this.rebuild();
    this.writeLog(this.t("ruleUpdated", { rule: rule.name, changes: names.map((key) => `${key}=${JSON.stringify(values[key])}`).join(", ") }));
    rule.takeChanged();
    this.putRuleEvent(rule);
    return rule.getData();
  }

  /** The kill switch: ACTIVE, HALTED (no new orders) or REDUCING (closing orders only). Enables the rule. */
  setTradingState(state: TradingState): void {
    this.updateRule(this.tradingStateRule().name, { active: true, state });
  }

  getTradingState(): TradingState {
    const rule = this.rules.find((each): each is TradingStateRule => each instanceof TradingStateRule);
    return rule && rule.active ? rule.state : "ACTIVE";
  }

  // ---- RuleHost -------------------------------------------------------------------------------------------

  writeLog(msg: string, level: number = INFO): void {
    this.mainEngine.writeLog(msg, RISK_ENGINE_NAME, level);
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.removeCheck();
    for (const [type, handler] of this.subscriptions()) this.eventEngine.unregister(type, handler);
  }

  // ---- rules and events -----------------------------------------------------------------------------------

  /** Attaches a rule, applies its saved settings and calls its onInit; does not rebuild the hook lists. */
  private addRule(rule: RiskRule): void {
    if (typeof rule.name !== "string" || rule.name === "") {
      throw new RiskError("ERR_RISK_INVALID_RULE", `rule class ${rule.constructor.name} has no name`);
    }
    if (this.rules.some((each) => each.name === rule.name)) {
      throw new RiskError("ERR_RISK_INVALID_RULE", `a rule named ${rule.name} is already loaded`);
    }
    if (typeof rule.priority !== "number" || !Number.isFinite(rule.priority)) {
      throw new RiskError("ERR_RISK_INVALID_RULE", `rule ${rule.name} has no finite priority`);
    }
    rule.attach(this);
    const saved = this.setting[rule.name];
    if (saved !== undefined) {
      try {
        rule.assignParameters(validateChanges(rule.name, rule.parameterSpecs(), saved as Record<string, unknown>));
      } catch (error) {
        if (error instanceof RiskError) error.message = `${RISK_SETTING_FILENAME}: ${error.message}`;
        throw error;
      }
    }
    rule.onInit?.();
    this.rules.push(rule);
  }

  private requireRule(name: string): RiskRule {
    const rule = this.rules.find((each) => each.name === name);
    if (!rule) throw new RiskError("ERR_RISK_UNKNOWN_RULE", `no risk rule named ${JSON.stringify(name)} (rules: ${this.rules.map((each) => each.name).join(", ")})`);
    return rule;
  }

  private tradingStateRule(): TradingStateRule {
    const rule = this.rules.find((each): each is TradingStateRule => each instanceof TradingStateRule);
    if (!rule) throw new RiskError("ERR_RISK_UNKNOWN_RULE", "the trading_state rule is not loaded");
    return rule;
  }

  private rebuild(): void {
    this.rules.sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.checking = this.rules.filter((rule) => rule.active);
    this.accepting = this.rules.filter((rule) => typeof rule.onAccepted === "function");
    this.orderRules = this.rules.filter((rule) => typeof rule.onOrder === "function");
    this.tradeRules = this.rules.filter((rule) => typeof rule.onTrade === "function");
    this.tickRules = this.rules.filter((rule) => typeof rule.onTick === "function");
    this.timerRules = this.rules.filter((rule) => typeof rule.onTimer === "function");
    if (this.closed) return;
    // eOrder and eTimer keep the own-order book and the eRiskRule events; ticks and trades only if a rule asks.
    this.subscribe(EVENT_TRADE, this.processTrade, this.tradeRules.length > 0);
    this.subscribe(EVENT_TICK, this.processTick, this.tickRules.length > 0);
  }

  private subscribe(type: string, handler: EventHandler, wanted: boolean): void {
    if (wanted) this.eventEngine.register(type, handler);
    else this.eventEngine.unregister(type, handler);
  }

  private subscriptions(): [string, EventHandler][] {
    return [[EVENT_ORDER, this.processOrder], [EVENT_TIMER, this.processTimer], [EVENT_TRADE, this.processTrade], [EVENT_TICK, this.processTick]];
  }

  private readonly processOrder = (event: Event): void => {
    const order = event.data as OrderData;
    this.ownOrders.onOrder(order, this.now());
    const rules = this.orderRules;
    for (let i = 0; i < rules.length; i++) {
      try {
        rules[i]!.onOrder!(order);
      } catch (error) {
        this.hookFailed(rules[i]!, "onOrder", error);
      }
    }
  };

  private readonly processTrade = (event: Event): void => {
    const trade = event.data as TradeData;
    const rules = this.tradeRules;
    for (let i = 0; i < rules.length; i++) {
      try {
        rules[i]!.onTrade!(trade);
      } catch (error) {
        this.hookFailed(rules[i]!, "onTrade", error);
      }
    }
  };

  private readonly processTick = (event: Event): void => {
    const tick = event.data as TickData;
    const rules = this.tickRules;
    for (let i = 0; i < rules.length; i++) {
      try {
        rules[i]!.onTick!(tick);
      } catch (error) {
        this.hookFailed(rules[i]!, "onTick", error);
      }
    }
  };

  private readonly processTimer = (): void => {
    const dropped = this.ownOrders.prune(this.now(), this.inFlightTimeoutMs);
    if (dropped > 0) this.writeLog(this.t("staleOrders", { count: dropped, seconds: this.inFlightTimeoutMs / 1000 }), WARNING);
    const rules = this.timerRules;
    for (let i = 0; i < rules.length; i++) {
      try {
        rules[i]!.onTimer!();
      } catch (error) {
        this.hookFailed(rules[i]!, "onTimer", error);
      }
    }
    for (const rule of this.rules) if (rule.takeChanged()) this.putRuleEvent(rule);
  };

  private putRuleEvent(rule: RiskRule): void {
    let data: RiskRuleData;
    try {
      data = rule.getData();
    } catch (error) {
      this.hookFailed(rule, "getData", error);
      return;
    }
    this.eventEngine.put(new Event(EVENT_RISK_RULE, data));
  }

  private hookFailed(rule: RiskRule, hook: string, error: unknown): void {
    this.writeLog(this.t("hookFailed", { rule: rule.name, hook, error: messageOf(error) }), ERROR);
  }

  private async loadUserRules(files: readonly string[]): Promise<void> {
    try {
      const { loaded, failed } = await importRuleFiles(files);
      if (this.closed) return;
      for (const { file, error } of failed) this.writeLog(this.t("ruleFileFailed", { file, error: messageOf(error) }), ERROR);
      for (const { file, classes } of loaded) {
        if (classes.length === 0) this.writeLog(this.t("noRules", { file }), WARNING);
        for (const ruleClass of classes) {
          let rule: RiskRule | undefined;
          try {
            rule = new ruleClass();
            this.addRule(rule);
          } catch (error) {
            this.writeLog(this.t("ruleNotAdded", { rule: rule?.name ?? ruleClass.name, file, error: messageOf(error) }), ERROR);
            continue;
          }
          this.writeLog(this.t("ruleLoaded", { rule: rule.name, file }));
          this.putRuleEvent(rule);
        }
      }
      this.warnUnusedSettings();
    } finally {
      this.rebuild();
      this.loading = false;
    }
  }

  private warnUnusedSettings(): void {
    const unused = Object.keys(this.setting).filter((name) => !this.rules.some((rule) => rule.name === name));
    if (unused.length > 0) this.writeLog(this.t("unusedSettings", { names: unused.join(", ") }), WARNING);
  }
}

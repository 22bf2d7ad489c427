/**
 * The rule plug-in contract (VeighNa 2.0's RuleTemplate, typed).
 *
 * A rule is a small class: a `name`, a `priority`, declared `parameters` and `variables` whose values are the
 * rule's own fields of the same name, `checkAllowed` and any of the optional hooks. The engine calls a hook only
 * if the rule defines it, and subscribes to an event type only while some rule wants it.
 *
 * `checkAllowed` runs for every order, so it should neither allocate nor build strings unless it blocks:
 * return `true` to let the order through, or `this.block(code, params)` to block it: a stable code for programs
 * and the values its text names. The engine renders the text with `blockText` (the rule's en/zh catalogue, see
 * `blockMessages`) in its main engine's language, only when it blocks. A string blocks with that text (code
 * RULE_REJECTED), `false` with a generic one, for rules ported from VeighNa.
 */
import { defineMessages, type BlockParams, type Language, type MainEngine, type OrderData, type OrderOrigin, type OrderRequest, type TickData, type TradeData, type ContractData } from "../kernel/index.js";
import { RiskError } from "./errors.js";
import type { OwnOrders } from "./own-orders.js";
import type { Label, ParameterSpecs, ParameterValue, VariableSpecs } from "./parameters.js";

/** A rule's decision to block: a code of the rule's own (upper snake case) and the values its text names. */
export interface RuleBlock {
  readonly code: string;
  readonly params: BlockParams;
}

export type RuleVerdict = boolean | string | RuleBlock;

/** Renders a block of one rule in the language the engine asks for. */
export type BlockRenderer = (block: RuleBlock, req: OrderRequest, language: Language) => string;

/**
 * A rule's block texts, one per code, in English and Chinese; `{req}` names the order. Returns what `blockText`
 * needs: the text of a block of this rule, in the language its engine passes.
 */
export function blockMessages<C extends string>(catalog: { en: Record<C, string>; zh: Record<C, string> }): BlockRenderer {
  const messages = defineMessages(catalog);
  return (block, req, language) => messages.in(language)(block.code as C, { ...block.params, req });
}

/** What a rule sees of its engine. */
export interface RuleHost {
  readonly mainEngine: MainEngine;
  /** The main engine's language: what a rule's own log lines are written in. */
  readonly language: Language;
  /** The server's working orders: active ones and those still on their way to a gateway. */
  readonly ownOrders: OwnOrders;
  /** The engine's clock, epoch milliseconds (tests inject one). */
  now(): number;
  /** Writes an eLog line from "RiskManager". */
  writeLog(msg: string, level?: number): void;
}

/** A rule's state as VeighNa 2.0's `get_data()` gives it (eRiskRule events, the console, the RPC layer). */
export interface RiskRuleData {
  name: string;
  class_name: string;
  parameters: Record<string, ParameterValue>;
  variables: Record<string, unknown>;
}

/** A rule class as the engine instantiates it: no constructor arguments. */
export type RiskRuleClass = new () => RiskRule;

/** Rules without a priority of their own run after every built-in one. */
export const DEFAULT_RULE_PRIORITY = 100;

const ACTIVE_LABEL: Label = { en: "Rule enabled", zh: "启用规则" };

export abstract class RiskRule {
  /** Stable identifier: the key in risk_manager_setting.json, the name `updateRule` takes, `name` in RiskRuleData. */
  abstract readonly name: string;
  /** For people: the console's title for the rule. */
  readonly displayName: Label = "";
  /** Position in the chain: lower runs first, ties broken by name. Built-in rules use 0 to 70. */
  readonly priority: number = DEFAULT_RULE_PRIORITY;
  /** Parameters besides `active`, which every rule has. */
  readonly parameters: ParameterSpecs = {};
  readonly variables: VariableSpecs = {};
  /** An inactive rule checks nothing but keeps following events, so its counters are right when re-enabled. */
  active = true;

  private attachedHost: RuleHost | null = null;
  private changedSinceEvent = false;

  /** Decides one order; see the module comment for the contract. */
  abstract checkAllowed(req: OrderRequest, gatewayName: string, origin: OrderOrigin): RuleVerdict;

  /** The text of one of this rule's blocks in `language`; rules with codes override it with their `blockMessages`. */
  blockText(block: RuleBlock, req: OrderRequest, _language: Language): string {
    return `${this.name} ${block.code}: ${String(req)}`;
  }

  /** Once every rule has let the order through (counting rules count here, not in checkAllowed). */
  onAccepted?(req: OrderRequest, gatewayName: string, origin: OrderOrigin): void;
  onTick?(tick: TickData): void;
  onOrder?(order: OrderData): void;
  onTrade?(trade: TradeData): void;
  /** Every timer event (1 s). */
  onTimer?(): void;
  /** After the engine attached the rule and applied its settings. */
  onInit?(): void;
  /** After an update changed these parameters (not called for the settings applied at start). */
  onParametersChanged?(names: readonly string[]): void;

  get host(): RuleHost {
    if (!this.attachedHost) throw new RiskError("ERR_RISK_RULE_DETACHED", `rule ${this.name} is not attached to a risk engine`);
    return this.attachedHost;
  }

  /** Called by the engine once, before settings are applied. */
  attach(host: RuleHost): void {
    if (this.attachedHost && this.attachedHost !== host) {
      throw new RiskError("ERR_RISK_INVALID_RULE", `rule ${this.name} is already attached to another risk engine`);
    }
    this.attachedHost = host;
  }

  /** Every parameter with its spec, `active` first. */
  parameterSpecs(): ParameterSpecs {
    return { active: { kind: "boolean", label: ACTIVE_LABEL }, ...this.parameters };
  }

  /** Current parameter values, by name. */
  parameterValues(): Record<string, ParameterValue> {
    const values: Record<string, ParameterValue> = {};
    for (const name of Object.keys(this.parameterSpecs())) values[name] = this.field(name) as ParameterValue;
    return values;
  }

  /** Assigns already validated values to the fields of the same name. */
  assignParameters(values: Readonly<Record<string, ParameterValue>>): void {
    for (const [name, value] of Object.entries(values)) (this as unknown as Record<string, unknown>)[name] = value;
  }

  getData(): RiskRuleData {
    const variables: Record<string, unknown> = {};
    for (const name of Object.keys(this.variables)) variables[name] = plain(this.field(name));
    return { name: this.name, class_name: this.constructor.name, parameters: this.parameterValues(), variables };
  }

  /** A block verdict (allocates: call it only when blocking). */
  protected block(code: string, params: BlockParams = {}): RuleBlock {
    return { code, params };
  }

  protected now(): number {
    return this.host.now();
  }

  /** Marks the variables as changed: an eRiskRule event follows on the next timer event (a flag, so it is cheap per order). */
  protected changed(): void {
    this.changedSinceEvent = true;
  }

  /** True once after each `changed()`: the engine asks on every timer event. */
  takeChanged(): boolean {
    const changed = this.changedSinceEvent;
    this.changedSinceEvent = false;
    return changed;
  }

  protected getContract(vt_symbol: string): ContractData | undefined {
    return this.host.mainEngine.oms.contracts.get(vt_symbol);
  }

  private field(name: string): unknown {
    return (this as unknown as Record<string, unknown>)[name];
  }
}

/** Variables travel as plain data (JSON, pickle): Maps become dicts, Sets their size. */
function plain(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return value.size;
  return value;
}

/**
 * Rule parameters: what a rule lets an operator change, declared once so that settings files, `updateRule`, the
 * console and the command line all validate the same way. The values themselves live in the rule's own fields
 * of the same (snake_case, VeighNa) name, where the hot path reads them without a lookup.
 */
import type { Language } from "../kernel/index.js";
import { RiskError } from "./errors.js";

/** A label in both languages, or one text for both. */
export type Label = string | { readonly en: string; readonly zh: string };

export type ParameterValue = number | boolean | string;

export type ParameterSpec =
  | { readonly kind: "integer" | "number"; readonly label: Label; readonly min?: number; readonly max?: number }
  | { readonly kind: "boolean"; readonly label: Label }
  | {
      readonly kind: "string";
      readonly label: Label;
      /** The only values allowed, when it is a choice. */
      readonly choices?: readonly string[];
      /** Further validation: returns what is wrong with the value, or null. */
      readonly validate?: (value: string) => string | null;
    };

export type ParameterSpecs = Readonly<Record<string, ParameterSpec>>;
export type VariableSpecs = Readonly<Record<string, Label>>;

export function labelText(label: Label, language: Language): string {
  return typeof label === "string" ? label : label[language];
}

/** What is wrong with `value` for `spec`, or null when it is acceptable. */
export function parameterProblem(spec: ParameterSpec, value: unknown): string | null {
  switch (spec.kind) {
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return `expected a finite number, got ${describe(value)}`;
      if (spec.kind === "integer" && !Number.isInteger(value)) return `expected an integer, got ${value}`;
      if (spec.min !== undefined && value < spec.min) return `must be >= ${spec.min}, got ${value}`;
      if (spec.max !== undefined && value > spec.max) return `must be <= ${spec.max}, got ${value}`;
      return null;
    }
    case "boolean":
      return typeof value === "boolean" ? null : `expected true or false, got ${describe(value)}`;
    case "string": {
      if (typeof value !== "string") return `expected a string, got ${describe(value)}`;
      if (spec.choices && !spec.choices.includes(value)) return `expected one of ${spec.choices.join(", ")}, got ${JSON.stringify(value)}`;
      return spec.validate ? spec.validate(value) : null;
    }
  }
}

/**
 * Validates a set of changes against a rule's specs, all of them before any is applied (an update is all or
 * nothing). Throws RiskError naming the rule and the parameter.
 */
export function validateChanges(
  ruleName: string,
  specs: ParameterSpecs,
  changes: Readonly<Record<string, unknown>>,
): Record<string, ParameterValue> {
  if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
    throw new RiskError("ERR_RISK_INVALID_PARAMETER", `settings of rule ${ruleName} must be an object, got ${describe(changes)}`);
  }
  const valid: Record<string, ParameterValue> = {};
  for (const [name, value] of Object.entries(changes)) {
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (!spec) {
      throw new RiskError(
        "ERR_RISK_UNKNOWN_PARAMETER",
        `rule ${ruleName} has no parameter ${JSON.stringify(name)} (it has: ${Object.keys(specs).join(", ")})`,
      );
    }
    const problem = parameterProblem(spec, value);
    if (problem !== null) throw new RiskError("ERR_RISK_INVALID_PARAMETER", `rule ${ruleName}, parameter ${name}: ${problem}`);
    valid[name] = value as ParameterValue;
  }
  return valid;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

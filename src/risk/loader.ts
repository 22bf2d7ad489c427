/**
 * User rules: ES modules in `<home>/risk_rules/` (`*.js`, `*.mjs`), imported in file-name order. A module offers
 * rules in either of two ways:
 *
 *   import { RiskRule } from "rpcservice";            // when the package resolves from the rules folder
 *   export class MaxPriceRule extends RiskRule { ... }
 *
 *   export default ({ RiskRule }) => class MaxPriceRule extends RiskRule { ... };   // always works: the engine
 *                                                                                    // passes its own RiskRule
 *
 * Every exported class that extends RiskRule is a rule; a default export that is a plain function is called with
 * the kit below and returns a rule class or an array of them. `.mjs` is always an ES module; an ES module named
 * `.js` needs Node 20.19+ (syntax detection) or a package.json with "type": "module" in the folder.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Direction, Exchange, Offset, OrderType, Product, Status, defineMessages } from "../kernel/index.js";
import { RiskRule, blockMessages, type RiskRuleClass } from "./rule.js";

/** What a rule factory receives: the base class and the vocabulary a rule needs, from this very package. */
export const RISK_RULE_KIT = Object.freeze({ RiskRule, Direction, Exchange, Offset, OrderType, Product, Status, defineMessages, blockMessages });
export type RiskRuleKit = typeof RISK_RULE_KIT;

export interface RuleFile {
  readonly file: string;
  readonly classes: readonly RiskRuleClass[];
}

export interface RuleFileFailure {
  readonly file: string;
  readonly error: unknown;
}

/** Rule module paths in `folder`, sorted; none when the folder does not exist. */
export function listRuleFiles(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names.filter((name) => name.endsWith(".js") || name.endsWith(".mjs")).sort().map((name) => join(folder, name));
}

/** Imports every file; one failing file is reported and does not stop the others. */
export async function importRuleFiles(files: readonly string[]): Promise<{ loaded: RuleFile[]; failed: RuleFileFailure[] }> {
  const loaded: RuleFile[] = [];
  const failed: RuleFileFailure[] = [];
  for (const file of files) {
    try {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      loaded.push({ file, classes: ruleClassesOf(module) });
    } catch (error) {
      failed.push({ file, error });
    }
  }
  return { loaded, failed };
}

function ruleClassesOf(module: Record<string, unknown>): RiskRuleClass[] {
  const found = new Set<RiskRuleClass>();
  for (const [name, value] of Object.entries(module)) {
    if (isRuleClass(value)) found.add(value);
    else if (name === "default" && typeof value === "function" && !isClass(value)) {
      const made: unknown = (value as (kit: RiskRuleKit) => unknown)(RISK_RULE_KIT);
      for (const item of Array.isArray(made) ? made : [made]) {
        if (!isRuleClass(item)) throw new TypeError("the default export must return a class extending RiskRule, or an array of them");
        found.add(item);
      }
    }
  }
  return [...found];
}

function isRuleClass(value: unknown): value is RiskRuleClass {
  return typeof value === "function" && value.prototype instanceof RiskRule;
}

function isClass(value: object): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(value));
}

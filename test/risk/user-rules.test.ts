/** User rules from `<home>/risk_rules/`: both module shapes, settings, failures that do not stop the others. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Direction, MainEngine } from "../../src/kernel/index.js";
import { RiskManagerApp } from "../../src/risk/index.js";
import { TestGateway, order, send, startServer, tempHome } from "./helpers.js";

/** The compiled risk layer, as a user's module would import it when the package resolves from the folder. */
const riskModule = pathToFileURL(join(import.meta.dirname, "../../src/risk/index.js")).href;

const FILES: Record<string, string> = {
  // A class extending the package's RiskRule, with a parameter and a counter.
  "10-max-price.mjs": `
    import { RiskRule } from ${JSON.stringify(riskModule)};
    export class MaxPriceRule extends RiskRule {
      name = "max_price";
      parameters = { max_price: { kind: "number", label: "Highest price allowed", min: 0 } };
      variables = { checked: "Orders checked" };
      max_price = 10000;
      checked = 0;
      checkAllowed(req) {
        this.checked++;
        return req.price <= this.max_price ? true : \`price \${req.price} above \${this.max_price}: \${req}\`;
      }
    }
    export const notARule = 42;
  `,
  // The factory shape: no import needed, the engine hands over its own RiskRule; blocks with a code of its own.
  "20-no-shorts.js": `
    export default ({ RiskRule, Direction, blockMessages }) => {
      const text = blockMessages({ en: { NO_SHORTS: "shorts are not allowed here: {req}" }, zh: { NO_SHORTS: "此处不允许卖空：{req}" } });
      return class NoShortsRule extends RiskRule {
        name = "no_shorts";
        priority = 5;
        blockText(block, req, language) {
          return text(block, req, language);
        }
        checkAllowed(req) {
          return req.direction === Direction.SHORT ? this.block("NO_SHORTS", { price: req.price }) : true;
        }
      };
    };
  `,
  "30-syntax-error.js": "export class Broken extends {",
  "40-throws.mjs": `throw new Error("cannot reach the compliance database");`,
  "50-nothing.mjs": `export const answer = 42;`,
  "60-name-taken.mjs": `
    export default ({ RiskRule }) => class ImpostorRule extends RiskRule {
      name = "order_size";
      checkAllowed() { return "impostor"; }
    };
  `,
  "70-bad-factory.mjs": `export default () => "not a class";`,
  "README.txt": "not a module",
};

function homeWithRules(settings?: object): string {
  const home = tempHome();
  mkdirSync(join(home, "risk_rules"));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(home, "risk_rules", name), text);
  if (settings) writeFileSync(join(home, "risk_manager_setting.json"), JSON.stringify(settings));
  return home;
}

test("user rules load from the rules folder, both shapes, with their saved settings; bad files are logged and skipped", async () => {
  const home = homeWithRules({ max_price: { active: true, max_price: 3600 } });
  const server = await startServer({ home, rulesFolder: undefined });
  try {
    const names = server.risk.getRules().map((rule) => rule.name);
    assert.deepEqual(names, ["trading_state", "no_shorts", "order_validity", "order_size", "self_trade", "active_order", "order_flow", "duplicate_order", "daily_limit", "max_price"]);

    assert.notEqual(await send(server, order({ price: 3600 })), "");
    assert.equal(await send(server, order({ price: 3601 })), "");
    assert.match(server.notices.at(-1)!, /^price 3601 above 3600: OrderRequest\(/, "a rule's string is the text");
    assert.deepEqual([server.blocks.at(-1)!.rule, server.blocks.at(-1)!.code], ["max_price", "RULE_REJECTED"]);
    assert.equal(await send(server, order({ direction: Direction.SHORT, price: 3700 })), "");
    assert.match(server.notices.at(-1)!, /^shorts are not allowed here: OrderRequest\(/);
    assert.deepEqual(server.blocks.at(-1), { check: "RiskManager", rule: "no_shorts", code: "NO_SHORTS", params: { price: 3700 }, msg: server.notices.at(-1) });
    assert.deepEqual(server.risk.getRule("max_price"), {
      name: "max_price",
      class_name: "MaxPriceRule",
      parameters: { active: true, max_price: 3600 },
      variables: { checked: 2 },
    });

    server.risk.updateRule("max_price", { max_price: 4000 });
    assert.notEqual(await send(server, order({ price: 3700 })), "");

    const messages = server.logs.filter((log) => log.gateway_name === "RiskManager").map((log) => `${log.level} ${log.msg}`);
    const has = (pattern: RegExp) => assert.ok(messages.some((m) => pattern.test(m)), `${pattern}\n${messages.join("\n")}`);
    has(/^20 Risk rule max_price loaded from .*10-max-price\.mjs$/);
    has(/^20 Risk rule no_shorts loaded from .*20-no-shorts\.js$/);
    has(/^40 Risk rule file .*30-syntax-error\.js failed to load: /);
    has(/^40 Risk rule file .*40-throws\.mjs failed to load: cannot reach the compliance database$/);
    has(/^30 Risk rule file .*50-nothing\.mjs exports no rule$/);
    has(/^40 Risk rule order_size from .*60-name-taken\.mjs not added: a rule named order_size is already loaded$/);
    has(/^40 Risk rule file .*70-bad-factory\.mjs failed to load: the default export must return a class extending RiskRule/);
    assert.ok(server.ruleEvents.some((rule) => rule.name === "no_shorts"), "an eRiskRule event for a loaded user rule");
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("until the user rules are loaded every order is blocked (fail closed)", async () => {
  const home = homeWithRules();
  const mainEngine = new MainEngine({ home });
  try {
    mainEngine.addGateway(TestGateway).pushContract();
    const risk = mainEngine.addApp(RiskManagerApp);
    assert.equal(await mainEngine.sendOrder(order(), "TEST"), "");
    assert.equal(mainEngine.blockedReason(order(), "TEST")?.code, "RULES_LOADING");
    await risk.ready;
    mainEngine.eventEngine.flush();
    assert.match(await mainEngine.sendOrder(order(), "TEST"), /^TEST\./);
  } finally {
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("a user rule with an invalid saved setting is not added, and the others are", async () => {
  const home = homeWithRules({ max_price: { max_price: "high" } });
  const server = await startServer({ home, rulesFolder: undefined });
  try {
    const names = server.risk.getRules().map((rule) => rule.name);
    assert.equal(names.includes("max_price"), false);
    assert.equal(names.includes("no_shorts"), true);
    assert.ok(server.logs.some((log) => log.level === 40 && /max_price .*not added: .*max_price: expected a finite number, got "high"/.test(log.msg)));
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
});

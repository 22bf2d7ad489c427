/** RiskEngine: blocking, ordering, run-time changes, persistence, events and orders in flight. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Direction,
  EVENT_TICK,
  EVENT_TRADE,
  EventEngine,
  LOCAL_ORIGIN,
  MainEngine,
  SettingsError,
  type EventHandler,
  type TickData,
} from "../../src/kernel/index.js";
import {
  OrderSizeRule,
  RiskError,
  RiskManagerApp,
  RiskRule,
  builtinRules,
  riskManagerApp,
  type RuleVerdict,
} from "../../src/risk/index.js";
import { RPC_ORIGIN, TestGateway, order, send, startServer, tempHome, withServer } from "./helpers.js";

/** Records what the engine asks of it; blocks when told to. */
class ProbeRule extends RiskRule {
  readonly name: string;
  override readonly priority: number;
  readonly seen: string[];
  verdict: () => RuleVerdict = () => true;
  constructor(name: string, priority: number, seen: string[]) {
    super();
    this.name = name;
    this.priority = priority;
    this.seen = seen;
  }
  checkAllowed(): RuleVerdict {
    this.seen.push(`check ${this.name}`);
    return this.verdict();
  }
  override onAccepted(): void {
    this.seen.push(`accepted ${this.name}`);
  }
}

test(
  "a blocked order returns '', reaches no gateway, logs an ERROR line from RiskManager and notifies",
  withServer({}, async (server) => {
    server.risk.setTradingState("HALTED");
    const vt_orderid = await send(server, order(), RPC_ORIGIN);
    assert.equal(vt_orderid, "");
    assert.equal(server.gateway.orders.size, 0);
    const reason = `trading is halted: ${String(order())}`;
    const line = server.logs.find((log) => log.msg.startsWith("Order blocked"));
    assert.ok(line);
    assert.equal(line.msg, `Order blocked: ${reason}`);
    assert.equal(line.level, 40);
    assert.equal(line.gateway_name, "RiskManager");
    assert.deepEqual(server.notices, [reason]);
    assert.deepEqual(server.blocks, [{ check: "RiskManager", rule: "trading_state", code: "HALTED", params: {}, msg: reason }]);
  }),
);

test("in Chinese the blocked line is VeighNa's 委托被拦截，<reason>", async () => {
  const server = await startServer({ language: "zh" });
  try {
    server.risk.updateRule("order_size", { order_volume_limit: 5 });
    assert.equal(await send(server, order({ volume: 6 })), "");
    assert.deepEqual(server.blockedLines(), [`委托被拦截，委托数量6超过上限5：${String(order({ volume: 6 }))}`]);
    assert.ok(server.logs.some((log) => log.msg === "风控规则order_size参数更新：order_volume_limit=5"));
  } finally {
    await server.close();
  }
});

test(
  "the kill switch blocks local, rpc and console orders alike, and cancels still go through",
  withServer({}, async (server) => {
    const resting = await send(server, order({ price: 3400 }));
    server.risk.setTradingState("HALTED");
    assert.equal(server.risk.getTradingState(), "HALTED");
    for (const origin of [LOCAL_ORIGIN, RPC_ORIGIN, { kind: "console", clientId: "web:1" } as const]) {
      assert.equal(await send(server, order({ price: 3401 }), origin), "", origin.kind);
    }
    await server.mainEngine.cancelOrder(server.mainEngine.getOrder(resting)!.createCancelRequest(), "TEST");
    server.flush();
    assert.equal(server.mainEngine.getOrder(resting)!.isActive(), false);
    server.risk.setTradingState("ACTIVE");
    assert.match(await send(server, order({ price: 3401 })), /^TEST\./);
  }),
);

test("rules run by priority, then name; the first that blocks stops the chain and nothing is counted", async () => {
  const seen: string[] = [];
  const late = new ProbeRule("late", 5, seen);
  const beta = new ProbeRule("beta", 1, seen);
  const alpha = new ProbeRule("alpha", 1, seen);
  const server = await startServer({ rules: () => [late, beta, alpha] });
  try {
    assert.deepEqual(server.risk.getRules().map((rule) => rule.name), ["alpha", "beta", "late"]);
    await send(server);
    assert.deepEqual(seen, ["check alpha", "check beta", "check late", "accepted alpha", "accepted beta", "accepted late"]);

    seen.length = 0;
    beta.verdict = () => "beta says no";
    assert.equal(await send(server), "");
    assert.deepEqual(seen, ["check alpha", "check beta"]);
    assert.deepEqual(server.notices, ["beta says no"]);
    assert.deepEqual(server.blocks.map((block) => [block.rule, block.code, block.msg]), [["beta", "RULE_REJECTED", "beta says no"]]);
  } finally {
    await server.close();
  }
});

test("an inactive rule is skipped but still counts accepted orders", async () => {
  const seen: string[] = [];
  const probe = new ProbeRule("probe", 1, seen);
  probe.verdict = () => "never";
  const server = await startServer({ rules: () => [probe] });
  try {
    server.risk.updateRule("probe", { active: false });
    assert.match(await send(server), /^TEST\./);
    assert.deepEqual(seen, ["accepted probe"]);
  } finally {
    await server.close();
  }
});

test("a rule that throws blocks the order (fail closed); false blocks with a generic reason", async () => {
  const probe = new ProbeRule("probe", 1, []);
  const server = await startServer({ rules: () => [probe] });
  try {
    probe.verdict = () => {
      throw new Error("boom");
    };
    assert.equal(await send(server), "");
    assert.deepEqual([server.blocks[0]!.rule, server.blocks[0]!.code, server.blocks[0]!.params], ["probe", "RULE_FAILED", { error: "boom" }]);
    probe.verdict = () => false;
    assert.equal(await send(server), "");
    assert.deepEqual([server.blocks[1]!.rule, server.blocks[1]!.code], ["probe", "RULE_REJECTED"]);
    assert.match(server.notices[1]!, /^rule probe rejected the order: OrderRequest\(/);
  } finally {
    await server.close();
  }
});

test(
  "updateRule takes effect at once, is saved, logged and sent as eRiskRule",
  withServer({}, async (server) => {
    assert.match(await send(server, order({ volume: 6 })), /^TEST\./);
    const data = server.risk.updateRule("order_size", { order_volume_limit: 5, active: true });
    assert.equal(data.parameters["order_volume_limit"], 5);
    assert.equal(await send(server, order({ volume: 6 })), "");

    const saved = JSON.parse(readFileSync(join(server.home, "risk_manager_setting.json"), "utf8")) as Record<string, Record<string, unknown>>;
    assert.deepEqual(saved["order_size"], { active: true, order_volume_limit: 5, order_value_limit: 1_000_000 });
    assert.deepEqual(Object.keys(saved), server.risk.getRules().map((rule) => rule.name), "every rule is written");
    assert.ok(server.logs.some((log) => log.msg === "Risk rule order_size updated: order_volume_limit=5, active=true" && log.gateway_name === "RiskManager"));
    const event = server.ruleEvents.filter((rule) => rule.name === "order_size").at(-1);
    assert.deepEqual(event, data);
  }),
);

test(
  "updateRule rejects unknown rules, unknown parameters and wrong values with typed errors, changing nothing",
  withServer({}, async (server) => {
    const before = server.risk.getRule("order_flow");
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["nope", { active: false }, "ERR_RISK_UNKNOWN_RULE", /no risk rule named "nope"/],
      ["order_flow", { order_flow_limit: 5, speed: 3 }, "ERR_RISK_UNKNOWN_PARAMETER", /rule order_flow has no parameter "speed"/],
      ["order_flow", { order_flow_limit: "5" }, "ERR_RISK_INVALID_PARAMETER", /order_flow_limit: expected a finite number, got "5"/],
      ["order_flow", { order_flow_limit: 2.5 }, "ERR_RISK_INVALID_PARAMETER", /expected an integer, got 2\.5/],
      ["order_flow", { order_flow_limit: 0 }, "ERR_RISK_INVALID_PARAMETER", /must be >= 1, got 0/],
      ["order_flow", { active: "yes" }, "ERR_RISK_INVALID_PARAMETER", /expected true or false/],
      ["trading_state", { state: "PANIC" }, "ERR_RISK_INVALID_PARAMETER", /expected one of ACTIVE, HALTED, REDUCING/],
      ["daily_limit", { trading_day_start: "8pm" }, "ERR_RISK_INVALID_PARAMETER", /expected a time of day "HH:MM"/],
      ["daily_limit", { trading_day_timezone: "Mars/Olympus" }, "ERR_RISK_INVALID_PARAMETER", /unknown time zone/],
    ];
    for (const [name, changes, code, message] of cases) {
      assert.throws(
        () => server.risk.updateRule(name, changes),
        (error: unknown) => error instanceof RiskError && error.code === code && message.test(error.message),
        `${name} ${JSON.stringify(changes)}`,
      );
    }
    assert.deepEqual(server.risk.getRule("order_flow"), before);
    assert.throws(() => readFileSync(join(server.home, "risk_manager_setting.json")), /ENOENT/);
  }),
);

test("settings persist across restarts; unknown rule sections are kept and reported", async () => {
  const home = tempHome();
  writeFileSync(join(home, "risk_manager_setting.json"), JSON.stringify({ retired_rule: { active: true, x: 1 } }));
  const first = await startServer({ home });
  first.risk.updateRule("active_order", { active_order_limit: 7 });
  first.risk.setTradingState("REDUCING");
  assert.ok(first.logs.some((log) => log.level === 30 && log.msg.includes("retired_rule")));
  await first.close();

  const second = await startServer({ home });
  try {
    assert.equal(second.risk.getRule("active_order").parameters["active_order_limit"], 7);
    assert.equal(second.risk.getTradingState(), "REDUCING", "a halt survives a restart");
    const saved = JSON.parse(readFileSync(join(home, "risk_manager_setting.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(saved["retired_rule"], { active: true, x: 1 });
  } finally {
    await second.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("a broken settings file stops the engine from starting", async () => {
  const home = tempHome();
  try {
    writeFileSync(join(home, "risk_manager_setting.json"), "{ not json");
    await assert.rejects(startServer({ home }), SettingsError);
    writeFileSync(join(home, "risk_manager_setting.json"), JSON.stringify({ order_flow: { order_flow_limit: -1 } }));
    await assert.rejects(
      startServer({ home }),
      (error: unknown) => error instanceof RiskError && error.code === "ERR_RISK_INVALID_PARAMETER" && /risk_manager_setting\.json: rule order_flow/.test(error.message),
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test(
  "getRules gives VeighNa 2.0 data dicts; describeRules gives labels, kinds and bounds",
  withServer({}, (server) => {
    const rules = server.risk.getRules();
    assert.deepEqual(rules.map((rule) => rule.name), builtinRules().map((rule) => rule.name));
    for (const rule of rules) {
      assert.deepEqual(Object.keys(rule), ["name", "class_name", "parameters", "variables"]);
      assert.equal(rule.parameters["active"], true);
    }
    assert.deepEqual(server.risk.getRule("active_order"), {
      name: "active_order",
      class_name: "ActiveOrderRule",
      parameters: { active: true, active_order_limit: 50 },
      variables: { active_order_count: 0 },
    });
    const flow = server.risk.describeRules().find((rule) => rule.name === "order_flow")!;
    assert.equal(flow.display_name, "Order flow");
    assert.deepEqual(flow.parameters[1], { name: "order_flow_limit", kind: "integer", label: "Orders per window", value: 50, min: 1, max: 1_000_000 });
    const state = server.risk.describeRules().find((rule) => rule.name === "trading_state")!;
    assert.deepEqual(state.parameters[1]!.choices, ["ACTIVE", "HALTED", "REDUCING"]);
  }),
);

test(
  "eRiskRule: one per rule at start, then changed rules once per timer second",
  withServer({}, async (server) => {
    assert.deepEqual(server.ruleEvents.map((rule) => rule.name), server.risk.getRules().map((rule) => rule.name));
    server.ruleEvents.length = 0;
    for (let i = 0; i < 3; i++) await send(server, order({ price: 3500 + i }));
    assert.equal(server.ruleEvents.length, 0, "nothing before the timer");
    server.tick();
    const names = server.ruleEvents.map((rule) => rule.name).sort();
    assert.deepEqual(names, ["active_order", "daily_limit", "duplicate_order", "order_flow"]);
    const daily = server.ruleEvents.find((rule) => rule.name === "daily_limit")!;
    assert.equal(daily.variables["total_order_count"], 3);
    assert.deepEqual(daily.variables["contract_order_count"], { "rb2501.SHFE": 3 });
    server.ruleEvents.length = 0;
    server.tick();
    assert.equal(server.ruleEvents.length, 0, "nothing changed, nothing sent");
  }),
);

test(
  "a burst sent in one turn cannot pass the active-order limit: accepted orders count before their events",
  withServer({}, async (server) => {
    server.risk.updateRule("active_order", { active_order_limit: 3 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => server.mainEngine.sendOrder(order({ price: 3500 - i }), "TEST", RPC_ORIGIN)));
    server.flush();
    assert.equal(results.filter((id) => id !== "").length, 3);
    assert.equal(server.gateway.orders.size, 3);
    assert.equal(server.risk.ownOrders.activeCount, 3);
  }),
);

test(
  "with a gateway that answers later, orders on their way still count (active limit and self-trade)",
  withServer({}, async (server) => {
    server.gateway.answerLater = true;
    server.risk.updateRule("active_order", { active_order_limit: 2 });
    const sell = server.mainEngine.sendOrder(order({ direction: Direction.SHORT, price: 3510 }), "TEST", RPC_ORIGIN);
    const crossingBuy = server.mainEngine.sendOrder(order({ price: 3510 }), "TEST", { kind: "rpc", clientId: "zmq:2" });
    const buy = server.mainEngine.sendOrder(order({ price: 3490 }), "TEST", RPC_ORIGIN);
    const overLimit = server.mainEngine.sendOrder(order({ price: 3480 }), "TEST", RPC_ORIGIN);
    const [a, b, c, d] = await Promise.all([sell, crossingBuy, buy, overLimit]);
    assert.match(a, /^TEST\./);
    assert.equal(b, "");
    assert.match(c, /^TEST\./);
    assert.equal(d, "");
    assert.deepEqual(server.blocks.map((block) => [block.code, block.params]), [["SELF_TRADE_BUY", { price: 3510, ask: 3510 }], ["ACTIVE_ORDER_LIMIT", { count: 2, limit: 2 }]]);
    server.flush();
    assert.equal(server.risk.ownOrders.activeCount, 2);
    assert.equal(server.risk.ownOrders.inFlightCount, 0);
  }),
);

test(
  "an order a later pipeline check blocks stops counting at once",
  withServer({}, async (server) => {
    server.mainEngine.addOrderCheck({ name: "desk-permissions", check: () => ({ check: "desk-permissions", rule: "desk-permissions", code: "DESK_CLOSED", params: {}, msg: "desk closed" }) }, 1000);
    assert.equal(await send(server), "");
    assert.equal(server.risk.ownOrders.activeCount, 0);
    assert.deepEqual(server.notices, [], "the risk manager did not block it");
  }),
);

test(
  "an accepted order that never settles stops counting after the in-flight timeout, with a warning",
  withServer({ inFlightTimeout: 5 }, (server) => {
    assert.equal(server.mainEngine.blockedReason(order(), "TEST", RPC_ORIGIN), null);
    assert.equal(server.risk.ownOrders.activeCount, 1);
    server.clock.advance(5_001);
    server.tick();
    assert.equal(server.risk.ownOrders.activeCount, 0);
    assert.ok(server.logs.some((log) => log.level === 30 && /1 accepted orders had no answer or event within 5 s/.test(log.msg)));
  }),
);

test("the engine subscribes to ticks and trades only while a rule wants them", async () => {
  const registered: string[] = [];
  class SpyEventEngine extends EventEngine {
    override register(type: string, handler: EventHandler): void {
      registered.push(type);
      super.register(type, handler);
    }
  }
  const ticks: TickData[] = [];
  class TickWatcher extends RiskRule {
    readonly name = "tick_watcher";
    checkAllowed(): RuleVerdict {
      return true;
    }
    override onTick(tick: TickData): void {
      ticks.push(tick);
    }
  }
  const home = tempHome();
  const withoutTicks = new MainEngine({ home, eventEngine: new SpyEventEngine() });
  withoutTicks.addApp(riskManagerApp({ rulesFolder: null, rules: () => [new OrderSizeRule()] }));
  // The OMS's own handlers only.
  assert.equal(registered.filter((type) => type === EVENT_TICK).length, 1);
  assert.equal(registered.filter((type) => type === EVENT_TRADE).length, 1);
  await withoutTicks.close();

  registered.length = 0;
  const withTicks = new MainEngine({ home, eventEngine: new SpyEventEngine() });
  const gateway = withTicks.addGateway(TestGateway);
  withTicks.addApp(riskManagerApp({ rulesFolder: null, rules: () => [new TickWatcher()] }));
  // The OMS's and the risk engine's.
  assert.equal(registered.filter((type) => type === EVENT_TICK).length, 2);
  assert.equal(registered.filter((type) => type === EVENT_TRADE).length, 1);
  gateway.pushTick();
  withTicks.eventEngine.flush();
  assert.equal(ticks.length, 1);
  await withTicks.close();
  rmSync(home, { recursive: true, force: true });
});

test("RiskManagerApp names itself as VeighNa does, and close() leaves the pipeline", async () => {
  assert.equal(RiskManagerApp.appName, "RiskManager");
  assert.equal(RiskManagerApp.displayName, "Risk manager");
  const server = await startServer({});
  try {
    assert.equal(server.risk.engineName, "RiskManager");
    server.risk.setTradingState("HALTED");
    server.risk.close();
    assert.match(await send(server), /^TEST\./);
  } finally {
    await server.close();
  }
});


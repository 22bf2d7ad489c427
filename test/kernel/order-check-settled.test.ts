/** MainEngine tells each order check that let an order through how the order ended (`OrderCheck.settled`). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BaseGateway,
  Direction,
  Exchange,
  MainEngine,
  OrderRequest,
  OrderType,
  type OrderCheck,
  type OrderOrigin,
} from "../../src/kernel/index.js";

class AnsweringGateway extends BaseGateway {
  static override readonly defaultName = "ANSWER";
  answer: () => string | Promise<string> = () => "ANSWER.1";
  connect(): void {}
  close(): void {}
  subscribe(): void {}
  sendOrder(): string | Promise<string> {
    return this.answer();
  }
  cancelOrder(): void {}
  queryAccount(): void {}
  queryPosition(): void {}
}

type Settled = [name: string, vt_orderid: string, origin: OrderOrigin["kind"]];

function recordingCheck(name: string, log: Settled[], blocks = false): OrderCheck {
  return {
    name,
    check: () => (blocks ? { check: name, rule: name, code: "NO", params: {}, msg: `${name} says no` } : null),
    settled: (_req, _gatewayName, origin, vt_orderid) => log.push([name, vt_orderid, origin.kind]),
  };
}

function withEngine(fn: (engine: MainEngine, gateway: AnsweringGateway) => Promise<void>): () => Promise<void> {
  return async () => {
    const home = mkdtempSync(join(tmpdir(), "kernel-settled-"));
    const engine = new MainEngine({ home });
    try {
      await fn(engine, engine.addGateway(AnsweringGateway));
    } finally {
      await engine.close();
      rmSync(home, { recursive: true, force: true });
    }
  };
}

const req = new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 3500 });

test(
  "every check hears the vt_orderid the gateway answered, after the answer",
  withEngine(async (engine, gateway) => {
    const log: Settled[] = [];
    engine.addOrderCheck(recordingCheck("a", log), 1);
    engine.addOrderCheck(recordingCheck("b", log), 2);
    gateway.answer = async () => {
      assert.deepEqual(log, [], "settled before the gateway answered");
      return "ANSWER.7";
    };
    const vt_orderid = await engine.sendOrder(req, "ANSWER", { kind: "rpc", clientId: "zmq:1" });
    assert.equal(vt_orderid, "ANSWER.7");
    assert.deepEqual(log, [["a", "ANSWER.7", "rpc"], ["b", "ANSWER.7", "rpc"]]);
  }),
);

test(
  "a blocked order settles with an empty id only for the checks that let it through",
  withEngine(async (engine) => {
    const log: Settled[] = [];
    engine.addOrderCheck(recordingCheck("first", log), 1);
    engine.addOrderCheck(recordingCheck("blocker", log, true), 2);
    engine.addOrderCheck(recordingCheck("never-reached", log), 3);
    assert.equal(await engine.sendOrder(req, "ANSWER"), "");
    assert.deepEqual(log, [["first", "", "local"]]);
  }),
);

test(
  "a gateway that throws still settles the checks with an empty id, and the caller sees the error",
  withEngine(async (engine, gateway) => {
    const log: Settled[] = [];
    engine.addOrderCheck(recordingCheck("a", log));
    gateway.answer = () => {
      throw new Error("venue down");
    };
    await assert.rejects(engine.sendOrder(req, "ANSWER"), /venue down/);
    assert.deepEqual(log, [["a", "", "local"]]);
  }),
);

test(
  "a failing settled listener is logged and does not change the order's result",
  withEngine(async (engine) => {
    const logs: string[] = [];
    engine.eventEngine.register("eLog", (event) => logs.push((event.data as { msg: string }).msg));
    engine.addOrderCheck({ name: "fragile", check: () => null, settled: () => { throw new Error("oops"); } });
    assert.equal(await engine.sendOrder(req, "ANSWER"), "ANSWER.1");
    engine.eventEngine.flush();
    assert.ok(logs.some((msg) => msg.includes("fragile") && msg.includes("oops")), logs.join("\n"));
  }),
);

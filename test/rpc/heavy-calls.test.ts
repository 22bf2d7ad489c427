/**
 * Heavy calls (a history query) do not hold other clients up for their whole length: a long result is encoded in
 * slices with other calls answered in between, and a client over its limits is refused before its call's
 * arguments are decoded.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { BarData, DateTime, Exchange, Interval } from "../../src/kernel/index.js";
import { encodeRequest } from "../../src/codec/index.js";
import { RpcClient, RpcServer, ZmqEndpoint, rateLimited, str, type CallGate } from "../../src/rpc/index.js";
import { decodeResult } from "../../src/rpc/wire.js";

const BARS = 50_000;

function bars(count: number): BarData[] {
  const start = Date.UTC(2026, 0, 5, 1, 0);
  return Array.from({ length: count }, (_, i) =>
    new BarData({
      gateway_name: "SIM",
      symbol: "rb2701",
      exchange: Exchange.SHFE,
      datetime: DateTime.fromDate(new Date(start + i * 60_000)),
      interval: Interval.MINUTE,
      volume: i % 50,
      open_price: 3500 + (i % 7),
      high_price: 3510,
      low_price: 3490,
      close_price: 3501,
    }),
  );
}

/** Bounded wait on a condition, letting I/O and immediates run. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Marks `bar`'s volume being read (the encoder reaching it) in `seen`. */
function watch(bar: BarData, seen: () => void): void {
  const volume = bar.volume;
  Object.defineProperty(bar, "volume", { enumerable: true, configurable: true, get: () => (seen(), volume) });
}

async function start(gate?: CallGate) {
  const server = new RpcServer({ log: () => undefined, ...(gate ? { gate } : {}) });
  let heavyStarted = false;
  const encode = { started: false, finished: false, finishedWhenLightRan: undefined as boolean | undefined };
  const result = bars(BARS);
  watch(result[0]!, () => (encode.started = true));
  watch(result[BARS - 1]!, () => (encode.finished = true));
  server.register("query_history", [{ name: "what", type: str }], () => ((heavyStarted = true), result), { heavy: true });
  server.register("get_all_accounts", [], () => ((encode.finishedWhenLightRan = encode.finished), ["account"]));
  const endpoint = new ZmqEndpoint({ repAddress: "tcp://127.0.0.1:0", pubAddress: "tcp://127.0.0.1:0", heartbeatInterval: 1_000 });
  await server.start([endpoint]);
  cleanups.push(() => server.stop());
  const { rep, pub } = endpoint.addresses!;
  return { server, rep, pub, heavyStarted: () => heavyStarted, encode };
}

async function client(rep: string, pub: string, name: string): Promise<RpcClient> {
  const c = new RpcClient({ reqAddress: rep, subAddress: pub, timeout: 60_000, name });
  cleanups.push(() => c.close());
  c.start();
  await c.waitConnected(10_000);
  return c;
}

describe("heavy calls", () => {
  it("a light call from another client is answered while a heavy call's long reply is still being encoded", async () => {
    const s = await start();
    const a = await client(s.rep, s.pub, "history-client");
    const b = await client(s.rep, s.pub, "light-client");
    const heavy = a.call<BarData[]>("query_history", ["day"]);
    await until(() => s.encode.started, "the heavy reply's encoding started");
    const light = await b.call("get_all_accounts");
    const history = await heavy;
    assert.deepEqual(light, ["account"]);
    assert.equal(s.encode.finishedWhenLightRan, false, "the light call ran while the heavy reply was still being encoded");
    assert.equal(history.length, BARS);
    assert.equal(history[0]!.volume, 0);
    assert.equal(history[BARS - 1]!.open_price, 3500 + ((BARS - 1) % 7));
  });

  it("a client over its limits is refused before its arguments are decoded, with the gate's error", async () => {
    let entered = 0;
    const gate: CallGate = {
      enter: (call) => (entered++, { context: call.context, done: () => undefined }),
      refuseEarly: (name) => (name === "query_history" ? rateLimited("over the test's limit") : undefined),
    };
    const s = await start(gate);
    const req = new zmq.Request({ linger: 0, receiveTimeout: 10_000 });
    cleanups.push(async () => req.close());
    req.connect(s.rep);
    const ask = async (frame: Buffer) => {
      await req.send(frame);
      const [reply] = await req.receive();
      return decodeResult(reply!);
    };
    // Valid name, then arguments no decoder accepts: refused as rate limited, not as a malformed request.
    const valid = encodeRequest("query_history", ["day"], {});
    const broken = Buffer.concat([valid.subarray(0, valid.indexOf("query_history") + "query_history".length + 1), Buffer.from([0xff, 0xfe, 0xfd])]);
    const refused = await ask(broken);
    assert.equal(refused.ok, false);
    assert.match(String(refused.value), /RateLimitedError: rate limited: over the test's limit/);
    // Calls the gate does not refuse early are decoded and entered as before; a broken one is malformed.
    const light = await ask(encodeRequest("get_all_accounts", [], {}));
    assert.deepEqual(light, { ok: true, value: ["account"] });
    const malformed = await ask(Buffer.concat([encodeRequest("get_all_accounts", [], {}).subarray(0, 30), Buffer.from([0xff])]));
    assert.equal(malformed.ok, false);
    assert.doesNotMatch(String(malformed.value), /rate limited/);
    assert.equal(entered, 1, "only the light call reached enter()");
    assert.equal(s.heavyStarted(), false);
  });
});

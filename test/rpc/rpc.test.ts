import { test, after } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { Event, LogData } from "../../src/kernel/index.js";
import {
  RemoteError,
  RpcClient,
  RpcDisconnectedError,
  RpcServer,
  RpcTimeoutError,
  ZmqEndpoint,
  str,
  type ConnectionState,
  type StreamEvent,
  type TransportKind,
} from "../../src/rpc/index.js";

let currentTransport: TransportKind = "zmtp";
import { encodeRequest } from "../../src/codec/index.js";
import { decodeResult as decodeReply } from "../../src/rpc/wire.js";
import { SIGNATURE, decodeReplyHeader, encodeCallHeader } from "../../src/rpc/protocol.js";
import { until } from "../helpers/until.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function addresses(kind: "tcp" | "ipc"): { rep: string; pub: string } {
  if (kind === "tcp") return { rep: "tcp://127.0.0.1:0", pub: "tcp://127.0.0.1:0" };
  const base = join(tmpdir(), `rpc-test-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return { rep: `ipc://${base}-rep`, pub: `ipc://${base}-pub` };
}

async function startServer(kind: "tcp" | "ipc" = "tcp", heartbeatInterval = 200, transport: TransportKind = currentTransport) {
  const logs: string[] = [];
  const server = new RpcServer({ log: (_level, message) => logs.push(message) });
  server.register("add", [{ name: "a", type: { name: "int", test: (v) => typeof v === "number" } }, { name: "b", type: { name: "int", test: (v) => typeof v === "number" } }], ([a, b]) => (a as number) + (b as number));
  server.register("echo", [{ name: "text", type: str }], ([text]) => text);
  let slowFinished = 0;
  server.register("slow", [{ name: "ms", type: { name: "int", test: (v) => typeof v === "number" } }], async ([ms]) => {
    await sleep(ms as number);
    slowFinished++;
    return "slow done";
  });
  server.register("fail", [], () => {
    throw new RangeError("bad argument");
  });
  server.register("unencodable", [], () => ({ f: () => 1, big: 10n ** 40n, sym: Symbol("x") }));
  let executed = 0;
  server.register("count", [], () => ++executed);
  const { rep, pub } = addresses(kind);
  const endpoint = new ZmqEndpoint({ repAddress: rep, pubAddress: pub, heartbeatInterval, transport });
  await server.start([endpoint]);
  return { server, endpoint, logs, executed: () => executed, slowFinished: () => slowFinished, ...endpoint.addresses! };
}

/** A heartbeat received proves the client's subscription has reached the publisher (ZeroMQ's slow joiner). */
function subscribed(client: RpcClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no heartbeat within 5 s: not subscribed")), 5_000);
    client.once("heartbeat", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function connectClient(rep: string, pub: string, options: Partial<ConstructorParameters<typeof RpcClient>[0]> = {}) {
  const client = new RpcClient({ reqAddress: rep, subAddress: pub, timeout: 2_000, transport: currentTransport, ...options });
  cleanups.push(() => client.close());
  client.start();
  await client.waitConnected(5_000);
  return client;
}

for (const transport of ["zmtp", "zeromq"] as const) {
  for (const kind of ["tcp", "ipc"] as const) {
    test(`[${transport}] ${kind}: calls are answered, pipelined, and matched to their callers`, async () => {
      currentTransport = transport;
      const s = await startServer(kind);
      cleanups.push(() => s.server.stop());
      const client = await connectClient(s.rep, s.pub);
      assert.equal(client.serverKind, "rpcservice");
      assert.equal(await client.call("add", [2, 3]), 5);
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call<number>("add", [i, 1])));
      assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i + 1));
      assert.equal(s.server.clients().length, 1);
    });
  }

  test(`[${transport}] a slow call does not hold up others`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const client = await connectClient(s.rep, s.pub);
    const slow = client.call("slow", [800]);
    const started = Date.now();
    assert.equal(await client.call("echo", ["fast"]), "fast");
    const fastDone = Date.now() - started;
    assert.equal(await slow, "slow done");
    assert.ok(fastDone < Date.now() - started, "the fast call finished before the slow one");
  });

  test(`[${transport}] errors come back as typed remote errors with Python-style tracebacks, and the server keeps serving`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const client = await connectClient(s.rep, s.pub);
    await assert.rejects(client.call("no_such_function"), (e: unknown) => e instanceof RemoteError && e.remoteType === "KeyError" && e.traceback.includes("KeyError: 'no_such_function'"));
    await assert.rejects(client.call("add", ["x", 1]), (e: unknown) => e instanceof RemoteError && e.remoteType === "TypeError" && /argument 'a' must be int, not str/.test(e.message));
    await assert.rejects(client.call("add", [1]), (e: unknown) => e instanceof RemoteError && /missing 1 required positional argument: 'b'/.test(e.message));
    await assert.rejects(client.call("add", [1, 2], { kwargs: { c: 1 } }), /unexpected keyword argument 'c'/);
    await assert.rejects(client.call("fail"), (e: unknown) => e instanceof RemoteError && e.remoteType === "ValueError");
    await assert.rejects(client.call("unencodable"), (e: unknown) => e instanceof RemoteError && e.remoteType === "PicklingError");
    assert.equal(await client.call("add", [1, 2], { kwargs: {} }), 3);
    assert.equal(await client.call("add", [1], { kwargs: { b: 5 } }), 6);
    assert.ok(s.logs.some((line) => line.includes("no_such_function")));
  });

  test(`[${transport}] hostile and malformed frames from a raw REQ socket get error replies`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const req = new zmq.Request({ linger: 0, receiveTimeout: 2_000 });
    req.connect(s.rep);
    cleanups.push(async () => req.close());
    const ask = async (frame: Buffer) => {
      await req.send(frame);
      const [reply] = await req.receive();
      return decodeReply(reply!);
    };
    const garbage = await ask(Buffer.from([0x80, 0x04, 0x95, 1, 2, 3, 0xff, 0xfe]));
    assert.equal(garbage.ok, false);
    assert.match(String(garbage.value), /^Traceback/);
    const huge = await ask(Buffer.alloc(2 << 20, 7));
    assert.equal(huge.ok, false);
    assert.match(String(huge.value), /ValueError: request of \d+ bytes exceeds/);
    const ok = await ask(encodeRequest("add", [20, 22], {}));
    assert.deepEqual(ok, { ok: true, value: 42 });
  });

  test(`[${transport}] a timed-out call never wedges the client and its late reply is dropped`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const client = await connectClient(s.rep, s.pub);
    await assert.rejects(client.call("slow", [400], { timeout: 100 }), RpcTimeoutError);
    assert.equal(await client.call("echo", ["after"]), "after");
    // Once the server has answered the slow call, its late reply is on the wire ahead of the next call's reply.
    await until(() => s.slowFinished() === 1, 5_000, "the slow call answered by the server");
    assert.equal(await client.call("echo", ["later"]), "later");
  });

  test(`[${transport}] a call whose deadline has passed is not executed by the server`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    // A request that sat in some queue past its deadline, as our client frames it.
    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 2_000 });
    cleanups.push(async () => dealer.close());
    dealer.connect(s.rep);
    const send = async (id: number, deadline: number) => {
      await dealer.send([SIGNATURE, encodeCallHeader({ id, deadline }), encodeRequest("count", [], {})]);
      const [, header, payload] = await dealer.receive();
      return { header: decodeReplyHeader(header!), reply: decodeReply(payload!) };
    };
    const expired = await send(7, Date.now() - 1_000);
    assert.equal(expired.header?.id, 7);
    assert.equal(expired.reply.ok, false);
    assert.match(String(expired.reply.value), /TimeoutError: deadline of count\(\) passed/);
    assert.equal(s.executed(), 0);
    const fresh = await send(8, Date.now() + 5_000);
    assert.deepEqual(fresh.reply, { ok: true, value: 1 });
    assert.equal(fresh.header?.epoch, s.server.epoch);
  });

  test(`[${transport}] a call the server refuses for its passed deadline rejects as a timeout, even before our own timer`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const client = await connectClient(s.rep, s.pub);
    // A deadline already past on arrival, as a slow round trip on a loaded machine makes it: the client's clock
    // is set back only while the call is framed (synchronously), so its own 10 s timer is far from firing.
    const realNow = Date.now;
    let call: Promise<unknown>;
    Date.now = () => realNow() - 60_000;
    try {
      call = client.call("count", [], { timeout: 10_000 });
    } finally {
      Date.now = realNow;
    }
    await assert.rejects(call, (error: unknown) => error instanceof RpcTimeoutError && /the server did not run it/.test(error.message));
    assert.equal(s.executed(), 0);
    assert.equal(await client.call("count"), 1, "the client is still usable");
  });

  test(`[${transport}] events carry seq and epoch; gaps and restarts ask for a resync; stop and start again works`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const client = new RpcClient({ reqAddress: s.rep, subAddress: s.pub, timeout: 2_000, transport: currentTransport });
    cleanups.push(() => client.close());
    const events: StreamEvent[] = [];
    const resyncs: string[] = [];
    client.on("event", (e) => events.push(e));
    client.on("resync", (reason) => resyncs.push(reason));
    client.start();
    await client.waitConnected(5_000);
    await subscribed(client);
    for (let i = 0; i < 5; i++) s.server.publish(new Event("eLog", new LogData({ gateway_name: "T", msg: `m${i}` })));
    await until(() => events.length >= 5);
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    assert.equal(events[0]!.epoch, s.server.epoch);
    assert.ok(events[0]!.event.data instanceof LogData);
    assert.deepEqual(resyncs, ["connected"]);

    const states: ConnectionState[] = [];
    client.on("state", (state) => states.push(state));
    const oldEpoch = s.server.epoch;
    await s.server.stop();
    await until(() => client.state === "disconnected", 5_000);
    const endpoint = new ZmqEndpoint({ repAddress: s.rep, pubAddress: s.pub, heartbeatInterval: 200, transport: currentTransport });
    await s.server.start([endpoint]);
    assert.notEqual(s.server.epoch, oldEpoch);
    await until(() => client.state === "connected", 5_000);
    assert.ok(states.includes("stale") || states.includes("disconnected"));
    await until(() => resyncs.includes("restart"));
    assert.equal(await client.call("echo", ["back"]), "back");
  });

  test(`[${transport}] ticks carry the last number, skipped events still count in the sequence, and neither is a gap`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const client = new RpcClient({
      reqAddress: s.rep, subAddress: s.pub, timeout: 2_000, transport: currentTransport,
      skipEvent: (type) => type.includes(".") && !type.endsWith("."),
    });
    cleanups.push(() => client.close());
    const events: StreamEvent[] = [];
    const resyncs: string[] = [];
    client.on("event", (e) => events.push(e));
    client.on("resync", (reason) => resyncs.push(reason));
    client.start();
    await client.waitConnected(5_000);
    await subscribed(client);
    const publish = (type: string) => s.server.publish(new Event(type, null));
    publish("eLog");
    for (let i = 0; i < 3; i++) {
      publish("eTick.");
      publish("eTick.rb2501.SHFE");
    }
    publish("eOrder.");
    publish("eOrder.SIM.1");
    publish("eTick.");
    publish("eLog");
    await until(() => events.length >= 7 && client.streamPosition.seq === 4, 5_000, "the events up to the last eLog");
    assert.deepEqual(events.map((e) => [e.event.type, e.seq]), [
      ["eLog", 1], ["eTick.", 1], ["eTick.", 1], ["eTick.", 1], ["eOrder.", 2], ["eTick.", 3], ["eLog", 4],
    ]);
    assert.equal(client.streamPosition.seq, 4);
    assert.equal(s.server.published, 11);
    assert.deepEqual(resyncs, ["connected"]);
  });

  test(`[${transport}] calls while disconnected fail at once and are never delivered later`, async () => {
    currentTransport = transport;
    const s = await startServer();
    cleanups.push(() => s.server.stop());
    const client = await connectClient(s.rep, s.pub, { heartbeatTolerance: 600 });
    await s.server.stop();
    await until(() => client.state === "disconnected", 5_000);
    await assert.rejects(client.call("count"), RpcDisconnectedError);
    const endpoint = new ZmqEndpoint({ repAddress: s.rep, pubAddress: s.pub, heartbeatInterval: 200, transport: currentTransport });
    await s.server.start([endpoint]);
    await until(() => client.state === "connected", 5_000);
    assert.equal(await client.call("count"), 1, "the earlier call was never executed");
  });

}

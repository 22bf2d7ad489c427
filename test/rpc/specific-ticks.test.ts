/**
 * Subscribers that do without VeighNa's specific ticks (`eTick.<vt_symbol>`, a copy of each `eTick.`) say so with a
 * marker subscription, and our server leaves those copies out for them alone: VeighNa's own subscribers, and ours
 * that want them, still get every event, and nobody sees a gap (the copies carry no seq of their own).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { Event } from "../../src/kernel/index.js";
import { HELLO_FUNCTION, RpcClient, RpcServer, ZmqEndpoint, type HelloInfo, type StreamEvent, type TransportKind } from "../../src/rpc/index.js";
import { NO_SPECIFIC_TICKS } from "../../src/rpc/protocol.js";
import { decodeBroadcast } from "../../src/rpc/wire.js";
import { ZmtpPublisher, ZmtpSubscriber } from "../../src/zmtp/index.js";
import { until } from "../helpers/until.js";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A client that records the types it is handed and every resync; connected and subscribed (a heartbeat came). */
async function recordingClient(rep: string, pub: string, transport: TransportKind, specificTicks: boolean, skipEvent?: (type: string) => boolean) {
  const client = new RpcClient({ reqAddress: rep, subAddress: pub, transport, timeout: 2_000, specificTicks, ...(skipEvent ? { skipEvent } : {}) });
  cleanups.push(() => client.close());
  const types: string[] = [];
  const resyncs: string[] = [];
  let heartbeats = 0;
  client.on("event", (e: StreamEvent) => types.push(e.event.type));
  client.on("resync", (reason) => resyncs.push(reason));
  client.on("heartbeat", () => heartbeats++);
  client.start();
  await client.waitConnected(5_000);
  await until(() => heartbeats > 0, 5_000, "a heartbeat: subscribed");
  return { client, types, resyncs };
}

function publishTicks(server: RpcServer): void {
  for (let i = 0; i < 3; i++) {
    server.publish(new Event("eTick.", null));
    server.publish(new Event("eTick.rb2501.SHFE", null));
  }
  server.publish(new Event("eOrder.", null));
  server.publish(new Event("eOrder.SIM.1", null));
  server.publish(new Event("eLog", null));
}

for (const transport of ["zmtp", "zeromq"] as const) {
  test(`[${transport} server] only the subscribers that opted out miss the specific ticks; VeighNa's libzmq SUB gets every event; no gaps`, async () => {
    const server = new RpcServer({ log: () => {} });
    const endpoint = new ZmqEndpoint({ repAddress: "tcp://127.0.0.1:0", pubAddress: "tcp://127.0.0.1:0", heartbeatInterval: 100, transport });
    await server.start([endpoint]);
    cleanups.push(() => server.stop());
    const { rep, pub } = endpoint.addresses!;

    const everything = await recordingClient(rep, pub, "zmtp", true);
    const withoutCopies = await recordingClient(rep, pub, "zmtp", false);
    // A VeighNa subscriber: libzmq's SUB, everything.
    const veighna = new zmq.Subscriber({ linger: 0, receiveTimeout: 5_000 });
    cleanups.push(() => veighna.close());
    veighna.connect(pub);
    veighna.subscribe();
    const veighnaTypes: string[] = [];
    for (;;) {
      const { topic } = decodeBroadcast((await veighna.receive())[0]!);
      if (topic === "heartbeat") break;
    }

    publishTicks(server);
    await until(() => everything.types.includes("eLog") && withoutCopies.types.includes("eLog"), 5_000, "the last event");
    for (;;) {
      const { topic, data } = decodeBroadcast((await veighna.receive())[0]!);
      if (topic === "heartbeat") continue;
      const type = (data as { type: string }).type;
      veighnaTypes.push(type);
      if (type === "eLog") break;
    }
    const all = ["eTick.", "eTick.rb2501.SHFE", "eTick.", "eTick.rb2501.SHFE", "eTick.", "eTick.rb2501.SHFE", "eOrder.", "eOrder.SIM.1", "eLog"];
    assert.deepEqual(everything.types, all);
    assert.deepEqual(veighnaTypes, all);
    // Our publisher reads the marker; libzmq's (the zeromq transport) holds it and sends everything.
    assert.deepEqual(withoutCopies.types, transport === "zmtp" ? all.filter((type) => type !== "eTick.rb2501.SHFE") : all);
    assert.deepEqual(everything.resyncs, ["connected"]);
    assert.deepEqual(withoutCopies.resyncs, ["connected"], "no gap: specific ticks are not numbered");
  });
}

for (const transport of ["zmtp", "zeromq"] as const) {
  test(`[${transport} server] a client skipping every twin (RpcGateway's options) is handed none, of ticks or orders, and counts them all: no gap`, async () => {
    const server = new RpcServer({ log: () => {} });
    const endpoint = new ZmqEndpoint({ repAddress: "tcp://127.0.0.1:0", pubAddress: "tcp://127.0.0.1:0", heartbeatInterval: 100, transport });
    await server.start([endpoint]);
    cleanups.push(() => server.stop());
    const { rep, pub } = endpoint.addresses!;
    // Against our ZMTP publisher the client decodes the rare twins it skips instead of peeking at every tick; against
    // libzmq's, which sends every tick's twin, it peeks. Either way, the owner never sees one.
    const asked: string[] = [];
    const isTwin = (type: string) => {
      asked.push(type);
      return type.includes(".") && !type.endsWith(".");
    };
    const { client, types, resyncs } = await recordingClient(rep, pub, "zmtp", false, isTwin);
    const hello = await client.call<HelloInfo>(HELLO_FUNCTION);
    assert.equal(hello.specific_ticks_withheld, transport === "zmtp" ? true : undefined, "the hello says whether the specific ticks are left out");

    asked.length = 0;
    publishTicks(server);
    server.publish(new Event("eTrade.", null));
    server.publish(new Event("eTrade.SIM.1", null));
    server.publish(new Event("eLog", null));
    await until(() => types.filter((type) => type === "eLog").length === 2, 5_000, "the last event");
    assert.deepEqual(types, ["eTick.", "eTick.", "eTick.", "eOrder.", "eLog", "eTrade.", "eLog"]);
    assert.deepEqual(resyncs, ["connected"], "the skipped twins were counted: no gap");
    assert.equal(client.streamPosition.seq, server.position().seq);
    // The owner's filter is asked once per event that reached the client, peeked or decoded, never twice.
    const reached = ["eTick.", "eTick.rb2501.SHFE", "eTick.", "eTick.rb2501.SHFE", "eTick.", "eTick.rb2501.SHFE", "eOrder.", "eOrder.SIM.1", "eLog", "eTrade.", "eTrade.SIM.1", "eLog"];
    assert.deepEqual(asked, transport === "zmtp" ? reached.filter((type) => type !== "eTick.rb2501.SHFE") : reached);
  });
}

test("a ZMTP publisher skips the subscribers holding an opt-out subscription, and says whether anyone is left", async () => {
  const publisher = new ZmtpPublisher();
  cleanups.push(() => publisher.close());
  const address = await publisher.bind("tcp://127.0.0.1:0");
  const marker = Buffer.from("\0opt-out");
  const received = { plain: [] as string[], marked: [] as string[] };
  const plain = new ZmtpSubscriber();
  const marked = new ZmtpSubscriber();
  cleanups.push(() => plain.close(), () => marked.close());
  plain.subscribe("");
  marked.subscribe("");
  marked.subscribe(marker);
  plain.on("message", (frames) => received.plain.push(frames[0]!.toString()));
  marked.on("message", (frames) => received.marked.push(frames[0]!.toString()));
  marked.connect(address);
  await until(() => publisher.subscribers().some((s) => s.topics.some((t) => t.equals(marker))), 5_000, "the marker subscription");
  assert.equal(publisher.reaches(marker), false, "the one subscriber holds the marker");
  plain.connect(address);
  await until(() => publisher.subscribers().length === 2 && publisher.subscribers().every((s) => s.topics.length > 0), 5_000, "both subscribed");
  assert.equal(publisher.reaches(marker), true);
  publisher.publish([Buffer.from("copy")], undefined, undefined, marker);
  publisher.publish([Buffer.from("main")]);
  await until(() => received.plain.length === 2 && received.marked.length === 1, 5_000, "the messages");
  assert.deepEqual(received, { plain: ["copy", "main"], marked: ["main"] });
  assert.ok(NO_SPECIFIC_TICKS[0] === 0 && NO_SPECIFIC_TICKS.length > 1, "our marker starts with a zero byte: no pickle matches it");
});

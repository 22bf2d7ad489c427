import { test } from "node:test";
import assert from "node:assert/strict";
import { Event, LogData } from "../../src/kernel/index.js";
import { WsCallError, WsEndpoint, WsRpcClient, type WsClientState } from "../../src/console/index.js";
import { logEvent, testDispatcher, until } from "./helpers.js";

test("the Node client calls, decodes kernel objects, and reports server errors with their codes", async () => {
  const endpoint = new WsEndpoint({ listen: { host: "127.0.0.1", port: 0 } });
  await endpoint.start(async (name, args, kwargs) => {
    if (name === "log") return new LogData({ msg: String(args[0]), gateway_name: "X" });
    if (name === "kw") return kwargs;
    return testDispatcher(name, args, kwargs, { clientId: "", endpoint: "" });
  });
  const client = new WsRpcClient({ url: `ws://127.0.0.1:${endpoint.address!.port}/ws`, reconnect: false });
  try {
    await client.connect();
    assert.match(client.clientId, /^ws:\d+$/);
    assert.equal(await client.call("add", [40, 2]), 42);
    const log = await client.call("log", ["hello"]);
    assert.ok(log instanceof LogData);
    assert.equal(log.msg, "hello");
    assert.deepEqual(await client.call("kw", [], { a: 1 }), { a: 1 });
    await assert.rejects(client.call("fail"), (error: unknown) => error instanceof WsCallError && error.code === "ERR_ON_PURPOSE");
    await assert.rejects(client.call("sleep", [1_000, 1], {}, 50), (error: unknown) => error instanceof WsCallError && error.code === "TIMEOUT");
  } finally {
    await client.close();
    await endpoint.stop();
  }
});

test("after the server goes away and comes back, the client reconnects and the missed events are replayed", async () => {
  const endpoint = new WsEndpoint({ listen: { host: "127.0.0.1", port: 0 } });
  let seq = 0;
  const position = () => ({ epoch: "run-1", seq });
  const publish = (event: Event) => endpoint.publish({ seq: ++seq, epoch: "run-1", event });
  await endpoint.start({ dispatch: testDispatcher, position });
  const port = endpoint.address!.port;
  const received: [number, string][] = [];
  const states: [WsClientState, boolean | undefined][] = [];
  const client = new WsRpcClient({
    url: `ws://127.0.0.1:${port}/ws`,
    onEvent: (event, eventSeq) => received.push([eventSeq, (event.data as LogData).msg]),
    onState: (state, detail) => states.push([state, detail.resumed]),
  });
  try {
    await client.connect();
    const subscribed = await client.subscribe(["eLog"]);
    assert.deepEqual(subscribed, { epoch: "run-1", seq: 0 });
    publish(logEvent("before"));
    await until(() => received.length === 1, 5_000, "first event");

    // The server's WebSocket side stops (as when the RPC service stops); events keep being numbered meanwhile.
    await endpoint.stop();
    await until(() => client.state !== "connected", 5_000, "disconnect seen");
    publish(logEvent("while away 1"));
    publish(new Event("eTick.", null));
    publish(logEvent("while away 2"));

    // Same port, so the client's reconnect finds it.
    const again = new WsEndpoint({ listen: { host: "127.0.0.1", port } });
    // A fresh endpoint object has an empty ring: it knows the stream's position but not the missed events.
    await again.start({ dispatch: testDispatcher, position });
    await until(() => client.state === "connected" && states.filter(([s]) => s === "connected").length >= 2, 10_000, "reconnected");
    const last = states[states.length - 1]!;
    assert.equal(last[0], "connected");
    assert.equal(last[1], false, "a new endpoint has no ring: the client is told to resnapshot");
    await again.stop();
  } finally {
    await client.close();
    await endpoint.stop();
  }
});

test("a reconnect to the same endpoint resumes from the last event: nothing lost, nothing twice", async () => {
  const endpoint = new WsEndpoint({ listen: { host: "127.0.0.1", port: 0 }, heartbeatMs: 60_000 });
  let seq = 0;
  const publish = (event: Event) => endpoint.publish({ seq: ++seq, epoch: "run-2", event });
  await endpoint.start({ dispatch: testDispatcher, position: () => ({ epoch: "run-2", seq }) });
  const received: number[] = [];
  let resumed: boolean | undefined;
  const client = new WsRpcClient({
    url: `ws://127.0.0.1:${endpoint.address!.port}/ws`,
    onEvent: (_event, eventSeq) => received.push(eventSeq),
    onState: (state, detail) => {
      if (state === "connected") resumed = detail.resumed;
    },
  });
  try {
    await client.connect();
    await client.subscribe(["eLog"]);
    publish(logEvent("1"));
    await until(() => received.length === 1, 5_000, "first event");
    // Drop the connection from the server side, publish while the client is away.
    assert.equal(endpoint.disconnect(client.clientId, "test: drop the connection", 1012), true);
    publish(logEvent("2"));
    publish(logEvent("3"));
    await until(() => received.length === 3, 10_000, "replayed events");
    assert.deepEqual(received, [1, 2, 3]);
    assert.equal(resumed, true);
    publish(logEvent("4"));
    await until(() => received.length === 4, 5_000, "live again");
    assert.deepEqual(received, [1, 2, 3, 4]);
  } finally {
    await client.close();
    await endpoint.stop();
  }
});

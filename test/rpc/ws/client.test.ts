import { test } from "node:test";
import assert from "node:assert/strict";
import { Event, LogData } from "../../../src/kernel/index.js";
import { RemoteError, RpcDisconnectedError, RpcError, RpcTimeoutError, WsEndpoint, WsRpcClient, type ConnectionState, type ResyncReason } from "../../../src/rpc/index.js";
import { logEvent, loopbackServer, testDispatcher, until } from "./helpers.js";

test("the WebSocket client calls, decodes kernel objects, and reports server errors with their codes", async () => {
  const endpoint = new WsEndpoint({ server: loopbackServer() });
  await endpoint.start(async (name, args, kwargs) => {
    if (name === "log") return new LogData({ msg: String(args[0]), gateway_name: "X" });
    if (name === "kw") return kwargs;
    return testDispatcher(name, args, kwargs, { clientId: "", endpoint: "" });
  });
  const client = new WsRpcClient({ url: `ws://127.0.0.1:${endpoint.address!.port}/ws`, reconnect: false });
  try {
    await assert.rejects(client.call("add", [1, 2]), RpcDisconnectedError);
    await client.waitConnected(5_000);
    assert.match(client.clientId, /^ws:\d+$/);
    assert.equal(client.serverKind, "rpcservice");
    assert.equal(await client.call("add", [40, 2]), 42);
    const log = await client.call("log", ["hello"]);
    assert.ok(log instanceof LogData);
    assert.equal(log.msg, "hello");
    assert.deepEqual(await client.call("kw", [], { kwargs: { a: 1 } }), { a: 1 });
    await assert.rejects(client.call("fail"), (error: unknown) => error instanceof RemoteError && error.remoteType === "ERR_ON_PURPOSE");
    await assert.rejects(client.call("sleep", [1_000, 1], { timeout: 50 }), (error: unknown) => {
      // The same typed timeout as RpcClient's, naming the call and its deadline.
      return error instanceof RpcTimeoutError && error.code === "ERR_RPC_TIMEOUT" && /50ms reached for sleep\(\)/.test(error.message);
    });
  } finally {
    await client.close();
    await endpoint.stop();
  }
});

test("a reconnect to the same endpoint resumes from the last event: nothing lost, nothing twice, no resync", async () => {
  const endpoint = new WsEndpoint({ server: loopbackServer() });
  let seq = 0;
  const publish = (event: Event) => endpoint.publish({ seq: ++seq, epoch: "run-2", event });
  await endpoint.start({ dispatch: testDispatcher, position: () => ({ epoch: "run-2", seq }) });
  const received: number[] = [];
  const resyncs: ResyncReason[] = [];
  const client = new WsRpcClient({ url: `ws://127.0.0.1:${endpoint.address!.port}/ws`, types: ["eLog"] });
  client.on("event", (pushed) => received.push(pushed.seq!));
  client.on("resync", (reason) => resyncs.push(reason));
  try {
    await client.waitConnected(5_000);
    publish(logEvent("1"));
    await until(() => received.length === 1, 5_000, "first event");
    assert.equal(endpoint.disconnect(client.clientId, "test: drop the connection"), true);
    await until(() => client.state !== "connected", 5_000, "disconnect seen");
    publish(logEvent("2"));
    publish(new Event("eTick.", null)); // not subscribed: never sent, not even on replay
    publish(logEvent("3"));
    await until(() => received.length === 3, 10_000, "replayed events");
    publish(logEvent("4"));
    await until(() => received.length === 4, 5_000, "live again");
    assert.deepEqual(received, [1, 2, 4, 5]);
    assert.deepEqual(resyncs, ["connected"], "the gap was replayed: no snapshot needed");
  } finally {
    await client.close();
    await endpoint.stop();
  }
});

test("when the gap cannot be replayed (a new server run), the client asks its owner for a fresh snapshot", async () => {
  const endpoint = new WsEndpoint({ server: loopbackServer() });
  let epoch = "run-1";
  let seq = 0;
  await endpoint.start({ dispatch: testDispatcher, position: () => ({ epoch, seq }) });
  const port = endpoint.address!.port;
  const states: ConnectionState[] = [];
  const resyncs: ResyncReason[] = [];
  const client = new WsRpcClient({ url: `ws://127.0.0.1:${port}/ws`, types: ["eLog"] });
  client.on("state", (state) => states.push(state));
  client.on("resync", (reason) => resyncs.push(reason));
  try {
    await client.waitConnected(5_000);
    endpoint.publish({ seq: ++seq, epoch, event: logEvent("before") });
    await until(() => client.streamPosition.seq === 1, 5_000, "first event");
    await endpoint.stop(); // closes the client with 1001; the client retries
    await until(() => client.state !== "connected", 5_000, "disconnect seen");
    // The server comes back on the same port with a new run of its event stream.
    epoch = "run-2";
    seq = 0;
    const again = new WsEndpoint({ server: loopbackServer(port) });
    await again.start({ dispatch: testDispatcher, position: () => ({ epoch, seq }) });
    try {
      await until(() => resyncs.length === 2, 10_000, "resync after reconnect");
      assert.deepEqual(resyncs, ["connected", "restart"]);
      assert.deepEqual(client.streamPosition, { epoch: "run-2", seq: 0 });
      assert.deepEqual(states.slice(0, 3), ["connecting", "connected", "disconnected"]);
    } finally {
      await client.close();
      await again.stop();
    }
  } finally {
    await client.close();
    await endpoint.stop();
  }
});

test("a call's stream position is where the stream stood at its reply, even when an event follows in the same read", async () => {
  const endpoint = new WsEndpoint({ server: loopbackServer() });
  let seq = 0;
  let release: ((value: unknown) => void) | undefined;
  // A plain (not async) dispatcher: the endpoint's reply is the first reaction to this promise.
  await endpoint.start({
    dispatch: (name, args, kwargs, context) =>
      name === "held" ? new Promise((resolve) => (release = resolve)) : testDispatcher(name, args, kwargs, context),
    position: () => ({ epoch: "run-1", seq }),
  });
  const received: number[] = [];
  const client = new WsRpcClient({ url: `ws://127.0.0.1:${endpoint.address!.port}/ws`, types: ["eLog"], reconnect: false });
  client.on("event", (pushed) => received.push(pushed.seq!));
  try {
    await client.waitConnected(5_000);
    endpoint.publish({ seq: ++seq, epoch: "run-1", event: logEvent("before the reply") });
    await until(() => received.length === 1, 5_000, "the first event");
    const call = client.callWithPosition("held");
    await until(() => release !== undefined, 5_000, "the call to reach the server");
    release!("done");
    // Runs after the endpoint's reply in the same turn: the endpoint corks per turn, so reply and event leave in
    // one write and the client reads both before the caller resumes (what a loaded machine does at random).
    await Promise.resolve();
    endpoint.publish({ seq: ++seq, epoch: "run-1", event: logEvent("after the reply") });
    const { value, position } = await call;
    assert.equal(value, "done");
    assert.deepEqual(position, { epoch: "run-1", seq: 1 }, "the event after the reply is not covered by the result");
    await until(() => received.length === 2, 5_000, "the second event");
  } finally {
    await client.close();
    await endpoint.stop();
  }
});

test("a reply the client cannot decode fails that call alone; stray messages are warnings and the client keeps working", async () => {
  // A hand-written server, to send what a real endpoint never would.
  const { WebSocketServer } = await import("ws");
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  server.on("connection", (socket) => {
    socket.send(JSON.stringify({ hello: { protocol: 1, server: "rpcservice", endpoint: "ws", client_id: "ws:1", epoch: "e1", seq: 0 } }));
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { id: number; subscribe?: unknown; call?: string };
      if (message.subscribe) return socket.send(JSON.stringify({ id: message.id, ok: true, result: { epoch: "e1", seq: 0 } }));
      if (message.call === "broken") {
        socket.send("null");
        socket.send("[1, 2, 3]");
        const tick = { $class: "TickData", gateway_name: "SIM", symbol: "rb2701", exchange: "SHFE", datetime: "not a datetime" };
        return socket.send(JSON.stringify({ id: message.id, ok: true, result: tick }));
      }
      socket.send(JSON.stringify({ id: message.id, ok: true, result: 42 }));
    });
  });
  const port = (server.address() as { port: number }).port;
  const client = new WsRpcClient({ url: `ws://127.0.0.1:${port}/ws`, reconnect: false, timeout: 5_000 });
  const warnings: string[] = [];
  client.on("warning", (text) => warnings.push(text));
  try {
    await client.waitConnected(5_000);
    await assert.rejects(client.call("broken"), (error: unknown) => error instanceof RpcError && error.code === "ERR_RPC_REMOTE" && /undecodable reply to broken/.test(error.message));
    assert.equal(await client.call("fine"), 42);
    assert.equal(client.state, "connected");
    assert.ok(warnings.some((w) => w.startsWith("unexpected message")), warnings.join("\n"));
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

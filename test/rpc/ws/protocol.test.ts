import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import {
  DateTime,
  Direction,
  Event,
  Exchange,
  LogData,
  Offset,
  OrderData,
  OrderRequest,
  OrderType,
  Status,
  TickData,
  CHINA_TZ,
  UTC,
  fixedOffset,
  zoneInfo,
} from "../../../src/kernel/index.js";
import { CloseCode, WsEndpoint, encodeJson, fromWire, isoMicros, toWire } from "../../../src/rpc/index.js";
import { RawClient, logEvent, loopbackServer, maskedTextFrame, startEndpoint, until } from "./helpers.js";

const ORDER_ARG = {
  $class: "OrderRequest",
  symbol: "rb2501",
  exchange: "SHFE",
  direction: "多",
  type: "限价",
  volume: 1,
  price: 3500,
  offset: "开",
};

function tick(symbol: string, price: number): TickData {
  return new TickData({
    gateway_name: "SIM",
    symbol,
    exchange: Exchange.SHFE,
    datetime: new DateTime({ year: 2025, month: 1, day: 2, hour: 9, minute: 30, second: 1, microsecond: 250 }, CHINA_TZ),
    last_price: price,
  });
}

test("data objects go out tagged with $class, enum values and µs ISO datetimes, and come back as kernel objects", () => {
  const order = new OrderData({
    gateway_name: "SIM",
    symbol: "rb2501",
    exchange: Exchange.SHFE,
    orderid: "7",
    direction: Direction.LONG,
    offset: Offset.OPEN,
    price: 3500,
    volume: 2,
    status: Status.NOTTRADED,
    datetime: new DateTime({ year: 2025, month: 1, day: 2, hour: 9, minute: 30 }, CHINA_TZ),
  });
  const wire = JSON.parse(JSON.stringify(toWire(order))) as Record<string, unknown>;
  assert.equal(Object.keys(wire)[0], "$class");
  assert.equal(wire.$class, "OrderData");
  assert.equal(wire.direction, "多");
  assert.equal(wire.status, "未成交");
  assert.equal(wire.datetime, "2025-01-02T09:30:00.000000+08:00");
  assert.equal(wire.vt_orderid, "SIM.7");
  const back = fromWire(wire);
  assert.ok(back instanceof OrderData);
  assert.equal(back.vt_orderid, "SIM.7");
  assert.equal(back.datetime?.toISOString(), "2025-01-02T09:30:00+08:00");
});

test("calls reply by id, concurrently: a fast call overtakes a slow one", async () => {
  const server = await startEndpoint();
  const client = await RawClient.open(server.url);
  try {
    client.send({ id: 1, call: "sleep", args: [150, "slow"] });
    client.send({ id: 2, call: "add", args: [2, 3] });
    const fast = await client.reply(2);
    assert.deepEqual(fast, { id: 2, ok: true, result: 5 });
    assert.equal(client.messages.some((m) => m.id === 1), false, "the slow reply is still pending");
    assert.deepEqual(await client.reply(1), { id: 1, ok: true, result: "slow" });
  } finally {
    client.close();
    await server.stop();
  }
});

test("an OrderRequest argument arrives at the dispatcher as a kernel OrderRequest; English enum values are accepted", async () => {
  let received: unknown[] = [];
  const server = await startEndpoint({}, async (_name, args) => {
    received = [...args];
    return "SIM.1";
  });
  const client = await RawClient.open(server.url);
  try {
    client.send({ id: "a", call: "send_order", args: [{ ...ORDER_ARG, direction: "Short", type: "Limit" }, "SIM"] });
    assert.deepEqual(await client.reply("a"), { id: "a", ok: true, result: "SIM.1" });
    const req = received[0];
    assert.ok(req instanceof OrderRequest);
    assert.equal(req.direction, Direction.SHORT);
    assert.equal(req.type, OrderType.LIMIT);
    assert.equal(req.vt_symbol, "rb2501.SHFE");
    assert.equal(received[1], "SIM");
  } finally {
    client.close();
    await server.stop();
  }
});

test("malformed JSON, binary frames, invalid fields and unknown calls each get a clear error and the connection keeps serving", async () => {
  const server = await startEndpoint();
  const client = await RawClient.open(server.url);
  try {
    client.send("{not json");
    const bad = await client.next((m) => (m.error as { code?: string } | undefined)?.code === "BAD_JSON");
    assert.equal(bad.id, null);
    assert.equal(bad.ok, false);

    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await client.next((m) => (m.error as { code?: string } | undefined)?.code === "BINARY_FRAME");

    client.send({ id: 3, call: "bad name!", args: [] });
    const invalidName = await client.reply(3);
    assert.equal((invalidName.error as { code: string }).code, "INVALID_MESSAGE");
    assert.match((invalidName.error as { message: string }).message, /\/call/);

    client.send({ id: 4, call: "echo", args: "not an array" });
    assert.equal(((await client.reply(4)).error as { code: string }).code, "INVALID_MESSAGE");

    client.send({ id: 5, call: "send_order", args: [{ ...ORDER_ARG, direction: "UP" }, "SIM"] });
    const badEnum = (await client.reply(5)).error as { code: string; path: string };
    assert.equal(badEnum.code, "INVALID_ARGUMENT");
    assert.equal(badEnum.path, "/args/0/direction");

    client.send({ id: 6, call: "send_order", args: [{ ...ORDER_ARG, $class: "Event" }, "SIM"] });
    assert.equal(((await client.reply(6)).error as { code: string }).code, "INVALID_ARGUMENT");

    client.send({ id: 7, call: "no_such_call" });
    assert.equal(((await client.reply(7)).error as { code: string }).code, "UNKNOWN_CALL");

    client.send({ id: 8, call: "fail" });
    assert.deepEqual((await client.reply(8)).error, { code: "ERR_ON_PURPOSE", message: "it failed on purpose" });

    client.send({ id: 9, call: "add", args: [20, 22] });
    assert.equal((await client.reply(9)).result, 42);
  } finally {
    client.close();
    await server.stop();
  }
});

test("an oversized message closes that connection with 1009; the server keeps serving others", async () => {
  const server = await startEndpoint({ maxPayload: 4096 });
  const big = await RawClient.open(server.url);
  const other = await RawClient.open(server.url);
  try {
    big.send({ id: 1, call: "echo", args: ["x".repeat(10_000)] });
    await big.closed();
    assert.equal(big.closeCode, CloseCode.MESSAGE_TOO_BIG);
    other.send({ id: 2, call: "add", args: [1, 1] });
    assert.equal((await other.reply(2)).result, 2);
    const again = await RawClient.open(server.url);
    again.send({ id: 3, call: "add", args: [2, 2] });
    assert.equal((await again.reply(3)).result, 4);
    again.close();
  } finally {
    other.close();
    await server.stop();
  }
});

test("subscriptions filter at the server by event type and by symbol", async () => {
  const server = await startEndpoint();
  const ticksOnly = await RawClient.open(server.url);
  const oneSymbol = await RawClient.open(server.url);
  const everything = await RawClient.open(server.url);
  try {
    ticksOnly.send({ id: 1, subscribe: { types: ["eTick."] } });
    oneSymbol.send({ id: 1, subscribe: { types: ["*"], symbols: ["ag2502.SHFE"] } });
    everything.send({ id: 1, subscribe: { types: ["*"] } });
    await Promise.all([ticksOnly.reply(1), oneSymbol.reply(1), everything.reply(1)]);

    const rb = tick("rb2501", 3500);
    const ag = tick("ag2502", 7000);
    server.publish(new Event("eTick.", rb));
    server.publish(new Event("eTick.rb2501.SHFE", rb)); // the specific twin: never part of "*"
    server.publish(new Event("eTick.", ag));
    server.publish(logEvent("hello"));
    const last = server.publish(new Event("eTick.", rb));

    for (const client of [ticksOnly, oneSymbol, everything]) await client.next((m) => m.seq === last.seq || m.seq === 4);
    await everything.next((m) => m.seq === last.seq);
    await ticksOnly.next((m) => m.seq === last.seq);
    await oneSymbol.next((m) => m.seq === 4);

    assert.deepEqual(ticksOnly.events().map((m) => m.seq), [1, 3, 5]);
    assert.deepEqual(oneSymbol.events().map((m) => m.seq), [3, 4]);
    assert.deepEqual(everything.events().map((m) => m.seq), [1, 3, 4, 5]);
    const first = everything.events()[0]!;
    assert.equal(first.type, "eTick.");
    assert.equal(first.epoch, "test-epoch");
    assert.equal((first.data as { $class: string }).$class, "TickData");
    assert.equal((first.data as { datetime: string }).datetime, "2025-01-02T09:30:01.000250+08:00");
  } finally {
    for (const c of [ticksOnly, oneSymbol, everything]) c.close();
    await server.stop();
  }
});

test("a resume after a gap replays exactly the missed events that match; an old point or another epoch asks for a resnapshot", async () => {
  const server = await startEndpoint({ ringSize: 8 });
  try {
    const first = await RawClient.open(server.url);
    first.send({ id: 1, subscribe: { types: ["eLog"] } });
    await first.reply(1);
    server.publish(logEvent("one"));
    // A client resumes from the last event it saw: its epoch and seq.
    const start = (await first.next((m) => m.seq === 1)) as { epoch: string; seq: number };
    first.close();
    // Missed while disconnected: two logs and a tick the client did not ask for.
    server.publish(logEvent("two"));
    server.publish(new Event("eTick.", tick("rb2501", 1)));
    server.publish(logEvent("three"));

    const back = await RawClient.open(server.url);
    back.send({ id: 2, subscribe: { types: ["eLog"], resume: { epoch: start.epoch, seq: 1 } } });
    const resumed = (await back.reply(2)).result as { resumed: boolean; replayed: number; seq: number };
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.replayed, 2);
    await back.next((m) => m.seq === 4);
    assert.deepEqual(back.events().map((m) => [m.seq, (m.data as { msg: string }).msg]), [[2, "two"], [4, "three"]]);
    server.publish(logEvent("live"));
    await back.next((m) => m.seq === 5);

    for (let i = 0; i < 10; i++) server.publish(logEvent(`flood ${i}`));
    back.send({ id: 3, subscribe: { types: ["eLog"], resume: { epoch: start.epoch, seq: 1 } } });
    const tooOld = (await back.reply(3)).result as { resumed: boolean; reason: string };
    assert.equal(tooOld.resumed, false);
    assert.match(tooOld.reason, /too far behind/);

    back.send({ id: 4, subscribe: { types: ["eLog"], resume: { epoch: "another-run", seq: 3 } } });
    const otherEpoch = (await back.reply(4)).result as { resumed: boolean; reason: string };
    assert.equal(otherEpoch.resumed, false);
    assert.match(otherEpoch.reason, /epoch/);
    back.close();
  } finally {
    await server.stop();
  }
});

test("a stalled reader is dropped with 4008 while the other clients get every event", async () => {
  const server = await startEndpoint({ maxBufferedBytes: 256 * 1024 });
  const healthy = await RawClient.open(server.url);
  healthy.send({ id: 1, subscribe: { types: ["eLog"] } });
  await healthy.reply(1);

  // A raw TCP client that completes the handshake, subscribes, then never reads again.
  const port = server.endpoint.address!.port;
  const stalled = connect(port, "127.0.0.1");
  const key = Buffer.from("0123456789abcdef").toString("base64");
  stalled.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve) => stalled.once("data", () => resolve()));
  stalled.write(maskedTextFrame(JSON.stringify({ id: 1, subscribe: { types: ["eLog"] } })));
  await until(() => server.endpoint.clients().length === 2, 5_000, "both clients connected");
  stalled.pause();

  try {
    const payload = "x".repeat(32 * 1024);
    let sent = 0;
    // Bounded: at most 2 000 events of 32 KiB (64 MiB), far past any socket buffer plus the 256 KiB bound.
    while (server.endpoint.clients().length === 2 && sent < 2_000) {
      server.publish(logEvent(payload));
      sent++;
      // The healthy reader lives in this process: let it catch up after each burst, or on a loaded machine it is
      // (rightly) dropped as slow too. The stalled one never reads, so its backlog only grows.
      if (sent % 50 === 0) await until(() => healthy.events().length >= sent || server.endpoint.clients().length < 2, 20_000, "the healthy client to keep up");
    }
    assert.equal(server.endpoint.clients().length, 1, "the stalled client was dropped");
    const hello = healthy.messages[0]!.hello as { client_id: string };
    assert.equal(server.endpoint.clients()[0]!.clientId, hello.client_id, "the one left is the healthy client");
    server.publish(logEvent("after the drop"));
    const lastSeq = sent + 1;
    await healthy.next((m) => m.seq === lastSeq, 20_000);
    assert.equal(healthy.events().length, lastSeq, "the healthy client received every event, in order");
    assert.deepEqual(healthy.events().map((m) => m.seq), Array.from({ length: lastSeq }, (_, i) => i + 1));
  } finally {
    stalled.destroy();
    healthy.close();
    await server.stop();
  }
});

test("connected clients are listed with their endpoint, calls and backlog", async () => {
  const server = await startEndpoint({ name: "ws" });
  const client = await RawClient.open(server.url);
  try {
    client.send({ id: 1, call: "add", args: [1, 2] });
    await client.reply(1);
    const [listed] = server.endpoint.clients();
    assert.ok(listed);
    assert.match(listed.clientId, /^ws:\d+$/);
    assert.equal(listed.endpoint, "ws");
    assert.equal(listed.calls, 1);
    assert.match(listed.remoteAddress, /^127\.0\.0\.1:\d+$/);
    assert.equal(typeof listed.since, "number");
  } finally {
    client.close();
    await server.stop();
  }
});

test("a token is required when configured: missing or wrong gets 401, the right one connects", async () => {
  const token = "correct-horse-battery-staple-123";
  const server = await startEndpoint({ server: loopbackServer(0, token) });
  try {
    await assert.rejects(RawClient.open(server.url), /401/);
    await assert.rejects(RawClient.open(`${server.url}?token=wrong-token-wrong-token`), /401/);
    await assert.rejects(RawClient.open(server.url, { authorization: "Bearer nope" }), /401/);
    const byQuery = await RawClient.open(`${server.url}?token=${token}`);
    const byHeader = await RawClient.open(server.url, { authorization: `Bearer ${token}` });
    byHeader.send({ id: 1, call: "add", args: [1, 2] });
    assert.equal((await byHeader.reply(1)).result, 3);
    assert.equal(server.endpoint.clients()[0]!.identity, "console", "the shared token's identity");
    byQuery.close();
    byHeader.close();
  } finally {
    await server.stop();
  }
});

test("a browser page from another origin cannot open the WebSocket", async () => {
  const server = await startEndpoint();
  try {
    await assert.rejects(RawClient.open(server.url, { origin: "http://evil.example" }), /403/);
    const port = server.endpoint.address!.port;
    const sameOrigin = await RawClient.open(server.url, { origin: `http://127.0.0.1:${port}` });
    sameOrigin.close();
  } finally {
    await server.stop();
  }
});

test("stopping the endpoint closes its clients with 1001 and frees the port; it can start again", async () => {
  const endpoint = new WsEndpoint({ server: loopbackServer() });
  await endpoint.start(async () => 1);
  const port = endpoint.address!.port;
  const client = await RawClient.open(`ws://127.0.0.1:${port}/ws`);
  await endpoint.stop();
  await client.closed();
  assert.equal(client.closeCode, CloseCode.GOING_AWAY);
  await endpoint.start(async () => 2);
  try {
    const again = await RawClient.open(`ws://127.0.0.1:${endpoint.address!.port}/ws`);
    again.send({ id: 1, call: "x" });
    assert.equal((await again.reply(1)).result, 2);
    again.close();
  } finally {
    await endpoint.stop();
  }
});


test("datetimes are written as Python's isoformat with six µs digits, across zones, DST folds and naive values", () => {
  const cases: DateTime[] = [
    new DateTime({ year: 2025, month: 1, day: 2, hour: 9, minute: 30 }, CHINA_TZ),
    new DateTime({ year: 2025, month: 1, day: 2, hour: 9, minute: 30, second: 5, microsecond: 7 }, CHINA_TZ),
    new DateTime({ year: 2024, month: 11, day: 3, hour: 1, minute: 30, fold: 0 }, zoneInfo("America/New_York")),
    new DateTime({ year: 2024, month: 11, day: 3, hour: 1, minute: 30, fold: 1 }, zoneInfo("America/New_York")),
    new DateTime({ year: 2024, month: 3, day: 31, hour: 3, minute: 15 }, zoneInfo("Europe/Berlin")),
    new DateTime({ year: 2024, month: 6, day: 1, hour: 12 }, fixedOffset(-150)),
    new DateTime({ year: 2024, month: 6, day: 1, hour: 12 }, UTC),
    new DateTime({ year: 2024, month: 6, day: 1, hour: 12, microsecond: 123456 }),
  ];
  for (const dt of cases) {
    const python = dt.toISOString();
    const expected = dt.microsecond === 0 ? `${python.slice(0, 19)}.000000${python.slice(19)}` : python;
    assert.equal(isoMicros(dt), expected);
    assert.equal(isoMicros(dt), expected, "a cached offset gives the same text");
  }
  assert.equal(isoMicros(cases[2]!), "2024-11-03T01:30:00.000000-04:00");
  assert.equal(isoMicros(cases[3]!), "2024-11-03T01:30:00.000000-05:00");
});

test("the direct JSON writer gives exactly JSON.stringify(toWire(value))", () => {
  const values: unknown[] = [
    tick("rb2501", 3500.5),
    [1, "two", null, undefined, true, Number.NaN, { nested: [new Event("eLog", { msg: "x" })] }],
    new Event("eOrder.", new OrderData({ gateway_name: "SIM", symbol: "rb2501", exchange: Exchange.SHFE, orderid: "1" })),
    new Map([["a", 1]]),
    { "quote\"key": "va\\lue\n", skipped: undefined, date: new Date(0) },
    "plain",
    42,
  ];
  for (const value of values) assert.equal(encodeJson(value), JSON.stringify(toWire(value)));
});

test("a stalled reader of ticks gets the latest tick per symbol instead of a stale backlog, and is not dropped for ticks alone", async () => {
  const server = await startEndpoint({ maxBufferedBytes: 1 << 20 });
  const port = server.endpoint.address!.port;
  const stalled = connect(port, "127.0.0.1");
  stalled.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${Buffer.from("0123456789abcdef").toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const tick = (i: number) => new Event("eTick.", { vt_symbol: `s${i % 3}.SHFE`, last_price: i, blob: "x".repeat(32 * 1024) });
  try {
    await new Promise<void>((resolve) => stalled.once("data", () => resolve()));
    stalled.write(maskedTextFrame(JSON.stringify({ id: 1, subscribe: { types: ["eTick."] } })));
    await until(() => server.endpoint.clients().length === 1, 5_000, "connected");
    await new Promise((r) => setTimeout(r, 100)); // the subscription is in
    stalled.pause();
    const view = () => server.endpoint.clients()[0];
    // Bounded: at most 3,000 ticks of 32 KiB (96 MiB), far past the socket buffers and the 1 MiB bound.
    let sent = 0;
    while ((view()?.eventsConflated ?? 0) < 100 && sent < 3_000) {
      server.publish(tick(sent++));
      if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    const client = view();
    assert.ok(client, "still connected: ticks alone never fill its queue");
    assert.ok((client.eventsConflated ?? 0) >= 100, `conflated ${client.eventsConflated}`);
    assert.equal(client.eventsDropped, 0);
  } finally {
    stalled.destroy();
    await server.stop();
  }
});

/** Close codes found in a stream of unmasked server frames. */
function closeCodes(data: Buffer): number[] {
  const codes: number[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    let length = data[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (at + 4 > data.length) break;
      length = data.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (at + 10 > data.length) break;
      length = Number(data.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > data.length) break;
    if (opcode === 0x8 && length >= 2) codes.push(data.readUInt16BE(at + header));
    at += header + length;
  }
  return codes;
}

test("a paused reader dropped as a slow consumer reads close code 4008 once it reads again, not a bare reset", async () => {
  const server = await startEndpoint({ maxBufferedBytes: 256 * 1024 });
  const port = server.endpoint.address!.port;
  const paused = connect(port, "127.0.0.1");
  const received: Buffer[] = [];
  try {
    paused.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.from("0123456789abcdef").toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const handshake = await new Promise<Buffer>((resolve) => paused.once("data", resolve));
    const headerEnd = handshake.indexOf("\r\n\r\n");
    received.push(handshake.subarray(headerEnd + 4));
    paused.write(maskedTextFrame(JSON.stringify({ id: 1, subscribe: { types: ["eLog"] } })));
    // The subscription is in once its reply arrived.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no reply to the subscribe within 10 s")), 10_000);
      const onData = (chunk: Buffer) => {
        received.push(chunk);
        if (!Buffer.concat(received).includes('"id":1')) return;
        clearTimeout(timer);
        paused.off("data", onData);
        resolve();
      };
      paused.on("data", onData);
      onData(Buffer.alloc(0));
    });
    paused.pause();
    let sent = 0;
    while (server.endpoint.clients().length === 1 && sent < 2_000) {
      server.publish(new Event("eLog", new LogData({ msg: "x".repeat(32 * 1024), gateway_name: "test" })));
      sent++;
      if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(server.endpoint.clients().length, 0, "dropped as a slow consumer");
    // Paused for a while longer (a reader stuck for seconds): the close frame must still be there when it reads.
    await new Promise((r) => setTimeout(r, 2_500));
    paused.on("data", (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => paused.once("close", () => resolve()));
    paused.resume();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 15_000))]);
    assert.deepEqual(closeCodes(Buffer.concat(received)), [4008]);
  } finally {
    paused.destroy();
    await server.stop();
  }
});

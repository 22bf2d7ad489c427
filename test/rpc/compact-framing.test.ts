/**
 * Protocol 2's compact framing (one frame per call and reply) next to protocol 1's three frames: our server answers
 * each call in the framing it came in, and our client picks the framing from the server's hello, so either side
 * may be the older one.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { decodeRequest, encodeReply, encodeRequest } from "../../src/codec/index.js";
import { RpcClient, RpcServer, ZmqEndpoint, rateLimited, str, type CallGate } from "../../src/rpc/index.js";
import {
  COMPACT_CALL_HEADROOM,
  COMPACT_REPLY_HEADROOM,
  HELLO_FUNCTION,
  SIGNATURE,
  decodeCallHeader,
  decodeReplyHeader,
  encodeCallHeader,
  encodeReplyHeader,
  readCompactCall,
  readCompactReply,
  writeCompactCallHeader,
  writeCompactReplyHeader,
} from "../../src/rpc/protocol.js";
import { decodeResult } from "../../src/rpc/wire.js";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Our server with an `echo` function (its log lines into `logs`, its calls through `gate`), and a raw DEALER to it. */
async function startServer(options: { logs?: string[]; gate?: CallGate } = {}): Promise<{ server: RpcServer; rep: string; dealer: zmq.Dealer }> {
  const server = new RpcServer({ log: (_level, message) => options.logs?.push(message) });
  server.register("echo", [{ name: "text", type: str }], ([text]) => text);
  if (options.gate) server.setGate(options.gate);
  const endpoint = new ZmqEndpoint({ repAddress: "tcp://127.0.0.1:0", pubAddress: "tcp://127.0.0.1:0", heartbeatInterval: 200 });
  await server.start([endpoint]);
  cleanups.push(() => server.stop());
  const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5_000 });
  cleanups.push(() => dealer.close());
  dealer.connect(endpoint.addresses!.rep);
  return { server, rep: endpoint.addresses!.rep, dealer };
}

/** A compact call frame of `echo(text)`. */
function compactEcho(text: string, id: number, deadline = 0): Buffer {
  const frame = encodeRequest("echo", [text], {}, COMPACT_CALL_HEADROOM);
  writeCompactCallHeader(frame, { id, deadline });
  return frame;
}

test("our server answers a compact call with one frame and a classic call with three, the same pickle and stream position", async () => {
  const { server, dealer } = await startServer();
  await dealer.send([compactEcho("hi", 41, Date.now() + 5_000)]);
  const compactReply = await dealer.receive();
  assert.equal(compactReply.length, 1, "one frame back");
  const read = readCompactReply(compactReply[0]!);
  assert.deepEqual(read && { id: read.header.id, epoch: read.header.epoch }, { id: 41, epoch: server.epoch });

  await dealer.send([SIGNATURE, encodeCallHeader({ id: 42, deadline: Date.now() + 5_000 }), encodeRequest("echo", ["hi"], {})]);
  const classicReply = await dealer.receive();
  assert.equal(classicReply.length, 3, "three frames back");
  assert.ok(classicReply[0]!.equals(SIGNATURE));
  assert.equal(decodeReplyHeader(classicReply[1]!)?.id, 42);
  assert.deepEqual(classicReply[2], read!.body, "the same reply pickle");
  assert.deepEqual(decodeResult(read!.body), { ok: true, value: "hi" });
});

test("a compact frame cut short or of an unknown kind is dropped with a log line, and the server keeps serving", async () => {
  const logs: string[] = [];
  const { dealer } = await startServer({ logs });
  const frame = compactEcho("x", 1);
  await dealer.send([frame.subarray(0, 20)]);
  const wrongKind = Buffer.from(frame);
  wrongKind[12] = 9;
  await dealer.send([wrongKind]);
  await dealer.send([frame]);
  const [reply] = await dealer.receive();
  assert.equal(readCompactReply(reply!)?.header.id, 1, "the good call is answered; the two before it got nothing");
  assert.ok(logs.some((line) => /unknown framing dropped/.test(line)), logs.join("\n"));
});

test("refusals share one encoded reply: each still answers its own call, in every framing, the bytes a fresh encode gives", async () => {
  const gate: CallGate = {
    enter: () => {
      throw rateLimited("more than 0 calls per second (burst 0)");
    },
  };
  const { rep, dealer } = await startServer({ gate });
  const expected = encodeReply(false, "Traceback (most recent call last):\n  File \"rpcservice/server\", line 1, in echo\nRateLimitedError: rate limited: more than 0 calls per second (burst 0)\n");
  for (const id of [1, 2, 3]) await dealer.send([compactEcho("x", id)]);
  for (const id of [1, 2, 3]) {
    const read = readCompactReply((await dealer.receive())[0]!);
    assert.equal(read?.header.id, id, "each refusal carries its own call's id");
    assert.deepEqual(read!.body, expected);
  }
  await dealer.send([SIGNATURE, encodeCallHeader({ id: 4, deadline: 0 }), encodeRequest("echo", ["x"], {})]);
  const classic = await dealer.receive();
  assert.equal(decodeReplyHeader(classic[1]!)?.id, 4);
  assert.deepEqual(classic[2], expected);
  const veighna = new zmq.Request({ linger: 0, receiveTimeout: 5_000 });
  cleanups.push(() => veighna.close());
  veighna.connect(rep);
  for (let i = 0; i < 2; i++) {
    await veighna.send(encodeRequest("echo", ["x"], {}));
    assert.deepEqual((await veighna.receive())[0], expected, "VeighNa's REQ: the same bytes, call after call");
  }
});

/** Binds, retrying while the port is still held: zeromq.js releases a closed socket's port in the background. */
async function bindAgain(socket: zmq.Router | zmq.Publisher, address: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await socket.bind(address);
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * A server of our protocol announcing `protocol` in its hello (1: an older version of ours, which reads classic
 * frames only), built on zeromq.js, on new ports or `at` given ones: it records the framing of every call it receives.
 */
async function fakeServer(
  protocol: number,
  at: { rep: string; pub: string } = { rep: "tcp://127.0.0.1:0", pub: "tcp://127.0.0.1:0" },
): Promise<{ rep: string; pub: string; framings: Map<string, Set<string>>; stop(): void }> {
  const router = new zmq.Router({ linger: 0 });
  const publisher = new zmq.Publisher({ linger: 0 });
  await bindAgain(router, at.rep);
  await bindAgain(publisher, at.pub);
  const framings = new Map<string, Set<string>>();
  const seen = (name: string, framing: string) => framings.set(name, (framings.get(name) ?? new Set()).add(framing));
  const epoch = "00000000000000ee";
  const hello = () => ({ protocol, epoch, seq: 0, time: Date.now(), heartbeat_interval: 200 });
  const answer = (name: string, args: readonly unknown[]) => (name === HELLO_FUNCTION ? hello() : args[0]);
  void (async () => {
    for await (const [peer, ...frames] of router) {
      if (frames.length === 2 && frames[0]!.length === 0) {
        const { name, args } = decodeRequest(frames[1]!);
        seen(name, "req");
        await router.send([peer!, Buffer.alloc(0), encodeReply(true, answer(name, args))]);
      } else if (frames.length === 3 && frames[0]!.equals(SIGNATURE)) {
        const header = decodeCallHeader(frames[1]!)!;
        const { name, args } = decodeRequest(frames[2]!);
        seen(name, "classic");
        await router.send([peer!, SIGNATURE, encodeReplyHeader({ id: header.id, seq: 0, epoch }), encodeReply(true, answer(name, args))]);
      } else if (frames.length === 1 && readCompactCall(frames[0]!)) {
        const call = readCompactCall(frames[0]!)!;
        const { name, args } = decodeRequest(call.body);
        seen(name, "compact");
        if (protocol < 2) continue; // protocol 1 drops what it cannot read
        const reply = encodeReply(true, answer(name, args), COMPACT_REPLY_HEADROOM);
        writeCompactReplyHeader(reply, { id: call.header.id, seq: 0, epoch });
        await router.send([peer!, reply]);
      }
    }
  })().catch(() => {});
  const stop = () => {
    router.close();
    publisher.close();
  };
  cleanups.push(stop);
  return { rep: router.lastEndpoint!, pub: publisher.lastEndpoint!, framings, stop };
}

for (const protocol of [1, 2]) {
  test(`our client calls a protocol-${protocol} server in the ${protocol === 1 ? "classic" : "compact"} framing, and pings it in the classic one`, async () => {
    const fake = await fakeServer(protocol);
    const client = new RpcClient({ reqAddress: fake.rep, subAddress: fake.pub, timeout: 3_000 });
    cleanups.push(() => client.close());
    client.start();
    await client.waitConnected(5_000);
    for (let i = 0; i < 3; i++) assert.equal(await client.call("echo", [`call ${i}`]), `call ${i}`);
    // A heartbeat interval of 200 ms: the client pings (a hello in our framing) within about that.
    const deadline = Date.now() + 5_000;
    while (!fake.framings.get(HELLO_FUNCTION)?.has("classic") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual([...(fake.framings.get(HELLO_FUNCTION) ?? [])].sort(), ["classic", "req"], "the hello REQ-style, pings classic");
    assert.deepEqual([...fake.framings.get("echo")!], [protocol === 1 ? "classic" : "compact"]);
  });
}

test("a client whose server comes back older (protocol 1) finds the classic framing again: its pings are classic, which every version reads", async () => {
  const first = await fakeServer(2);
  const client = new RpcClient({ reqAddress: first.rep, subAddress: first.pub, timeout: 1_000 });
  cleanups.push(() => client.close());
  client.start();
  await client.waitConnected(5_000);
  assert.equal(await client.call("echo", ["new"]), "new");
  assert.deepEqual([...first.framings.get("echo")!], ["compact"]);
  // The same addresses, now served by an older version: libzmq-style reconnects are silent, only the ping tells.
  first.stop();
  const older = await fakeServer(1, first);
  const deadline = Date.now() + 10_000;
  let answered = false;
  while (!answered && Date.now() < deadline) {
    answered = await client.call("echo", ["old"]).then(
      (value) => value === "old",
      () => false,
    );
    // A disconnected client refuses at once: leave the event loop its turn.
    if (!answered) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seen = [...older.framings].map(([name, kinds]) => `${name}: ${[...kinds].join(", ")}`).join("; ");
  assert.ok(answered, `the older server answers once a ping has switched the framing (${seen})`);
  assert.ok(older.framings.get("echo")?.has("classic"), seen);
  assert.ok(older.framings.get(HELLO_FUNCTION)?.has("classic"), `its pings reached the older server in a framing it reads (${seen})`);
  assert.ok(!older.framings.get(HELLO_FUNCTION)?.has("compact"), `no ping went compact (${seen})`);
});

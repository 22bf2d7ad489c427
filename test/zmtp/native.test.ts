// Our sockets against each other and against hand-driven (raw) peers: endpoints, fairness, flow control,
// hostile peers, ZMTP 3.0 compatibility, heartbeat TTL, REQ failure modes, CURVE.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  FLAG_COMMAND,
  FLAG_MORE,
  ZmtpDealer,
  ZmtpError,
  ZmtpPublisher,
  ZmtpRequest,
  ZmtpRouter,
  ZmtpSubscriber,
  buildGreeting,
  curveKeyPair,
  type PeerInfo,
  type RejectedConnection,
} from "../../src/zmtp/index.js";
import { delay, eventually, ipcEndpoint, nextEvent, strings, withTimeout } from "./helpers.js";
import { RawPeer } from "./raw-peer.js";

function echo(router: ZmtpRouter): ZmtpRouter {
  router.on("message", (peer, frames) => router.send(peer.id, frames));
  return router;
}

describe("endpoints", () => {
  test("bind to port 0 / * reports the real port; host names, ipc and unbind work", async () => {
    const router = echo(new ZmtpRouter());
    const req = new ZmtpRequest();
    try {
      const tcp = await router.bind("tcp://127.0.0.1:0");
      assert.match(tcp, /^tcp:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(tcp, "tcp://127.0.0.1:0");
      const wildcardPort = await router.bind("tcp://127.0.0.1:*");
      assert.doesNotMatch(wildcardPort, /:\*$/);
      const ipc = await router.bind(ipcEndpoint("bind"));
      assert.deepEqual(router.endpoints.sort(), [tcp, wildcardPort, ipc].sort());
      req.connect(`tcp://localhost:${tcp.split(":").pop()}`);
      req.connect(ipc);
      for (let i = 0; i < 4; i++) {
        assert.deepEqual(strings(await withTimeout(req.request([Buffer.from(`r${i}`)]), 3000, "request")), [`r${i}`]);
      }
      await router.unbind(wildcardPort);
      assert.equal(router.endpoints.length, 2);
      await assert.rejects(router.bind(tcp), (e: unknown) => e instanceof ZmtpError && e.code === "EENDPOINT");
    } finally {
      await req.close();
      await router.close();
    }
  });

  test("IPv6 loopback", async (t) => {
    const router = echo(new ZmtpRouter());
    const req = new ZmtpRequest();
    try {
      let endpoint: string;
      try {
        endpoint = await router.bind("tcp://[::1]:0");
      } catch {
        t.skip("no IPv6 loopback on this machine");
        return;
      }
      assert.match(endpoint, /^tcp:\/\/\[::1\]:\d+$/);
      req.connect(endpoint);
      assert.deepEqual(strings(await withTimeout(req.request([Buffer.from("v6")]), 3000, "v6 request")), ["v6"]);
    } finally {
      await req.close();
      await router.close();
    }
  });
});

test("several dealers on one router: every message arrives, replies go to the right peer, large messages too", async () => {
  const router = echo(new ZmtpRouter());
  const endpoint = await router.bind("tcp://127.0.0.1:0");
  const dealers = [new ZmtpDealer(), new ZmtpDealer(), new ZmtpDealer()];
  try {
    const received = dealers.map(() => [] as string[]);
    dealers.forEach((dealer, d) => {
      dealer.on("message", (frames) => received[d]!.push(frames[0]!.toString()));
      dealer.connect(endpoint);
      for (let i = 0; i < 200; i++) dealer.send([Buffer.from(`${d}:${i}`), Buffer.alloc(i)]);
    });
    await eventually(() => received.every((r) => r.length === 200), 5000, "all replies");
    received.forEach((r, d) => void assert.deepEqual(r, Array.from({ length: 200 }, (_, i) => `${d}:${i}`)));

    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
    const reply = nextEvent<[Buffer[]]>(dealers[0]!, "message");
    dealers[0]!.send([Buffer.from("big"), big]);
    const [frames] = await reply;
    assert.equal(frames[1]!.length, big.length);
    assert.ok(frames[1]!.equals(big));
  } finally {
    await Promise.all(dealers.map((d) => d.close()));
    await router.close();
  }
});

describe("flow control", () => {
  /** A subscriber that subscribes to everything and then stops reading, so the kernel buffers fill up. */
  async function stalledSubscriber(endpoint: string): Promise<RawPeer> {
    const raw = await RawPeer.connect(endpoint);
    raw.handshake("SUB");
    raw.sendCommand("SUBSCRIBE", Buffer.alloc(0));
    await raw.until(() => raw.frames.length >= 1, "READY from publisher");
    return raw;
  }

  test("drop: a stalled subscriber loses messages (counted), a healthy one loses none and nobody waits", async () => {
    const pub = new ZmtpPublisher({ flow: "drop", highWaterMark: { messages: 1000, bytes: 256 * 1024 } });
    const endpoint = await pub.bind("tcp://127.0.0.1:0");
    const fast = new ZmtpSubscriber();
    let fastReceived = 0;
    fast.on("message", () => fastReceived++);
    fast.connect(endpoint);
    fast.subscribe("");
    const slow = await stalledSubscriber(endpoint);
    try {
      await eventually(() => pub.subscribers().filter((s) => s.topics.length === 1).length === 2, 3000, "two subscriptions");
      slow.socket.pause();
      const total = 20_000;
      const payload = Buffer.alloc(1000, 1);
      for (let sent = 0; sent < total; ) {
        for (let i = 0; i < 100; i++, sent++) assert.equal(pub.publish([payload]), true, "drop mode never asks to wait");
        await new Promise((resolve) => setImmediate(resolve));
      }
      await eventually(() => fastReceived === total, 10_000, "healthy subscriber got everything");
      const [healthy, stalled] = pub.subscribers().sort((a, b) => a.stats.dropped - b.stats.dropped);
      assert.equal(healthy!.stats.dropped, 0);
      assert.ok(stalled!.stats.dropped > 0, "stalled subscriber had drops");
      assert.equal(stalled!.stats.messagesOut + stalled!.stats.dropped, total, "every message either sent or counted as dropped");
    } finally {
      slow.destroy();
      await fast.close();
      await pub.close();
    }
  });

  test("block: publish reports backpressure, drained() waits for the slow reader, nothing is dropped", async () => {
    const pub = new ZmtpPublisher({ flow: "block" });
    const endpoint = await pub.bind("tcp://127.0.0.1:0");
    const slow = await stalledSubscriber(endpoint);
    try {
      await eventually(() => pub.subscribers()[0]?.topics.length === 1, 3000, "subscription");
      slow.socket.pause();
      const payload = Buffer.alloc(4096, 2);
      let published = 0;
      while (pub.publish([payload])) {
        published++;
        if (published > 100_000) assert.fail("publisher never reported backpressure");
        if (published % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      published++;
      let drained = false;
      const waiting = pub.drained().then(() => (drained = true));
      await delay(20);
      assert.equal(drained, false, "still backed up while the reader is stalled");
      slow.socket.resume();
      await withTimeout(waiting, 10_000, "drained after the reader resumed");
      const expectedBytes = published * (2 + 7 + 4096); // + READY etc. are counted separately by the raw peer
      await slow.until(() => slow.frames.filter((f) => f.body.length === 4096).length === published, `all ${published} (${expectedBytes} B) delivered`, 10_000);
      assert.equal(pub.subscribers()[0]!.stats.dropped, 0);
    } finally {
      slow.destroy();
      await pub.close();
    }
  });
});

test("router in block flow: one stalled client backs up only itself; drained(peerId) follows that client", async () => {
  const router = new ZmtpRouter({ flow: "block" });
  const endpoint = await router.bind("tcp://127.0.0.1:0");
  const stalled = await RawPeer.connect(endpoint);
  const healthy = new ZmtpDealer();
  try {
    stalled.handshake("DEALER");
    healthy.connect(endpoint);
    await eventually(() => router.peers().length === 2, 3000, "two peers");
    const stalledId = router.peers().find((p) => p.remoteAddress.endsWith(`:${stalled.socket.localPort}`))!.id;
    const healthyId = router.peers().find((p) => p.id !== stalledId)!.id;
    stalled.socket.pause();
    const payload = Buffer.alloc(8192, 3);
    let sent = 0;
    while (router.send(stalledId, [payload])) {
      sent++;
      if (sent > 100_000) assert.fail("router never reported backpressure");
      if (sent % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    sent++;
    let stalledDrained = false;
    const waiting = router.drained(stalledId).then(() => (stalledDrained = true));
    await withTimeout(router.drained(healthyId), 1000, "healthy peer is not backed up");
    const reply = nextEvent<[Buffer[]]>(healthy, "message");
    assert.equal(router.send(healthyId, [Buffer.from("unaffected")]), true);
    assert.deepEqual(strings((await reply)[0]), ["unaffected"]);
    assert.equal(stalledDrained, false);
    stalled.socket.resume();
    await withTimeout(waiting, 10_000, "stalled peer drained after resuming");
    await stalled.until(() => stalled.frames.filter((f) => f.body.length === 8192).length === sent, "every queued message delivered", 10_000);
  } finally {
    stalled.destroy();
    await healthy.close();
    await router.close();
  }
});

describe("hostile peers: each loses only its own connection, with a reason", () => {
  test("malformed greeting, slowloris, wrong mechanism, wrong socket type, oversize frame, unknown command, PING TTL expiry", async () => {
    const router = echo(new ZmtpRouter({ handshakeTimeoutMs: 150, maxMessageSize: 1000 }));
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const rejected: string[] = [];
    const disconnected: string[] = [];
    router.on("rejected", (_c: RejectedConnection, reason) => rejected.push(reason.code));
    router.on("disconnect", (_p: PeerInfo, reason) => disconnected.push(reason.code));
    const good = new ZmtpRequest();
    good.connect(endpoint);
    const attackers: RawPeer[] = [];
    const attack = async (): Promise<RawPeer> => {
      const raw = await RawPeer.connect(endpoint);
      attackers.push(raw);
      return raw;
    };
    try {
      (await attack()).socket.write("GET / HTTP/1.1\r\n\r\n");
      await eventually(() => rejected.includes("EPROTO"), 3000, "malformed greeting rejected");

      (await attack()).socket.write(buildGreeting("NULL", false).subarray(0, 5));
      await eventually(() => rejected.includes("EHANDSHAKE_TIMEOUT"), 3000, "slowloris rejected");

      (await attack()).socket.write(buildGreeting("CURVE", false));
      await eventually(() => rejected.includes("EMECHANISM"), 3000, "mechanism mismatch rejected");

      (await attack()).handshake("PUB");
      await eventually(() => rejected.includes("ESOCKETTYPE"), 3000, "incompatible socket type rejected");

      const oversize = await attack();
      oversize.handshake("DEALER");
      oversize.sendFrame(0, Buffer.alloc(5000));
      await eventually(() => disconnected.includes("EMSGSIZE"), 3000, "oversize frame");

      const multiFrameOversize = await attack();
      multiFrameOversize.handshake("DEALER");
      for (let i = 0; i < 3; i++) multiFrameOversize.sendFrame(FLAG_MORE, Buffer.alloc(400));
      multiFrameOversize.sendFrame(0, Buffer.alloc(1));
      await eventually(() => disconnected.filter((c) => c === "EMSGSIZE").length === 2, 3000, "oversize message");

      const endless = await attack();
      endless.handshake("DEALER");
      endless.socket.write(Buffer.alloc(2 * 70_000, Buffer.from([FLAG_MORE, 0]))); // empty MORE frames, never a last one
      await eventually(() => disconnected.filter((c) => c === "EMSGSIZE").length === 3, 3000, "too many frames");

      const unknown = await attack();
      unknown.handshake("DEALER");
      unknown.sendCommand("BOGUS", Buffer.from("x"));
      await eventually(() => disconnected.includes("EPROTO"), 3000, "unknown command");

      const ttl = await attack();
      ttl.handshake("DEALER");
      ttl.sendCommand("PING", Buffer.from([0, 1])); // TTL 100 ms, then silence
      await ttl.until(() => ttl.frames.some((f) => f.flags & FLAG_COMMAND && f.body.toString("latin1", 1, 5) === "PONG"), "PONG");
      await eventually(() => disconnected.includes("EHEARTBEAT"), 3000, "TTL expiry");

      for (const raw of attackers) await raw.until(() => raw.closed, "attacker connection closed");
      assert.deepEqual(strings(await withTimeout(good.request([Buffer.from("fine")]), 3000, "good client")), ["fine"]);
      assert.equal(router.peers().length, 1);
    } finally {
      for (const raw of attackers) raw.destroy();
      await good.close();
      await router.close();
    }
  });
});

describe("ZMTP 3.0 peers", () => {
  test("a 3.0 SUB subscribes with a message and is served; our SUB uses the message form towards a 3.0 PUB", async () => {
    const pub = new ZmtpPublisher();
    const endpoint = await pub.bind(ipcEndpoint("v30"));
    const oldSub = await RawPeer.connect(endpoint);
    const server = net.createServer();
    const sub = new ZmtpSubscriber();
    try {
      oldSub.handshake("SUB", 0);
      oldSub.sendFrame(0, Buffer.from("\x01we", "latin1"));
      const [peer, topic] = await nextEvent<[PeerInfo, Buffer]>(pub, "subscribe");
      assert.equal(peer.zmtpVersion, "3.0");
      assert.equal(topic.toString(), "we");
      pub.publish([Buffer.from("nope")]);
      pub.publish([Buffer.from("wet"), Buffer.from("x")]);
      await oldSub.until(() => oldSub.frames.some((f) => f.body.toString() === "x"), "3.0 subscriber served");
      assert.ok(!oldSub.frames.some((f) => f.body.toString() === "nope"));

      const incoming = new Promise<RawPeer>((resolve) => server.once("connection", (socket) => resolve(RawPeer.adopt(socket))));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      sub.subscribe("abc");
      sub.connect(`tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      const oldPub = await withTimeout(incoming, 3000, "our SUB connects");
      oldPub.handshake("PUB", 0);
      await oldPub.until(() => oldPub.frames.some((f) => !(f.flags & FLAG_COMMAND)), "subscription message");
      const subscription = oldPub.frames.find((f) => !(f.flags & FLAG_COMMAND))!;
      assert.deepEqual([...subscription.body], [1, ...Buffer.from("abc")]);
      const message = nextEvent<[Buffer[]]>(sub, "message");
      oldPub.sendFrame(0, Buffer.from("zzz"));
      oldPub.sendFrame(0, Buffer.from("abcd"));
      assert.deepEqual(strings((await message)[0]), ["abcd"]);
      oldPub.destroy();
    } finally {
      oldSub.destroy();
      await sub.close();
      await pub.close();
      server.close();
    }
  });
});

describe("REQ failure modes", () => {
  test("a request made before the server exists waits for it; a vanished server rejects with ECONNRESET; timeouts", async () => {
    const endpoint = ipcEndpoint("req");
    const req = new ZmtpRequest({ reconnectIntervalMs: 10, reconnectMaxIntervalMs: 50 });
    req.connect(endpoint);
    const early = req.request([Buffer.from("early")]);
    const router = echo(new ZmtpRouter());
    const silent = new ZmtpRouter();
    try {
      await router.bind(endpoint);
      assert.deepEqual(strings(await withTimeout(early, 3000, "early request")), ["early"]);
      const otherEndpoint = await silent.bind("tcp://127.0.0.1:0");
      const req2 = new ZmtpRequest();
      req2.connect(otherEndpoint);
      await assert.rejects(req2.request([Buffer.from("?")], { timeoutMs: 50 }), (e: unknown) => e instanceof ZmtpError && e.code === "ETIMEDOUT");
      const received = nextEvent(silent, "message");
      const lost = assert.rejects(req2.request([Buffer.from("lost")]), (e: unknown) => e instanceof ZmtpError && e.code === "ECONNRESET");
      await received;
      await silent.close();
      await lost;
      await req2.close();
    } finally {
      await req.close();
      await router.close();
      await silent.close();
    }
  });
});

test("dialing an endpoint nobody listens on keeps retrying (state events), then connects when a server appears", async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve())); // now (almost certainly) nobody listens there
  const dealer = new ZmtpDealer({ reconnectIntervalMs: 5, reconnectMaxIntervalMs: 40 });
  const states: string[] = [];
  dealer.on("state", (_endpoint, state) => states.push(state));
  let rejected = 0;
  dealer.on("rejected", () => rejected++);
  const router = echo(new ZmtpRouter());
  try {
    dealer.connect(`tcp://127.0.0.1:${port}`);
    await eventually(() => states.filter((s) => s === "disconnected").length >= 3, 5000, "three failed attempts");
    assert.deepEqual(states.slice(0, 4), ["connecting", "disconnected", "connecting", "disconnected"]);
    assert.equal(rejected, 0, "refused dials are routine, not rejections");
    await router.bind(`tcp://127.0.0.1:${port}`);
    const reply = nextEvent<[Buffer[]]>(dealer, "message");
    dealer.send([Buffer.from("finally")]);
    assert.deepEqual(strings((await reply)[0]), ["finally"]);
    assert.equal(states[states.length - 1], "connected");
  } finally {
    await dealer.close();
    await router.close();
  }
});

describe("CURVE between our own sockets", () => {
  test("large multi-frame messages, heartbeats inside the box, authorization hook sees every client key", async () => {
    const server = curveKeyPair();
    const client = curveKeyPair();
    const seen: string[] = [];
    const router = echo(new ZmtpRouter({ curve: { ...server, authorize: (key) => (seen.push(key), true) } }));
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const dealer = new ZmtpDealer({ curve: { ...client, serverKey: server.publicKey }, heartbeatIntervalMs: 20, heartbeatTimeoutMs: 500 });
    try {
      dealer.connect(endpoint);
      const big = Buffer.alloc(1024 * 1024 + 3, 9);
      const reply = nextEvent<[Buffer[]]>(dealer, "message");
      dealer.send([Buffer.from("a"), big, Buffer.alloc(0)]);
      const [frames] = await reply;
      assert.equal(frames.length, 3);
      assert.ok(frames[1]!.equals(big));
      assert.deepEqual(seen, [client.publicKey]);
      const peer = router.peers()[0]!;
      assert.equal(peer.curvePublicKey, client.publicKey);
      await eventually(() => peer.stats.bytesIn > big.length + 2000, 3000, "encrypted PINGs arrive");
      assert.equal(router.peers().length, 1, "heartbeats kept the link");
    } finally {
      await dealer.close();
      await router.close();
    }
  });

  test("a client with the wrong server key never gets through", async () => {
    const server = curveKeyPair();
    const router = echo(new ZmtpRouter({ curve: server }));
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const dealer = new ZmtpDealer({ curve: { ...curveKeyPair(), serverKey: curveKeyPair().publicKey }, reconnectIntervalMs: 10_000 });
    try {
      const rejected = nextEvent<[RejectedConnection, ZmtpError]>(router, "rejected");
      dealer.connect(endpoint);
      assert.equal((await rejected)[1].code, "EMECHANISM");
      assert.equal(router.peers().length, 0);
    } finally {
      await dealer.close();
      await router.close();
    }
  });
});

// Conformance against real libzmq (zeromq.js, libzmq 4.3.5) in both directions, every role, tcp and ipc.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import * as zmq from "zeromq";
import {
  FLAG_COMMAND,
  FrameDecoder,
  ZmtpDealer,
  ZmtpError,
  ZmtpPublisher,
  ZmtpRequest,
  ZmtpRouter,
  ZmtpSubscriber,
  buildGreeting,
  curveKeyPair,
  encodeCommandBody,
  encodeFrame,
  type PeerInfo,
} from "../../src/zmtp/index.js";
import { delay, eventually, ipcEndpoint, nextEvent, strings, withTimeout } from "./helpers.js";

// Linger 0 by default: a failed test must not keep the process alive waiting to deliver queued messages.
zmq.context.blocky = false;

const TRANSPORTS = ["tcp", "ipc"] as const;
type Transport = (typeof TRANSPORTS)[number];

function ourBindEndpoint(transport: Transport): string {
  return transport === "tcp" ? "tcp://127.0.0.1:0" : ipcEndpoint("ours");
}

async function zmqBind(socket: zmq.Socket, transport: Transport): Promise<string> {
  await socket.bind(transport === "tcp" ? "tcp://127.0.0.1:*" : ipcEndpoint("zmq"));
  return socket.lastEndpoint!;
}

function receive(socket: zmq.Readable, what: string, ms = 3000): Promise<Buffer[]> {
  return withTimeout(socket.receive(), ms, what);
}

for (const transport of TRANSPORTS) {
  describe(`libzmq interop over ${transport}`, () => {
    test("zeromq.js REQ and DEALER -> ZmtpRouter: envelopes, multi-frame, out-of-order replies", async () => {
      const router = new ZmtpRouter();
      const endpoint = await router.bind(ourBindEndpoint(transport));
      const requests: Array<[PeerInfo, Buffer[]]> = [];
      router.on("message", (peer, frames) => requests.push([peer, frames]));
      const req = new zmq.Request();
      const dealer = new zmq.Dealer({ routingId: "dealer-1" });
      try {
        req.connect(endpoint);
        dealer.connect(endpoint);
        await req.send(["q", "two", ""]);
        await dealer.send(["d1", "x"]);
        await dealer.send(["d2"]);
        await eventually(() => requests.length === 3, 3000, "three requests");
        const fromReq = requests.find(([peer]) => peer.socketType === "REQ")!;
        assert.deepEqual(strings(fromReq[1]), ["q", "two", ""], "REQ delimiter stripped, empty last frame kept");
        const fromDealer = requests.filter(([peer]) => peer.socketType === "DEALER");
        assert.equal(fromDealer[0]![0].identity.toString(), "dealer-1");
        assert.equal(fromDealer[0]![0].zmtpVersion, "3.1");
        // Reply out of order: second dealer request first, then the REQ, then the first dealer request.
        assert.ok(router.send(fromDealer[1]![0].id, [Buffer.from("r2")]));
        assert.ok(router.send(fromReq[0].id, [Buffer.from("rq"), Buffer.from("more")]));
        assert.ok(router.send(fromDealer[0]![0].id, [Buffer.from("r1")]));
        assert.deepEqual(strings(await receive(req, "REQ reply")), ["rq", "more"]);
        assert.deepEqual(strings(await receive(dealer, "dealer reply 1")), ["r2"]);
        assert.deepEqual(strings(await receive(dealer, "dealer reply 2")), ["r1"]);
        assert.equal(router.peers().length, 2);
      } finally {
        req.close();
        dealer.close();
        await router.close();
      }
    });

    test("ZmtpRequest -> zeromq.js REP and ROUTER", async () => {
      const rep = new zmq.Reply();
      const zrouter = new zmq.Router();
      const ours = new ZmtpRequest();
      const ours2 = new ZmtpRequest({ identity: "req-id" });
      try {
        ours.connect(await zmqBind(rep, transport));
        ours2.connect(await zmqBind(zrouter, transport));
        const replied = ours.request([Buffer.from("a"), Buffer.from("b")]);
        const received = await receive(rep, "REP request");
        assert.deepEqual(strings(received), ["a", "b"]);
        await rep.send(["A", "B"]);
        assert.deepEqual(strings(await withTimeout(replied, 3000, "reply")), ["A", "B"]);

        const inFlight = ours2.request([Buffer.from("1")]);
        await assert.rejects(ours2.request([Buffer.from("2")]), (e: unknown) => e instanceof ZmtpError && e.code === "EBUSY");
        const [id, delimiter, body] = await receive(zrouter, "ROUTER request");
        assert.equal(id!.toString(), "req-id");
        assert.equal(delimiter!.length, 0, "REQ sends the empty delimiter");
        assert.equal(body!.toString(), "1");
        await zrouter.send([id!, Buffer.alloc(0), "reply to 1"]);
        assert.deepEqual(strings(await withTimeout(inFlight, 3000, "reply")), ["reply to 1"]);
      } finally {
        rep.close();
        zrouter.close();
        await ours.close();
        await ours2.close();
      }
    });

    test("ZmtpDealer -> zeromq.js ROUTER and REP", async () => {
      const zrouter = new zmq.Router();
      const rep = new zmq.Reply();
      const dealer = new ZmtpDealer({ identity: "our-dealer" });
      const toRep = new ZmtpDealer();
      try {
        dealer.connect(await zmqBind(zrouter, transport));
        toRep.connect(await zmqBind(rep, transport));
        dealer.send([Buffer.from("m1"), Buffer.from("m2")]); // queued until connected
        const [id, ...frames] = await receive(zrouter, "ROUTER got dealer message");
        assert.equal(id!.toString(), "our-dealer");
        assert.deepEqual(strings(frames), ["m1", "m2"]);
        const reply = nextEvent<[Buffer[]]>(dealer, "message");
        await zrouter.send([id!, "x", "y"]);
        assert.deepEqual(strings((await reply)[0]), ["x", "y"]);
        toRep.send([Buffer.alloc(0), Buffer.from("to-rep")]);
        assert.deepEqual(strings(await receive(rep, "REP got dealer request")), ["to-rep"]);
        const repReply = nextEvent<[Buffer[]]>(toRep, "message");
        await rep.send("from-rep");
        assert.deepEqual(strings((await repReply)[0]), ["", "from-rep"]);
      } finally {
        zrouter.close();
        rep.close();
        await dealer.close();
        await toRep.close();
      }
    });

    test("ZmtpPublisher -> zeromq.js SUB: prefix filtering at the publisher, multi-frame, cancel", async () => {
      const pub = new ZmtpPublisher();
      const endpoint = await pub.bind(ourBindEndpoint(transport));
      const subA = new zmq.Subscriber();
      const subAll = new zmq.Subscriber();
      try {
        subA.connect(endpoint);
        subAll.connect(endpoint);
        const subscribed = new Set<string>();
        pub.on("subscribe", (peer, topic) => subscribed.add(`${peer.id}:${topic.toString()}`));
        subA.subscribe("a");
        subAll.subscribe();
        await eventually(() => subscribed.size === 2, 3000, "both subscriptions reached the publisher");
        pub.publish([Buffer.from("b-1")]);
        pub.publish([Buffer.from("a-1"), Buffer.from("second frame")]);
        assert.deepEqual(strings(await receive(subA, "subA")), ["a-1", "second frame"], "b-1 filtered out");
        assert.deepEqual(strings(await receive(subAll, "subAll 1")), ["b-1"]);
        assert.deepEqual(strings(await receive(subAll, "subAll 2")), ["a-1", "second frame"]);
        const filtered = pub.subscribers().find((s) => s.topics.some((t) => t.toString() === "a"))!;
        assert.equal(filtered.stats.messagesOut, 1, "publisher sent b-1 only to the catch-all subscriber");

        const cancelled = nextEvent<[PeerInfo, Buffer]>(pub, "unsubscribe");
        subA.unsubscribe("a");
        subA.subscribe("z");
        assert.equal((await cancelled)[1].toString(), "a");
        await eventually(() => pub.subscribers().some((s) => s.topics.some((t) => t.toString() === "z")), 3000, "z subscription");
        pub.publish([Buffer.from("a-2")]);
        pub.publish([Buffer.from("z-1")]);
        assert.deepEqual(strings(await receive(subA, "subA after cancel")), ["z-1"], "a-2 was not sent after CANCEL");
      } finally {
        subA.close();
        subAll.close();
        await pub.close();
      }
    });

    test("zeromq.js PUB -> ZmtpSubscriber, and ZmtpSubscriber's (un)subscriptions as seen by zeromq.js XPUB", async () => {
      const zpub = new zmq.Publisher();
      const xpub = new zmq.XPublisher();
      const sub = new ZmtpSubscriber();
      const watcher = new ZmtpSubscriber();
      try {
        sub.connect(await zmqBind(zpub, transport));
        sub.subscribe("t");
        const messages: string[][] = [];
        sub.on("message", (frames) => messages.push(strings(frames)));
        for (let i = 0; i < 200 && messages.length === 0; i++) {
          await zpub.send(["other"]);
          await zpub.send(["t1", "payload"]);
          await delay(10);
        }
        assert.deepEqual(messages[0], ["t1", "payload"]);
        assert.ok(messages.every((m) => m[0] === "t1"), "non-matching topics never delivered");

        watcher.connect(await zmqBind(xpub, transport));
        watcher.subscribe("news");
        assert.deepEqual([...(await receive(xpub, "XPUB subscribe"))[0]!], [1, ...Buffer.from("news")]);
        watcher.unsubscribe("news");
        assert.deepEqual([...(await receive(xpub, "XPUB cancel"))[0]!], [0, ...Buffer.from("news")]);
      } finally {
        zpub.close();
        xpub.close();
        await sub.close();
        await watcher.close();
      }
    });
  });
}

test("what libzmq 4.3.5 SUB puts on the wire for a 3.1 peer (we accept both forms)", async (t) => {
  // A hand-rolled PUB: greeting + READY, then record the first thing the SUB sends.
  const seen = new Promise<{ command: boolean; body: Buffer }>((resolve) => {
    const server = net.createServer((socket) => {
      socket.write(buildGreeting("NULL", false));
      const decoder = new FrameDecoder(
        {
          onGreeting: () => {
            const ready = encodeCommandBody("READY", Buffer.from("\x0bSocket-Type\x00\x00\x00\x03PUB", "latin1"));
            socket.write(encodeFrame(FLAG_COMMAND, ready));
          },
          onFrame: (flags, body) => {
            if (flags & FLAG_COMMAND && body.toString("latin1", 1, 6) === "READY") return;
            resolve({ command: (flags & FLAG_COMMAND) !== 0, body: Buffer.from(body) });
            socket.destroy();
            server.close();
          },
        },
        1024,
      );
      socket.on("data", (chunk: Buffer) => decoder.push(chunk));
      socket.on("error", () => {});
    });
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      const sub = new zmq.Subscriber();
      sub.connect(`tcp://127.0.0.1:${address.port}`);
      sub.subscribe("abc");
      server.on("close", () => sub.close());
    });
  });
  const { command, body } = await withTimeout(seen, 3000, "SUB's subscription");
  if (command) {
    assert.equal(body.toString("latin1"), "\x09SUBSCRIBEabc");
    t.diagnostic("libzmq SUB sent a SUBSCRIBE command");
  } else {
    assert.deepEqual([...body], [1, ...Buffer.from("abc")]);
    t.diagnostic("libzmq SUB sent a 0x01-prefixed subscription message");
  }
});

test("reconnect: ZmtpRequest follows a zeromq.js REP that restarts; zeromq.js REQ follows a ZmtpRouter that restarts", async () => {
  const first = new zmq.Reply();
  await first.bind("tcp://127.0.0.1:*");
  const endpoint = first.lastEndpoint!;
  const req = new ZmtpRequest({ reconnectIntervalMs: 20, reconnectMaxIntervalMs: 100 });
  const states: string[] = [];
  req.on("state", (_endpoint, state) => states.push(state));
  req.connect(endpoint);
  let second: zmq.Reply | null = null;
  try {
    const reply1 = req.request([Buffer.from("one")]);
    await receive(first, "first REP");
    await first.send("1");
    assert.deepEqual(strings(await reply1), ["1"]);
    const lost = nextEvent(req, "disconnect");
    first.close();
    await lost;
    second = new zmq.Reply();
    // The port was just released; bind may need a moment on a busy machine.
    for (let i = 0; ; i++) {
      try {
        await second.bind(endpoint);
        break;
      } catch (error) {
        if (i > 50) throw error;
        await delay(20);
      }
    }
    const reply2 = req.request([Buffer.from("two")], { timeoutMs: 5000 });
    assert.deepEqual(strings(await receive(second, "second REP", 5000)), ["two"]);
    await second.send("2");
    assert.deepEqual(strings(await reply2), ["2"]);
    assert.deepEqual(states.slice(0, 4), ["connecting", "connected", "disconnected", "connecting"]);
    assert.equal(states[states.length - 1], "connected");
  } finally {
    first.close();
    second?.close();
    await req.close();
  }

  // Other direction: our server restarts on the same port, libzmq REQ reconnects by itself.
  const router1 = new ZmtpRouter();
  const ours = await router1.bind("tcp://127.0.0.1:0");
  const echo = (router: ZmtpRouter) => router.on("message", (peer, frames) => router.send(peer.id, frames));
  echo(router1);
  const zreq = new zmq.Request({ reconnectInterval: 20 });
  zreq.connect(ours);
  const router2 = new ZmtpRouter();
  try {
    await zreq.send("a");
    assert.deepEqual(strings(await receive(zreq, "first reply")), ["a"]);
    await router1.close();
    echo(router2);
    await router2.bind(ours);
    await zreq.send("b");
    assert.deepEqual(strings(await receive(zreq, "reply after restart", 5000)), ["b"]);
  } finally {
    zreq.close();
    await router1.close();
    await router2.close();
  }
});

test("heartbeats: libzmq answers our PINGs and we answer libzmq's, so idle links survive", async () => {
  const zrouter = new zmq.Router({ heartbeatInterval: 30, heartbeatTimeout: 150, heartbeatTimeToLive: 300 });
  const endpoint = await zmqBind(zrouter, "tcp");
  const dealer = new ZmtpDealer({ heartbeatIntervalMs: 30, heartbeatTimeoutMs: 150 });
  let disconnects = 0;
  dealer.on("disconnect", () => disconnects++);
  try {
    dealer.connect(endpoint);
    await nextEvent(dealer, "connect");
    const peer = dealer.peers()[0]!;
    await eventually(() => peer.stats.bytesIn > 200, 3000, "PONGs and PINGs from libzmq arrive");
    dealer.send([Buffer.from("still here")]);
    const [, body] = await receive(zrouter, "message after idle period");
    assert.equal(body!.toString(), "still here");
    assert.equal(disconnects, 0);
  } finally {
    zrouter.close();
    await dealer.close();
  }
});

test("heartbeats: a peer that goes silent without closing TCP is dropped (ours detects it; libzmq detects us)", async () => {
  // A hand-rolled ROUTER that completes the handshake and then never sends another byte.
  const silentSockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    silentSockets.push(socket);
    socket.on("error", () => {});
    socket.resume(); // read (and ignore) everything, so the peer's FIN is seen
    socket.write(buildGreeting("NULL", false));
    socket.write(encodeFrame(FLAG_COMMAND, encodeCommandBody("READY", Buffer.from("\x0bSocket-Type\x00\x00\x00\x06ROUTER", "latin1"))));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const dealer = new ZmtpDealer({ heartbeatIntervalMs: 30, heartbeatTimeoutMs: 120, reconnectIntervalMs: 10_000 });
  const zdealer = new zmq.Dealer({ heartbeatInterval: 30, heartbeatTimeout: 120 });
  try {
    dealer.connect(`tcp://127.0.0.1:${port}`);
    const [, reason] = await nextEvent<[PeerInfo, ZmtpError]>(dealer, "disconnect", 5000);
    assert.equal(reason.code, "EHEARTBEAT");
    await dealer.close();

    const closedByLibzmq = new Promise<void>((resolve) => server.once("connection", (socket) => socket.once("close", () => resolve())));
    zdealer.connect(`tcp://127.0.0.1:${port}`);
    await withTimeout(closedByLibzmq, 5000, "libzmq closes the silent peer");
  } finally {
    zdealer.close();
    await dealer.close();
    for (const socket of silentSockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe("CURVE with libzmq", () => {
  test("ZmtpDealer (CURVE client) <-> zeromq.js ROUTER (CURVE server)", async () => {
    const server = zmq.curveKeyPair();
    const client = curveKeyPair();
    const zrouter = new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey });
    const dealer = new ZmtpDealer({ curve: { ...client, serverKey: server.publicKey } });
    try {
      dealer.connect(await zmqBind(zrouter, "tcp"));
      dealer.send([Buffer.from("secret"), Buffer.alloc(300, 7)]);
      const [id, first, second] = await receive(zrouter, "CURVE message");
      assert.equal(first!.toString(), "secret");
      assert.deepEqual(second, Buffer.alloc(300, 7));
      const reply = nextEvent<[Buffer[]]>(dealer, "message");
      await zrouter.send([id!, "back", ""]);
      assert.deepEqual(strings((await reply)[0]), ["back", ""]);
      assert.equal(dealer.peers()[0]!.curvePublicKey, client.publicKey);
    } finally {
      zrouter.close();
      await dealer.close();
    }
  });

  test("zeromq.js clients -> ZmtpRouter (CURVE server): allowed key is identified per message, refused key is rejected", async () => {
    const server = curveKeyPair();
    const allowed = zmq.curveKeyPair();
    const refused = zmq.curveKeyPair();
    const router = new ZmtpRouter({ curve: { ...server, authorize: (key) => key === allowed.publicKey } });
    const endpoint = await router.bind(ourBindEndpoint("ipc"));
    const rejections: ZmtpError[] = [];
    router.on("rejected", (_connection, reason) => rejections.push(reason));
    router.on("message", (peer, frames) => router.send(peer.id, [Buffer.from(peer.curvePublicKey ?? "none"), ...frames]));
    const good = new zmq.Request({ curveServerKey: server.publicKey, curvePublicKey: allowed.publicKey, curveSecretKey: allowed.secretKey });
    const bad = new zmq.Request({ linger: 0, curveServerKey: server.publicKey, curvePublicKey: refused.publicKey, curveSecretKey: refused.secretKey });
    const wrongServer = new zmq.Request({ linger: 0, curveServerKey: curveKeyPair().publicKey, curvePublicKey: allowed.publicKey, curveSecretKey: allowed.secretKey });
    try {
      good.connect(endpoint);
      await good.send(["hello"]);
      assert.deepEqual(strings(await receive(good, "CURVE reply")), [allowed.publicKey, "hello"]);
      bad.connect(endpoint);
      await bad.send("let me in");
      await eventually(() => rejections.some((r) => r.code === "EAUTH"), 3000, "refused key reported");
      wrongServer.connect(endpoint);
      await wrongServer.send("wrong server key");
      await eventually(() => rejections.some((r) => r.code === "EMECHANISM"), 3000, "bad HELLO reported");
      assert.ok(router.peers().every((p) => p.curvePublicKey === allowed.publicKey), "only the allowed client is a peer");
      // The allowed client is unaffected by the refused ones.
      await good.send(["again"]);
      assert.deepEqual(strings(await receive(good, "second CURVE reply")), [allowed.publicKey, "again"]);
    } finally {
      good.close();
      bad.close();
      wrongServer.close();
      await router.close();
    }
  });

  for (const [ours, theirs] of [
    ["CURVE", "NULL"],
    ["NULL", "CURVE"],
  ] as const) {
    test(`a zeromq.js ${theirs} REQ that reached our ${ours} ROUTER keeps its peer: sends after the failed handshake queue, they never block`, async () => {
      // libzmq drops a peer for good when it reads a mechanism it does not speak; a REQ left without one blocks in
      // send forever (a VeighNa call would hang, not time out). Our accepting end closes before showing its mechanism.
      const server = curveKeyPair();
      const router = new ZmtpRouter({ ...(ours === "CURVE" ? { curve: server } : {}), refusalHoldMs: 100 });
      const endpoint = await router.bind("tcp://127.0.0.1:0");
      const rejections: ZmtpError[] = [];
      router.on("rejected", (_connection, reason) => rejections.push(reason));
      const keys = zmq.curveKeyPair();
      const req = new zmq.Request({
        linger: 0,
        sendTimeout: 2_000,
        receiveTimeout: 300,
        ...(theirs === "CURVE" ? { curveServerKey: server.publicKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey } : {}),
      });
      try {
        req.connect(endpoint);
        await eventually(() => rejections.length >= 2, 3000, "the handshake failed, and libzmq tried again");
        assert.ok(rejections.every((r) => r.code === "EMECHANISM" && r.message.includes(`peer mechanism ${theirs} does not match ${ours}`)), String(rejections[0]));
        await req.send("a call after the refusal"); // rejects with EAGAIN after 2 s if the REQ lost its peer
        await assert.rejects(req.receive(), /timed out|temporarily unavailable/i);
      } finally {
        req.close();
        await router.close();
      }
    });
  }

  test("a zeromq.js REQ whose key the server refuses keeps its peer: its calls time out, they never block (ours hear ERROR 400)", async () => {
    // An ERROR would make libzmq drop the server for good and the REQ block in send: only our clients ask for one.
    const server = curveKeyPair();
    const router = new ZmtpRouter({ curve: { ...server, authorize: () => false }, refusalHoldMs: 100 });
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const rejections: ZmtpError[] = [];
    router.on("rejected", (_connection, reason) => rejections.push(reason));
    const keys = zmq.curveKeyPair();
    const req = new zmq.Request({ linger: 0, sendTimeout: 2_000, receiveTimeout: 300, curveServerKey: server.publicKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey });
    const ours = new ZmtpDealer({ curve: { ...curveKeyPair(), serverKey: server.publicKey }, reconnectIntervalMs: 10_000 });
    try {
      req.connect(endpoint);
      await eventually(() => rejections.length >= 2, 3000, "the key refused, and libzmq tried again");
      assert.ok(rejections.every((r) => r.code === "EAUTH"), String(rejections[0]));
      await req.send("a call after the refusal"); // rejects with EAGAIN after 2 s if the REQ lost its peer
      await assert.rejects(req.receive(), /timed out|temporarily unavailable/i);
      ours.connect(endpoint);
      const [, reason] = await nextEvent<[unknown, ZmtpError]>(ours, "rejected");
      assert.equal(reason.code, "EAUTH");
      assert.match(reason.message, /client key not allowed \(400\)/);
    } finally {
      req.close();
      await ours.close();
      await router.close();
    }
  });

  test("a refused libzmq client is held before the close (refusalHoldMs): one CURVE handshake a hold, not ten a second", async () => {
    const server = curveKeyPair();
    const router = new ZmtpRouter({ curve: { ...server, authorize: () => false }, refusalHoldMs: 1_500 });
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    let rejections = 0;
    router.on("rejected", () => rejections++);
    const keys = zmq.curveKeyPair();
    const req = new zmq.Request({ linger: 0, sendTimeout: 2_000, curveServerKey: server.publicKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey });
    try {
      req.connect(endpoint);
      await eventually(() => rejections === 1, 3000, "the first refusal");
      await delay(1_000);
      assert.equal(rejections, 1, "no retry while the refused connection is held");
      await req.send("queued meanwhile"); // the REQ still has its peer
      await eventually(() => rejections >= 2, 3000, "the retry after the hold");
    } finally {
      req.close();
      await router.close();
    }
  });

  test("our client at a server of the other mechanism says the server refused its mechanism", async () => {
    const server = curveKeyPair();
    const router = new ZmtpRouter({ curve: server });
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const dealer = new ZmtpDealer({ reconnectIntervalMs: 10_000 });
    try {
      dealer.connect(endpoint);
      const [, reason] = await nextEvent<[unknown, ZmtpError]>(dealer, "rejected");
      assert.equal(reason.code, "EMECHANISM");
      assert.match(reason.message, /closed the connection during the greeting: it does not accept mechanism NULL/);
    } finally {
      await dealer.close();
      await router.close();
    }
  });

  test("ZmtpPublisher (CURVE) -> zeromq.js SUB, and our refused client hears ERROR", async () => {
    const server = curveKeyPair();
    const subscriberKeys = zmq.curveKeyPair();
    const pub = new ZmtpPublisher({ curve: { ...server, authorize: (key) => key === subscriberKeys.publicKey } });
    const endpoint = await pub.bind("tcp://127.0.0.1:0");
    const sub = new zmq.Subscriber({ curveServerKey: server.publicKey, curvePublicKey: subscriberKeys.publicKey, curveSecretKey: subscriberKeys.secretKey });
    const intruder = new ZmtpSubscriber({ curve: { ...curveKeyPair(), serverKey: server.publicKey }, reconnectIntervalMs: 10_000 });
    try {
      sub.connect(endpoint);
      sub.subscribe("");
      await nextEvent(pub, "subscribe");
      pub.publish([Buffer.from("tick"), Buffer.from("1")]);
      assert.deepEqual(strings(await receive(sub, "CURVE SUB")), ["tick", "1"]);
      intruder.connect(endpoint);
      const [, reason] = await nextEvent<[unknown, ZmtpError]>(intruder, "rejected");
      assert.equal(reason.code, "EAUTH");
      assert.match(reason.message, /client key not allowed \(400\)/);
    } finally {
      sub.close();
      await intruder.close();
      await pub.close();
    }
  });
});

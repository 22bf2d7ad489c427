/** What a publisher does with a subscriber that stops reading, and what a peer of an old ZMTP version gets. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FLAG_COMMAND, SendBacklog, ZmtpPublisher, ZmtpRouter, ZmtpSubscriber, encodeFrame, type PeerInfo, type RejectedConnection, type ZmtpError } from "../../src/zmtp/index.js";
import { eventually, nextEvent } from "./helpers.js";
import { RawPeer } from "./raw-peer.js";

describe("SendBacklog", () => {
  test("a keyed message replaces its unsent predecessor and goes last (publish order kept); unkeyed ones are kept; overflow is reported", () => {
    const backlog = new SendBacklog({ messages: 3, bytes: 1_000 });
    const m = (text: string) => [Buffer.from(text)];
    assert.equal(backlog.push(m("tick rb 1"), "rb"), "queued");
    assert.equal(backlog.push(m("order 1"), undefined), "queued");
    assert.equal(backlog.push(m("tick rb 2"), "rb"), "conflated");
    assert.equal(backlog.push(m("tick cu 1"), "cu"), "queued");
    assert.equal(backlog.push(m("tick ag 1"), "ag"), "dropped", "market data past the bound is dropped");
    assert.equal(backlog.push(m("order 2"), undefined), "overflow", "an order past the bound is the owner's to handle");
    assert.equal(backlog.length, 3);
    assert.deepEqual([backlog.shift(), backlog.shift()].map((f) => f![0]!.toString()), ["order 1", "tick rb 2"]);
    assert.equal(backlog.push(m("tick rb 3"), "rb"), "queued", "once sent, a key starts afresh");
    assert.deepEqual([backlog.shift(), backlog.shift(), backlog.shift()].map((f) => f?.[0]?.toString()), ["tick cu 1", "tick rb 3", undefined]);
    assert.equal(backlog.bytes, 0);
  });

  test("the byte bound holds as well as the message bound", () => {
    const backlog = new SendBacklog({ messages: 1_000, bytes: 100 });
    assert.equal(backlog.push([Buffer.alloc(60)], undefined), "queued");
    assert.equal(backlog.push([Buffer.alloc(60)], undefined), "overflow");
    assert.equal(backlog.push([Buffer.alloc(30)], "k"), "queued");
    assert.equal(backlog.push([Buffer.alloc(50)], "k"), "conflated", "a replacement may grow within the bound's slack");
    assert.equal(backlog.bytes, 110);
  });

  test("a stalled peer's endless replacements do not pile up", () => {
    const backlog = new SendBacklog({ messages: 10, bytes: 1 << 20 });
    backlog.push([Buffer.from("order")], undefined);
    for (let i = 0; i < 100_000; i++) backlog.push([Buffer.from(`tick ${i}`)], `k${i % 3}`);
    assert.equal(backlog.length, 4);
    const out = [backlog.shift(), backlog.shift(), backlog.shift(), backlog.shift(), backlog.shift()].map((f) => f?.[0]?.toString());
    assert.deepEqual(out, ["order", "tick 99997", "tick 99998", "tick 99999", undefined]);
  });
});

/** A raw SUB peer subscribed to everything (the test pauses it), and the publisher's "slow" reasons. */
async function stalledSubscriber(publisher: ZmtpPublisher, endpoint: string): Promise<{ stalled: RawPeer; slow: string[] }> {
  const stalled = await RawPeer.connect(endpoint);
  stalled.handshake("SUB");
  stalled.sendCommand("SUBSCRIBE");
  const slow: string[] = [];
  publisher.on("slow", (_peer: PeerInfo, reason: string) => slow.push(reason));
  return { stalled, slow };
}

describe("SendBacklog lag", () => {
  test("is the age of the oldest message still queued: 0 when empty, and a replaced one no longer counts", async () => {
    const backlog = new SendBacklog({ messages: 10, bytes: 1_000 });
    assert.equal(backlog.oldestAge(), 0);
    backlog.push([Buffer.from("tick 1")], "rb");
    const queuedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.ok(backlog.oldestAge() >= performance.now() - queuedAt - 1, "the tick's age");
    backlog.push([Buffer.from("tick 2")], "rb");
    assert.ok(backlog.oldestAge() < 25, `the replacement is new: ${backlog.oldestAge()} ms`);
    backlog.shift();
    assert.equal(backlog.oldestAge(), 0);
  });
});

describe("a publisher with a conflating backlog", () => {
  test("a subscriber whose oldest queued message waited past maxLagMs is cut, even though ticks alone never fill its backlog", async () => {
    const publisher = new ZmtpPublisher({ flow: "drop", backlog: { messages: 1_000, bytes: 64 << 20, socketBytes: 64 * 1024, maxLagMs: 300 } });
    const endpoint = await publisher.bind("tcp://127.0.0.1:0");
    const { stalled, slow } = await stalledSubscriber(publisher, endpoint);
    try {
      await eventually(() => publisher.subscribers().length === 1 && publisher.subscribers()[0]!.topics.length === 1, 5_000, "subscribed");
      stalled.socket.pause();
      const body = Buffer.alloc(16 * 1024, 1);
      // Ticks of 3 symbols until the kernel buffers are full and the backlog holds them: conflated, never full.
      for (let i = 0; publisher.subscribers()[0]!.backlogMessages === 0 && i < 100_000; i++) {
        publisher.publish([body], `k${i % 3}`);
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
      }
      publisher.publish([Buffer.from("order 1")]); // stays queued: its age is the lag
      const lagged = performance.now();
      assert.ok(publisher.subscribers()[0]!.lagMs < 300);
      for (let i = 0; slow.length === 0 && performance.now() - lagged < 10_000; i++) {
        publisher.publish([body], `k${i % 3}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(slow.length, 1, "cut once");
      assert.match(slow[0]!, /ms behind \(bound 300 ms\)/);
      assert.ok(performance.now() - lagged >= 300, "not before the bound");
      await eventually(() => publisher.subscribers().length === 0, 5_000, "the subscriber is gone");
    } finally {
      stalled.destroy();
      await publisher.close();
    }
  });

  test("a stalled subscriber gets the latest tick per symbol, bounded; the healthy one gets everything; orders past the bound cut the stalled one", async () => {
    const publisher = new ZmtpPublisher({ flow: "drop", backlog: { messages: 100, bytes: 8 << 20, socketBytes: 256 * 1024 } });
    const endpoint = await publisher.bind("tcp://127.0.0.1:0");
    const healthy = new ZmtpSubscriber();
    let healthyTicks = 0;
    let healthyOrders = 0;
    healthy.on("message", (frames) => (frames[0]!.toString("latin1", 0, 4) === "tick" ? healthyTicks++ : healthyOrders++));
    healthy.subscribe("");
    healthy.connect(endpoint);
    const { stalled, slow } = await stalledSubscriber(publisher, endpoint);
    try {
      await eventually(() => publisher.subscribers().length === 2 && publisher.subscribers().every((s) => s.topics.length === 1), 5_000, "both subscribed");
      stalled.socket.pause(); // reads nothing from now on: the kernel buffers fill, then our backlog
      const body = Buffer.alloc(16 * 1024, 1);
      const ticks = 2_000;
      for (let i = 0; i < ticks; i++) {
        const symbol = `s${i % 5}`;
        publisher.publish([Buffer.concat([Buffer.from(`tick ${symbol} ${i} `), body])], `tick|${symbol}`);
        // In bursts the healthy reader keeps up with (its socket never fills, so it never conflates).
        if (i % 10 === 9) await eventually(() => healthyTicks === i + 1, 20_000, `the healthy subscriber reads tick ${i}`);
      }
      publisher.publish([Buffer.from("order 1")]);
      const stalledInfo = () => publisher.subscribers().find((s) => s.remoteAddress.endsWith(`:${stalled.socket.localPort}`));
      await eventually(() => healthyTicks === ticks && healthyOrders === 1, 20_000, "the healthy subscriber gets every message");
      const info = stalledInfo()!;
      assert.ok(info.stats.conflated > 0, `conflated ${info.stats.conflated}`);
      assert.ok(info.backlogMessages <= 6, `backlog ${info.backlogMessages}: at most one tick per symbol and the order`);
      assert.equal(info.stats.dropped, 0, "nothing dropped while there was room");

      for (let i = 0; i < 200; i++) publisher.publish([Buffer.from(`order ${i + 2}`)]);
      await eventually(() => slow.length === 1 && stalledInfo() === undefined, 5_000, "the stalled subscriber is cut");
      assert.match(slow[0]!, /slow subscriber/);
      assert.equal(publisher.subscribers().length, 1, "the healthy one stays");
    } finally {
      stalled.destroy();
      await healthy.close();
      await publisher.close();
    }
  });
});

describe("a peer that stops reading", () => {
  test("every message reaches it intact and in order once it reads again: a write the kernel did not take whole keeps its buffer", async () => {
    // Each flush coalesces small messages into one buffer, kept for the next flush when the kernel took the write at
    // once. Reused while the socket still held it, it would be overwritten under the bytes waiting to go out.
    const publisher = new ZmtpPublisher({ flow: "block" });
    const endpoint = await publisher.bind("tcp://127.0.0.1:0");
    const peer = await RawPeer.connect(endpoint);
    try {
      peer.handshake("SUB");
      peer.sendCommand("SUBSCRIBE");
      await eventually(() => publisher.subscribers()[0]?.topics.length === 1, 5_000, "subscribed");
      peer.socket.pause();
      const message = (i: number): Buffer => {
        const body = Buffer.alloc(200 + ((i * 37) % 1_500), i % 251);
        body.writeUInt32BE(i, 0);
        return body;
      };
      // Ten messages a turn, a flush each; on past the point where the kernel stops taking them (publish says so).
      let sent = 0;
      let turnsBackedUp = 0;
      for (let turn = 0; turnsBackedUp < 50 && turn < 20_000; turn++) {
        let writable = true;
        for (let i = 0; i < 10; i++) writable = publisher.publish([message(sent++)]);
        if (!writable) turnsBackedUp++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(turnsBackedUp, 50, "the kernel's buffers filled");
      peer.socket.resume();
      const data = () => peer.frames.filter((f) => (f.flags & FLAG_COMMAND) === 0);
      // A garbled stream ends in a frame the peer cannot parse: it closes, and the count below says how far it got.
      await peer.until(() => data().length >= sent || peer.closed, `all ${sent} messages`, 20_000);
      const frames = data();
      assert.equal(frames.length, sent, "messages received whole");
      for (let i = 0; i < sent; i++) {
        if (!frames[i]!.body.equals(message(i))) assert.fail(`message ${i} of ${sent} arrived changed (it starts with number ${frames[i]!.body.readUInt32BE(0)})`);
      }
    } finally {
      peer.destroy();
      await publisher.close();
    }
  });
});

describe("old ZMTP versions", () => {
  test("a ZMTP 2.x greeting is refused as soon as its version byte arrives, not after the handshake timeout", async () => {
    const router = new ZmtpRouter({ handshakeTimeoutMs: 600_000 });
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    try {
      const raw = await RawPeer.connect(endpoint);
      const refused = nextEvent<[RejectedConnection, ZmtpError]>(router, "rejected", 10_000);
      // ZMTP 2.0: signature, revision 1, socket type, then an identity frame: 14 bytes, never 64.
      raw.socket.write(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0x01, 0x05, 0x00, 0x00]));
      const [, reason] = await refused;
      assert.equal(reason.code, "EPROTO");
      assert.match(reason.message, /major version 1/);
      await raw.until(() => raw.closed, "the connection closed", 10_000);
    } finally {
      await router.close();
    }
  });
});

describe("a router's read budget", () => {
  test("a peer pipelining thousands of messages yields every few: another peer's message is read within a turn or two, not after the flood", async () => {
    const budget = 16;
    const router = new ZmtpRouter({ readBudgetMessages: budget });
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const connected: string[] = [];
    router.on("connect", (peer: PeerInfo) => connected.push(peer.id));
    const flood = await RawPeer.connect(endpoint);
    const other = await RawPeer.connect(endpoint);
    // A turn of the event loop: the immediates run once per turn, after the reads.
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    try {
      flood.handshake("DEALER");
      other.handshake("DEALER");
      await eventually(() => connected.length === 2, 5_000, "both peers ready");
      const arrivals: { probe: boolean; turn: number }[] = [];
      router.on("message", (_peer: PeerInfo, frames: Buffer[]) => arrivals.push({ probe: frames[0]!.toString() === "probe", turn }));
      const count = 4_000;
      const body = Buffer.alloc(512, 7);
      flood.socket.write(Buffer.concat(Array.from({ length: count }, () => encodeFrame(0, body))));
      other.sendFrame(0, Buffer.from("probe"));
      tick();
      await eventually(() => arrivals.length === count + 1, 20_000, "every message read");
      const perTurn = new Map<number, number>();
      for (const a of arrivals) if (!a.probe) perTurn.set(a.turn, (perTurn.get(a.turn) ?? 0) + 1);
      // The budget is counted per message: the decoder stops at it mid-read and keeps the rest for the next turn.
      const most = Math.max(...perTurn.values());
      assert.ok(most <= budget, `at most ${budget} a turn, got ${most}`);
      const probeAt = arrivals.findIndex((a) => a.probe);
      assert.ok(probeAt < count, `the other peer's message was read before the flood ended (at ${probeAt} of ${count})`);
    } finally {
      ticking = false;
      flood.destroy();
      other.destroy();
      await router.close();
    }
  });

  test("holdReading: a held peer's next messages wait until the hold ends, then come in order, none lost; others are read meanwhile", async () => {
    const router = new ZmtpRouter();
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const connected: string[] = [];
    router.on("connect", (peer: PeerInfo) => connected.push(peer.id));
    const held = await RawPeer.connect(endpoint);
    const other = await RawPeer.connect(endpoint);
    try {
      held.handshake("DEALER");
      await eventually(() => connected.length === 1, 5_000, "the held peer ready");
      other.handshake("DEALER");
      await eventually(() => connected.length === 2, 5_000, "both peers ready");
      const heldId = connected[0]!;
      const arrivals: { text: string; at: number }[] = [];
      let holdStarted = 0;
      router.on("message", (peer: PeerInfo, frames: Buffer[]) => {
        const text = frames[0]!.toString();
        arrivals.push({ text, at: performance.now() });
        // The first message of the held peer holds its reading for 300 ms, from the next message on.
        if (peer.id === heldId && text === "h0") {
          holdStarted = performance.now();
          router.holdReading(peer.id, 300);
        }
      });
      // All in one write: the hold must stop mid-read, not only between reads.
      held.socket.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeFrame(0, Buffer.from(`h${i}`)))));
      await eventually(() => holdStarted > 0, 5_000, "the first message");
      other.sendFrame(0, Buffer.from("other"));
      await eventually(() => arrivals.length === 51, 10_000, "every message");
      const texts = arrivals.map((a) => a.text);
      assert.deepEqual(texts.filter((t) => t !== "other"), Array.from({ length: 50 }, (_, i) => `h${i}`), "in order, none lost");
      assert.equal(texts.indexOf("other"), 1, "the other peer is read during the hold");
      const resumed = arrivals.find((a) => a.text === "h1")!.at - holdStarted;
      assert.ok(resumed >= 290, `the held peer's next message waited for the hold (${resumed.toFixed(0)} ms)`);
    } finally {
      held.destroy();
      other.destroy();
      await router.close();
    }
  });
});

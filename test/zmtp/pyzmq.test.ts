// Second, independent libzmq peer: pyzmq (Debian's python3-zmq) in a child process.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  ZmtpDealer,
  ZmtpError,
  ZmtpPublisher,
  ZmtpRequest,
  ZmtpRouter,
  ZmtpSubscriber,
  curveKeyPair,
  type PeerInfo,
  type RejectedConnection,
} from "../../src/zmtp/index.js";
import { delay, eventually, ipcEndpoint, nextEvent, strings, withTimeout } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
// dist/test/zmtp/*.js -> test/zmtp/pyzmq_peer.py (the script is not compiled).
const SCRIPT = fileURLToPath(new URL("../../../test/zmtp/pyzmq_peer.py", import.meta.url));
const probe = spawnSync(PYTHON, ["-c", "import zmq; print(zmq.zmq_version())"], { encoding: "utf8" });
const skip = probe.status === 0 ? false : `pyzmq not available (${PYTHON} -c "import zmq" failed): install python3-zmq`;

type Line = { ready?: string; reply?: string[]; message?: string[]; done?: boolean; error?: string; subscription?: number; topic?: string };

class PyPeer {
  private readonly lines: Line[] = [];
  private waiters: Array<() => void> = [];
  exited = false;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.lines.push(JSON.parse(line) as Line);
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    child.stderr.on("data", (data: Buffer) => process.stderr.write(`[pyzmq] ${data.toString()}`));
    child.on("exit", () => {
      this.exited = true;
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  static async start(mode: string, endpoint: string, options: Record<string, unknown> = {}): Promise<PyPeer> {
    const peer = new PyPeer(spawn(PYTHON, [SCRIPT, mode, endpoint, JSON.stringify(options)]));
    await peer.line((l) => l.ready !== undefined, "python ready");
    return peer;
  }

  get ready(): string {
    return this.lines.find((l) => l.ready !== undefined)!.ready!;
  }

  all(predicate: (line: Line) => boolean): Line[] {
    return this.lines.filter(predicate);
  }

  /** Waits for a line matching `predicate` (already received or future). */
  async line(predicate: (line: Line) => boolean, what: string, ms = 8000): Promise<Line> {
    return withTimeout(
      (async () => {
        for (;;) {
          const found = this.lines.find(predicate);
          if (found) return found;
          if (this.exited) throw new Error(`python exited before: ${what}`);
          await new Promise<void>((resolve) => this.waiters.push(resolve));
        }
      })(),
      ms,
      what,
    );
  }

  send(command: unknown): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGKILL");
    await withTimeout(exited, 5000, "python exit");
  }
}

const pyBind = (transport: "tcp" | "ipc"): string => (transport === "tcp" ? "tcp://127.0.0.1:*" : ipcEndpoint("py"));
const ourBind = (transport: "tcp" | "ipc"): string => (transport === "tcp" ? "tcp://127.0.0.1:0" : ipcEndpoint("ours"));

for (const transport of ["tcp", "ipc"] as const) {
  describe(`pyzmq interop over ${transport}`, { skip }, () => {
    test("pyzmq REQ and DEALER -> ZmtpRouter", async () => {
      const router = new ZmtpRouter();
      router.on("message", (peer, frames) => router.send(peer.id, [Buffer.from(peer.socketType), ...frames]));
      const endpoint = await router.bind(ourBind(transport));
      const req = await PyPeer.start("req", endpoint, { count: 3, size: 300 });
      const dealer = await PyPeer.start("dealer", endpoint, { count: 3 });
      try {
        await req.line((l) => l.done === true, "REQ done");
        await dealer.line((l) => l.done === true, "DEALER done");
        assert.deepEqual(req.all((l) => !!l.reply).map((l) => l.reply!.slice(0, 2)), [["REQ", "call"], ["REQ", "call"], ["REQ", "call"]]);
        assert.equal(req.all((l) => !!l.reply)[2]!.reply![3]!.length, 300);
        assert.deepEqual(dealer.all((l) => !!l.reply).map((l) => l.reply![2]), ["0", "1", "2"]);
      } finally {
        await req.stop();
        await dealer.stop();
        await router.close();
      }
    });

    test("ZmtpRequest -> pyzmq REP, ZmtpDealer -> pyzmq ROUTER", async () => {
      const rep = await PyPeer.start("rep", pyBind(transport), { bind: true });
      const router = await PyPeer.start("router", pyBind(transport), { bind: true });
      const req = new ZmtpRequest();
      const dealer = new ZmtpDealer({ identity: "ours" });
      try {
        req.connect(rep.ready);
        dealer.connect(router.ready);
        assert.deepEqual(strings(await withTimeout(req.request([Buffer.from("a"), Buffer.from("b")]), 5000, "REP reply")), ["echo", "a", "b"]);
        const reply = nextEvent<[Buffer[]]>(dealer, "message");
        dealer.send([Buffer.from("m")]);
        assert.deepEqual(strings((await reply)[0]), ["echo", "ours", "m"]);
      } finally {
        await req.close();
        await dealer.close();
        await rep.stop();
        await router.stop();
      }
    });

    test("ZmtpPublisher -> pyzmq SUB (publisher-side filtering) and pyzmq PUB -> ZmtpSubscriber", async () => {
      const pub = new ZmtpPublisher();
      const endpoint = await pub.bind(ourBind(transport));
      const sub = await PyPeer.start("sub", endpoint, { topics: ["a"], count: 2 });
      const pyPub = await PyPeer.start("pub", pyBind(transport), { bind: true });
      const ourSub = new ZmtpSubscriber();
      try {
        await eventually(() => pub.subscribers().some((s) => s.topics.length > 0), 5000, "python's subscription");
        pub.publish([Buffer.from("b-skip")]);
        pub.publish([Buffer.from("a-1"), Buffer.from("x")]);
        pub.publish([Buffer.from("a-2")]);
        await sub.line((l) => l.done === true, "python SUB done");
        assert.deepEqual(sub.all((l) => !!l.message).map((l) => l.message), [["a-1", "x"], ["a-2"]]);
        await eventually(() => pub.subscribers().length === 0, 5000, "python left after its two messages");

        ourSub.subscribe("t");
        ourSub.connect(pyPub.ready);
        const received: string[][] = [];
        ourSub.on("message", (frames) => received.push(strings(frames)));
        for (let i = 0; i < 300 && received.length === 0; i++) {
          pyPub.send(["u"]);
          pyPub.send(["t", "payload"]);
          await delay(10);
        }
        assert.deepEqual(received[0], ["t", "payload"]);
        assert.ok(received.every((m) => m[0] === "t"));
      } finally {
        pyPub.send("quit");
        await ourSub.close();
        await sub.stop();
        await pyPub.stop();
        await pub.close();
      }
    });
  });
}

describe("pyzmq: subscriptions, CURVE, vanished and restarted peers", { skip }, () => {
  test("ZmtpSubscriber's SUBSCRIBE and CANCEL as seen by pyzmq XPUB", async () => {
    const xpub = await PyPeer.start("xpub", pyBind("tcp"), { bind: true, count: 2 });
    const sub = new ZmtpSubscriber();
    try {
      sub.connect(xpub.ready);
      sub.subscribe("quotes.");
      await xpub.line((l) => l.subscription === 1, "subscribe seen");
      sub.unsubscribe("quotes.");
      await xpub.line((l) => l.done === true, "cancel seen");
      assert.deepEqual(
        xpub.all((l) => l.subscription !== undefined).map((l) => [l.subscription, l.topic]),
        [
          [1, "quotes."],
          [0, "quotes."],
        ],
      );
    } finally {
      await sub.close();
      await xpub.stop();
    }
  });

  test("CURVE: ZmtpDealer -> pyzmq CURVE ROUTER; pyzmq CURVE REQ -> ZmtpRouter with allow-list (allowed and refused)", async () => {
    const pyServer = curveKeyPair();
    const router = await PyPeer.start("router", pyBind("tcp"), { bind: true, curve_server_secret: pyServer.secretKey });
    const dealer = new ZmtpDealer({ identity: "c", curve: { ...curveKeyPair(), serverKey: pyServer.publicKey } });
    const ourServer = curveKeyPair();
    const allowed = curveKeyPair();
    const refused = curveKeyPair();
    const ours = new ZmtpRouter({ curve: { ...ourServer, authorize: (key) => key === allowed.publicKey } });
    ours.on("message", (peer, frames) => ours.send(peer.id, [Buffer.from(peer.curvePublicKey!), ...frames]));
    const rejected: ZmtpError[] = [];
    ours.on("rejected", (_c: RejectedConnection, reason) => rejected.push(reason));
    const endpoint = await ours.bind(ipcEndpoint("pycurve"));
    const good = await PyPeer.start("req", endpoint, { count: 1, curve_server_key: ourServer.publicKey, curve_public: allowed.publicKey, curve_secret: allowed.secretKey });
    const bad = await PyPeer.start("req", endpoint, { count: 1, timeout_ms: 3000, curve_server_key: ourServer.publicKey, curve_public: refused.publicKey, curve_secret: refused.secretKey });
    try {
      dealer.connect(router.ready);
      const reply = nextEvent<[Buffer[]]>(dealer, "message");
      dealer.send([Buffer.from("secret")]);
      assert.deepEqual(strings((await reply)[0]), ["echo", "c", "secret"]);

      const goodReply = await good.line((l) => !!l.reply, "allowed client's reply");
      assert.deepEqual(goodReply.reply, [allowed.publicKey, "call", "0", ""]);
      await eventually(() => rejected.some((r) => r.code === "EAUTH" && r.message.includes(refused.publicKey)), 5000, "refused key");
      assert.ok(ours.peers().every((p: PeerInfo) => p.curvePublicKey === allowed.publicKey));
    } finally {
      await dealer.close();
      await ours.close();
      await router.stop();
      await good.stop();
      await bad.stop();
    }
  });

  test("a pyzmq peer frozen with SIGSTOP is detected by heartbeats; a restarted one is reconnected to", async () => {
    const first = await PyPeer.start("rep", pyBind("tcp"), { bind: true });
    const endpoint = first.ready;
    const req = new ZmtpRequest({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 200, reconnectIntervalMs: 20, reconnectMaxIntervalMs: 100 });
    let second: PyPeer | null = null;
    try {
      req.connect(endpoint);
      assert.deepEqual(strings(await withTimeout(req.request([Buffer.from("1")]), 5000, "first reply")), ["echo", "1"]);
      const lost = nextEvent<[PeerInfo, ZmtpError]>(req, "disconnect", 5000);
      first.child.kill("SIGSTOP"); // TCP stays up; only heartbeats can notice
      assert.equal((await lost)[1].code, "EHEARTBEAT");
      await first.stop();
      for (let attempt = 0; ; attempt++) {
        try {
          second = await PyPeer.start("rep", endpoint, { bind: true });
          break;
        } catch (error) {
          if (attempt > 20) throw error;
          await delay(50); // the port may linger briefly after SIGKILL
        }
      }
      assert.deepEqual(strings(await withTimeout(req.request([Buffer.from("2")]), 5000, "reply after restart")), ["echo", "2"]);
    } finally {
      await req.close();
      await first.stop();
      await second?.stop();
    }
  });
});

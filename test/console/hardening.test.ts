/** The console against DNS rebinding, header quirks and a paused reader. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Event, LogData, MainEngine } from "../../src/kernel/index.js";
import { RiskManagerApp, type RiskEngine } from "../../src/risk/index.js";
import { ConsoleApp, checkHost, parseHostHeader } from "../../src/console/index.js";
import { maskedTextFrame, startEndpoint } from "./helpers.js";

test("Host headers parse with IPv6 brackets and ports; malformed ones are refused", () => {
  assert.deepEqual(parseHostHeader("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseHostHeader("[::1]:8080"), { hostname: "::1", port: 8080 });
  assert.deepEqual(parseHostHeader("[::1]"), { hostname: "::1", port: null });
  assert.deepEqual(parseHostHeader("Trading.Example.COM."), { hostname: "trading.example.com", port: null });
  for (const bad of [undefined, "", "::1:8080", "[::1", "[zz]:80", "host:port", "host:99999", "a b:80", "evil.example:80/x"]) {
    assert.equal(parseHostHeader(bad), null, String(bad));
  }
});

test("only the console's own addresses, loopback names on loopback, and the operator's names pass the Host check", () => {
  const loopback = { bindHost: "127.0.0.1", port: 8080 };
  for (const ok of ["127.0.0.1:8080", "localhost:8080", "127.0.0.2:8080", "[::1]:8080"]) assert.equal(checkHost(ok, loopback).ok, true, ok);
  // A forwarded or proxied port (ssh -L 9999:127.0.0.1:8080, a TCP proxy) still names us: only names can be rebound.
  for (const forwarded of ["127.0.0.1:9999", "localhost:9999", "127.0.0.1"]) assert.equal(checkHost(forwarded, loopback).ok, true, forwarded);
  for (const bad of ["evil.example:8080", "evil.example:9999", "192.168.1.5:8080", "attacker.localhost.evil:8080", undefined]) {
    assert.equal(checkHost(bad, loopback).ok, false, String(bad));
  }
  const allowed = { bindHost: "127.0.0.1", port: 8080, allowedHosts: ["desk.example", "proxy.example:443"] };
  assert.equal(checkHost("desk.example:8080", allowed).ok, true);
  assert.equal(checkHost("DESK.example:8080", allowed).ok, true);
  assert.equal(checkHost("proxy.example:443", allowed).ok, true);
  assert.equal(checkHost("proxy.example:8080", allowed).ok, false);
  const everywhere = { bindHost: "0.0.0.0", port: 80 };
  assert.equal(checkHost("10.1.2.3", everywhere).ok, true, "an IP literal cannot be rebound");
  assert.equal(checkHost("evil.example", everywhere).ok, false, "a name can");
  const v6 = { bindHost: "::1", port: 8080 };
  assert.equal(checkHost("[::1]:8080", v6).ok, true);
  assert.equal(checkHost("localhost:8080", v6).ok, true);
});

function httpGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string; upgraded?: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: "", upgraded: true });
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("request timed out")));
    req.end();
  });
}

const upgradeHeaders = (host: string, origin: string) => ({
  host,
  origin,
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": Buffer.from("0123456789abcdef").toString("base64"),
});

test("a page rebound to the loopback console (forged Host, matching Origin) gets neither the page nor a socket", async () => {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-rebind-"));
  const web = join(home, "web");
  mkdirSync(web, { recursive: true });
  writeFileSync(join(web, "index.html"), "<!doctype html><title>console</title>");
  const mainEngine = new MainEngine({ home });
  await mainEngine.addApp(RiskManagerApp).ready;
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  try {
    const started = await consoleEngine.start({ host: "127.0.0.1", port: 0, webRoot: web, allowedHosts: ["desk.example"] });
    assert.equal(started.token, null, "loopback: no token, so Host is what stops a rebound page");
    const port = started.port;
    const evil = `evil.example:${port}`;

    const page = await httpGet(port, "/", { host: evil });
    assert.equal(page.status, 421);
    assert.match(page.body, /not an address of this console/);
    assert.equal((await httpGet(port, "/assets/x.js", { host: evil })).status, 421, "assets too, before anything else");
    const socket = await httpGet(port, "/console", upgradeHeaders(evil, `http://${evil}`));
    assert.equal(socket.status, 421);
    assert.notEqual(socket.upgraded, true);

    // The same requests with the console's own address, or a name the operator allowed, go through.
    assert.equal((await httpGet(port, "/", { host: `127.0.0.1:${port}` })).status, 200);
    assert.equal((await httpGet(port, "/", { host: `desk.example:${port}` })).status, 200);
    const own = await httpGet(port, "/console", upgradeHeaders(`localhost:${port}`, `http://localhost:${port}`));
    assert.equal(own.upgraded, true);

    const risk = mainEngine.getEngine("RiskManager") as RiskEngine;
    assert.equal(risk.getTradingState(), "ACTIVE", "nothing reached the risk manager");
  } finally {
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("the token's scheme is case-insensitive: bearer, Bearer and BEARER all work", async () => {
  const server = await startEndpoint({ listen: { host: "127.0.0.1", port: 0, token: "a-token-of-sixteen-chars" } });
  try {
    const port = server.endpoint.address!.port;
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const answer = await httpGet(port, "/ws", { ...upgradeHeaders(`127.0.0.1:${port}`, `http://127.0.0.1:${port}`), authorization: `${scheme} a-token-of-sixteen-chars` });
      assert.equal(answer.upgraded, true, scheme);
    }
    const wrong = await httpGet(port, "/ws", { ...upgradeHeaders(`127.0.0.1:${port}`, `http://127.0.0.1:${port}`), authorization: "bearer wrong-token-of-length" });
    assert.equal(wrong.status, 401);
  } finally {
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
    const deadline = Date.now() + 10_000;
    while (server.endpoint.clients().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100)); // the subscription is in
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

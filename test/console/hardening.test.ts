/** The console against DNS rebinding and header quirks. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MainEngine } from "../../src/kernel/index.js";
import { RiskManagerApp, type RiskEngine } from "../../src/risk/index.js";
import { ConsoleApp, checkHost, parseHostHeader } from "../../src/console/index.js";
import { loopbackServer, startEndpoint } from "../rpc/ws/helpers.js";

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
  const server = await startEndpoint({ server: loopbackServer(0, "a-token-of-sixteen-chars") });
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

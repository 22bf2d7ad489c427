/** The endpoint's seam to its HTTP server: any SocketHost serves it, not only the console's WebHost. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { WebSocketServer } from "ws";
import { CloseCode, WsEndpoint, type HostAddress, type ListeningSocketHost, type SocketTarget } from "../../../src/rpc/index.js";
import { RawClient, logEvent, loopbackServer, testDispatcher } from "./helpers.js";

/** A host of the seam on Node's http and ws alone: routes upgrades by path, no checks. */
class BareHost implements ListeningSocketHost {
  private readonly routes = new Map<string, SocketTarget>();
  private server: Server | undefined;
  address: HostAddress | undefined;

  addRoute(path: string, target: SocketTarget): void {
    this.routes.set(path, target);
  }

  async listen(): Promise<HostAddress> {
    const sockets = new WebSocketServer({ noServer: true });
    const server = createServer((_request, response) => response.writeHead(404).end());
    server.on("upgrade", (request, raw, head) => {
      const target = this.routes.get(new URL(request.url ?? "/", "http://host").pathname);
      if (!target?.accepting) return raw.destroy();
      sockets.handleUpgrade(request, raw, head, (socket) => target.acceptSocket(socket, raw, `${request.socket.remoteAddress}:${request.socket.remotePort}`, undefined));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const bound = server.address();
    assert.ok(bound !== null && typeof bound === "object");
    this.server = server;
    this.address = { host: "127.0.0.1", port: bound.port, url: `http://127.0.0.1:${bound.port}/` };
    return this.address;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.address = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test("an endpoint served by a host of the seam other than the console's greets, answers calls and streams events", async () => {
  const host = new BareHost();
  const endpoint = new WsEndpoint({ server: host, path: "/rpc" });
  await endpoint.start(testDispatcher);
  const client = await RawClient.open(`ws://127.0.0.1:${endpoint.address!.port}/rpc`);
  try {
    assert.equal((client.messages[0]!.hello as { endpoint: string }).endpoint, "ws");
    client.send({ id: 1, call: "add", args: [2, 3] });
    assert.equal((await client.reply(1)).result, 5);
    client.send({ id: 2, subscribe: { types: ["eLog"] } });
    await client.reply(2);
    endpoint.publish({ seq: 1, epoch: "bare", event: logEvent("through the bare host") });
    const event = await client.next((m) => m.seq === 1);
    assert.equal((event.data as { msg: string }).msg, "through the bare host");
    assert.equal(endpoint.clients().length, 1);
  } finally {
    await endpoint.stop();
  }
  await client.closed();
  assert.equal(client.closeCode, CloseCode.GOING_AWAY);
  assert.equal(host.address, undefined, "the endpoint closed the host it owns");
});

test("an endpoint with a server of its own refuses to be attached to another host", () => {
  const endpoint = new WsEndpoint({ server: loopbackServer() });
  assert.throws(() => endpoint.attachTo(new BareHost()), RangeError);
});

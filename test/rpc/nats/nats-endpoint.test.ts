/**
 * The NATS endpoint on one real nats-server: a discoverable micro service, the JSON wire's validation and error
 * codes, deadlines, per-symbol tick subscriptions, and users with the documented permissions (a viewer cannot
 * send an order; no user can read another's replies).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, errors as natsErrors } from "@nats-io/transport-node";
import { Svcm } from "@nats-io/services";
import { ContractData, EVENT_TICK, SubscribeRequest, TickData } from "../../../src/kernel/index.js";
import {
  NatsEndpoint,
  NatsRpcClient,
  RemoteError,
  RpcDisconnectedError,
  RpcServer,
  RpcTimeoutError,
  helloSubject,
  inboxPrefixFor,
  natsPermissions,
  type CallContext,
  type StreamEvent,
} from "../../../src/rpc/index.js";
import { until } from "../../service/helpers.js";
import { futures, marketOrder, startNatsServer, type NatsServerFixture } from "./fixture.js";
import { natsSkip, startNatsCluster, type NatsCluster } from "./nats-cluster.js";

const USERS = [
  { user: "server", password: "s3rver", permissions: natsPermissions("server", "server") },
  { user: "alice", password: "tr4der", permissions: natsPermissions("trader", "alice") },
  { user: "victor", password: "v1ewer", permissions: natsPermissions("viewer", "victor", "alpha") },
];

describe("NATS endpoint on one node", { skip: natsSkip }, () => {
  let cluster: NatsCluster;
  let server: NatsServerFixture;
  const clients: NatsRpcClient[] = [];

  function client(user: string, password: string, extra: Partial<ConstructorParameters<typeof NatsRpcClient>[0]> = {}): NatsRpcClient {
    const c = new NatsRpcClient({ servers: cluster.urls, server: "alpha", user, pass: password, timeout: 10_000, name: `${user}-test`, ...extra });
    clients.push(c);
    return c;
  }

  before(async () => {
    cluster = await startNatsCluster(1, { users: USERS });
    server = await startNatsServer({ servers: cluster.urls, serverName: "alpha", user: "server", pass: "s3rver" }, 20);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
    await cluster?.stop();
  });

  test("the service is discoverable through $SRV.PING and INFO, one endpoint per function", async () => {
    const nc = await connect({ servers: cluster.urls, user: "alice", pass: "tr4der", inboxPrefix: inboxPrefixFor("alice") });
    try {
      const svc = new Svcm(nc).client();
      const pings = [];
      for await (const ping of await svc.ping("rpcservice")) pings.push(ping);
      assert.equal(pings.length, 1);
      assert.equal(pings[0]!.metadata?.["server"], "alpha");
      const infos = [];
      for await (const info of await svc.info("rpcservice")) infos.push(info);
      const subjects = infos[0]!.endpoints.map((e) => e.subject);
      assert.ok(subjects.includes("rpcservice.alpha.call.send_order"));
      assert.ok(subjects.includes("rpcservice.alpha.call.get_all_contracts"));
      assert.ok(subjects.includes("rpcservice.alpha.hello"));
    } finally {
      await nc.close();
    }
  });

  test("a trader's client connects, snapshots with a stream position, and trades", async () => {
    const trader = client("alice", "tr4der");
    const resyncs: string[] = [];
    trader.on("resync", (reason) => resyncs.push(reason));
    await trader.waitConnected(10_000);
    await until(() => resyncs.length > 0, 5_000, "the first resync");
    assert.deepEqual(resyncs, ["connected"]);
    const { value, position } = await trader.callWithPosition<ContractData[]>("get_all_contracts");
    assert.ok(value.length > 0 && value.every((c) => c instanceof ContractData));
    assert.equal(position?.epoch, server.rpc.server.epoch);

    const events: StreamEvent[] = [];
    trader.on("event", (e) => events.push(e));
    const contract = futures(server.mainEngine)[0]!;
    // The simulated venue quotes a contract once it is subscribed; a market order needs a quote.
    await trader.call("subscribe", [new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), "SIM"]);
    await until(() => events.some((e) => e.event.type === EVENT_TICK), 10_000, "a tick");
    const vtOrderid = await trader.call<string>("send_order", [marketOrder(contract), "SIM"]);
    assert.match(vtOrderid, /^SIM\./);
    // Orders and trades come from the stream, in the server's order.
    await until(() => events.some((e) => e.event.type === "eTrade."), 10_000, `the trade event (got ${events.map((e) => e.event.type).join()})`);
    const seqs = events.filter((e) => e.event.type === "eOrder." || e.event.type === "eTrade.").map((e) => e.seq!);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.ok(server.rpc.clients().some((c) => c.endpoint === "nats" && c.clientId === "nats:alice-test"));
  });

  test("bad calls get the JSON wire's error codes; an unknown function has no responder", async () => {
    const trader = client("alice", "tr4der");
    await trader.waitConnected(10_000);
    await assert.rejects(trader.call("send_order", [{ $class: "OrderData", symbol: "x" }, "SIM"]), (error: unknown) => {
      assert.ok(error instanceof RemoteError);
      assert.equal(error.remoteType, "INVALID_ARGUMENT");
      return true;
    });
    await assert.rejects(trader.call("get_contract", []), (error: unknown) => error instanceof RemoteError && error.remoteType === "ERR_RPC_BAD_ARGUMENTS");
    await assert.rejects(trader.call("no_such_function", []), RpcDisconnectedError);
    // A raw NATS client speaks the same wire: a body that is not JSON is BAD_JSON, with the micro error headers.
    const nc = await connect({ servers: cluster.urls, user: "alice", pass: "tr4der", inboxPrefix: inboxPrefixFor("alice") });
    try {
      const reply = await nc.request("rpcservice.alpha.call.get_all_orders", "{not json", { timeout: 5_000 });
      assert.equal(reply.headers?.get("Nats-Service-Error-Code"), "400");
      assert.equal((reply.json() as { error: { code: string } }).error.code, "BAD_JSON");
      const ok = await nc.request("rpcservice.alpha.call.get_all_orders", "", { timeout: 5_000 });
      assert.equal((ok.json() as { ok: boolean }).ok, true);
      assert.ok(Number(ok.headers?.get("Rpc-Seq")) >= 0);
    } finally {
      await nc.close();
    }
  });

  test("each client receives only the ticks of the symbols it subscribed", async () => {
    const [first, second] = futures(server.mainEngine);
    const a = client("alice", "tr4der", { name: "alice-a" });
    const b = client("victor", "v1ewer", { name: "victor-b", symbols: [second!.vt_symbol] });
    const ticksA: string[] = [];
    const ticksB: string[] = [];
    a.on("event", (e) => e.event.type === EVENT_TICK && ticksA.push((e.event.data as TickData).vt_symbol));
    b.on("event", (e) => e.event.type === EVENT_TICK && ticksB.push((e.event.data as TickData).vt_symbol));
    await a.waitConnected(10_000);
    await b.waitConnected(10_000);
    await a.call("subscribe", [new SubscribeRequest({ symbol: first!.symbol, exchange: first!.exchange }), "SIM"]);
    await a.call("subscribe", [new SubscribeRequest({ symbol: second!.symbol, exchange: second!.exchange }), "SIM"]);
    a.unwatchSymbols([second!.vt_symbol]); // the server ticks both now; a wants only the first
    const start = ticksA.length;
    await until(() => ticksA.length > start + 5 && ticksB.length > 5, 15_000, "ticks for both clients");
    assert.deepEqual(new Set(ticksA.slice(start)), new Set([first!.vt_symbol]));
    assert.deepEqual(new Set(ticksB), new Set([second!.vt_symbol]));
  });

  test("a viewer reads but cannot send an order: the cluster refuses the publish", async () => {
    const viewer = client("victor", "v1ewer");
    await viewer.waitConnected(10_000);
    const before = server.mainEngine.getAllOrders().length;
    assert.ok(Array.isArray(await viewer.call("get_all_orders")));
    const contract = futures(server.mainEngine)[0]!;
    await assert.rejects(viewer.call("send_order", [marketOrder(contract), "SIM"], { timeout: 5_000 }), (error: unknown) => {
      // nats-server answers a forbidden publish with a permissions violation; the request never reaches the server.
      assert.ok(error instanceof RemoteError || error instanceof RpcTimeoutError, String(error));
      if (error instanceof RemoteError) assert.equal(error.remoteType, "PERMISSION_DENIED");
      return true;
    });
    assert.equal(server.mainEngine.getAllOrders().length, before);
    // The viewer still receives the stream's events.
    const events: StreamEvent[] = [];
    viewer.on("event", (e) => events.push(e));
    const trader = client("alice", "tr4der");
    await trader.waitConnected(10_000);
    await trader.call("send_order", [marketOrder(contract), "SIM"]);
    await until(() => events.some((e) => e.event.type === "eTrade."), 10_000, "the trade at the viewer");
  });

  test("a user reads replies only under its own inbox: another user's inbox and the shared _INBOX are refused", async () => {
    // The viewer calls (its replies come under _INBOX.victor) while the trader tries to listen in.
    const viewer = client("victor", "v1ewer");
    await viewer.waitConnected(10_000);
    const nc = await connect({ servers: cluster.urls, user: "alice", pass: "tr4der", inboxPrefix: inboxPrefixFor("alice") });
    try {
      for (const subject of [`${inboxPrefixFor("victor")}.>`, "_INBOX.>"]) {
        const sniffed: string[] = [];
        const sub = nc.subscribe(subject, { callback: (error, msg) => void (error ? undefined : sniffed.push(msg.subject)) });
        const closedWith = await Promise.race([sub.closed, new Promise((resolve) => setTimeout(() => resolve("still open"), 10_000))]);
        assert.ok(closedWith instanceof natsErrors.PermissionViolationError, `subscribing to ${subject}: ${String(closedWith)}`);
        assert.equal((closedWith as InstanceType<typeof natsErrors.PermissionViolationError>).operation, "subscription");
        assert.ok(Array.isArray(await viewer.call("get_all_accounts")));
        assert.deepEqual(sniffed, []);
      }
      // Its own inbox works: a request answered under _INBOX.alice.
      const hello = JSON.parse((await nc.request(helloSubject("alpha"), "", { timeout: 10_000 })).string()) as { server: string };
      assert.equal(hello.server, "alpha");
    } finally {
      await nc.close();
    }
    // A client of alice's that keeps nats.js's shared _INBOX prefix gets no reply at all.
    const shared = await connect({ servers: cluster.urls, user: "alice", pass: "tr4der" });
    try {
      await assert.rejects(shared.request(helloSubject("alpha"), "", { timeout: 5_000 }));
    } finally {
      await shared.close();
    }
  });
});

describe("NATS endpoint calls: deadlines and identity", { skip: natsSkip }, () => {
  let cluster: NatsCluster;
  let rpc: RpcServer;
  let endpoint: NatsEndpoint;
  const seen: CallContext[] = [];
  let release: () => void = () => {};

  before(async () => {
    cluster = await startNatsCluster(1);
    rpc = new RpcServer({ log: () => {} });
    rpc.register("whoami", [], (_args, context) => {
      seen.push(context);
      return context.identity ?? context.clientName ?? null;
    });
    rpc.register("slow", [], (_args, context) => {
      seen.push(context);
      return new Promise((resolve) => {
        release = () => resolve("done");
        context.signal?.addEventListener("abort", () => resolve("aborted"));
      });
    });
    endpoint = new NatsEndpoint({ servers: cluster.urls, serverName: "solo" });
    await rpc.start([endpoint]);
  });

  after(async () => {
    release();
    await rpc?.stop();
    await cluster?.stop();
  });

  test("the caller's timeout becomes the call's deadline and aborts it at the server", async () => {
    const c = new NatsRpcClient({ servers: cluster.urls, server: "solo", name: "deadline-test" });
    try {
      await c.waitConnected(10_000);
      const sent = Date.now();
      await assert.rejects(c.call("slow", [], { timeout: 300 }), RpcTimeoutError);
      const context = seen.at(-1)!;
      assert.ok(context.deadline !== undefined && context.deadline >= sent + 300 - 50 && context.deadline <= Date.now() + 300);
      await until(() => context.signal?.aborted === true, 5_000, "the server-side abort");
      assert.equal(await c.call("whoami"), "deadline-test");
    } finally {
      await c.close();
    }
  });
});

describe("NATS endpoint identity from the NATS user", { skip: natsSkip }, () => {
  // Traders live in their own account and reach the server's calls through a service import with `share: true`:
  // nats-server then stamps each request with the sender's user (Nats-Request-Info), which no client can forge.
  const ACCOUNTS = `accounts {
    SRV { jetstream: enabled
          users: [{user: srv, password: s}]
          exports: [{service: "rpcservice.*.call.>"}, {service: "rpcservice.*.hello"}] }
    APP { users: [{user: alice, password: a}, {user: bob, password: b}]
          imports: [{service: {account: SRV, subject: "rpcservice.*.call.>"}, share: true},
                    {service: {account: SRV, subject: "rpcservice.*.hello"}}] }
  }`;
  let cluster: NatsCluster;
  let rpc: RpcServer;

  before(async () => {
    cluster = await startNatsCluster(1, { accounts: ACCOUNTS });
    rpc = new RpcServer({ log: () => {} });
    rpc.register("whoami", [], (_args, context) => ({ identity: context.identity ?? null, declared: context.clientName ?? null }));
    await rpc.start([new NatsEndpoint({ servers: cluster.urls, serverName: "desk", user: "srv", pass: "s", trustRequestInfo: true })]);
  });

  after(async () => {
    await rpc?.stop();
    await cluster?.stop();
  });

  test("the caller is the NATS user the cluster certifies, whatever name it declares", async () => {
    for (const [user, pass] of [["alice", "a"], ["bob", "b"]] as const) {
      const c = new NatsRpcClient({ servers: cluster.urls, server: "desk", user, pass, name: "mallory" });
      try {
        await c.waitConnected(10_000);
        assert.deepEqual(await c.call("whoami"), { identity: user, declared: "mallory" });
      } finally {
        await c.close();
      }
    }
    const clients = rpc.clients().map((c) => c.identity).sort();
    assert.deepEqual(clients, ["alice", "bob"]);
  });
});

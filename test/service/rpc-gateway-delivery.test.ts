/**
 * RpcGateway hands each event it reads to the EventEngine with `deliver`: a strategy's handler sees the first tick
 * of a socket read before the second is even handed over (as with a bare subscriber), instead of after the whole
 * read was decoded and a turn of the event loop went by. The engine's promises still hold: handlers run in order,
 * one at a time, never inside the gateway's own code, and a handler may do anything, even close the gateway.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { DateTime, EVENT_TICK, MainEngine, TickData } from "../../src/kernel/index.js";
import { RpcGateway, RpcServiceApp } from "../../src/service/index.js";
import { SimGateway } from "../../src/sim/index.js";
import { tempDir, until } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A SIM server (its own feed at the slowest rate) and an RpcGateway client with the snapshot taken. */
async function serverAndClient() {
  const server = new MainEngine({ home: tempDir("rpc-delivery-server-") });
  cleanups.push(() => server.close());
  const sim = server.addGateway(SimGateway);
  await server.connect({ data_dir: ":memory:", ticks_per_second: 0.1 }, "SIM");
  const app = server.addApp(RpcServiceApp);
  assert.ok(await app.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0", { heartbeatInterval: 200 }));
  const client = new MainEngine({ home: tempDir("rpc-delivery-client-") });
  cleanups.push(() => client.close());
  const gateway = client.addGateway(RpcGateway);
  await client.connect({ req_address: app.addresses!.rep, sub_address: app.addresses!.pub }, "RPC");
  await until(() => client.getAllContracts().length >= 2 && client.getAllAccounts().length > 0, 10_000, "the snapshot");
  const [first, second] = client.getAllContracts();
  /** Two ticks published in one turn of the server: one socket write, so (on loopback) one read. */
  const publishTwo = (marker: number) => {
    for (const contract of [first!, second!]) {
      sim.onTick(new TickData({ gateway_name: "SIM", symbol: contract.symbol, exchange: contract.exchange, datetime: DateTime.now(), volume: marker, last_price: 1 }));
    }
  };
  return { client, gateway, publishTwo, symbols: [first!.vt_symbol, second!.vt_symbol] as const };
}

test("RpcGateway: the first tick of a read reaches the handler before the second is handed over; handlers may close the gateway", async () => {
  const { client, gateway, publishTwo, symbols } = await serverAndClient();
  let marker = 424_242;
  let log: string[] = [];
  let waitingAtHandover = 0;
  let closeInHandler = false;
  const onTick = gateway.onTick.bind(gateway);
  gateway.onTick = (tick) => {
    if (tick.volume === marker) {
      if (log.length === 0) waitingAtHandover = client.eventEngine.pending;
      log.push(`handed over ${tick.vt_symbol}`);
    }
    onTick(tick);
  };
  client.eventEngine.register(EVENT_TICK, (event) => {
    if (event.data.volume !== marker) return;
    log.push(`handled ${event.data.vt_symbol}`);
    if (closeInHandler && waitingAtHandover === 0) void gateway.close();
  });
  /**
   * `deliver` rightly falls back to the queue when events already wait (the 1 s timer event, an account update):
   * those go first, and both ticks are handed over before either is handled. Such a pair proves nothing, so pairs
   * are sent until one arrives with nothing waiting (at most ten).
   */
  const sendPairWithNothingWaiting = async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      log = [];
      marker++;
      publishTwo(marker);
      await until(() => log.includes(`handled ${symbols[0]}`), 10_000, "the first tick handled");
      if (waitingAtHandover === 0) return;
      await until(() => log.length === 4, 10_000, "both ticks of a queued pair handled");
    }
    assert.fail("ten pairs in a row arrived behind a waiting event");
  };

  await sendPairWithNothingWaiting();
  await until(() => log.length === 4, 10_000, "both ticks handled");
  assert.deepEqual(log, [`handed over ${symbols[0]}`, `handled ${symbols[0]}`, `handed over ${symbols[1]}`, `handled ${symbols[1]}`]);

  // A handler that closes the gateway in the middle of a read: the rest is not handed over, and nothing throws.
  closeInHandler = true;
  await sendPairWithNothingWaiting();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(log, [`handed over ${symbols[0]}`, `handled ${symbols[0]}`], "nothing is handed over from a closed gateway's read");
  assert.equal(client.eventEngine.isActive, true);
});

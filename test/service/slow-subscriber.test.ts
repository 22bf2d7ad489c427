/**
 * rpc_service_setting.json bounds each event subscriber's queue: a subscriber that stops reading gets ticks
 * conflated (counted in the connected-clients view), and once its oldest queued event is older than
 * publish_max_lag_ms it is cut with a log line instead of being served late.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EVENT_LOG, EVENT_TICK, Event, Exchange, LogData, MainEngine, TickData, DateTime } from "../../src/kernel/index.js";
import { RPC_SETTING_FILENAME, RpcServiceApp, type RpcEngine } from "../../src/service/index.js";
import { RawPeer } from "../zmtp/raw-peer.js";
import { sleep, tempDir, until } from "./helpers.js";

function bigTick(i: number): TickData {
  const tick = new TickData({ gateway_name: "SIM", symbol: `s${i % 3}`, exchange: Exchange.SHFE, datetime: DateTime.now(), last_price: i });
  tick.extra = { blob: "x".repeat(16 * 1024) };
  return tick;
}

test("a stalled subscriber gets ticks conflated, shows its lag, and is cut with a log line past publish_max_lag_ms", async () => {
  const home = tempDir("slow-subscriber-");
  const settings = { publish_queue_messages: 500, publish_queue_bytes: 64 << 20, publish_max_lag_ms: 400 };
  writeFileSync(join(home, RPC_SETTING_FILENAME), JSON.stringify(settings));
  const mainEngine = new MainEngine({ home });
  const engine = mainEngine.addApp(RpcServiceApp) as RpcEngine;
  const logs: string[] = [];
  mainEngine.eventEngine.register(EVENT_LOG, (event) => logs.push((event.data as LogData).msg));
  let stalled: RawPeer | undefined;
  try {
    assert.equal(await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
    const saved = JSON.parse(readFileSync(join(home, RPC_SETTING_FILENAME), "utf8")) as Record<string, unknown>;
    for (const [key, value] of Object.entries(settings)) assert.equal(saved[key], value, `${key} kept in the settings file`);
    stalled = await RawPeer.connect(engine.addresses!.pub);
    stalled.handshake("SUB");
    stalled.sendCommand("SUBSCRIBE");
    await until(() => engine.server.subscribers().length === 1, 10_000, "subscribed");
    await sleep(100);
    stalled.socket.pause();
    const view = () => engine.server.subscribers()[0];
    // Ticks until the kernel buffers are full and the queue holds them (bounded, so this ends).
    for (let i = 0; (view()?.eventsConflated ?? 0) === 0 && i < 20_000; i++) {
      mainEngine.eventEngine.put(new Event(EVENT_TICK, bigTick(i)));
      if (i % 50 === 49) await sleep(5);
    }
    assert.ok((view()?.eventsConflated ?? 0) > 0, "ticks conflated for the stalled subscriber");
    mainEngine.eventEngine.put(new Event(EVENT_LOG, new LogData({ gateway_name: "T", msg: "an event that is never conflated" })));
    await until(() => (view()?.lagMs ?? 0) > 0, 10_000, "a lag shown");
    for (let i = 0; view() !== undefined && i < 1_000; i++) {
      mainEngine.eventEngine.put(new Event(EVENT_TICK, bigTick(i)));
      await sleep(10);
    }
    assert.equal(view(), undefined, "the stalled subscriber was cut");
    await until(() => logs.some((line) => /subscriber .* cut: slow subscriber: \d+ ms behind \(bound 400 ms\)/.test(line)), 10_000, "the log line");
  } finally {
    stalled?.destroy();
    await mainEngine.close();
  }
});

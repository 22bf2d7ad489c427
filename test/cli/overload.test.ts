/**
 * Issue 12's flood, bounded in time: `serve` with 20 futures at 10,000 ticks/s each (far beyond what one thread
 * can publish) and a subscriber that never reads. The old server grew 100-200 MB/s and ignored SIGTERM for a
 * minute; this one must stay under a memory ceiling, answer a plain client's calls, and stop on SIGTERM at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlainCaller, ServeProcess, stalledSubscriber, subscribeFutures } from "./overload-harness.js";

/** Generous for a loaded machine (the server idles near 100-150 MiB); the old code passed it within seconds. */
const RSS_CEILING_MIB = 500;
const FLOOD_MS = 8_000;

test("a tick flood keeps memory bounded, calls answered and SIGTERM effective", { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-overload-"));
  const server = new ServeProcess(home, ["--ticks-per-second", "10000", "--no-risk"]);
  const caller = new PlainCaller(server.rep);
  const stalled = stalledSubscriber(server.pub);
  try {
    await server.waitFor(/RPC service started successfully/);
    server.nice(10); // the flood saturates a core by design, and the suite runs two test files at once
    const symbols = await subscribeFutures(caller, 20);
    assert.equal(symbols.length, 20);
    let peak = 0;
    let calls = 0;
    const until = Date.now() + FLOOD_MS;
    while (Date.now() < until) {
      await caller.call("get_all_accounts"); // a legitimate client is still served (30 s timeout per call)
      calls++;
      peak = Math.max(peak, server.rssMiB());
      assert.ok(!(peak > RSS_CEILING_MIB), `RSS ${peak.toFixed(0)} MiB passed the ${RSS_CEILING_MIB} MiB ceiling`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(calls >= 5, `only ${calls} calls answered in ${FLOOD_MS} ms`);
    const tick = await caller.call<{ vt_symbol: string } | null>("get_tick", [symbols[0]]);
    assert.equal(tick?.vt_symbol, symbols[0], "ticks are flowing");

    const stop = await server.stop("SIGTERM", 10_000);
    assert.ok(stop.code === 0 || stop.code === 1, `exit code ${stop.code}`);
    assert.match(server.output, /received SIGTERM, stopping/);
  } finally {
    stalled.close();
    caller.close();
    server.kill();
    rmSync(home, { recursive: true, force: true });
  }
});

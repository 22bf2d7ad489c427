/**
 * The chaos test, short and with a fixed seed: every fault kind once (rpc stop, kill -9 + restart, a stalled and a
 * dropped proxy connection) against a real `rpcservice serve`, three clients and a trader; then kill -9 + restart
 * of a Python VeighNa server behind RpcGateway. `npm run chaos` runs random seeds with longer schedules.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runChaos, runVeighNaChaos } from "./chaos.js";
import { pythonZmqMissing } from "./helpers.js";

const hasZmq = pythonZmqMissing === false;
const log = (line: string) => process.stderr.write(`${line}\n`);

describe("chaos", () => {
  it("seed 20261204: after every fault heals, all three clients agree with the server, hear ticks, lost nothing", async () => {
    const reports = await runChaos({ seed: 20261204, faults: 4, maxOutage: 2_500, healBound: 30_000, python: hasZmq, log });
    assert.deepEqual(reports.map((r) => r.kind).sort(), ["drop", "kill", "rpc-stop", "stall"]);
  });

  it("seed 7: a Python VeighNa server killed and restarted within a second is noticed, re-subscribed, traded with", { skip: !hasZmq && "needs python3-zmq" }, async () => {
    const heals = await runVeighNaChaos({ seed: 7, rounds: 2, healBound: 30_000, log });
    assert.equal(heals.length, 2);
  });
});

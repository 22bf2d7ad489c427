/** `rpcservice serve` as a real process, steered by the other subcommands, stopped by SIGTERM. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CliProcess, assertOneErrorLine, cli, serve, tempHome } from "./helpers.js";

test("serve runs the simulated exchange, RPC service and console; status, risk and rpc commands steer it from --home; SIGTERM stops it", async () => {
  const temp = tempHome("rpcservice-serve-");
  const served = await serve(temp.dir, ["--ticks-per-second", "5"]);
  try {
    // Both ZeroMQ addresses are printed beside the console URL: what a client needs.
    assert.match(served.process.stdout, new RegExp(`request/reply: ${served.rep}`));
    assert.match(served.process.stdout, new RegExp(`broadcast: +${served.pub}`));
    // Only --home: the console (on a port chosen at start) is found from the server's record.
    const home = ["--home", served.home];
    const status = await cli(["status", ...home]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /RPC service: running/);
    assert.ok(status.stdout.includes(served.rep) && status.stdout.includes(served.pub), status.stdout);
    assert.match(status.stdout, /trading state: ACTIVE/);

    // The figures /metrics serves: the process, the gateway, and the calls (status's own rpc_status among them).
    assert.match(status.stdout, /process: cpu \d+ %/);
    assert.match(status.stdout, /gateways: SIM connected/);
    assert.match(status.stdout, /rpc_status @console/);

    const changed = await cli(["risk", "set", "order_size", "order_volume_limit=7", ...home]);
    assert.match(changed.stdout, /order_volume_limit = 7/);
    const saved = JSON.parse(readFileSync(join(served.home, "risk_manager_setting.json"), "utf8")) as Record<string, Record<string, unknown>>;
    assert.equal(saved["order_size"]?.["order_volume_limit"], 7);

    assert.match((await cli(["risk", "state", "halted", ...home])).stdout, /trading state: HALTED/);
    assert.match((await cli(["rpc", "stop", ...home])).stdout, /RPC service stopped/);
    await served.process.waitFor(/INFO +RpcService +RPC service stopped/);
    // An explicit --console still wins over the record.
    const started = await cli(["rpc", "start", "--console", served.consoleUrl, "--home", join(temp.dir, "elsewhere")]);
    assert.match(started.stdout, new RegExp(`RPC service started: request/reply ${served.rep}`));

    const settings = JSON.parse(readFileSync(join(served.home, "rpc_service_setting.json"), "utf8")) as Record<string, string>;
    assert.equal(settings["rep_address"], served.rep);
    assert.equal(settings["pub_address"], served.pub);

    assert.ok(existsSync(join(served.home, "server.json")));
    served.process.kill("SIGTERM");
    assert.equal(await served.process.exited(), 0);
    assert.ok(!existsSync(join(served.home, "server.json")), "a clean stop removes the record");
    assertOneErrorLine(await cli(["status", ...home]), /no running server recorded in .*server\.json.*rpcservice serve --home/);
  } finally {
    served.process.kill();
    temp.remove();
  }
});

test("after kill -9 the record is left behind, and the steering commands say the server is no longer running", async () => {
  const temp = tempHome("rpcservice-serve-");
  const served = await serve(temp.dir);
  try {
    served.process.kill("SIGKILL");
    await served.process.exited();
    assert.ok(existsSync(join(served.home, "server.json")));
    assertOneErrorLine(await cli(["status", "--home", served.home]), /server recorded in .*server\.json \(pid \d+\) is no longer running.*rpcservice serve/);
  } finally {
    temp.remove();
  }
});

test("serve refuses an unknown transport with a clear message", async () => {
  const result = await cli(["serve", "--transport", "carrier-pigeon"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /carrier-pigeon.*invalid|Allowed choices/is);
});

test("serve without a console exits non-zero with the RPC service's reason when it cannot start", async () => {
  const temp = tempHome("rpcservice-serve-");
  try {
    const server = new CliProcess(["serve", "--home", temp.dir, "--no-console", "--rep", "udp://127.0.0.1:2014", "--pub", `ipc://${join(temp.dir, "pub.sock")}`]);
    assert.equal(await server.exited(), 1);
    assertOneErrorLine({ code: 1, stdout: server.stdout, stderr: server.stderr }, /RPC service did not start on udp:\/\/127\.0\.0\.1:2014.*unsupported transport udp:\/\/.*tcp:\/\/127\.0\.0\.1:2014/);
    assert.doesNotMatch(server.output, /console can start it/);
    assert.ok(!existsSync(join(temp.dir, "server.json")));
  } finally {
    temp.remove();
  }
});

/**
 * Every ordinary mistake, on the real commands: one `error: …` line naming what was tried and how to change it,
 * exit code 1, no stack trace.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { CliProcess, assertOneErrorLine, cli, serve, tempHome, type Served } from "./helpers.js";

const temp = tempHome("rpcservice-errors-");
let served: Served;
let home: string[];

before(async () => {
  served = await serve(temp.dir);
  home = ["--home", served.home];
});

after(async () => {
  await served?.stop();
  temp.remove();
});

/** A TCP port that something else listens on, for the "address in use" cases. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return { port: address.port, server };
}

test("risk set with a value out of range names the rule, the parameter and the bound", async () => {
  assertOneErrorLine(await cli(["risk", "set", "order_size", "order_volume_limit=-5", ...home]), /order_size.*order_volume_limit.*must be >= 0, got -5/);
});

test("risk set with an unknown rule says so", async () => {
  assertOneErrorLine(await cli(["risk", "set", "no_such_rule", "active=false", ...home]), /risk_update_rule.*no_such_rule/);
});

test("risk set with a malformed assignment shows the expected form", async () => {
  assertOneErrorLine(await cli(["risk", "set", "order_size", "order_volume_limit", ...home]), /expected key=value/);
});

test("risk state with an unknown state lists the states", async () => {
  assertOneErrorLine(await cli(["risk", "state", "sleepy", ...home]), /state must be one of ACTIVE, HALTED, REDUCING/);
});

test("status with no server in --home says where it looked and how to start one", async () => {
  assertOneErrorLine(await cli(["status", "--home", join(temp.dir, "empty")]), /no running server recorded in .*empty.*server\.json.*rpcservice serve --home/);
});

test("status, risk and rpc pointed at a console where none listens say what they tried", async () => {
  const { port, server } = await occupiedPort();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const args of [["status"], ["risk", "list"], ["rpc", "stop"]]) {
    assertOneErrorLine(
      await cli([...args, "--console", `http://127.0.0.1:${port}`, "--home", join(temp.dir, "empty")]),
      new RegExp(`cannot reach the server's console at ws://127\\.0\\.0\\.1:${port}/console \\(from --console\\): .*ECONNREFUSED.*--console`),
    );
  }
});

test("rpc start reports the server's own reason: the address is in use", async () => {
  const { port, server } = await occupiedPort();
  try {
    assert.equal((await cli(["rpc", "stop", ...home])).code, 0);
    const result = await cli(["rpc", "start", "--rep", `tcp://127.0.0.1:${port}`, "--pub", "tcp://127.0.0.1:0", ...home]);
    assertOneErrorLine(result, new RegExp(`did not start on tcp://127\\.0\\.0\\.1:${port}.*EADDRINUSE.*another process uses that address`));
  } finally {
    server.close();
    await cli(["rpc", "start", "--rep", served.rep, "--pub", served.pub, ...home]);
  }
});

test("rpc start reports an unsupported transport and shows the address forms", async () => {
  assert.equal((await cli(["rpc", "stop", ...home])).code, 0);
  try {
    const result = await cli(["rpc", "start", "--rep", "udp://127.0.0.1:2014", "--pub", "tcp://127.0.0.1:0", ...home]);
    assertOneErrorLine(result, /unsupported transport udp:\/\/.*addresses look like tcp:\/\//);
  } finally {
    await cli(["rpc", "start", "--rep", served.rep, "--pub", served.pub, ...home]);
  }
});

test("rpc start while running says so and how to stop it", async () => {
  assertOneErrorLine(await cli(["rpc", "start", ...home]), /already running.*rpcservice rpc stop/);
});

test("client with a malformed address is a usage error before anything connects", async () => {
  assertOneErrorLine(await cli(["client", "--req", "tcp//127.0.0.1:2014", "--exit-after", "5"]), /--req tcp\/\/127\.0\.0\.1:2014 is not an address: malformed endpoint.*tcp:\/\/127\.0\.0\.1:2014/);
});

test("client with an order flag missing its price shows the expected form", async () => {
  const result = await cli(["client", "--sell", "rb2701.SHFE"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: .*expected VT_SYMBOL@PRICE\[xVOLUME\].*got "rb2701\.SHFE"/);
});

test("client pointed at the console's HTTP port is told it is the wrong peer, not to try CURVE", async () => {
  const port = new URL(served.consoleUrl).port;
  const result = await cli(["client", "--req", `tcp://127.0.0.1:${port}`, "--sub", `tcp://127.0.0.1:${port}`, "--exit-after", "3"]);
  const line = assertOneErrorLine(result, new RegExp(`never connected to tcp://127\\.0\\.0\\.1:${port}: malformed greeting.* is not the RPC server's socket .*not its console`));
  assert.doesNotMatch(line + result.stdout, /CURVE/);
});

test("client with --req and --sub swapped is told the socket types do not match, not to try CURVE", async () => {
  const result = await cli(["client", "--req", served.pub, "--sub", served.rep, "--exit-after", "3"]);
  // Whichever socket meets the wrong peer first says so.
  const line = assertOneErrorLine(result, /never connected to .*pub\.sock: peer socket type (PUB|ROUTER) cannot talk to (DEALER|SUB): .*is req_address its request\/reply address/);
  assert.doesNotMatch(line + result.stdout, /CURVE/);
});

test("serve with the console port taken exits with the port and how to choose another", async () => {
  const { port, server } = await occupiedPort();
  try {
    const dir = join(temp.dir, "taken");
    const result = await cli(["serve", "--home", dir, "--rep", `ipc://${join(temp.dir, "taken-rep.sock")}`, "--pub", `ipc://${join(temp.dir, "taken-pub.sock")}`, "--console-port", String(port)]);
    assertOneErrorLine(result, new RegExp(`console did not start: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*--console-port`));
  } finally {
    server.close();
  }
});

test("client at an address where nothing answers keeps saying it is still trying, and --exit-after exits non-zero", async () => {
  // An ipc path nobody binds (a freed tcp port could be taken by another test meanwhile).
  const address = `ipc://${join(temp.dir, "nobody.sock")}`;
  const run = new CliProcess(["client", "--req", address, "--sub", address, "--no-ticks", "--exit-after", "8"]);
  try {
    await run.waitFor(new RegExp(`still trying ${address}: no answer for \\d+ s`));
    assert.equal(await run.exited(), 1);
    assertOneErrorLine({ code: 1, stdout: run.stdout, stderr: run.stderr }, new RegExp(`never connected to ${address}: no answer; is the server running`));
  } finally {
    run.kill();
  }
});

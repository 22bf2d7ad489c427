import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../src/cli/serve-command.js";
import { formatLog, logPrinter } from "../../src/cli/log-printer.js";
import { LogData } from "../../src/kernel/index.js";

test("--log-format json writes one pino JSON object per log line, with level, time, source and message", async () => {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-logformat-"));
  const lines: string[] = [];
  const server = await startServer({
    home,
    language: "en",
    rep: `ipc://${join(home, "rep.sock")}`,
    pub: `ipc://${join(home, "pub.sock")}`,
    risk: false,
    console: null,
    sim: { ticksPerSecond: 1 },
    logFormat: "json",
    log: (line) => lines.push(line),
  });
  try {
    const find = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((r) => r["msg"] === "RPC service started successfully");
    // Log lines travel as events: the engine may print this one just after start returns.
    for (let i = 0; i < 200 && !find(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const started = find();
    assert.ok(started, lines.join("\n"));
    assert.equal(started["level"], 30);
    assert.equal(started["source"], "RpcService");
    assert.match(String(started["time"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(started["pid"], process.pid);
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

test("the human format stays the default: time, level, source, message", () => {
  const lines: string[] = [];
  const printer = logPrinter("human", (line) => lines.push(line));
  const log = new LogData({ msg: "hello", gateway_name: "SIM", level: 30 });
  printer.log(log);
  printer.log(new LogData({ msg: "bad", gateway_name: "SIM", level: 40 }));
  assert.equal(lines[0], formatLog(log));
  assert.match(lines[0]!, /WARN +SIM +hello$/);
  assert.match(lines[1]!, /ERROR +SIM +bad$/);
});

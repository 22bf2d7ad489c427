/** Bad state files stop the start with a way out; a full disk is a log line; attacker text never forges a log line. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as zmq from "zeromq";
import { EVENT_LOG, MainEngine, SettingsError, loadJsonSetting, saveJsonSetting, useSettingsIo } from "../../src/kernel/index.js";
import { RISK_SETTING_FILENAME, RiskManagerApp } from "../../src/risk/index.js";
import { RPC_SETTING_FILENAME, RpcServiceApp, type RpcEngine } from "../../src/service/index.js";
import { SimGateway, SimStore, resetJournal } from "../../src/sim/index.js";
import { encodeRequest } from "../../src/codec/index.js";
import { tempDir, until } from "./helpers.js";

const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });

test("wrong-typed RPC settings stop the start naming the file and every bad field; they are never replaced by defaults", () => {
  const home = tempDir("bad-settings-");
  writeFileSync(join(home, RPC_SETTING_FILENAME), JSON.stringify({ rep_address: "tcp://127.0.0.1:2014", curve: "yes", cancel_policy: "mine", cancel_polcy: "own" }));
  const before = readFileSync(join(home, RPC_SETTING_FILENAME), "utf8");
  const mainEngine = new MainEngine({ home });
  try {
    assert.throws(
      () => mainEngine.addApp(RpcServiceApp),
      (error: unknown) =>
        error instanceof SettingsError &&
        error.message.includes(RPC_SETTING_FILENAME) &&
        /"curve" [^;]*"yes"/.test(error.message) &&
        /"cancel_policy" [^;]*"mine"/.test(error.message) &&
        /"cancel_polcy" is unknown; known settings: rep_address, pub_address/.test(error.message),
    );
    assert.equal(readFileSync(join(home, RPC_SETTING_FILENAME), "utf8"), before, "the file is left as it was");
  } finally {
    void mainEngine.close();
  }
});

test("zero-length and wrong-shaped settings files are errors naming the file", () => {
  const home = tempDir("empty-settings-");
  writeFileSync(join(home, RPC_SETTING_FILENAME), "");
  assert.throws(() => loadJsonSetting(home, RPC_SETTING_FILENAME), (error: unknown) => error instanceof SettingsError && /rpc_service_setting\.json is not a valid settings file: the file is empty/.test(error.message));
  writeFileSync(join(home, RISK_SETTING_FILENAME), JSON.stringify({ order_size: 500 }));
  const mainEngine = new MainEngine({ home });
  try {
    assert.throws(() => mainEngine.addApp(RiskManagerApp), (error: unknown) => error instanceof SettingsError && error.message.includes(RISK_SETTING_FILENAME) && /order_size/.test(error.message));
  } finally {
    void mainEngine.close();
  }
});

test("a settings file the server did not change is not rewritten", async () => {
  const home = tempDir("unchanged-settings-");
  const mainEngine = new MainEngine({ home });
  const engine = mainEngine.addApp(RpcServiceApp) as RpcEngine;
  try {
    assert.equal(await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
    const path = join(home, RPC_SETTING_FILENAME);
    const first = statSync(path);
    await engine.stop();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
    assert.equal(statSync(path).mtimeMs, first.mtimeMs, "same settings: the file is not touched");
    assert.equal(statSync(path).ino, first.ino, "not even replaced by an identical copy");
    assert.equal(saveJsonSetting(home, RPC_SETTING_FILENAME, JSON.parse(readFileSync(path, "utf8")) as object), false);
  } finally {
    await mainEngine.close();
  }
});

test("a full disk: the save fails with a SettingsError, the old file stays whole, no temp file is left", () => {
  const home = tempDir("enospc-");
  saveJsonSetting(home, "a.json", { value: 1 });
  const restore = useSettingsIo({ writeSync: () => { throw enospc(); } });
  try {
    assert.throws(() => saveJsonSetting(home, "a.json", { value: 2 }), (error: unknown) => error instanceof SettingsError && /cannot save .*a\.json: ENOSPC/.test(error.message));
  } finally {
    restore();
  }
  assert.deepEqual(loadJsonSetting(home, "a.json"), { value: 1 });
  assert.deepEqual(readdirSync(home), ["a.json"]);
});

test("a full disk at start: the RPC service runs and says in an error line that its settings were not saved", async () => {
  const home = tempDir("enospc-start-");
  const mainEngine = new MainEngine({ home });
  const logs: Array<[number, string]> = [];
  mainEngine.eventEngine.register(EVENT_LOG, (e) => logs.push([e.data.level, e.data.msg]));
  const engine = mainEngine.addApp(RpcServiceApp) as RpcEngine;
  const restore = useSettingsIo({ writeSync: () => { throw enospc(); } });
  try {
    assert.equal(await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
    assert.equal(engine.isActive, true);
    mainEngine.eventEngine.flush();
    assert.ok(logs.some(([level, msg]) => level === 40 && /RPC settings not saved .*ENOSPC/.test(msg)), JSON.stringify(logs));
    assert.equal(existsSync(join(home, RPC_SETTING_FILENAME)), false);
    assert.deepEqual(readdirSync(home).filter((name) => name.endsWith(".tmp")), []);
  } finally {
    restore();
    await mainEngine.close();
  }
});

test("a zero-length or damaged venue journal stops the connect naming the file, the backup and --reset-journal", () => {
  const dir = tempDir("journal-");
  const store = new SimStore(dir);
  store.close();
  assert.ok(existsSync(join(dir, "sim.db.bak")), "a clean close keeps the last good copy");

  writeFileSync(join(dir, "sim.db"), "");
  assert.throws(() => new SimStore(dir), (error: unknown) => /sim\.db is empty \(0 bytes\).*sim\.db\.bak.*--reset-journal/.test((error as Error).message));
  writeFileSync(join(dir, "sim.db"), Buffer.alloc(8192, 0x5a));
  assert.throws(() => new SimStore(dir), (error: unknown) => /venue journal .*sim\.db.*--reset-journal/.test((error as Error).message));

  const aside = resetJournal(dir, new Date(0));
  assert.ok(aside && existsSync(aside), "moved aside, kept");
  const fresh = new SimStore(dir);
  assert.equal(fresh.load().orders.length, 0);
  fresh.close();
});

test("the SIM gateway refuses to start on an empty journal instead of opening an empty venue", async () => {
  const home = tempDir("sim-empty-");
  mkdirSync(join(home, "sim"), { recursive: true });
  writeFileSync(join(home, "sim", "sim.db"), "");
  const mainEngine = new MainEngine({ home });
  mainEngine.addGateway(SimGateway);
  try {
    await assert.rejects(mainEngine.connect({ data_dir: join(home, "sim") }, "SIM"), /sim\.db is empty/);
    assert.equal(statSync(join(home, "sim", "sim.db")).size, 0, "the journal is left for the operator");
  } finally {
    await mainEngine.close();
  }
});

test("attacker text in function names and greetings is escaped, cut and rate-limited in the log", async () => {
  const home = tempDir("log-injection-");
  const mainEngine = new MainEngine({ home });
  const logs: string[] = [];
  mainEngine.eventEngine.register(EVENT_LOG, (e) => logs.push(e.data.msg));
  const engine = mainEngine.addApp(RpcServiceApp) as RpcEngine;
  const req = new zmq.Request({ linger: 0, receiveTimeout: 5_000 });
  try {
    assert.equal(await engine.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), true);
    req.connect(engine.addresses!.rep);
    const forged = `x\n2026-12-04 10:00:00 INFO RpcService forged line ${"A".repeat(900_000)}`;
    await req.send(encodeRequest(forged, [], {}));
    const [reply] = await req.receive();
    assert.ok(reply && reply.length > 0, "the caller still gets its error reply");
    for (let i = 0; i < 300; i++) {
      await req.send(encodeRequest(`unknown_${i}`, [], {}));
      await req.receive();
    }
    mainEngine.eventEngine.flush();
    const about = logs.filter((line) => /failed: /.test(line) && line.startsWith("RPC "));
    assert.ok(about.length >= 1 && about.length <= 5, `${about.length} lines for 301 unknown functions`);
    const first = about[0]!;
    assert.ok(!first.includes("\n"), "no raw newline");
    assert.match(first, /x\\n2026-12-04/);
    assert.match(first, /… \(900\d+ chars\)/);
    assert.ok(first.length < 2_000, `line of ${first.length} chars`);
    assert.ok(logs.every((line) => line.length <= 4_100), "every log event is bounded");

    // A ZMTP greeting with a forged mechanism name.
    const { connect } = await import("node:net");
    const port = Number(/:(\d+)$/.exec(engine.addresses!.rep)![1]);
    const raw = connect(port, "127.0.0.1");
    const greeting = Buffer.alloc(64);
    greeting[0] = 0xff;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    greeting[11] = 1;
    greeting.write("N\nFORGED\x1b[2J", 12, "latin1");
    raw.on("error", () => {});
    raw.write(greeting);
    await until(() => (mainEngine.eventEngine.flush(), logs.some((line) => /refused: peer mechanism/.test(line))), 10_000, "the refusal line");
    raw.destroy();
    const refusal = logs.find((line) => /refused: peer mechanism/.test(line))!;
    assert.match(refusal, /N\\nFORGED\\x1b\[2J/);
  } finally {
    req.close();
    await mainEngine.close();
  }
});

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadJsonSetting, saveJsonSetting, SettingsError } from "../../src/kernel/index.js";

test("settings files: missing is empty, saved is read back, broken is a typed error naming the file", () => {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-settings-"));
  try {
    assert.deepEqual(loadJsonSetting(home, "absent.json"), {});
    saveJsonSetting(home, "nested/rpc_service_setting.json", { rep_address: "tcp://*:2014", pub_address: "tcp://*:4102" });
    assert.deepEqual(loadJsonSetting(home, "nested/rpc_service_setting.json"), { rep_address: "tcp://*:2014", pub_address: "tcp://*:4102" });
    assert.deepEqual(readdirSync(join(home, "nested")), ["rpc_service_setting.json"], "no temp file is left behind");
    writeFileSync(join(home, "broken.json"), "{ not json");
    assert.throws(() => loadJsonSetting(home, "broken.json"), (error: unknown) => error instanceof SettingsError && error.code === "ERR_SETTINGS" && error.message.includes("broken.json"));
    writeFileSync(join(home, "list.json"), "[1, 2]");
    assert.throws(() => loadJsonSetting(home, "list.json"), /not a JSON object/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

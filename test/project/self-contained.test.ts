/**
 * A clone of the repository must test itself: no tracked source reads the folder beside the clone or an
 * absolute path of one machine, and the test data the suite needs is inside the repository.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot, vnpyWireDir } from "../fixtures/paths.js";

/** The steering folder beside a clone (`..` then `/shared`) or a machine's absolute work path. */
const OUTSIDE = /\.\.\/shared|(^|[^A-Za-z0-9_.])\/(work|farm|home|root|Users)\//;

function trackedFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "src", "test", "bench", "scripts", ".ci", "package.json"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  return out.split("\n").filter((f) => f !== "" && !f.startsWith("test/fixtures/vnpy-wire/"));
}

describe("the repository is self-contained", { skip: !existsSync(join(repoRoot, ".git")) && "not a git checkout" }, () => {
  it("reads nothing beside the clone and no absolute machine path", () => {
    const offenders = trackedFiles().flatMap((file) => {
      const path = join(repoRoot, file);
      if (!existsSync(path)) return [];
      return readFileSync(path, "utf8")
        .split("\n")
        .flatMap((line, i) => (OUTSIDE.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
    });
    assert.deepEqual(offenders, []);
  });

  it("carries the captured VeighNa frames it tests against", () => {
    const index = JSON.parse(readFileSync(join(vnpyWireDir, "index.json"), "utf8")) as { fixtures?: unknown };
    assert.ok(index.fixtures !== undefined, "index.json lists the fixtures");
    for (const name of ["pub_tick.pkl", "rep_get_all_contracts_1000.pkl", "README.md", "py310-313/index.json"]) {
      assert.ok(existsSync(join(vnpyWireDir, name)), `${name} is in test/fixtures/vnpy-wire`);
    }
  });
});

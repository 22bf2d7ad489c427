/**
 * `npm run chaos [-- --seed N] [-- --faults N] [-- --runs N]`: the chaos schedule with a random seed (printed first,
 * so a failure can be replayed with --seed) and a longer schedule than `npm test`'s, outages up to 8 s, then the
 * VeighNa-upstream chaos with the same seed. --runs N repeats with N different seeds and stops at the first failure.
 */
import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { runChaos, runVeighNaChaos } from "./chaos.js";
import { pythonZmqMissing } from "./helpers.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    faults: { type: "string", default: "12" },
    runs: { type: "string", default: "1" },
  },
});
const hasZmq = pythonZmqMissing === false;
if (!hasZmq) console.log(`${pythonZmqMissing}: the Python client and the VeighNa-upstream chaos are left out`);
const runs = Number(values.runs);
const results: string[] = [];
for (let run = 0; run < runs; run++) {
  const seed = values.seed !== undefined && run === 0 ? Number(values.seed) : randomInt(1, 2 ** 31);
  console.log(`chaos seed ${seed} (replay: npm run chaos -- --seed ${seed})`);
  const started = Date.now();
  try {
    const reports = await runChaos({ seed, faults: Number(values.faults), maxOutage: 8_000, healBound: 30_000, python: hasZmq, log: console.log });
    const heals = hasZmq ? await runVeighNaChaos({ seed, rounds: 4, healBound: 30_000, log: console.log }) : [];
    const worst = Math.max(...reports.map((r) => r.healedIn), ...heals);
    results.push(`seed ${seed}: PASS, ${reports.length} faults + ${heals.length} VeighNa restarts, slowest heal ${worst} ms, ${Math.round((Date.now() - started) / 1000)} s`);
    console.log(results.at(-1));
  } catch (error) {
    results.push(`seed ${seed}: FAIL: ${(error as Error).message}`);
    console.log(results.join("\n"));
    process.exit(1);
  }
}
console.log(results.join("\n"));
process.exit(0);

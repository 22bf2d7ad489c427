/**
 * Are this machine's CPUs alike? The same two workloads on each CPU in turn (a process pinned with taskset), in
 * alternating rounds: cache-bound work of the kind the codec and the engines do (Map lookups by string, reads of
 * objects scattered over the heap, short-lived allocations), against plain arithmetic as the baseline. On the
 * shared VM these benches run on, one vCPU was often ~1.7× slower than the other at the first and not at the second,
 * and which one changed over minutes: why bench/rpc pins its servers and workers (placeBench in workers.ts).
 *
 *   node dist/bench/cpus.bench.js [rounds, default 4]
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { median } from "./workers.js";

interface Timing {
  cacheMs: number;
  arithmeticMs: number;
}

/** Both workloads once, in this process; ms each. */
function workloads(): Timing {
  const map = new Map<string, { v: number }>();
  for (let i = 0; i < 1_000; i++) map.set(`key${i}`, { v: i });
  const keys = [...map.keys()];
  const objects = Array.from({ length: 100_000 }, (_, i) => ({ a: i, b: i + 1 }));
  let sink = 0;
  let t0 = performance.now();
  for (let r = 0; r < 5_000; r++) for (let i = 0; i < keys.length; i++) sink += map.get(keys[i]!)!.v;
  for (let r = 0; r < 50; r++) for (let i = 0; i < objects.length; i++) sink += objects[(i * 7_919) % objects.length]!.a;
  let kept: { i: number }[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    kept.push({ i });
    if (kept.length > 1_000) kept = [];
  }
  const cacheMs = performance.now() - t0;
  t0 = performance.now();
  let x = sink | 0;
  for (let i = 0; i < 100_000_000; i++) x = (x * 31 + i) | 0;
  return { cacheMs, arithmeticMs: performance.now() - t0 + (x === 0.5 ? 1 : 0) };
}

const SELF = fileURLToPath(import.meta.url);
if (process.argv[2] === "--worker") {
  process.stdout.write(JSON.stringify(workloads()));
} else {
  const rounds = Number(process.argv[2] ?? 4);
  const cpus = availableParallelism();
  const timings = new Map<number, Timing[]>(Array.from({ length: cpus }, (_, cpu) => [cpu, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < cpus; k++) {
      const cpu = round % 2 === 0 ? k : cpus - 1 - k;
      const run = spawnSync("taskset", ["-c", String(cpu), process.execPath, SELF, "--worker"], { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`taskset -c ${cpu} failed: ${run.stderr || run.error?.message}`);
      timings.get(cpu)!.push(JSON.parse(run.stdout) as Timing);
    }
  }
  const ms = (values: number[]) => values.map((v) => v.toFixed(0)).join(" ");
  console.log(`The same workloads on each CPU, ${rounds} alternating rounds, ms (lower is faster)`);
  console.log("| CPU | cache-bound, each round | median | arithmetic (baseline), each round | median |\n|---|---|---|---|---|");
  const medians = [...timings].map(([cpu, runs]) => {
    const cache = runs.map((r) => r.cacheMs);
    const arithmetic = runs.map((r) => r.arithmeticMs);
    console.log(`| ${cpu} | ${ms(cache)} | ${median(cache).toFixed(0)} | ${ms(arithmetic)} | ${median(arithmetic).toFixed(0)} |`);
    return { cache: median(cache), arithmetic: median(arithmetic) };
  });
  const spread = (key: keyof (typeof medians)[number]) => Math.max(...medians.map((m) => m[key])) / Math.min(...medians.map((m) => m[key]));
  console.log(`slowest CPU over fastest (medians): cache-bound ${spread("cache").toFixed(2)}×, arithmetic ${spread("arithmetic").toFixed(2)}×`);
}

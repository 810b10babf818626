// Section "runner": bench/runner.bench.ts on Node, Bun and Deno, each pinned to the server core.
// Issue 2 goals: ≥ 1,000,000 no-op tasks/s through addTask → run, ≤ 300 heap bytes per queued task.
import { spawn } from "node:child_process";
import { pinned, readJsonLine, sleep } from "../lib/proc.mjs";
import { formatNumber, pairedRatios, summarize } from "../lib/stats.mjs";
import { runtimes } from "./runtimes.mjs";

export const GOAL_TASKS_PER_S = 1_000_000;
export const GOAL_BYTES_PER_TASK = 300;

function runFile(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err.slice(-2000)}`))));
  });
}

export async function run(ctx) {
  const result = {
    goals: { noopTasksPerSecond: GOAL_TASKS_PER_S, heapBytesPerQueuedTask: GOAL_BYTES_PER_TASK },
    harness:
      "mitata measure() per batch (p50 of samples), rounds interleaved ours/baseline; baseline = minimal FIFO runner with the same concurrency",
    runtimes: {},
  };
  for (const name of ["node", "bun", "deno"]) {
    const rt = runtimes[name];
    if (!rt.available()) {
      ctx.log(`  ${rt.label}: skipped: not installed; ${rt.install}`);
      result.runtimes[name] = { skipped: `not installed (${rt.install})` };
      continue;
    }
    const [cmd, args] = pinned("server", ...rt.command("bench/runner.bench.ts", rt.gcFlags));
    ctx.log(`  ${rt.label}: ${[cmd, ...args].join(" ").replace(/\S*node_modules\/\.bin\//g, "")}`);
    try {
      let out;
      for (let attempt = 1;; attempt++) {
        try {
          out = await runFile(cmd, args, { BENCH_QUICK: ctx.quick ? "1" : "0", BENCH_ROUNDS: String(ctx.pairs) });
          break;
        } catch (error) {
          // dist/ vanishes for a few seconds while someone rebuilds it on a shared working tree.
          if (attempt >= 6 || !/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(error.message)) throw error;
          ctx.log("    (a module was missing, dist/ is probably being rebuilt; retrying in 5 s)");
          await sleep(5000);
        }
      }
      const raw = readJsonLine(out, "RUNNER_JSON");
      const throughput = {};
      for (const [key, { ours, baseline }] of Object.entries(raw.throughput)) {
        throughput[key] = { ours: summarize(ours), baseline: summarize(baseline), ratio: pairedRatios(baseline, ours) };
        ctx.log(
          `    ${key.padEnd(22)} ${fmtRate(throughput[key].ours)} tasks/s, baseline ${fmtRate(throughput[key].baseline)}, ratio ${
            throughput[key].ratio.median.toFixed(2)
          }`,
        );
      }
      const memory = {};
      for (const [count, { ours, baseline }] of Object.entries(raw.memory)) {
        memory[count] = { ours: summarize(ours), baseline: summarize(baseline), ratio: pairedRatios(baseline, ours) };
        ctx.log(
          `    ${(Number(count).toLocaleString("en") + " queued").padEnd(22)} ${memory[count].ours.median.toFixed(0)} B/task (${
            memory[count].ours.min.toFixed(0)
          }–${memory[count].ours.max.toFixed(0)}), baseline ${memory[count].baseline.median.toFixed(0)} B/task`,
        );
      }
      const noop = throughput["noop c=unbounded"].ours;
      const worstBytes = Math.max(...Object.values(memory).map((m) => m.ours.median));
      result.runtimes[name] = {
        throughput,
        memory,
        goalsMet: { noopTasksPerSecond: noop.median >= GOAL_TASKS_PER_S, heapBytesPerQueuedTask: worstBytes <= GOAL_BYTES_PER_TASK },
      };
    } catch (error) {
      ctx.log(`    failed: ${error.message}`);
      result.runtimes[name] = { error: String(error.message).slice(0, 2000) };
    }
  }
  return result;
}

const fmtRate = (s) => `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})`;

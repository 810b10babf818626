// Section "worker": bench/worker/measure.mjs on Node, Bun and Deno (unpinned: the pool's threads
// need cores of their own). Goals: the pool dispatches ≥ 50,000 no-op tasks/s; four 400 ms
// CPU-bound tasks delay the main thread's timers by < 60 ms.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { bin, readJsonLine, root } from "../lib/proc.mjs";
import { formatNumber, summarize } from "../lib/stats.mjs";

export const GOAL_TASKS_PER_S = 50_000;
export const GOAL_TIMER_DELAY_MS = 60;

const commands = {
  node: [process.execPath, []],
  bun: [bin("bun"), []],
  deno: [bin("deno"), ["run", "-A"]],
};

function runFile(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
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
    goals: { noopTasksPerSecond: GOAL_TASKS_PER_S, timerDelayMs: GOAL_TIMER_DELAY_MS },
    harness:
      "WorkerTaskRunner with 2 threads; bursts of 100,000 no-op tasks; a 1 ms timer chain on the main thread during four 400 ms tasks",
    runtimes: {},
  };
  for (const [name, [cmd, pre]] of Object.entries(commands)) {
    const args = [...pre, join(root, "bench/worker/measure.mjs")];
    ctx.log(`  ${name}: ${[cmd, ...args].join(" ").replace(/\S*node_modules\/\.bin\//g, "").replace(root + "/", "")}`);
    try {
      const raw = readJsonLine(await runFile(cmd, args, { BENCH_QUICK: ctx.quick ? "1" : "0" }), "WORKER_JSON");
      const throughput = Object.fromEntries(Object.entries(raw.throughput).map(([k, v]) => [k, summarize(v)]));
      const roundTripUs = summarize(raw.roundTripUs);
      const timerDelayMaxMs = Object.fromEntries(Object.entries(raw.timerDelay).map(([k, v]) => [k, summarize(v.map((x) => x.maxMs))]));
      ctx.log(`    round trip (one task, idle pool) ${roundTripUs.median.toFixed(0)} µs`);
      for (const [k, s] of Object.entries(throughput)) {
        ctx.log(`    ${k.padEnd(16)} ${formatNumber(s.median)} tasks/s (${formatNumber(s.min)}–${formatNumber(s.max)})`);
      }
      for (const [k, s] of Object.entries(timerDelayMaxMs)) {
        ctx.log(`    timer delay, ${k.padEnd(22)} worst ${s.median.toFixed(1)} ms (${s.min.toFixed(1)}–${s.max.toFixed(1)})`);
      }
      result.runtimes[name] = {
        roundTripUs,
        throughput,
        timerDelayMaxMs,
        goalsMet: {
          noopTasksPerSecond: throughput["noop c=256"].median >= GOAL_TASKS_PER_S,
          timerDelayMs: timerDelayMaxMs.worker.median < GOAL_TIMER_DELAY_MS,
        },
      };
    } catch (error) {
      ctx.log(`    failed: ${error.message}`);
      result.runtimes[name] = { error: String(error.message).slice(0, 2000) };
    }
  }
  return result;
}

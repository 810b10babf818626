// Worker-thread benchmark, one runtime: `node|bun|deno run -A bench/worker/measure.mjs` (after
// `npm run build`). Prints one line `WORKER_JSON {...}`. bench/sections/worker.mjs runs it on all
// three runtimes; see bench/README.md#worker-threads.
//
// - round trip: one no-op task at a time through an idle pool, addTask → success (µs, median);
// - throughput: bursts of no-op tasks through 2 threads, at the default concurrency (one task per
//   thread at a time) and at 256 (a thread takes a batch per message);
// - timer delay: a 1 ms timer chain on the main thread while four 400 ms CPU-bound tasks run,
//   in-process (TaskRunner) and on 2 worker threads (niceness 19, and 0): the worst lateness.
import { TaskRunner } from "../../dist/mod.js";
import { WorkerTaskRunner } from "../../dist/worker.js";
import { burn, noop } from "./tasks.mjs";

const env = globalThis.Deno ? (name) => Deno.env.get(name) : (name) => process.env[name];
const quick = env("BENCH_QUICK") === "1";
const rounds = Number(env("BENCH_ROUNDS") ?? (quick ? 2 : 5));
const module = new URL("./tasks.mjs", import.meta.url);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function roundTrip(samples) {
  const runner = new WorkerTaskRunner({ module, threads: 2 });
  await runner.ready();
  const times = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await new Promise((resolve) => {
      const off = runner.on("success", () => {
        off();
        resolve();
      });
      runner.addTask(noop);
    });
    times.push((performance.now() - t0) * 1000);
  }
  await runner.close();
  return times.slice(Math.floor(samples / 10)); // the first tenth warms up
}

async function throughput(concurrency, tasks) {
  const runner = new WorkerTaskRunner({ module, threads: 2, concurrency });
  await runner.ready();
  for (let i = 0; i < 2_000; i++) runner.addTask(noop);
  await runner.drain();
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < tasks; i++) runner.addTask(noop);
    await runner.drain();
    rates.push(tasks / ((performance.now() - t0) / 1000));
  }
  await runner.close();
  return rates;
}

/** The worst and median lateness (ms) of a 1 ms timer chain while `start()`'s tasks run. */
async function timerDelay(runner, start) {
  const late = [];
  let running = true;
  const ticking = new Promise((resolve) => {
    let last = performance.now();
    const tick = () => {
      const now = performance.now();
      late.push(now - last - 1);
      last = now;
      if (running) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 1);
  });
  const t0 = performance.now();
  start();
  await runner.drain();
  const elapsedMs = performance.now() - t0;
  running = false;
  await ticking;
  return { maxMs: Math.max(...late), p99Ms: [...late].sort((a, b) => a - b)[Math.floor(late.length * 0.99)], elapsedMs };
}

const result = {
  roundTripUs: [],
  throughput: { "noop c=threads": [], "noop c=256": [] },
  timerDelay: { inProcess: [], worker: [], workerNormalPriority: [] },
};
const samples = quick ? 200 : 2_000;
const tasks = quick ? 20_000 : 100_000;
result.roundTripUs = await roundTrip(samples);
for (let r = 0; r < (quick ? 1 : 2); r++) {
  result.throughput["noop c=threads"].push(...(await throughput(undefined, tasks)));
  result.throughput["noop c=256"].push(...(await throughput(256, tasks)));
}
const four = (runner) => () => {
  for (let i = 0; i < 4; i++) runner.addTask(burn, 400);
};
for (let r = 0; r < (quick ? 1 : 3); r++) {
  const inProcess = new TaskRunner({ concurrency: 2 });
  result.timerDelay.inProcess.push(await timerDelay(inProcess, four(inProcess)));
  for (const [key, niceness] of [["worker", 19], ["workerNormalPriority", 0]]) {
    const runner = new WorkerTaskRunner({ module, threads: 2, niceness });
    await runner.ready();
    result.timerDelay[key].push(await timerDelay(runner, four(runner)));
    await runner.close();
  }
}
result.summary = {
  roundTripUsMedian: median(result.roundTripUs),
  throughput: Object.fromEntries(Object.entries(result.throughput).map(([k, v]) => [k, median(v)])),
  timerDelayMaxMs: Object.fromEntries(Object.entries(result.timerDelay).map(([k, v]) => [k, median(v.map((x) => x.maxMs))])),
};
console.log("WORKER_JSON " + JSON.stringify(result));

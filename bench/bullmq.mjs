#!/usr/bin/env node
// Durable background tasks on BullMQ at scale: throughput with several web
// processes and workers, Redis round trips per task, our overhead over plain
// BullMQ, and the delay from response to task start.
//
//   node bench/bullmq.mjs [--rounds 3] [--tasks 3000] [--quick] [--json out.json]
//                         [--parts scale,overhead,drain,together,delay,commands]   (default: all)
//   (or npm run bench -- --only=durable; wrap in flock /tmp/bench.lock on a shared machine)
//
// Needs Debian's redis-server (/usr/bin/redis-server, or REDIS_SERVER=...) and
// Bun (node_modules/.bin/bun). It starts its own Redis on a free loopback port
// (no persistence), web processes and workers under Bun, and stops them at the end.
// Every task appends one JSON line to a file (test/fixtures/bullmq/tasks.ts,
// recordRun): the same work in every variant.
//
// In interleaved rounds (the order of variants alternates), medians (min–max):
// 1. scale: 2 web processes (test/fixtures/bullmq/web.ts, BullMQTaskRunner) and
//    1, 2 or 4 worker processes (createTaskWorker, concurrency 16 each);
//    `--tasks` requests, half to each web process (autocannon, 16 connections
//    each), one task each: jobs/s from the first request to the last task done;
// 2. overhead over plain BullMQ: 1 web process + 1 worker, ours against
//    bench/durable/plain-web.ts (`await queue.add(...)` in the handler) +
//    plain-worker.ts (a plain `Worker` calling the same function), paired:
//    end to end, and the workers alone draining the same jobs (added with
//    `Queue.addBulk` into the paused queue), timed from the resume;
//    and both again with ours and plain started and loaded at the same time,
//    each with its own Redis (a busy machine then slows both alike: the
//    steadier ratio);
// 3. Redis commands per task (MONITOR, a separate run of 500 tasks, ours and
//    plain): commands sent by clients (each a request on the connection; a
//    Lua script is one) and commands run inside scripts;
// 4. start delay: 2 web processes + 2 workers, `--tasks` requests (autocannon,
//    8 connections per web process) at half the rate 2 workers reached in
//    the same round (a steady load they keep up with; a burst beyond their
//    rate measures the backlog instead); for each task, its start in a worker
//    minus the moment its web process saw the response handed over and
//    promoted the job (the runner's "start" event): p50 and p99.
// Writes bench/results/durable.json and durable.svg (a full run; --quick and
// custom sizes write .tmp files) and prints the table of bench/README.md.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import Redis from "ioredis";

const root = fileURLToPath(new URL("..", import.meta.url));
const bun = join(root, "node_modules/.bin/bun");
const redisServer = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const quick = process.argv.includes("--quick");
const rounds = Number(arg("rounds", quick ? 1 : 3));
const taskCount = Number(arg("tasks", quick ? 600 : 3000));
const monitorTasks = quick ? 200 : 500;
const jsonOut = arg("json", undefined);
const parts = new Set((arg("parts", "scale,overhead,drain,together,delay,commands")).split(","));
const official = !quick && rounds >= 3 && taskCount === 3000 && parts.size === 6;

const children = new Set();
const dirs = [];
function cleanup() {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

/** Spawns a process and resolves once its output matches `ready`, with the match. */
function start(command, args, { env = {}, ready }) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")} did not start:\n${out}`)), 30_000);
    const check = (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, stop: () => stop(child) });
      }
    };
    child.stdout.setEncoding("utf8").on("data", check);
    child.stderr.setEncoding("utf8").on("data", (chunk) => (out += chunk));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGKILL");
  await once(child, "exit");
}

async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), "bt-bench-redis-"));
  dirs.push(dir);
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  probe.close();
  await once(probe, "close");
  await start(redisServer, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    ready: /Ready to accept connections/,
  });
  return { url: `redis://127.0.0.1:${port}`, port };
}

let scopes = 0;
function scope(redisUrl) {
  const recordDir = mkdtempSync(join(tmpdir(), "bt-bench-records-"));
  dirs.push(recordDir);
  return { REDIS_URL: redisUrl, QUEUE_NAME: `bench-${process.pid}-${++scopes}`, RECORD_DIR: recordDir };
}

const webFile = { ours: "test/fixtures/bullmq/web.ts", plain: "bench/durable/plain-web.ts" };
const workerFile = { ours: "test/fixtures/bullmq/worker.ts", plain: "bench/durable/plain-worker.ts" };
async function startWeb(env, kind = "ours") {
  const { match, stop } = await start(bun, ["run", webFile[kind]], { env, ready: /listening (\d+)/ });
  return { url: `http://127.0.0.1:${match[1]}`, stop };
}
const startWorker = (env, kind = "ours") =>
  start(bun, ["run", workerFile[kind]], { env: { CONCURRENCY: "16", ...env }, ready: /ready (\d+)/ });

function readRecords(dir) {
  const records = [];
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), "utf8").split("\n")) if (line) records.push(JSON.parse(line));
  }
  return records;
}
function countRecords(dir) {
  let lines = 0;
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), "utf8");
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  }
  return lines;
}
async function waitForRecords(dir, count, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (countRecords(dir) < count) {
    if (Date.now() > deadline) throw new Error(`only ${countRecords(dir)} of ${count} tasks done in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now();
}

/** Sends `count` requests /task/<prefix><i> with autocannon (at `rate` per second, if given); fails on any non-200. */
async function blast(base, count, prefix, connections = 16, rate = undefined) {
  let next = 0;
  let bad = 0;
  const result = await autocannon({
    url: base,
    connections,
    amount: count,
    timeout: 30,
    ...(rate === undefined ? {} : { overallRate: rate }),
    requests: [{
      setupRequest(request) {
        request.path = `/task/${prefix}${next++}`;
        return request;
      },
      onResponse(status) {
        if (status !== 200) bad++;
      },
    }],
  });
  if (bad || result.errors || result.timeouts) throw new Error(`${bad} bad answers, ${result.errors} errors, ${result.timeouts} timeouts`);
}

/** Warms the web processes and workers up, then waits until the warm-up tasks are done. */
async function warmUp(webs, env, count = 100) {
  await Promise.all(webs.map((web, w) => blast(web.url, count, `warm${w}-`, 8)));
  await waitForRecords(env.RECORD_DIR, count * webs.length);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
function summarize(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], values };
}
const num = (v, digits = 3) => (Number.isFinite(v) ? Number(v.toPrecision(digits)).toLocaleString("en-US") : "n/a");
const fmt = (
  s,
  digits = 3,
) => (Number.isFinite(s.median) ? `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})` : "n/a");

/** End to end: `webs` web processes, `workers` workers, `taskCount` requests split between the webs. */
async function endToEnd(redisUrl, { webs: webCount, workers, kind = "ours" }) {
  const env = scope(redisUrl);
  const started = await Promise.all([
    ...Array.from({ length: webCount }, () => startWeb(env, kind)),
    ...Array.from({ length: workers }, () => startWorker(env, kind)),
  ]);
  const webs = started.slice(0, webCount);
  await warmUp(webs, env);
  const before = countRecords(env.RECORD_DIR);
  const began = performance.now();
  const share = Math.ceil(taskCount / webCount);
  // Timed by the last task done, not by autocannon's end: autocannon settles on its next 1 s tick.
  const sending = Promise.all(webs.map((web, w) => blast(web.url, share, `w${w}-`)));
  const done = await waitForRecords(env.RECORD_DIR, before + share * webCount);
  await sending;
  await Promise.all(started.map((p) => p.stop()));
  return (share * webCount) / ((done - began) / 1000);
}

/**
 * Workers alone: the same jobs (added with plain `Queue.addBulk`, as a web process would leave
 * them, the queue paused) drained by one worker, ours or plain, ready before the queue resumes;
 * timed from the resume to the last task done.
 */
async function drain(redisUrl, kind) {
  const env = scope(redisUrl);
  const queue = new Queue(env.QUEUE_NAME, { connection: { url: redisUrl } });
  const options = { removeOnComplete: { age: 86_400, count: 1_000 }, removeOnFail: { age: 604_800, count: 10_000 } };
  await queue.pause();
  for (let i = 0; i < taskCount; i += 500) {
    await queue.addBulk(
      Array.from(
        { length: Math.min(500, taskCount - i) },
        (_, j) => ({ name: "record-run", data: { v: 1, args: [`d${i + j}`] }, opts: options }),
      ),
    );
  }
  const worker = await startWorker(env, kind);
  const began = performance.now();
  await queue.resume();
  const done = await waitForRecords(env.RECORD_DIR, taskCount);
  await Promise.all([worker.stop(), queue.close()]);
  return taskCount / ((done - began) / 1000);
}

/**
 * Ours and plain at the same time (started together, loaded together, each with its own Redis),
 * so a busy machine slows both alike: end to end (1 web + 1 worker each) and the workers alone
 * draining the same jobs.
 */
async function together(redisUrls, what) {
  const kinds = ["ours", "plain"];
  const envs = kinds.map((_, k) => scope(redisUrls[k]));
  const rates = {};
  if (what === "endToEnd") {
    const stacks = await Promise.all(kinds.map(async (kind, k) => Promise.all([startWeb(envs[k], kind), startWorker(envs[k], kind)])));
    await Promise.all(stacks.map(([web], k) => warmUp([web], envs[k])));
    const before = envs.map((env) => countRecords(env.RECORD_DIR));
    const began = performance.now();
    await Promise.all(kinds.map(async (kind, k) => {
      const sending = blast(stacks[k][0].url, taskCount, "t");
      rates[kind] = taskCount / (((await waitForRecords(envs[k].RECORD_DIR, before[k] + taskCount)) - began) / 1000);
      await sending;
    }));
    await Promise.all(stacks.flat().map((p) => p.stop()));
  } else {
    const queues = envs.map((env) => new Queue(env.QUEUE_NAME, { connection: { url: env.REDIS_URL } }));
    const options = { removeOnComplete: { age: 86_400, count: 1_000 }, removeOnFail: { age: 604_800, count: 10_000 } };
    for (const queue of queues) {
      await queue.pause();
      for (let i = 0; i < taskCount; i += 500) {
        await queue.addBulk(
          Array.from(
            { length: Math.min(500, taskCount - i) },
            (_, j) => ({ name: "record-run", data: { v: 1, args: [`d${i + j}`] }, opts: options }),
          ),
        );
      }
    }
    const workers = await Promise.all(kinds.map((kind, k) => startWorker(envs[k], kind)));
    const began = performance.now();
    await Promise.all(queues.map((queue) => queue.resume()));
    await Promise.all(kinds.map(async (kind, k) => {
      rates[kind] = taskCount / (((await waitForRecords(envs[k].RECORD_DIR, taskCount)) - began) / 1000);
    }));
    await Promise.all([...workers.map((w) => w.stop()), ...queues.map((q) => q.close())]);
  }
  return rates;
}

/** Commands Redis received per task, from MONITOR, for one web process + one worker. */
async function commandsPerTask(redis, kind) {
  const env = scope(redis.url);
  const [web, worker] = await Promise.all([startWeb(env, kind), startWorker(env, kind)]);
  await warmUp([web], env, 50);
  const monitor = await new Redis(redis.url).monitor();
  const byCommand = new Map();
  let client = 0;
  let inScripts = 0;
  monitor.on("monitor", (_time, args, source) => {
    if (source === "lua") inScripts++;
    else {
      client++;
      const name = String(args[0]).toLowerCase();
      byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
    }
  });
  const before = countRecords(env.RECORD_DIR);
  await blast(web.url, monitorTasks, "m", 8);
  await waitForRecords(env.RECORD_DIR, before + monitorTasks);
  // Let the last completions reach Redis (the worker acknowledges after the task's line is written).
  const queue = new Queue(env.QUEUE_NAME, { connection: { url: redis.url } });
  while ((await queue.getJobCounts("active", "waiting", "delayed")).active > 0) await new Promise((r) => setTimeout(r, 5));
  monitor.disconnect();
  await Promise.all([web.stop(), worker.stop(), queue.close()]);
  const perTask = (n) => n / monitorTasks;
  const top = [...byCommand].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([name, n]) => `${name} ${num(perTask(n), 2)}`);
  return { client: perTask(client), inScripts: perTask(inScripts), top };
}

/**
 * Start delay: from the moment the web process saw the response handed over (the runner's
 * "start" event, which promotes the job) to the task's start in a worker, over 2 webs and 2
 * workers under load; both timestamps from this machine's clock, in the two processes.
 */
async function startDelay(redisUrl, rate) {
  const env = scope(redisUrl);
  const logDir = mkdtempSync(join(tmpdir(), "bt-bench-handover-"));
  dirs.push(logDir);
  const logs = [0, 1].map((w) => join(logDir, `web${w}.log`));
  const started = await Promise.all([
    startWeb({ ...env, HANDED_OVER_LOG: logs[0] }),
    startWeb({ ...env, HANDED_OVER_LOG: logs[1] }),
    startWorker(env),
    startWorker(env),
  ]);
  const webs = started.slice(0, 2);
  await warmUp(webs, env);
  const before = countRecords(env.RECORD_DIR);
  const share = Math.ceil(taskCount / 2);
  await Promise.all(webs.map((web, w) => blast(web.url, share, `s${w}-`, 8, Math.max(1, Math.round(rate / 2)))));
  await waitForRecords(env.RECORD_DIR, before + share * 2);
  await Promise.all(started.map((p) => p.stop()));
  const handedOver = new Map();
  for (const log of logs) {
    for (const line of readFileSync(log, "utf8").split("\n")) {
      if (!line) continue;
      const { url, t } = JSON.parse(line);
      handedOver.set(url.slice(url.lastIndexOf("/") + 1), t);
    }
  }
  const delays = readRecords(env.RECORD_DIR).filter((r) => r.id.startsWith("s") && handedOver.has(r.id)).map((r) =>
    r.t - handedOver.get(r.id)
  );
  if (delays.length !== share * 2) throw new Error(`matched ${delays.length} of ${share * 2} tasks to their hand-over`);
  return { p50: percentile(delays, 50), p99: percentile(delays, 99), max: Math.max(...delays), n: delays.length };
}

const redis = await startRedis();
let second; // the plain side's own Redis when ours and plain run together
const load0 = loadavg()[0];
console.log(
  `# bench/bullmq.mjs: ${rounds} interleaved rounds, ${taskCount} tasks per run; ${cpus().length} cores, load average ${load0.toFixed(2)}`,
);
const scale = { 1: [], 2: [], 4: [] };
const e2e = { ours: [], plain: [] };
const drains = { ours: [], plain: [] };
const delays = { p50: [], p99: [], max: [], rate: [] };
const both = { endToEnd: { ours: [], plain: [] }, drain: { ours: [], plain: [] } };

for (let round = 1; round <= rounds; round++) {
  const counts = round % 2 ? [1, 2, 4] : [4, 2, 1];
  for (const workers of parts.has("scale") || parts.has("delay") ? counts : []) {
    const rate = await endToEnd(redis.url, { webs: 2, workers });
    scale[workers].push(rate);
    console.log(`round ${round}: 2 web processes, ${workers} worker(s): ${rate.toFixed(0)} jobs/s end to end`);
  }
  const kinds = round % 2 ? ["ours", "plain"] : ["plain", "ours"];
  for (const kind of parts.has("overhead") ? kinds : []) {
    const rate = await endToEnd(redis.url, { webs: 1, workers: 1, kind });
    e2e[kind].push(rate);
    console.log(`round ${round}: ${kind === "ours" ? "ours " : "plain"} 1 web + 1 worker: ${rate.toFixed(0)} jobs/s end to end`);
  }
  for (const kind of parts.has("drain") ? kinds : []) {
    const rate = await drain(redis.url, kind);
    drains[kind].push(rate);
    console.log(`round ${round}: ${kind === "ours" ? "ours " : "plain"} worker draining ${taskCount} jobs: ${rate.toFixed(0)} jobs/s`);
  }
  if (parts.has("together")) {
    for (const what of ["endToEnd", "drain"]) {
      const rates = await together([redis.url, (second ??= await startRedis()).url], what);
      both[what].ours.push(rates.ours);
      both[what].plain.push(rates.plain);
      console.log(
        `round ${round}: together, ${what === "endToEnd" ? "end to end" : "workers draining"}: ours ${rates.ours.toFixed(0)}, plain ${
          rates.plain.toFixed(0)
        } jobs/s`,
      );
    }
  }
  if (!parts.has("delay")) continue;
  const rate = Math.round(scale[2].at(-1) / 2);
  const delay = await startDelay(redis.url, rate);
  delays.rate.push(rate);
  delays.p50.push(delay.p50);
  delays.p99.push(delay.p99);
  delays.max.push(delay.max);
  console.log(
    `round ${round}: response handed over → task start, 2 webs + 2 workers at ${rate} requests/s: p50 ${delay.p50.toFixed(2)} ms, p99 ${
      delay.p99.toFixed(2)
    } ms, max ${delay.max.toFixed(1)} ms (${delay.n} tasks)`,
  );
}
const commands = {};
for (const kind of parts.has("commands") ? ["ours", "plain"] : []) {
  commands[kind] = await commandsPerTask(redis, kind);
  console.log(
    `${kind}: ${commands[kind].client.toFixed(2)} client commands per task (${commands[kind].top.join(", ")}), ${
      commands[kind].inScripts.toFixed(1)
    } inside scripts`,
  );
}
const load1 = loadavg()[0];

// Overhead: how much longer our path takes for the same jobs, per paired round (time ratio − 1).
const overhead = (pairs) => summarize(pairs.ours.map((ours, i) => (pairs.plain[i] / ours - 1) * 100));
const result = {
  date: new Date().toISOString(),
  rounds,
  tasks: taskCount,
  machine: { cores: cpus().length, loadAverageBefore: load0, loadAverageAfter: load1 },
  scale: { oneWorker: summarize(scale[1]), twoWorkers: summarize(scale[2]), fourWorkers: summarize(scale[4]) },
  endToEnd: { ours: summarize(e2e.ours), plain: summarize(e2e.plain), overheadPercent: overhead(e2e) },
  drain: { ours: summarize(drains.ours), plain: summarize(drains.plain), overheadPercent: overhead(drains) },
  together: {
    endToEnd: { ours: summarize(both.endToEnd.ours), plain: summarize(both.endToEnd.plain), overheadPercent: overhead(both.endToEnd) },
    drain: { ours: summarize(both.drain.ours), plain: summarize(both.drain.plain), overheadPercent: overhead(both.drain) },
  },
  commandsPerTask: commands,
  startDelayMs: {
    p50: summarize(delays.p50),
    p99: summarize(delays.p99),
    max: summarize(delays.max),
    atRequestsPerSecond: summarize(delays.rate),
  },
  goal: { overheadPercentAtMost: 10 },
};

const table = [
  "| measure | median (min–max) |",
  "|---|---|",
  `| jobs/s end to end, 2 web processes, 1 worker | ${fmt(result.scale.oneWorker)} |`,
  `| jobs/s end to end, 2 web processes, 2 workers | ${fmt(result.scale.twoWorkers)} |`,
  `| jobs/s end to end, 2 web processes, 4 workers | ${fmt(result.scale.fourWorkers)} |`,
  `| jobs/s end to end, 1 web + 1 worker: ours / plain BullMQ | ${fmt(result.endToEnd.ours)} / ${fmt(result.endToEnd.plain)} |`,
  `| our overhead end to end (%, paired; goal ≤ 10) | ${fmt(result.endToEnd.overheadPercent, 2)} |`,
  `| jobs/s, 1 worker draining a filled queue: ours / plain | ${fmt(result.drain.ours)} / ${fmt(result.drain.plain)} |`,
  `| our worker's overhead (%, paired) | ${fmt(result.drain.overheadPercent, 2)} |`,
  `| run together, end to end: our overhead (%, paired; goal ≤ 10) | ${fmt(result.together.endToEnd.overheadPercent, 2)} |`,
  `| run together, workers draining: our worker's overhead (%, paired) | ${fmt(result.together.drain.overheadPercent, 2)} |`,
  `| Redis commands per task sent by clients: ours / plain | ${num(commands.ours?.client)} / ${num(commands.plain?.client)} |`,
  `| Redis commands per task run inside scripts: ours / plain | ${num(commands.ours?.inScripts)} / ${num(commands.plain?.inScripts)} |`,
  `| response handed over → task started, p50 (ms), at ${num(result.startDelayMs.atRequestsPerSecond.median)} requests/s | ${
    fmt(result.startDelayMs.p50)
  } |`,
  `| response handed over → task started, p99 (ms) | ${fmt(result.startDelayMs.p99)} |`,
].join("\n");
console.log(`\n${table}\n`);
for (const kind of Object.keys(commands)) console.log(`commands per task, ${kind}: ${commands[kind].top.join(", ")}`);
console.log(`load average (1 min) before / after: ${load0.toFixed(2)} / ${load1.toFixed(2)} on ${cpus().length} cores`);

const suffix = official ? "" : ".tmp";
const strip = (key, value) => (key === "values" ? undefined : value);
writeFileSync(jsonOut ?? join(root, "bench", "results", `durable.json${suffix}`), JSON.stringify(result, null, 2) + "\n");
writeFileSync(join(root, "bench", "results", `durable.svg${suffix}`), renderChart(result));
console.log(`\ndurable ${JSON.stringify(result, strip)}`);
process.exit(0);

/** Bars with min–max whiskers, one panel per measure; the overhead panel shows the goal. */
function renderChart(r) {
  const panels = [
    {
      title: "End-to-end jobs/s, 2 web processes",
      unit: "jobs/s",
      rows: [["1 worker", r.scale.oneWorker], ["2 workers", r.scale.twoWorkers], ["4 workers", r.scale.fourWorkers]],
    },
    {
      title: "1 web + 1 worker, jobs/s",
      unit: "jobs/s",
      rows: [["ours", r.endToEnd.ours], ["plain BullMQ", r.endToEnd.plain], ["ours, worker draining", r.drain.ours], [
        "plain, worker draining",
        r.drain.plain,
      ]],
    },
    {
      title: "Our overhead over plain BullMQ (%)",
      unit: "%",
      goal: 10,
      rows: [["end to end", r.endToEnd.overheadPercent], ["worker draining", r.drain.overheadPercent], [
        "end to end, run together",
        r.together.endToEnd.overheadPercent,
      ], ["worker draining, together", r.together.drain.overheadPercent]],
    },
    { title: "Response → task start (ms)", unit: "ms", rows: [["p50", r.startDelayMs.p50], ["p99", r.startDelayMs.p99]] },
  ];
  const W = 900, LABEL = 220, BAR = 460, ROW = 24;
  const out = [];
  let y = 24;
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  out.push(
    `<text x="10" y="${y}" class="t">Durable tasks (BullMQ), ${
      esc(r.date.slice(0, 10))
    }: ${r.rounds} interleaved rounds, ${r.tasks} tasks a run, ${r.machine.cores} shared cores</text>`,
  );
  for (const panel of panels) {
    y += 30;
    out.push(`<text x="10" y="${y}" class="g">${esc(panel.title)}</text>`);
    y += 6;
    const top = Math.max(...panel.rows.map(([, s]) => s.max), panel.goal ?? 0, 1e-9);
    const low = Math.min(0, ...panel.rows.map(([, s]) => s.min));
    const scale = BAR / ((top - low) * 1.08);
    const x0 = LABEL + 10 - low * scale;
    for (const [label, s] of panel.rows) {
      const cy = y + ROW / 2;
      const color = panel.goal === undefined ? "#4a6fa5" : s.max <= panel.goal ? "#2f855a" : s.median <= panel.goal ? "#c98a1b" : "#c53030";
      const a = x0 + Math.min(0, s.median) * scale;
      out.push(`<text x="${LABEL}" y="${cy + 4}" text-anchor="end">${esc(label)}</text>`);
      out.push(
        `<rect x="${a.toFixed(1)}" y="${y + 5}" width="${Math.max(1, Math.abs(s.median) * scale).toFixed(1)}" height="${
          ROW - 10
        }" fill="${color}" opacity="0.85"/>`,
      );
      const x1 = x0 + s.min * scale, x2 = x0 + s.max * scale;
      out.push(
        `<path d="M${x1.toFixed(1)} ${cy}H${x2.toFixed(1)}M${x1.toFixed(1)} ${cy - 5}v10M${x2.toFixed(1)} ${
          cy - 5
        }v10" stroke="#222" stroke-width="1.2"/>`,
      );
      out.push(`<text x="${LABEL + BAR + 30}" y="${cy + 4}">${esc(num(s.median))} ${esc(panel.unit)}</text>`);
      y += ROW;
    }
    if (panel.goal !== undefined) {
      const gx = x0 + panel.goal * scale;
      out.push(`<path d="M${gx.toFixed(1)} ${y - ROW * panel.rows.length}V${y}" stroke="#c53030" stroke-dasharray="4 3"/>`);
      out.push(`<text x="${(gx + 4).toFixed(1)}" y="${y + 12}" class="f">goal ≤ ${panel.goal} %</text>`);
      y += 12;
    }
  }
  y += 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif" font-size="13">` +
    `<style>.t{font-size:15px;font-weight:600}.g{font-weight:600}.f{font-size:11px;fill:#555}</style><rect width="100%" height="100%" fill="#fff"/>` +
    out.join("") + `</svg>\n`;
}

#!/usr/bin/env node
// Durable background tasks on BullMQ: what they cost and how fast they go.
//
//   node bench/bullmq.mjs [--rounds 3] [--tasks 3000] [--requests 1500] [--json out.json]
//
// Needs Debian's redis-server (/usr/bin/redis-server, or REDIS_SERVER=...) and
// Bun (node_modules/.bin/bun). It starts its own Redis on a free loopback port
// (no persistence) and the fixture web process and workers of the e2e tests
// (test/fixtures/bullmq/web.ts, worker.ts) under Bun, and stops them at the end.
//
// It measures, in interleaved rounds, and reports medians (min–max):
// 1. end to end throughput, request → Redis → worker → done: `--tasks` requests
//    each adding one task (appending a line to a file), sent by autocannon over
//    32 connections; timed from the first request to the last task done; with 1
//    and with 2 workers (Bun, concurrency 16 each);
// 2. worker drain rate: `--tasks` jobs already queued (the queue paused), then
//    resumed with 1 or 2 workers ready: timed until the last task is done; this
//    is what the workers alone can do, without the web process in the way;
// 3. the response latency of the durable path (the task is stored in Redis
//    before the response) against the in-process path (TaskRunner), the same
//    Bun server and handler otherwise: `--requests` requests one at a time
//    (c=1) and over 16 connections (c=16); p50 and p99 per run, and the
//    paired difference durable − in-process of each round's p50.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { Queue } from "bullmq";

const root = fileURLToPath(new URL("..", import.meta.url));
const bun = join(root, "node_modules/.bin/bun");
const redisServer = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const rounds = Number(arg("rounds", 3));
const taskCount = Number(arg("tasks", 3000));
const requestCount = Number(arg("requests", 1500));
const jsonOut = arg("json", undefined);

const children = new Set();
const dirs = [];
function cleanup() {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

async function freePort() {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/** Spawns a process and resolves once its output matches `ready`, with the match. */
function start(command, args, { env = {}, ready }) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")} did not start:\n${out}`)), 20_000);
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
  const port = await freePort();
  await start(redisServer, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    ready: /Ready to accept connections/,
  });
  return `redis://127.0.0.1:${port}`;
}

let scopes = 0;
function scope(redisUrl) {
  const recordDir = mkdtempSync(join(tmpdir(), "bt-bench-records-"));
  dirs.push(recordDir);
  return { REDIS_URL: redisUrl, QUEUE_NAME: `bench-${process.pid}-${++scopes}`, RECORD_DIR: recordDir };
}

const startWeb = async (env) => {
  const { match, stop } = await start(bun, ["run", "test/fixtures/bullmq/web.ts"], { env, ready: /listening (\d+)/ });
  return { url: `http://127.0.0.1:${match[1]}`, stop };
};
const startWorker = (env) =>
  start(bun, ["run", "test/fixtures/bullmq/worker.ts"], { env: { CONCURRENCY: "16", ...env }, ready: /ready (\d+)/ });

function countRecords(dir) {
  let lines = 0;
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), "utf8");
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  }
  return lines;
}

/** Sends `count` GET requests over `connections` concurrent loops; returns each latency in ms. */
async function send(base, count, connections, path = (i) => `/task/t${i}`) {
  const latencies = new Array(count);
  let next = 0;
  let failures = 0;
  await Promise.all(Array.from({ length: connections }, async () => {
    for (let i = next++; i < count; i = next++) {
      const started = performance.now();
      const response = await fetch(base + path(i));
      await response.arrayBuffer();
      latencies[i] = performance.now() - started;
      if (response.status !== 200) failures++;
    }
  }));
  if (failures) throw new Error(`${failures} of ${count} requests failed`);
  return latencies;
}

/** Sends `count` requests with autocannon (a lighter client than fetch, for throughput); fails on any non-200. */
async function blast(base, count, connections = 32) {
  let next = 0;
  let bad = 0;
  const result = await autocannon({
    url: base,
    connections,
    amount: count,
    timeout: 30,
    requests: [{
      setupRequest(request) {
        request.path = `/task/t${next++}`;
        return request;
      },
      onResponse(status) {
        if (status !== 200) bad++;
      },
    }],
  });
  if (bad || result.errors || result.timeouts) throw new Error(`${bad} bad answers, ${result.errors} errors, ${result.timeouts} timeouts`);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], values };
}
const fmt = (s, digits = 3) => `${Number(s.median.toPrecision(digits))} (${Number(s.min.toPrecision(digits))}–${Number(s.max.toPrecision(digits))})`;

async function throughputRun(redisUrl, workers) {
  const env = scope(redisUrl);
  const [web, ...started] = await Promise.all([startWeb(env), ...Array.from({ length: workers }, () => startWorker(env))]);
  await send(web.url, 50, 8, (i) => `/task/warm${i}`);
  const deadline = Date.now() + 30_000;
  while (countRecords(env.RECORD_DIR) < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const began = performance.now();
  await blast(web.url, taskCount);
  const answered = performance.now();
  const target = taskCount + 50;
  while (countRecords(env.RECORD_DIR) < target) {
    if (Date.now() > deadline + 120_000) throw new Error("tasks did not finish in time");
    await new Promise((r) => setTimeout(r, 10));
  }
  const done = performance.now();
  await Promise.all([web.stop(), ...started.map((w) => w.stop())]);
  return { tasksPerSecond: taskCount / ((done - began) / 1000), requestsPerSecond: taskCount / ((answered - began) / 1000) };
}

async function drainRun(redisUrl, workers) {
  const env = scope(redisUrl);
  const queue = new Queue(env.QUEUE_NAME, { connection: { url: redisUrl } });
  await queue.pause();
  const web = await startWeb(env);
  await blast(web.url, taskCount);
  const started = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));
  const began = performance.now();
  await queue.resume();
  const deadline = Date.now() + 120_000;
  while (countRecords(env.RECORD_DIR) < taskCount) {
    if (Date.now() > deadline) throw new Error("tasks did not finish in time");
    await new Promise((r) => setTimeout(r, 10));
  }
  const done = performance.now();
  await Promise.all([web.stop(), ...started.map((w) => w.stop()), queue.close()]);
  return taskCount / ((done - began) / 1000);
}

async function latencyRun(redisUrl, durable, connections) {
  const env = { ...scope(redisUrl), DURABLE: durable ? "1" : "0" };
  const [web, worker] = await Promise.all([startWeb(env), startWorker(env)]);
  await send(web.url, 200, connections, (i) => `/task/warm${i}`);
  const latencies = await send(web.url, requestCount, connections);
  await Promise.all([web.stop(), worker.stop()]);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const redisUrl = await startRedis();
console.log(`# bench/bullmq.mjs: ${rounds} interleaved rounds, ${taskCount} tasks per throughput run, ${requestCount} requests per latency run`);
const throughput = { 1: [], 2: [] };
const requestRate = { 1: [], 2: [] };
const drainRate = { 1: [], 2: [] };
const latency = {};
for (const c of [1, 16]) latency[c] = { inProcess: { p50: [], p99: [] }, durable: { p50: [], p99: [] }, extraP50: [] };

for (let round = 1; round <= rounds; round++) {
  const order = round % 2 ? [1, 2] : [2, 1];
  for (const workers of order) {
    const run = await throughputRun(redisUrl, workers);
    throughput[workers].push(run.tasksPerSecond);
    requestRate[workers].push(run.requestsPerSecond);
    console.log(`round ${round}: ${workers} worker(s): ${run.tasksPerSecond.toFixed(0)} tasks/s end to end (requests answered at ${run.requestsPerSecond.toFixed(0)}/s)`);
  }
  for (const workers of order) {
    const rate = await drainRun(redisUrl, workers);
    drainRate[workers].push(rate);
    console.log(`round ${round}: ${workers} worker(s) draining a full queue: ${rate.toFixed(0)} tasks/s`);
  }
  for (const c of [1, 16]) {
    const modes = round % 2 ? [false, true] : [true, false];
    const pair = {};
    for (const durable of modes) {
      const run = await latencyRun(redisUrl, durable, c);
      const slot = latency[c][durable ? "durable" : "inProcess"];
      slot.p50.push(run.p50);
      slot.p99.push(run.p99);
      pair[durable ? "durable" : "inProcess"] = run.p50;
      console.log(`round ${round}: c=${c} ${durable ? "durable   " : "in-process"} p50 ${run.p50.toFixed(3)} ms, p99 ${run.p99.toFixed(3)} ms`);
    }
    latency[c].extraP50.push(pair.durable - pair.inProcess);
  }
}

const result = {
  rounds,
  tasks: taskCount,
  requests: requestCount,
  throughput: { oneWorker: summarize(throughput[1]), twoWorkers: summarize(throughput[2]) },
  requestRate: { oneWorker: summarize(requestRate[1]), twoWorkers: summarize(requestRate[2]) },
  drainRate: { oneWorker: summarize(drainRate[1]), twoWorkers: summarize(drainRate[2]) },
  latency: Object.fromEntries(Object.entries(latency).map(([c, l]) => [`c${c}`, {
    inProcessP50: summarize(l.inProcess.p50),
    durableP50: summarize(l.durable.p50),
    inProcessP99: summarize(l.inProcess.p99),
    durableP99: summarize(l.durable.p99),
    extraP50: summarize(l.extraP50),
  }])),
};

console.log("\n| measure | median (min–max) |\n|---|---|");
console.log(`| durable tasks/s end to end, 1 worker | ${fmt(result.throughput.oneWorker)} |`);
console.log(`| durable tasks/s end to end, 2 workers | ${fmt(result.throughput.twoWorkers)} |`);
console.log(`| requests/s answered meanwhile, 1 / 2 workers | ${fmt(result.requestRate.oneWorker)} / ${fmt(result.requestRate.twoWorkers)} |`);
console.log(`| tasks/s draining a full queue, 1 worker | ${fmt(result.drainRate.oneWorker)} |`);
console.log(`| tasks/s draining a full queue, 2 workers | ${fmt(result.drainRate.twoWorkers)} |`);
for (const c of ["c1", "c16"]) {
  const l = result.latency[c];
  console.log(`| ${c}: response p50, in-process / durable (ms) | ${fmt(l.inProcessP50)} / ${fmt(l.durableP50)} |`);
  console.log(`| ${c}: response p99, in-process / durable (ms) | ${fmt(l.inProcessP99)} / ${fmt(l.durableP99)} |`);
  console.log(`| ${c}: extra p50 latency of the durable path (ms, paired) | ${fmt(l.extraP50)} |`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
console.log(`\n${JSON.stringify({ bullmq: result }, (key, value) => (key === "values" ? undefined : value))}`);
process.exit(0);

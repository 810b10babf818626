// Load on a core-only server (Bun.serve, Deno.serve): 50,000 requests from
// undici on loopback, each adding a task that records a unique id; then
// the queue bound and both overflow policies with concurrency 4 and 20 ms tasks.
// Figures are printed as "figure: ..." lines (docs/reliability.md quotes them).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type Child, fixtures, getJson, load, mb, runCommand, type Runtime, startChild } from "../fixtures/reliability/_harness.ts";

interface Report {
  runtime: string;
  handled: number;
  rejected: number;
  drained: boolean;
  recorded: string[];
  duplicates: number;
  droppedIds: string[];
  reportedErrors: number;
  stats: Record<string, number>;
  maxRunningSeen: number;
  maxPendingSeen: number;
  peakRssBytes: number;
  unhandled: string[];
}

const server = `${fixtures}core-server.ts`;
const WRK = "/usr/bin/wrk";
const children: Child[] = [];
after(async () => {
  for (const child of children) await child.stop();
});

async function start(runtime: Runtime, env: Record<string, string> = {}): Promise<Child> {
  const child = await startChild(runCommand(runtime, server), { env });
  children.push(child);
  return child;
}

function assertIdle(stats: Record<string, number>): void {
  assert.equal(stats.waiting, 0, "no task left waiting");
  assert.equal(stats.queued, 0, "no task left queued");
  assert.equal(stats.running, 0, "no task left running");
}

for (const runtime of ["bun", "deno"] as const) {
  describe(`reliability under load, core only, ${runtime}`, { timeout: 120_000 }, () => {
    it("50,000 requests: every id recorded exactly once, no 5xx, stats agree", async () => {
      const child = await start(runtime);
      const amount = 50_000;
      const result = await load(child.url, { amount, connections: 50, pathFor: (id) => `/task/${id}` });
      const report = await getJson<Report>(`${child.url}/__report`);
      console.log(
        `figure: ${runtime} core load: ${result.total} requests in ${result.durationSeconds.toFixed(1)} s, ` +
          `${result.requestsPerSecond} req/s, peak RSS ${mb(report.peakRssBytes)}`,
      );

      assert.deepEqual(result.statuses, { 200: amount }, "every request answered 200");
      assert.equal(result.errors, 0, "no connection errors");
      assert.equal(result.ids.length, amount);
      assert.equal(report.handled, amount, "the server handled each request once");
      assert.equal(report.drained, true);
      assert.equal(report.duplicates, 0, "no task ran twice");
      assert.equal(report.recorded.length, amount, "one task ran per request");
      const recorded = new Set(report.recorded);
      const missing = result.ids.filter((id) => !recorded.has(id));
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} ids never recorded`);
      assert.equal(report.stats.succeeded, amount, "stats().succeeded matches the ids recorded");
      assert.equal(report.stats.failed + report.stats.dropped + report.stats.skipped + report.stats.retried, 0);
      assertIdle(report.stats);
      assert.deepEqual(report.unhandled, []);
    });

    // One second is tens of thousands of requests at wrk's full rate: enough to fill the queue and
    // every connection; a longer run repeats the same requests.
    it("wrk for 1 s with unique ids: every request handled is recorded once", { skip: !existsSync(WRK) && "no /usr/bin/wrk" }, async () => {
      const child = await start(runtime);
      const connections = 50;
      const wrk = spawnSync(WRK, [
        "-t2",
        `-c${connections}`,
        "-d1s",
        "--timeout",
        "10s",
        "-s",
        `${fixtures}unique-ids.lua`,
        `${child.url}/`,
      ], { encoding: "utf8", timeout: 30_000 });
      const summary = /wrk-summary (.*)/.exec(wrk.stdout)?.[1];
      assert.ok(summary, `wrk printed no summary: ${wrk.stdout}${wrk.stderr}`);
      const figures = Object.fromEntries(summary.split(" ").map((pair) => pair.split("=")).map(([k, v]) => [k, Number(v)]));
      const report = await getJson<Report>(`${child.url}/__report`);
      const perSecond = Math.round(figures.requests! / (figures.duration_us! / 1e6));
      console.log(
        `figure: ${runtime} core load (wrk -t2 -c${connections} -d1s): ${figures.requests} requests, ${perSecond} req/s, ` +
          `p99 ${(figures.p99_us! / 1000).toFixed(1)} ms, peak RSS ${mb(report.peakRssBytes)}`,
      );
      assert.ok(figures.requests! >= 5_000, `a real load: ${figures.requests} requests`);
      assert.equal(figures.status, 0, "no non-2xx answers");
      assert.equal(figures.connect! + figures.read! + figures.write! + figures.timeout!, 0, `socket errors: ${summary}`);
      // wrk stops with up to one request in flight per connection: those were handled but not counted by wrk.
      assert.ok(
        report.handled >= figures.requests! && report.handled <= figures.requests! + connections,
        `server handled ${report.handled}, wrk counted ${figures.requests}`,
      );
      assert.equal(report.recorded.length, report.handled, "one task ran per request handled");
      assert.equal(report.duplicates, 0);
      assert.equal(report.stats.succeeded, report.handled);
      assertIdle(report.stats);
      assert.deepEqual(report.unhandled, []);
    });

    // Each task holds 64 KiB until it runs. Bounded, at most 100 pending hold 6.4 MiB; were the
    // bound ignored, the 10,000 tasks (200 a second get through) would hold about 600 MiB. The
    // allowance leaves room for garbage not yet collected (Deno's V8 lags by up to ~100 MiB here).
    const payloadBytes = 64 * 1024;
    const bounded = { CONCURRENCY: "4", TASK_MS: "20", MAX_PENDING: "100", PAYLOAD_BYTES: String(payloadBytes) };
    const memoryAllowance = 200 * 1024 * 1024;

    it('maxPending 100, overflow "reject": addTask throws, the handler answers 503, the rest run', async () => {
      const child = await start(runtime, { ...bounded, OVERFLOW: "reject" });
      const before = await getJson<Report>(`${child.url}/__report`);
      const amount = 10_000;
      const result = await load(child.url, { amount, connections: 50, pathFor: (id) => `/task/${id}` });
      const report = await getJson<Report>(`${child.url}/__report`);
      const ok = result.statuses[200] ?? 0;
      const busy = result.statuses[503] ?? 0;
      console.log(
        `figure: ${runtime} overflow reject: ${amount} requests, ${ok} accepted, ${busy} answered 503, ` +
          `peak pending ${report.maxPendingSeen}, peak running ${report.maxRunningSeen}, ` +
          `peak RSS ${mb(report.peakRssBytes)} (at start ${mb(before.peakRssBytes)})`,
      );

      assert.equal(ok + busy, amount, `only 200 and 503: ${JSON.stringify(result.statuses)}`);
      assert.ok(busy > 0, "the bound was reached");
      assert.equal(busy, report.rejected, "each 503 is a TaskQueueFullError caught in the handler");
      assert.ok(report.maxPendingSeen <= 100, `pending never above maxPending (saw ${report.maxPendingSeen})`);
      assert.equal(report.maxRunningSeen, 4, "exactly `concurrency` tasks ran at once at the peak");
      assert.equal(report.stats.succeeded, ok, "every accepted task ran");
      assert.equal(report.recorded.length, ok);
      assert.equal(report.duplicates, 0);
      assert.equal(report.stats.dropped, 0, '"reject" drops nothing');
      assert.equal(report.reportedErrors, 0, '"reject" reports nothing to onError: the caller got the error');
      assertIdle(report.stats);
      assert.ok(
        report.peakRssBytes - before.peakRssBytes < memoryAllowance,
        `memory bounded: peak RSS grew by ${mb(report.peakRssBytes - before.peakRssBytes)}`,
      );
      assert.deepEqual(report.unhandled, []);
    });

    it('maxPending 100, overflow "drop": no error to the caller, each drop counted and reported to onError', async () => {
      const child = await start(runtime, { ...bounded, OVERFLOW: "drop" });
      const before = await getJson<Report>(`${child.url}/__report`);
      const amount = 10_000;
      const result = await load(child.url, { amount, connections: 50, pathFor: (id) => `/task/${id}` });
      const report = await getJson<Report>(`${child.url}/__report`);
      console.log(
        `figure: ${runtime} overflow drop: ${amount} requests, ${report.recorded.length} ran, ` +
          `${report.stats.dropped} dropped, peak pending ${report.maxPendingSeen}, ` +
          `peak RSS ${mb(report.peakRssBytes)} (at start ${mb(before.peakRssBytes)})`,
      );

      assert.deepEqual(result.statuses, { 200: amount }, "the handler never sees the drop");
      assert.ok(report.stats.dropped > 0, "the bound was reached");
      assert.equal(report.droppedIds.length, report.stats.dropped, "each drop reported to onError once");
      assert.equal(report.reportedErrors, report.stats.dropped, "onError got nothing but the drops");
      assert.equal(report.stats.dropped + report.stats.succeeded, amount, "every task ran or was dropped");
      const ran = new Set(report.recorded);
      const dropped = new Set(report.droppedIds);
      assert.equal(dropped.size, report.droppedIds.length, "no id reported dropped twice");
      const neither = result.ids.filter((id) => ran.has(id) === dropped.has(id));
      assert.deepEqual(neither.slice(0, 10), [], "each id either ran or was reported dropped, never both or neither");
      assert.ok(report.maxPendingSeen <= 100, `pending never above maxPending (saw ${report.maxPendingSeen})`);
      assert.equal(report.maxRunningSeen, 4);
      assertIdle(report.stats);
      assert.ok(
        report.peakRssBytes - before.peakRssBytes < memoryAllowance,
        `memory bounded: peak RSS grew by ${mb(report.peakRssBytes - before.peakRssBytes)}`,
      );
      assert.deepEqual(report.unhandled, []);
    });
  });
}

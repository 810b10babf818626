// Faulty tasks under load on real servers (Bun.serve, Deno.serve): thousands of
// tasks that throw, reject, throw non-Error values or hang past their timeout,
// mixed with healthy ones. Each failure is reported exactly once with its
// context after the configured retry, the healthy tasks all run, and the
// process never sees an unhandled rejection (the detector is checked first).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Child, fixtures, getJson, load, runCommand, type Runtime, startChild } from "../fixtures/reliability/_harness.ts";

interface Report {
  handled: number;
  recorded: string[];
  reportedErrors: { error: string; name: string; url: string; method: string; attempt: number; timedOut: boolean }[];
  attemptsSeen: Record<string, number>;
  stats: Record<string, number>;
  unhandled: string[];
}

const children: Child[] = [];
after(async () => {
  for (const child of children) await child.stop();
});

const kinds = ["Error", "RangeError", "a string from", "undefined", "E_OBJECT", "TaskTimeoutError"];

for (const runtime of ["bun", "deno"] as const satisfies Runtime[]) {
  describe(`reliability: faulty tasks under load, ${runtime}`, { timeout: 90_000 }, () => {
    let child: Child;

    it("the unhandled-rejection detector works (one made on purpose is seen)", async () => {
      child = await startChild(runCommand(runtime, `${fixtures}core-server.ts`), { env: { RETRIES: "1", TIMEOUT_MS: "250" } });
      children.push(child);
      assert.equal(await (await fetch(`${child.url}/__probe-unhandled`)).text(), "probed");
      const deadline = Date.now() + 5_000;
      let report = await getJson<Report>(`${child.url}/__report`);
      while (report.unhandled.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        report = await getJson<Report>(`${child.url}/__report`);
      }
      assert.deepEqual(report.unhandled.map((reason) => reason.includes("probe")), [true]);
    });

    it("7,000 requests, 6,000 faulty tasks: each reported once after 2 attempts, healthy ones all run", async () => {
      const amount = 7_000;
      const healthy = (n: number): boolean => n % 7 === 0;
      const result = await load(child.url, {
        amount,
        connections: 50,
        pathFor: (id) => (healthy(Number(id.slice(1))) ? `/task/${id}` : `/fault/${id}`),
      });
      assert.deepEqual(result.statuses, { 200: amount }, "task failures never touch the responses");
      const report = await getJson<Report>(`${child.url}/__report?errors`);
      const faulty = result.ids.filter((id) => !healthy(Number(id.slice(1))));
      const fine = result.ids.filter((id) => healthy(Number(id.slice(1))));
      console.log(
        `figure: ${runtime} faults: ${faulty.length} failing tasks reported ${report.reportedErrors.length} times, ` +
          `${report.stats.retried} retries, ${report.stats.timedOut} timeouts, ${report.recorded.length} healthy tasks ran`,
      );

      assert.deepEqual(report.recorded.sort(), fine.sort(), "every healthy task ran, once");
      assert.equal(report.reportedErrors.length, faulty.length, "one report per failing task");
      const byId = new Map(report.reportedErrors.map((error) => [error.url.slice(error.url.lastIndexOf("/") + 1), error]));
      assert.equal(byId.size, faulty.length, "no task reported twice");
      for (const id of faulty) {
        const error = byId.get(id);
        assert.ok(error, `task ${id} reported`);
        const kind = Number(id.slice(1)) % 6;
        assert.equal(error.name, "faultyTask");
        assert.equal(error.method, "GET");
        assert.ok(error.url.endsWith(`/fault/${id}`), error.url);
        assert.equal(error.attempt, 2, "reported after the retry");
        assert.equal(error.timedOut, kind === 5);
        assert.ok(error.error.startsWith(kinds[kind]!) || error.error.includes(kinds[kind]!), `${id}: ${error.error}`);
        assert.equal(report.attemptsSeen[id], 2, `${id} was tried exactly twice`);
      }
      assert.equal(report.stats.failed, faulty.length);
      assert.equal(report.stats.retried, faulty.length);
      assert.equal(report.stats.timedOut, 2 * faulty.filter((id) => Number(id.slice(1)) % 6 === 5).length);
      assert.equal(report.stats.succeeded, fine.length);
      assert.equal(report.stats.waiting + report.stats.queued + report.stats.running, 0);
      assert.equal(report.unhandled.length, 1, `only the probe: ${report.unhandled.join("; ")}`);
    });
  });
}

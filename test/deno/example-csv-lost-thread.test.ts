// The example's CSV jobs when a worker thread dies mid-parse, with several parsing at once: the
// job whose thread was lost is failed (the WorkerThreadError names its task, attempt and job id),
// and the job on another thread runs on to done. Real threads; the CSV task is a stand-in
// (test/fixtures/worker/csvJobs.ts) that exits its thread on demand.
import assert from "node:assert/strict";
import type { TaskErrorInfo } from "@background/tasks";
import { WorkerTaskRunner } from "@background/tasks/worker";
import { createJob, failUploadOfLostThread, getJob } from "../../examples/app/uploads/uploadJobs.ts";
import { processCsv } from "../fixtures/worker/csvJobs.ts";

Deno.test({
  name: "the example fails exactly the CSV jobs whose worker thread died; the others run on",
  // The example's progress channel is opened by the first job and stays open for the process's life.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const test = new BroadcastChannel(`csv-lost-thread-${Date.now()}`);
    const seen: { kind: string; id: string }[] = [];
    let wake = (): void => {};
    test.onmessage = ({ data }) => {
      seen.push(data);
      wake();
    };
    const told = async (kind: string, id: string): Promise<void> => {
      while (!seen.some((m) => m.kind === kind && m.id === id)) await new Promise<void>((resolve) => (wake = resolve));
    };
    const lost: [unknown, TaskErrorInfo][] = [];
    let lostWake = (): void => {};
    const runner = new WorkerTaskRunner({
      module: new URL("../fixtures/worker/csvJobs.ts", import.meta.url),
      threads: 3,
      niceness: 0, // what is tested is which job fails, not priority: keep the threads quick on a busy machine
      onError(error, info) {
        failUploadOfLostThread(error, info); // as the example's CSV runner does
        lost.push([error, info]);
        lostWake();
      },
    });
    try {
      await runner.ready();
      const [kept, lostA, lostB] = ["kept.csv", "lost-a.csv", "lost-b.csv"].map((name) => createJob(crypto.randomUUID(), name, 10).id);
      runner.addTask(processCsv, kept!, "finish", test.name);
      await told("running", kept!);
      assert.equal(getJob(kept!)!.status, "running");

      runner.addTask(processCsv, lostA!, "exit", test.name);
      runner.addTask(processCsv, lostB!, "exit", test.name);
      while (lost.length < 2) await new Promise<void>((resolve) => (lostWake = resolve));
      for (const id of [lostA!, lostB!]) {
        const job = getJob(id)!;
        assert.equal(job.status, "failed", `${job.filename} is failed`);
        assert.match(job.error!.reason, /^Task "process-csv" \(attempt 1\) did not finish: its worker thread exited/);
        assert.ok(job.finishedAt !== undefined);
      }
      assert.deepEqual(lost.map(([, info]) => [info.name, info.final]), [["process-csv", true], ["process-csv", true]]);
      assert.equal(getJob(kept!)!.status, "running", "the job on the other thread is untouched");

      test.postMessage(`release ${kept}`);
      await told("done", kept!);
      assert.equal(getJob(kept!)!.status, "done");
      assert.deepEqual(await runner.drain({ timeoutMs: 5_000 }), { drained: true, unfinished: [] });
    } finally {
      await runner.close({ timeoutMs: 1_000 });
      test.close();
    }
  },
});

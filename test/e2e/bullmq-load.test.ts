// Two workers (one under Bun, one under Node) share the tasks of 10,000
// requests: every acknowledged task runs, none runs twice (no process
// crashes here, so at-least-once must come out exactly once).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type Child,
  freshScope,
  inspectQueue,
  load,
  readRecords,
  type RedisServer,
  startRedis,
  startWeb,
  startWorker,
  stopAllChildren,
  unfinishedJobs,
  waitFor,
  workerPid,
} from "../fixtures/bullmq/_setup.ts";

const TASKS = 10_000;

describe("two workers share 10,000 durable tasks", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  const children: Child[] = [];
  let cleanup = (): void => {};
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await stopAllChildren();
    cleanup();
    await redis?.stop();
  });

  it("none lost, none run twice", async () => {
    const scope = freshScope("load");
    cleanup = scope.cleanup;
    const env = { REDIS_URL: redis.url, QUEUE_NAME: scope.queueName, RECORD_DIR: scope.recordDir, CONCURRENCY: "16" };
    const [web, bunWorker, nodeWorker] = await Promise.all([startWeb(env), startWorker(env, "bun"), startWorker(env, "node")]);
    children.push(web, bunWorker, nodeWorker);
    const queue = inspectQueue(redis.url, scope.queueName);

    try {
      const result = await load(web.url, { amount: TASKS, connections: 32, pathFor: (id) => `/task/${id}` });
      assert.deepEqual(result.statuses, { 200: TASKS }, "every request acknowledged");
      assert.equal(result.errors, 0);

      await waitFor(
        "every task to run and the queue to empty",
        async () => readRecords(scope.recordDir).length >= TASKS && await unfinishedJobs(queue) === 0,
        60_000,
      );
      const records = readRecords(scope.recordDir);
      const runs = new Map<string, number>();
      for (const record of records) runs.set(record.id, (runs.get(record.id) ?? 0) + 1);
      const lost = result.ids.filter((id) => !runs.has(id));
      const twice = [...runs].filter(([, times]) => times > 1).map(([id]) => id);
      assert.deepEqual(lost, [], "lost tasks");
      assert.deepEqual(twice, [], "tasks run twice");
      assert.equal(records.length, TASKS);
      assert.equal((await queue.getJobCounts("failed")).failed, 0);

      const byWorker = [bunWorker, nodeWorker].map((w) => records.filter((r) => r.pid === workerPid(w)).length);
      assert.equal(byWorker[0]! + byWorker[1]!, TASKS, "only the workers ran tasks");
      assert.ok(byWorker.every((n) => n > TASKS / 20), `both workers took a share: ${byWorker.join(" / ")}`);
      console.log(
        `# ${TASKS} tasks in ${result.durationSeconds.toFixed(1)} s of requests (${result.requestsPerSecond}/s); bun worker ${
          byWorker[0]
        }, node worker ${byWorker[1]}`,
      );
    } finally {
      await queue.close();
    }
  });
});

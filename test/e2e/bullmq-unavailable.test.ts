// Redis unavailable when a request arrives: with onUnavailable "fail" the
// request answers 503 and its task does not run; with "in-process" the task
// runs in the web process instead. Both for a Redis that was never reachable
// and for one that dies while the web process runs.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type Child,
  freePort,
  freshScope,
  readRecords,
  type RedisServer,
  startRedis,
  startWeb,
  stopAllChildren,
  waitFor,
  webPid,
} from "../fixtures/bullmq/_setup.ts";

describe("Redis unavailable when a request arrives", { timeout: 90_000 }, () => {
  const children: Child[] = [];
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await stopAllChildren();
    for (const cleanup of cleanups) await cleanup();
  });

  async function web(redisUrl: string, onUnavailable: "fail" | "in-process", label: string) {
    const { queueName, recordDir, cleanup } = freshScope(label);
    cleanups.push(cleanup);
    const child = await startWeb({
      REDIS_URL: redisUrl,
      QUEUE_NAME: queueName,
      RECORD_DIR: recordDir,
      ON_UNAVAILABLE: onUnavailable,
      STORE_TIMEOUT_MS: "500",
    });
    children.push(child);
    return { child, recordDir };
  }

  async function expect503(url: string): Promise<number> {
    const started = performance.now();
    const response = await fetch(url);
    const elapsed = performance.now() - started;
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    assert.match((await response.json()).message, /could not be queued/);
    return elapsed;
  }

  async function stats(child: Child): Promise<Record<string, number>> {
    return await (await fetch(`${child.url}/__stats`)).json();
  }

  describe("never reachable (nothing listens on the port)", () => {
    it('"fail" answers 503 within the store timeout and runs nothing', async () => {
      const { child, recordDir } = await web(`redis://127.0.0.1:${await freePort()}`, "fail", "down-fail");
      const elapsed = await expect503(`${child.url}/task/u1`);
      assert.ok(elapsed < 3_000, `answered in ${elapsed.toFixed(0)} ms`);
      assert.equal((await stats(child)).skipped, 1);
      assert.deepEqual(readRecords(recordDir), []);
    });

    it('"in-process" answers 200 and runs the task in the web process', async () => {
      const { child, recordDir } = await web(`redis://127.0.0.1:${await freePort()}`, "in-process", "down-local");
      const response = await fetch(`${child.url}/task/u2`);
      assert.equal(await response.text(), "ok");
      const run = await waitFor("the in-process run", () => readRecords(recordDir).find((r) => r.id === "u2"));
      assert.equal(run.pid, webPid(child), "ran in the web process");
      assert.equal(run.jobId, undefined, "no job: it never reached Redis");
      assert.equal((await stats(child)).succeeded, 1);
    });
  });

  describe("Redis dies while the web process runs", () => {
    let redis: RedisServer;
    after(async () => await redis?.stop());

    it('"fail" answers 503 at once, "in-process" runs the task here', async () => {
      redis = await startRedis();
      const failing = await web(redis.url, "fail", "dies-fail");
      const local = await web(redis.url, "in-process", "dies-local");
      for (const { child } of [failing, local]) assert.equal(await (await fetch(`${child.url}/task/before`)).text(), "ok");

      redis.process.kill("SIGKILL");
      await new Promise((resolve) => redis.process.once("exit", resolve));

      const elapsed = await expect503(`${failing.child.url}/task/after`);
      // Under the 500 ms store timeout: the runner's connection refuses commands while
      // Redis is down (enableOfflineQueue: false) instead of queueing them.
      assert.ok(elapsed < 500, `answered in ${elapsed.toFixed(0)} ms`);
      assert.deepEqual(readRecords(failing.recordDir), [], "no worker ran, and the web process ran nothing");

      assert.equal(await (await fetch(`${local.child.url}/task/after`)).text(), "ok");
      const run = await waitFor("the in-process run", () => readRecords(local.recordDir).find((r) => r.id === "after"));
      assert.equal(run.pid, webPid(local.child));
      assert.equal(run.jobId, undefined);
      assert.ok(!readRecords(local.recordDir).some((r) => r.id === "before"), "the stored task was left to the (absent) workers");
    });
  });
});

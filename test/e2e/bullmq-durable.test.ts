// Durable tasks on a real Redis (Debian's redis-server, started here): the
// web process runs under Bun with a BullMQTaskRunner, workers under Bun and
// Node with createTaskWorker. Covers: exactly once after the response,
// refusal at the call, kill -9 of the web process, kill -9 of a worker.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { BullMQTaskRunner, createTaskWorker, DEFAULT_TAKEOVER, durableJobId } from "../../src/bullmq.ts";
import {
  type Child,
  freshScope,
  inspectQueue,
  readRecords,
  type RedisServer,
  startRedis,
  startWeb,
  startWorker,
  stopAllChildren,
  unfinishedJobs,
  waitFor,
  webPid,
  workerPid,
} from "../fixtures/bullmq/_setup.ts";

describe("durable tasks on BullMQ", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  const children: Child[] = [];
  const cleanups: (() => unknown)[] = [];
  const track = <T extends Child>(child: T): T => (children.push(child), child);

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await stopAllChildren();
    for (const cleanup of cleanups) await cleanup();
    await redis?.stop();
  });

  function scope(label: string): { queueName: string; recordDir: string; env: Record<string, string> } {
    const { queueName, recordDir, cleanup } = freshScope(label);
    cleanups.push(cleanup);
    return { queueName, recordDir, env: { REDIS_URL: redis.url, QUEUE_NAME: queueName, RECORD_DIR: recordDir } };
  }

  it("runs a task added in a request exactly once, in a worker, after the response completed", async () => {
    const { queueName, recordDir, env } = scope("once");
    const [web, worker] = await Promise.all([startWeb(env), startWorker(env)]);
    track(web);
    track(worker);
    const queue = inspectQueue(redis.url, queueName);
    cleanups.push(() => queue.close());

    const response = await fetch(`${web.url}/gated/g1`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    assert.equal(decoder.decode((await reader.read()).value), "first\n");

    // Answered, body still open: the job is already in Redis, delayed, and nothing ran.
    const delayed = await queue.getJobs(["delayed"]);
    assert.equal(delayed.length, 1, "stored before the response was sent");
    assert.equal(delayed[0]!.name, "record-run");
    assert.deepEqual(delayed[0]!.data.args, ["g1"]);
    // A control task added after it, whose response ends at once, has run in the worker: the
    // gated one, whose body is still being sent, has not.
    assert.equal(await (await fetch(`${web.url}/task/control`)).text(), "ok");
    await waitFor("the control task's run", () => readRecords(recordDir).find((r) => r.id === "control"));
    assert.deepEqual(readRecords(recordDir).filter((r) => r.id === "g1"), [], "no run while the body is still being sent");
    assert.equal(await queue.getJobState(delayed[0]!.id!), "delayed");

    const releasedAt = Date.now();
    assert.equal(await (await fetch(`${web.url}/release/g1`)).text(), "released");
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    assert.equal(rest, "last\n");

    await waitFor("the job to complete", async () => (await queue.getJobCounts("completed")).completed === 2);
    assert.equal(await unfinishedJobs(queue), 0);
    const records = readRecords(recordDir).filter((r) => r.id === "g1");
    assert.equal(records.length, 1, `exactly one run: ${JSON.stringify(records)}`);
    const [run] = records;
    assert.equal(run!.id, "g1");
    assert.equal(run!.pid, workerPid(worker), "ran in the worker");
    assert.equal(run!.attempt, 1);
    assert.equal(run!.jobId, delayed[0]!.id);
    assert.match(run!.url ?? "", /\/gated\/g1$/, "the task knows its request");
    assert.ok(run!.at >= releasedAt, "started only after the last byte was released");
  });

  it("refuses a plain function or non-JSON arguments at the call; runs inProcess tasks here", async () => {
    const { recordDir, env } = scope("refuse");
    const web = track(await startWeb(env));
    const plain = await fetch(`${web.url}/refused/plain`);
    assert.equal(plain.status, 400);
    assert.match((await plain.json()).error, /plain function.*defineTask/);
    const date = await fetch(`${web.url}/refused/date`);
    assert.equal(date.status, 400);
    assert.match((await date.json()).error, /argument 1 is a Date.*JSON/);
    assert.equal(await (await fetch(`${web.url}/local/l1`)).text(), "ok");
    const run = await waitFor("the in-process run", () => readRecords(recordDir).find((r) => r.id === "l1"));
    assert.equal(run.pid, webPid(web), "a task listed in inProcess runs in the web process");
    assert.equal(run.jobId, undefined);
  });

  it("refuses limits no timer can keep, before connecting", () => {
    const connection = { url: redis.url };
    assert.throws(
      () => createTaskWorker({ tasks: [], connection, timeoutMs: 3e9 }),
      /createTaskWorker: timeoutMs must be .* at most 2147483647 .*or Infinity/,
    );
    assert.throws(() => new BullMQTaskRunner({ connection, storeTimeoutMs: 3e9 }), /storeTimeoutMs must be .* at most 2147483647/);
    assert.throws(() => new BullMQTaskRunner({ connection, recoverAfterMs: Infinity }), /recoverAfterMs must be a positive number/);
  });

  it("retries with backoff, times attempts out, and keeps failed jobs for inspection", async () => {
    const { queueName, recordDir, env } = scope("retry");
    const [web, worker] = await Promise.all([startWeb({ ...env, RETRY_DELAY_MS: "200" }), startWorker(env)]);
    track(web);
    track(worker);
    const queue = inspectQueue(redis.url, queueName);
    cleanups.push(() => queue.close());

    for (const path of ["/flaky/once?failures=1", "/flaky/always?failures=9", "/hang/h1"]) {
      assert.equal(await (await fetch(web.url + path)).text(), "ok");
    }
    await waitFor("two jobs to fail and one to complete", async () => {
      const counts = await queue.getJobCounts("failed", "completed");
      return counts.failed === 2 && counts.completed === 1;
    });
    const records = readRecords(recordDir);
    const starts = (id: string) => records.filter((r) => r.id === id && r.kind === "start");
    assert.deepEqual(starts("once").map((r) => r.attempt), [1, 2], "failed once, then succeeded on the retry");
    assert.ok(records.some((r) => r.id === "once" && r.kind === "done"));
    assert.deepEqual(starts("always").map((r) => r.attempt), [1, 2, 3], "retries: 2 means 3 attempts");
    const gaps = starts("always").slice(1).map((r, i) => r.at - starts("always")[i]!.at);
    assert.ok(gaps.every((gap) => gap >= 200), `each retry waits for the backoff: ${gaps.join(", ")} ms`);
    assert.deepEqual(starts("h1").map((r) => r.attempt), [1, 2], "a timed-out attempt is retried");

    const failed = new Map((await queue.getFailed()).map((job) => [job.data.args[0], job]));
    assert.equal(failed.get("always")?.attemptsMade, 3);
    assert.match(failed.get("always")?.failedReason ?? "", /planned failure on attempt 3/);
    assert.match(failed.get("h1")?.failedReason ?? "", /did not finish within 300 ms/);
    assert.match(worker.stderr(), /job .* \("flaky-run"\) failed for good after 3 of 3 attempts/, "reported once, at the end");
    assert.equal(worker.stderr().match(/"flaky-run"\) failed for good/g)?.length, 1);
  });

  it("keeps a task's own concurrency in a worker that could run more at once", async () => {
    const { recordDir, env } = scope("serial");
    const [web, worker] = await Promise.all([startWeb(env), startWorker({ ...env, CONCURRENCY: "8" })]);
    track(web);
    track(worker);
    for (const id of ["s1", "s2", "s3", "s4"]) assert.equal(await (await fetch(`${web.url}/serial/${id}?ms=150`)).text(), "ok");
    await fetch(`${web.url}/slow/free?ms=150`);
    const records = await waitFor("the serial runs and the free one to finish", () => {
      const all = readRecords(recordDir);
      return all.filter((r) => r.kind === "done").length === 5 && all;
    });
    let running = 0;
    let peak = 0;
    for (const r of records.filter((r) => r.id.startsWith("s"))) {
      running += r.kind === "start" ? 1 : -1;
      peak = Math.max(peak, running);
    }
    assert.equal(peak, 1, "serial-run never overlapped itself");
    const firstDone = records.find((r) => r.kind === "done" && r.id.startsWith("s"))!;
    const free = records.find((r) => r.kind === "start" && r.id === "free")!;
    assert.ok(free.at < firstDone.at + 100, "a task without a limit did not wait behind the serial ones");
  });

  it("still runs the task when the web process is killed (-9) right after it answered", async () => {
    const { queueName, recordDir, env } = scope("webkill");
    const recoverAfterMs = 1_500;
    const web = track(await startWeb({ ...env, RECOVER_AFTER_MS: String(recoverAfterMs) }));
    const queue = inspectQueue(redis.url, queueName);
    cleanups.push(() => queue.close());

    // One response still streaming (its job was never promoted), one complete.
    const open = await fetch(`${web.url}/gated/k1`);
    assert.equal(open.status, 200);
    const done = await fetch(`${web.url}/task/k2`);
    assert.equal(await done.text(), "ok");
    web.process.kill("SIGKILL");
    await web.exited;
    await open.body!.cancel().catch(() => {});
    const killedAt = Date.now();

    const worker = track(await startWorker(env));
    await waitFor("both tasks to run", () => {
      const ids = new Set(readRecords(recordDir).map((r) => r.id));
      return ids.has("k1") && ids.has("k2");
    }, recoverAfterMs + 10_000);
    assert.ok(Date.now() - killedAt < recoverAfterMs + 10_000);
    await waitFor("the queue to empty", async () => (await unfinishedJobs(queue)) === 0);
    const records = readRecords(recordDir);
    assert.deepEqual(records.map((r) => r.id).sort(), ["k1", "k2"], "each ran once");
    assert.ok(records.every((r) => r.pid === workerPid(worker)));
  });

  it("runs a task again in another worker within the default takeover bound when its worker is killed (-9) mid-task", async () => {
    const { queueName, recordDir, env } = scope("workerkill");
    // createTaskWorker's default lock and stalled-check settings: the bound checked here is theirs.
    const workerEnv = { ...env, CONCURRENCY: "1" };
    const [web, first, second] = await Promise.all([
      startWeb(env),
      startWorker(workerEnv, "bun"),
      startWorker(workerEnv, "node"),
    ]);
    for (const child of [web, first, second]) track(child);
    const queue = inspectQueue(redis.url, queueName);
    cleanups.push(() => queue.close());

    assert.equal(await (await fetch(`${web.url}/slow/s1?ms=2000`)).text(), "ok");
    const started = await waitFor("the task to start", () => readRecords(recordDir).find((r) => r.kind === "start"));
    const victim = [first, second].find((w) => workerPid(w) === started.pid)!;
    const survivor = victim === first ? second : first;
    victim.process.kill("SIGKILL");
    await victim.exited;
    const killedAt = Date.now();

    const finished = await waitFor(
      "another worker to run it to the end",
      () => readRecords(recordDir).find((r) => r.kind === "done"),
      40_000,
    );
    assert.equal(finished.pid, workerPid(survivor), "the surviving worker ran it");
    const starts = readRecords(recordDir).filter((r) => r.kind === "start");
    const takeoverMs = starts[1]!.at - killedAt;
    // The worst case: the killed worker ran the last stalled check, whose key holds the
    // survivor's next check off for one interval. The extra second covers the survivor's pick-up and its
    // timers' lag on a loaded machine; BullMQ's own defaults would take 60–90 s.
    const bound = DEFAULT_TAKEOVER.lockDuration + 2 * DEFAULT_TAKEOVER.stalledInterval + 1_000;
    assert.ok(takeoverMs <= bound, `taken over ${takeoverMs} ms after the kill; the default settings promise ≤ ${bound} ms`);
    assert.equal(starts[1]!.key, starts[0]!.jobId, "a task without a key of its own sees the job id as its idempotency key");
    assert.deepEqual(starts.map((r) => r.pid), [victim, survivor].map(workerPid), "started twice: at least once, not exactly once");
    assert.equal(starts[1]!.attempt, 2, "the second run knows it is a second attempt");
    assert.equal(starts[1]!.jobId, starts[0]!.jobId, "same job id: usable as an idempotency key");
    await waitFor("the job to complete", async () => (await queue.getJobCounts("completed")).completed === 1);
  });

  it("stops an attempt whose worker lost the lock (its event loop was blocked) once another worker took the job", async () => {
    const { queueName, recordDir, env } = scope("lostlock");
    const workerEnv = { ...env, CONCURRENCY: "1", LOCK_DURATION: "1000", STALLED_INTERVAL: "500" };
    const [web, first, second] = await Promise.all([startWeb(env), startWorker(workerEnv), startWorker(workerEnv)]);
    for (const child of [web, first, second]) track(child);
    const queue = inspectQueue(redis.url, queueName);
    cleanups.push(() => queue.close());

    assert.equal(await (await fetch(`${web.url}/block/b1?ms=3000`)).text(), "ok");
    const records = await waitFor("the blocked attempt to end", () => {
      const all = readRecords(recordDir);
      return all.some((r) => r.attempt === 1 && (r.kind === "aborted" || r.kind === "done")) && all;
    }, 20_000);
    const blocked = records.filter((r) => r.attempt === 1);
    const takeover = records.filter((r) => r.attempt === 2);
    assert.deepEqual(
      takeover.map((r) => r.kind),
      ["start", "done"],
      "another worker took the job over while the first was blocked, and finished it",
    );
    assert.notEqual(takeover[0]!.pid, blocked[0]!.pid);
    assert.deepEqual(blocked.map((r) => r.kind), ["start", "aborted"], "the blocked attempt was told to stop when its lock renewal failed");
    await waitFor("the job to be completed once", async () => (await queue.getJobCounts("completed")).completed === 1);
  });

  it("stores the same work once: a key derived by defineTask or given with withIdempotencyKey is the job id", async () => {
    const { queueName, recordDir, env } = scope("keys");
    const [web, worker] = await Promise.all([startWeb(env), startWorker(env)]);
    track(web);
    track(worker);
    const queue = inspectQueue(redis.url, queueName);
    cleanups.push(() => queue.close());
    const get = async (path: string): Promise<string> => {
      const response = await fetch(`${web.url}${path}`);
      const text = await response.text();
      assert.equal(response.status, 200, text);
      return text;
    };

    // Added twice before it could run (one request in flight holds nothing back): one job.
    await Promise.all([get("/keyed/a"), get("/keyed/a"), get("/keyed/b"), get("/given/x1?key=invoice-7"), get("/given/x2?key=invoice-7")]);
    await waitFor("the three jobs to complete", async () => (await queue.getJobCounts("completed")).completed === 3);
    assert.equal(await unfinishedJobs(queue), 0);
    const runs = readRecords(recordDir);
    assert.deepEqual(runs.map((r) => r.key).sort(), ["invoice-7", "order:a", "order:b"], "one run per key");
    assert.equal(runs.find((r) => r.key === "order:a")!.jobId, durableJobId("keyed-run", "order:a"), "the job id derives from the key");
    assert.ok(["x1", "x2"].includes(runs.find((r) => r.key === "invoice-7")!.id));

    // Added again while the completed job is kept (removeOnComplete): stored nowhere, run nowhere.
    await get("/keyed/a");
    assert.equal(await unfinishedJobs(queue), 0, "no new job: the answer came after Redis had seen the add");
    assert.equal((await queue.getJobCounts("completed")).completed, 3);

    // Once the job is removed, the same key is new work again: the window is the job's life in Redis.
    await queue.remove(durableJobId("keyed-run", "order:a"));
    await get("/keyed/a");
    await waitFor("the re-added job to run", () => readRecords(recordDir).filter((r) => r.key === "order:a").length === 2);

    const refused = await fetch(`${web.url}/given/z?key=`);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /idempotency key must be a non-empty string/);
  });
});

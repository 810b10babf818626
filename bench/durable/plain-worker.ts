// The baseline worker of bench/bullmq.mjs: a plain BullMQ Worker (BullMQ's
// default lock and stalled-check settings) doing the same work as
// createTaskWorker in the fixture worker: it calls the fixture's recordRun
// with the job's arguments. Env: REDIS_URL, QUEUE_NAME, CONCURRENCY, RECORD_DIR.
// Prints "ready <pid>".
import process from "node:process";
import { type Job, Worker } from "bullmq";
import { recordRun } from "../../test/fixtures/bullmq/tasks.ts";

const worker = new Worker(process.env.QUEUE_NAME!, async (job: Job) => {
  const controller = new AbortController();
  const context = {
    name: job.name,
    attempt: job.attemptsMade + 1,
    signal: controller.signal,
    request: job.data.request,
    responseAborted: false,
    jobId: job.id,
    idempotencyKey: job.id,
  };
  await recordRun.apply(context, job.data.args);
}, { connection: { url: process.env.REDIS_URL! }, concurrency: Number(process.env.CONCURRENCY ?? 16) });
await worker.waitUntilReady();
console.log(`ready ${process.pid}`);

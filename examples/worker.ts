/**
 * The example server's worker: runs its durable tasks (the welcome mail and
 * the notification log line) from the Redis queue. Start the server and any
 * number of workers, on any number of machines, with the same REDIS_URL:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 bun run examples/server.ts
 *   REDIS_URL=redis://127.0.0.1:6379 npx bun run examples/worker.ts
 *
 * Workers read the same settings as the server (examples/.env.example):
 * DATA_DIR (log file and local outbox), SMTP_URL, TASK_CONCURRENCY,
 * TASK_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS, and WORKER_LOCK_DURATION_MS /
 * WORKER_STALLED_INTERVAL_MS (how fast a dead worker's jobs are taken over:
 * within 16 s by default, usually 11 s). On SIGINT/SIGTERM a worker stops
 * taking jobs and waits for the running ones (up to SHUTDOWN_TIMEOUT_MS);
 * a job cut off then is run again by another worker. See docs/durable.md.
 */
import { createTaskWorker } from "@background/tasks/bullmq";
import { config } from "./app/config.ts";
import { reportTaskFailure } from "./app/taskReports.ts";
import { sendWelcomeEmail } from "./app/tasks/sendWelcomeEmail.ts";
import { notificationLog, writeLog } from "./app/tasks/writeLog.ts";

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.error("Set REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379 npx bun run examples/worker.ts");
  process.exit(2);
}

const worker = createTaskWorker({
  connection: { url: redisUrl },
  tasks: [sendWelcomeEmail, writeLog],
  concurrency: config.taskConcurrency,
  timeoutMs: config.taskTimeoutMs,
  onError: reportTaskFailure,
  lockDuration: config.workerLockDurationMs,
  stalledInterval: config.workerStalledIntervalMs,
});
worker.on("completed", (job) => console.log(JSON.stringify({ level: "info", msg: "task done", task: job.name, job: job.id })));
await worker.waitUntilReady();
console.log(`Worker ${process.pid} taking tasks from ${redisUrl.replace(/\/\/[^@/]*@/, "//***@")} (concurrency ${config.taskConcurrency})`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) {
    console.log(`${signal} again: exiting now; running tasks will be run again by another worker.`);
    process.exit(1);
  }
  stopping = true;
  console.log(`${signal}: taking no new tasks; waiting up to ${config.shutdownTimeoutMs} ms for the running ones.`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finished = await Promise.race([
    worker.close().then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), config.shutdownTimeoutMs))),
  ]);
  clearTimeout(timer);
  if (!finished) {
    console.log("Running tasks did not finish in time; another worker will run them again.");
    await worker.close(true);
  }
  await notificationLog.close().catch((error: unknown) => console.error("closing the log failed:", error));
  console.log("Worker stopped. Bye.");
  process.exit(finished ? 0 : 1);
}
process.on("SIGINT", (signal) => void stop(signal));
process.on("SIGTERM", (signal) => void stop(signal));

/**
 * The example's task runners.
 *
 * - `runner`: the log and mail tasks (and every route but the upload), on the
 *   server's event loop: they wait on I/O. With REDIS_URL set, they are durable:
 *   stored in Redis before the response and run by `npx bun run examples/worker.ts`
 *   (docs/durable.md).
 * - `csvRunner`: the CSV task, on `CSV_THREADS` worker threads, so a large
 *   upload never holds the event loop that answers requests. With
 *   `CSV_THREADS=0` it is `runner` itself, and the task yields every few
 *   milliseconds instead.
 */
import { type BackgroundTasks, defineTask, type TaskRunner, type TaskRunnerOptions, type TaskRunnerStats } from "@background/tasks";
import type { BullMQTaskRunner } from "@background/tasks/bullmq";
import { WorkerTaskRunner } from "@background/tasks/worker";
import { config } from "./config.ts";
import { MailTrackingTaskRunner } from "./mail/mailSpool.ts";
import { reportTaskFailure } from "./taskReports.ts";
import { processCsv } from "./tasks/processCsv.ts";
import { sendWelcomeEmail } from "./tasks/sendWelcomeEmail.ts";
import { writeLog } from "./tasks/writeLog.ts";
import { failUpload, failUploadOfLostThread } from "./uploads/uploadJobs.ts";

const options: TaskRunnerOptions = {
  concurrency: config.taskConcurrency,
  maxPending: config.taskMaxPending,
  timeoutMs: config.taskTimeoutMs,
  retryDelayMs: (retry) => Math.min(config.retryBaseMs * 2 ** (retry - 1), 30_000),
  onError: reportTaskFailure,
};

/**
 * Hands an upload's CSV task to the worker threads. It runs as one of the request's tasks, so
 * the parse starts only once the 202 has been sent, like every other task of the example.
 */
const queueCsvOnThread = defineTask("queue-csv", (id: string): void => {
  try {
    csvRunner.addTask(processCsv, id);
  } catch (error) {
    failUpload(id, error instanceof Error ? error.message : String(error)); // full meanwhile: the job says so
    throw error;
  }
}, { retries: 0 });

/** The durable runner when `REDIS_URL` is set, else `undefined`; BullMQ is loaded only then. */
export const durableRunner: BullMQTaskRunner | undefined = process.env.REDIS_URL
  ? new (await import("@background/tasks/bullmq")).BullMQTaskRunner({
    ...options,
    connection: { url: process.env.REDIS_URL },
    tasks: [sendWelcomeEmail, writeLog],
    inProcess: [processCsv, queueCsvOnThread], // the upload and its status live in this process
    jobOptions: { backoff: { type: "exponential", delay: config.retryBaseMs } },
  })
  : undefined;

export const runner: TaskRunner = durableRunner ?? new MailTrackingTaskRunner(options); // a plain one spools unsent mail at shutdown

export const csvRunner: TaskRunner = config.csvThreads === 0 ? runner : new WorkerTaskRunner({
  module: new URL("./tasks/processCsv.ts", import.meta.url),
  threads: config.csvThreads, // each thread parses one upload at a time
  maxPending: config.taskMaxPending,
  timeoutMs: config.taskTimeoutMs,
  onError(error, info) {
    reportTaskFailure(error, info);
    failUploadOfLostThread(error, info); // the task reports its own failures; one whose thread died could not
  },
});

/**
 * Adds the CSV task for upload `id` to the request's tasks: in-process it is the parse itself;
 * with worker threads, a hand-over to `csvRunner` (the Elysia plugin serves one runner per app).
 * Either starts once the response was sent.
 */
export function addCsvTask(tasks: BackgroundTasks, id: string): void {
  tasks.addTask(csvRunner === runner ? processCsv : queueCsvOnThread, id);
}

const runners = csvRunner === runner ? [runner] : [runner, csvRunner];

/** Every runner of the example as one, for `GET /tasks` and the shutdown. */
export const allRunners: Pick<TaskRunner, "stats" | "drain"> = {
  stats(): TaskRunnerStats {
    const total: Record<keyof TaskRunnerStats, number> = { ...runner.stats() };
    for (const other of runners.slice(1)) {
      for (const [key, value] of Object.entries(other.stats()) as [keyof TaskRunnerStats, number][]) total[key] += value;
    }
    return total;
  },
  async drain(drainOptions) {
    const results = await Promise.all(runners.map((r) => r.drain(drainOptions)));
    return { drained: results.every((r) => r.drained), unfinished: results.flatMap((r) => r.unfinished) };
  },
};

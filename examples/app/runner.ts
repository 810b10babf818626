/**
 * The one task runner of the example: every route's background tasks share its limits.
 * With REDIS_URL set, the mail and log tasks are durable: stored in Redis before the
 * response and run by `bun run examples/worker.ts` (docs/durable.md).
 */
import type { TaskRunner, TaskRunnerOptions } from "@background/tasks";
import { BullMQTaskRunner } from "@background/tasks/bullmq";
import { config } from "./config.ts";
import { MailTrackingTaskRunner } from "./mail/mailSpool.ts";
import { reportTaskFailure } from "./taskReports.ts";
import { processCsv } from "./tasks/processCsv.ts";
import { sendWelcomeEmail } from "./tasks/sendWelcomeEmail.ts";
import { writeLog } from "./tasks/writeLog.ts";

const options: TaskRunnerOptions = {
  concurrency: config.taskConcurrency,
  maxPending: config.taskMaxPending,
  timeoutMs: config.taskTimeoutMs,
  retryDelayMs: (retry) => Math.min(config.retryBaseMs * 2 ** (retry - 1), 30_000),
  onError: reportTaskFailure,
};

export const runner: TaskRunner = process.env.REDIS_URL
  ? new BullMQTaskRunner({
    ...options,
    connection: { url: process.env.REDIS_URL },
    tasks: [sendWelcomeEmail, writeLog],
    inProcess: [processCsv], // its upload and its status live in this process
    jobOptions: { backoff: { type: "exponential", delay: config.retryBaseMs } },
  })
  : new MailTrackingTaskRunner(options); // a plain TaskRunner that spools unsent mail at shutdown

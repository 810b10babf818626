/** The one task runner of the example: every route's background tasks share its limits. */
import { TaskRunner } from "@background/tasks";
import { config } from "./config.ts";
import { reportTaskFailure } from "./taskReports.ts";

export const runner: TaskRunner = new TaskRunner({
  concurrency: config.taskConcurrency,
  maxPending: config.taskMaxPending,
  timeoutMs: config.taskTimeoutMs,
  retryDelayMs: (retry) => Math.min(config.retryBaseMs * 2 ** (retry - 1), 30_000),
  onError: reportTaskFailure,
});

/** Where background task failures end up: one JSON line on stderr each, and the latest in memory for `GET /tasks`. */
import type { TaskErrorInfo, TaskRequestInfo } from "@background/tasks";

export interface TaskFailure {
  readonly task: string;
  readonly attempts: number;
  readonly timedOut: boolean;
  readonly error: string;
  readonly request: string | undefined;
  readonly at: string;
}

const KEEP = 50;
const failures: TaskFailure[] = [];

/** The runner's `onError`: called once per task that failed for good. */
export function reportTaskFailure(error: unknown, info: TaskErrorInfo): void {
  const failure: TaskFailure = {
    task: info.name,
    attempts: info.attempt,
    timedOut: info.timedOut,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    request: info.request && describeRequest(info.request),
    at: new Date().toISOString(),
  };
  failures.unshift(failure);
  if (failures.length > KEEP) failures.length = KEEP;
  console.error(JSON.stringify({ level: "error", msg: "background task failed", ...failure }));
}

/**
 * "POST /upload"; only the method when the URL is unknown: Bun forgets a URL nobody read once the
 * response is sent, and reading every URL would cost each request more than the task it adds.
 */
export function describeRequest(request: TaskRequestInfo): string {
  return request.url ? `${request.method} ${new URL(request.url).pathname}` : request.method;
}

/** The latest failures, newest first. */
export function recentTaskFailures(): readonly TaskFailure[] {
  return failures;
}

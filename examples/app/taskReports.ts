/** Where background task failures end up: one JSON line on stderr each, and the latest in memory for `GET /tasks`. */
import type { TaskErrorInfo } from "@background/tasks";

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
    request: info.request && `${info.request.method} ${new URL(info.request.url).pathname}`,
    at: new Date().toISOString(),
  };
  failures.unshift(failure);
  if (failures.length > KEEP) failures.length = KEEP;
  console.error(JSON.stringify({ level: "error", msg: "background task failed", ...failure }));
}

/** The latest failures, newest first. */
export function recentTaskFailures(): readonly TaskFailure[] {
  return failures;
}

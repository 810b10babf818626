/**
 * Where background task failures end up: one JSON line on stderr each, and the latest in memory for `GET /tasks`;
 * and the warnings that stand until their cause is gone (no worker for the durable queue).
 */
import type { TaskErrorInfo, TaskRequestInfo } from "@background/tasks";
import { describeMail, mailOfTaskFailure } from "./mail/mailSpool.ts";

export interface TaskFailure {
  readonly task: string;
  readonly attempts: number;
  readonly timedOut: boolean;
  readonly error: string;
  readonly request: string | undefined;
  /** What the task was about, for a mail: `"Welcome!" to a***@example.com`. */
  readonly subject: string | undefined;
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
    subject: describeSubject(error),
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

function describeSubject(error: unknown): string | undefined {
  const mail = mailOfTaskFailure(error);
  return mail && describeMail(mail);
}

/** The latest failures, newest first. */
export function recentTaskFailures(): readonly TaskFailure[] {
  return failures;
}

const warnings = new Map<string, string>();

/** Shows `message` in `GET /tasks` under `key` until {@link clearWarning}. */
export function raiseWarning(key: string, message: string): void {
  warnings.set(key, message);
}

export function clearWarning(key: string): void {
  warnings.delete(key);
}

/** The warnings standing now. */
export function currentWarnings(): string[] {
  return [...warnings.values()];
}

import type { TaskErrorInfo } from "../types.ts";

/**
 * Lifecycle events of a `TaskRunner`, with what each listener receives.
 *
 * @example
 * ```ts
 * import { TaskRunner, type TaskRunnerEvents } from "@background/tasks";
 *
 * const onFailure: TaskRunnerEvents["failure"] = (error, info) => console.error(info.name, error);
 * const runner = new TaskRunner({ onError: () => {} });
 * runner.on("failure", onFailure);
 * ```
 */
export interface TaskRunnerEvents {
  /** An attempt starts. */
  start: (task: TaskEventInfo) => void;
  /** A task finished without error. */
  success: (task: TaskEventInfo) => void;
  /** An attempt failed or timed out and another follows. */
  retry: (error: unknown, info: TaskErrorInfo) => void;
  /** A task failed for good (also passed to `onError`). */
  failure: (error: unknown, info: TaskErrorInfo) => void;
  /** A task was not accepted because the runner was full. */
  drop: (task: TaskEventInfo) => void;
  /** A task was never started (aborted response with `runOnAbort: false`, or `stopOnError`). */
  skip: (task: TaskEventInfo) => void;
}

/**
 * What `start`, `success`, `drop` and `skip` listeners receive.
 *
 * @example
 * ```ts
 * import { type TaskEventInfo, TaskRunner } from "@background/tasks";
 *
 * const started: TaskEventInfo[] = [];
 * const runner = new TaskRunner();
 * runner.on("start", (task) => void started.push(task));
 * runner.addTask(function hello() {});
 * await runner.drain();
 * console.assert(started[0]?.name === "hello" && started[0]?.attempt === 1);
 * ```
 */
export type TaskEventInfo = Pick<TaskErrorInfo, "name" | "attempt" | "request">;

/**
 * A runner's listeners. A listener that throws is logged and the others
 * still run: a listener never breaks the runner.
 * @internal
 */
export class _Events {
  readonly #listeners: { [E in keyof TaskRunnerEvents]?: TaskRunnerEvents[E][] } = {};

  on<E extends keyof TaskRunnerEvents>(event: E, listener: TaskRunnerEvents[E]): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(`TaskRunner.on("${String(event)}", listener): listener must be a function.`);
    }
    const list = (this.#listeners[event] ??= []) as TaskRunnerEvents[E][];
    list.push(listener);
    return () => {
      const at = list.indexOf(listener);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** Whether anyone listens: the event's data is made only then. */
  has(event: keyof TaskRunnerEvents): boolean {
    return (this.#listeners[event]?.length ?? 0) > 0;
  }

  emit<E extends keyof TaskRunnerEvents>(event: E, ...args: Parameters<TaskRunnerEvents[E]>): void {
    for (const listener of this.#listeners[event] ?? []) {
      try {
        (listener as (...args: unknown[]) => void)(...args);
      } catch (error) {
        console.error(`[background-tasks] a "${event}" listener threw:`, error);
      }
    }
  }
}

/** Reports a final failure to `onError`, or to `console.error` without one (or when it throws). @internal */
export function _reportFailure(
  onError: ((error: unknown, info: TaskErrorInfo) => void) | undefined,
  error: unknown,
  info: TaskErrorInfo,
): void {
  if (onError !== undefined) {
    try {
      onError(error, info);
      return;
    } catch (hookError) {
      console.error("[background-tasks] onError threw while reporting a task failure:", hookError);
    }
  }
  const where = info.request ? ` for ${info.request.method} ${info.request.url}` : "";
  console.error(
    `[background-tasks] task "${info.name}" failed${info.timedOut ? " (timed out)" : ""}${where}, ` +
      `attempt ${info.attempt} of ${info.maxAttempts}:`,
    error,
  );
}

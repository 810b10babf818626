/**
 * Errors callers may want to catch. Bad arguments throw built-in
 * `TypeError`/`RangeError` with a message that says how to fix them.
 *
 * @module
 */

/**
 * Thrown by `addTask` (with `overflow: "reject"`), or reported to `onError`
 * (with `overflow: "drop"`), when a runner already holds `maxPending` tasks.
 *
 * @example Answer 503 when the runner is full
 * ```ts
 * import { getBackgroundTasks, TaskQueueFullError, withBackgroundTasks } from "@background/tasks";
 *
 * const handler = withBackgroundTasks((request: Request) => {
 *   try {
 *     getBackgroundTasks(request).addTask(() => {});
 *   } catch (error) {
 *     if (error instanceof TaskQueueFullError) return new Response("busy", { status: 503 });
 *     throw error;
 *   }
 *   return new Response("ok");
 * });
 * ```
 */
export class TaskQueueFullError extends Error {
  /** Always `"TaskQueueFullError"`. */
  override readonly name = "TaskQueueFullError";
  /** The runner's `maxPending`. */
  readonly maxPending: number;

  /**
   * Made by the runner; you catch it rather than make it.
   *
   * @param maxPending the bound that was reached
   */
  constructor(maxPending: number) {
    super(
      `The task runner already holds ${maxPending} pending tasks (maxPending). ` +
        `Raise maxPending or concurrency, or answer 503 and let the client retry.`,
    );
    this.maxPending = maxPending;
  }
}

/**
 * The reason a task's `signal` is aborted with, and the error reported, when an attempt runs past its timeout.
 *
 * @example
 * ```ts
 * import { TaskRunner, TaskTimeoutError } from "@background/tasks";
 *
 * const errors: unknown[] = [];
 * const runner = new TaskRunner({ timeoutMs: 10, onError: (error) => void errors.push(error) });
 * runner.addTask(function (this: { signal: AbortSignal }) {
 *   return new Promise((resolve) => this.signal.addEventListener("abort", resolve));
 * });
 * await runner.drain();
 * console.assert(errors[0] instanceof TaskTimeoutError && errors[0].timeoutMs === 10);
 * ```
 */
export class TaskTimeoutError extends Error {
  /** Always `"TaskTimeoutError"`. */
  override readonly name = "TaskTimeoutError";
  /** The timeout that passed, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Made by the runner when an attempt runs past its timeout.
   *
   * @param taskName the task that timed out
   * @param timeoutMs its timeout
   */
  constructor(taskName: string, timeoutMs: number) {
    super(`Task "${taskName}" did not finish within ${timeoutMs} ms; its signal was aborted.`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The reason running tasks' signals are aborted with when a `drain()` deadline passes.
 *
 * @example
 * ```ts
 * import { DrainTimeoutError, TaskRunner } from "@background/tasks";
 *
 * const runner = new TaskRunner();
 * let reason: unknown;
 * runner.addTask(function (this: { signal: AbortSignal }) {
 *   return new Promise<void>((resolve) => this.signal.addEventListener("abort", () => resolve(reason = this.signal.reason)));
 * });
 * await runner.drain({ timeoutMs: 10 });
 * console.assert(reason instanceof DrainTimeoutError);
 * ```
 */
export class DrainTimeoutError extends Error {
  /** Always `"DrainTimeoutError"`. */
  override readonly name = "DrainTimeoutError";

  /**
   * Made by `drain()` when its deadline passes.
   *
   * @param timeoutMs the drain deadline
   */
  constructor(timeoutMs: number) {
    super(`drain() gave up after ${timeoutMs} ms; unfinished tasks were aborted.`);
  }
}

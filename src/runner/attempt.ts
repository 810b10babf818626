import type { TaskFunction, TaskRunnerOptions } from "../types.ts";
import { taskDefinition } from "../defineTask.ts";
import { _MAX_TIMER_MS } from "../_settings.ts";

/** The delay before retry number `retry` (1 for the first). @internal */
export type _RetryDelay = (retry: number, error: unknown) => number;

/** 100 ms, 200 ms, 400 ms … capped at 30 s. @internal */
export const _defaultRetryDelay: _RetryDelay = (retry) => Math.min(100 * 2 ** (retry - 1), 30_000);

/** The runner's `retryDelayMs` option as a function. @internal */
export function _retryDelayOf(option: TaskRunnerOptions["retryDelayMs"]): _RetryDelay {
  if (typeof option === "function") return option;
  return option === undefined ? _defaultRetryDelay : () => option;
}

/**
 * The delay before retry number `retry`: within 0 and the longest a timer
 * keeps (not a number: 0). A delay function that throws means "at once".
 * @internal
 */
export function _nextRetryDelay(delay: _RetryDelay, retry: number, error: unknown): number {
  let ms: number;
  try {
    ms = delay(retry, error);
  } catch (delayError) {
    console.error("[background-tasks] retryDelayMs threw; retrying at once:", delayError);
    return 0;
  }
  return ms >= 0 ? Math.min(ms, _MAX_TIMER_MS) : 0;
}

/** A task's timeout: its `defineTask` setting, else `fallback`; `undefined` for none. @internal */
export function _timeoutOf(fn: TaskFunction, fallback: number | undefined): number | undefined {
  const ms = taskDefinition(fn)?.settings.timeoutMs ?? fallback;
  return ms === Infinity ? undefined : ms;
}

/** How many retries a task gets: its `defineTask` setting, else `fallback`. @internal */
export function _retriesOf(fn: TaskFunction, fallback: number): number {
  return taskDefinition(fn)?.settings.retries ?? fallback;
}

/**
 * Settles as `result` does, or rejects with `timeoutError()` once
 * `timeoutMs` passed first, and then calls `timedOut(error)` (which aborts
 * the attempt's signal: a task that ends on abort still counts as timed
 * out). A late result is ignored. Without a timeout it is
 * `Promise.resolve(result)`.
 * @internal
 */
export function _withinTimeout<T>(
  result: T | PromiseLike<T>,
  timeoutMs: number | undefined,
  timeoutError: () => Error,
  timedOut: (error: Error) => void,
): Promise<T> {
  if (timeoutMs === undefined) return Promise.resolve(result);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = timeoutError();
      reject(error);
      timedOut(error);
    }, timeoutMs);
  });
  return Promise.race([result, deadline]).finally(() => clearTimeout(timer));
}

import type { TaskFunction, TaskSettings } from "./types.ts";
import { _checkSettings } from "./_settings.ts";
import { _checkOptions, _TASK_SETTINGS } from "./_options.ts";

const kDefinition: unique symbol = Symbol.for("@background/tasks.definition");

/**
 * The name and settings `defineTask` attached to a function.
 *
 * @example
 * ```ts
 * import { defineTask, type TaskDefinition, taskDefinition } from "@background/tasks";
 *
 * const definition: TaskDefinition | undefined = taskDefinition(defineTask("ping", () => {}, { retries: 1 }));
 * console.assert(definition?.name === "ping" && definition.settings.retries === 1);
 * ```
 */
export interface TaskDefinition {
  /** The stable name: reported to hooks and used by durable runners to find the function. */
  readonly name: string;
  /** Timeout, retries and own concurrency limit for this task (timeout and retries override the runner's). */
  readonly settings: TaskSettings;
}

/**
 * Names a task and fixes its timeout, retries and own concurrency limit,
 * wherever it is added.
 * A named task with JSON arguments can later run on a durable queue.
 *
 * @param name a stable, non-empty name such as `"send-welcome-email"`
 * @param fn the task function, sync or async
 * @param settings `timeoutMs`, `retries`, `concurrency` and `idempotencyKey` for this task
 * @returns a function that behaves like `fn` and carries the definition
 *
 * @example
 * ```ts
 * import { defineTask, taskDefinition } from "@background/tasks";
 *
 * const sendWelcomeEmail = defineTask(
 *   "send-welcome-email",
 *   async (to: string, username: string) => { console.log(`mail ${to} ${username}`); },
 *   { retries: 3, timeoutMs: 10_000, concurrency: 4 }, // at most 4 mails at once; other tasks are not held back
 * );
 * console.assert(taskDefinition(sendWelcomeEmail)?.name === "send-welcome-email");
 * ```
 */
export function defineTask<F extends TaskFunction>(name: string, fn: F, settings: TaskSettings<Parameters<F>> = {}): F {
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError(`defineTask(name, fn): name must be a non-empty string such as "send-welcome-email", got ${JSON.stringify(name)}.`);
  }
  if (typeof fn !== "function") {
    throw new TypeError(`defineTask("${name}", fn): fn must be a function, got ${typeof fn}.`);
  }
  _checkOptions(`defineTask("${name}", fn, settings)`, settings, _TASK_SETTINGS);
  _checkSettings(`defineTask("${name}")`, settings);
  const defined = function (this: unknown, ...args: unknown[]): unknown {
    return fn.apply(this as never, args as never);
  };
  Object.defineProperty(defined, "name", { value: name });
  Object.defineProperty(defined, kDefinition, { value: Object.freeze({ name, settings: Object.freeze({ ...settings }) }) });
  return defined as unknown as F;
}

/**
 * Reads what `defineTask` attached to a function.
 *
 * @param fn any task function
 * @returns its definition, or `undefined` for a plain function
 *
 * @example
 * ```ts
 * import { defineTask, taskDefinition } from "@background/tasks";
 *
 * const writeLog = defineTask("write-log", (line: string) => console.log(line));
 * console.assert(taskDefinition(writeLog)?.name === "write-log");
 * console.assert(taskDefinition(() => {}) === undefined);
 * ```
 */
export function taskDefinition(fn: TaskFunction): TaskDefinition | undefined {
  return (fn as { [kDefinition]?: TaskDefinition })[kDefinition];
}

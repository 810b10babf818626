import type { BackgroundTasksOptions, TaskFunction, TaskRequestInfo } from "./types.ts";
import { _checkTaskFunction, _runnerCore, TaskRunner } from "./TaskRunner.ts";
import { _TaskList } from "./runner/_taskList.ts";

/**
 * The runner used when none is given: no concurrency limit, no bound, no
 * timeout, no retries, failures logged to `console.error`. Drain it on
 * shutdown with `defaultTaskRunner.drain({ timeoutMs })`.
 *
 * @example
 * ```ts
 * import { defaultTaskRunner } from "@background/tasks";
 *
 * const { drained } = await defaultTaskRunner.drain({ timeoutMs: 1_000 });
 * console.assert(drained);
 * ```
 */
export const defaultTaskRunner: TaskRunner = new TaskRunner();

/**
 * Options of a {@link BackgroundTasks} list.
 *
 * @example
 * ```ts
 * import { BackgroundTasks, type BackgroundTasksInit, TaskRunner } from "@background/tasks";
 *
 * const init: BackgroundTasksInit = { runner: new TaskRunner(), order: "parallel" };
 * console.assert(new BackgroundTasks(init).size === 0);
 * ```
 */
export interface BackgroundTasksInit extends BackgroundTasksOptions {
  /**
   * The runner that executes the tasks.
   * @default defaultTaskRunner
   */
  readonly runner?: TaskRunner;
  /** The request the tasks belong to; reported to hooks. */
  readonly request?: TaskRequestInfo;
}

/**
 * One request's background tasks, FastAPI's `BackgroundTasks`: add tasks
 * while handling the request; they start once the response has been sent.
 * `withBackgroundTasks` and the integrations create one per request and call
 * {@link BackgroundTasks.start} when the response body has been handed over.
 *
 * @example
 * ```ts
 * import { BackgroundTasks, TaskRunner } from "@background/tasks";
 *
 * const runner = new TaskRunner();
 * const lines: string[] = [];
 * const tasks = new BackgroundTasks({ runner });
 * tasks.addTask((line: string) => { lines.push(line); }, "first");
 * tasks.addTask(async (line: string) => { lines.push(line); }, "second");
 * tasks.start(); // normally called for you once the response is sent
 * await runner.drain();
 * console.assert(lines.join() === "first,second");
 * ```
 */
export class BackgroundTasks {
  /** The request these tasks belong to, if any. */
  readonly request: TaskRequestInfo | undefined;
  /** The runner that executes these tasks. */
  readonly runner: TaskRunner;
  readonly #list: _TaskList;

  /**
   * Makes an empty list. `withBackgroundTasks` and the integrations make one
   * per request; make one yourself only for your own integration.
   *
   * @param init the runner, the request, and ordering options
   * @param request the request, overriding `init.request` (so one `init` can serve many requests)
   */
  constructor(init: BackgroundTasksInit = {}, request: TaskRequestInfo | undefined = init.request) {
    _checkInit(init);
    const { runner = defaultTaskRunner } = init;
    this.request = request;
    this.runner = runner;
    this.#list = new _TaskList(_runnerCore(runner), init, request);
  }

  /**
   * Adds a task: `fn(...args)` runs after the response has been sent, after
   * the tasks added before it (unless `order` is `"parallel"`). Arguments are
   * type-checked against `fn`'s parameters. Tasks added after the list
   * started (for example by a running task) run too.
   *
   * @param fn a sync or async function; `this` is its `TaskContext`
   * @param args the arguments `fn` takes
   * @throws {TaskQueueFullError} when the runner is full and rejects
   *
   * @example
   * ```ts
   * import { BackgroundTasks } from "@background/tasks";
   *
   * const tasks = new BackgroundTasks();
   * tasks.addTask((to: string, subject: string) => console.log(`mail ${to}: ${subject}`), "ada@example.com", "Welcome");
   * console.assert(tasks.size === 1);
   * tasks.skip();
   * ```
   */
  // deno-lint-ignore no-explicit-any
  addTask<Args extends any[]>(fn: TaskFunction<Args>, ...args: Args): void {
    _checkTaskFunction(fn);
    this.#list.add(fn as TaskFunction, args);
  }

  /** How many tasks were accepted so far. */
  get size(): number {
    return this.#list.size;
  }

  /** Whether the response was aborted before it was fully sent. */
  get responseAborted(): boolean {
    return this.#list.responseAborted;
  }

  /**
   * With a durable runner: a promise that settles once every task added so
   * far is stored (it rejects when storing failed). `undefined` when there is
   * nothing to wait for. `withBackgroundTasks` awaits it before it sends the
   * response, so an acknowledged request never loses its tasks.
   *
   * @returns a promise, or `undefined` when nothing is being stored
   */
  stored(): Promise<void> | undefined {
    return this.#list.stored();
  }

  /** Whether {@link BackgroundTasks.start} (or {@link BackgroundTasks.skip}) was called. */
  get started(): boolean {
    return this.#list.started;
  }

  /**
   * Hands the tasks to the runner. Integrations call this once the response
   * body has been handed over; calling it again does nothing.
   *
   * @param outcome `responseAborted: true` when the client went away first
   *   (then the tasks are skipped if `runOnAbort` is `false`); it is read
   *   only when the answer is needed (a getter or a function may ask the
   *   platform, for platforms where asking costs)
   */
  start(outcome?: { readonly responseAborted?: boolean | (() => boolean) }): void {
    this.#list.start(outcome);
  }

  /** Starts nothing and gives up every task not yet started (counted as skipped). */
  skip(): void {
    this.#list.skip();
  }

  /**
   * Waits for the tasks: what a Workers `ctx.waitUntil` receives.
   *
   * @returns a promise that resolves once every task added so far, and every
   *   task those add, has settled (for `waitUntil`); it never rejects
   */
  settled(): Promise<void> {
    return this.#list.settled();
  }
}

/** Throws a RangeError or TypeError when the options of a list are not usable. @internal */
export function _checkInit(init: BackgroundTasksInit): void {
  const { order = "sequential", runner = defaultTaskRunner } = init;
  if (order !== "sequential" && order !== "parallel") {
    throw new RangeError(`BackgroundTasks: order must be "sequential" or "parallel", got ${JSON.stringify(order)}.`);
  }
  if (!(runner instanceof TaskRunner)) {
    throw new TypeError("BackgroundTasks: runner must be a TaskRunner (new TaskRunner({ ... })).");
  }
}

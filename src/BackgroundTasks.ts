import type { BackgroundTasksOptions, TaskFunction, TaskRequestInfo } from "./types.ts";
import { _checkTaskFunction, type _RunnerCore, _runnerCore, TaskRunner } from "./TaskRunner.ts";
import { _Task } from "./runner/_task.ts";
import { _storeWorks } from "./_storeFailures.ts";

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

/** Tells a task's list that the task finished for good; reaches the list's private state. */
let taskDone: (task: _Task, failed: boolean) => void;

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
  readonly #core: _RunnerCore;
  readonly #policy: BackgroundTasksOptions;
  /** Accepted, not yet handed to the runner. */
  #waiting: _Task[] = [];
  /** Handed to the runner, not yet done for good. */
  #active = 0;
  #added = 0;
  #started = false;
  #outcome: _Outcome | undefined;
  /** The outcome's answer, once asked. */
  #aborted: boolean | undefined;
  #settledWaiters: (() => void)[] | undefined;
  #storing: Promise<void>[] | undefined;

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
    this.#core = _runnerCore(runner);
    this.#policy = init;
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
    const task = new _Task(fn as TaskFunction, args, this, taskDone);
    const stored = this.#core.accept(task);
    if (stored === false) return;
    if (stored !== undefined) (this.#storing ??= []).push(stored);
    this.#added++;
    this.#waiting.push(task);
    if (this.#started) {
      this.#advance();
      this.#core.pump(false); // a task that adds a task: the new one starts after the caller returns
    }
  }

  /** How many tasks were accepted so far. */
  get size(): number {
    return this.#added;
  }

  /** Whether the response was aborted before it was fully sent. */
  get responseAborted(): boolean {
    if (this.#aborted === undefined) {
      const told = this.#outcome?.responseAborted;
      this.#aborted = typeof told === "function" ? told() : told === true;
    }
    return this.#aborted;
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
    const storing = this.#storing;
    if (storing === undefined) return undefined;
    this.#storing = undefined;
    return Promise.all(storing).then(() => {
      _storeWorks();
      return this.stored();
    });
  }

  /** Whether {@link BackgroundTasks.start} (or {@link BackgroundTasks.skip}) was called. */
  get started(): boolean {
    return this.#started;
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
    if (this.#started) return;
    this.#started = true;
    this.#outcome = outcome;
    this.#aborted = undefined; // asked again: a reading before the start knew nothing yet
    if (this.#waiting.length === 0) this.#afterProgress();
    else if (this.#policy.runOnAbort === false && this.responseAborted) this.#skipRest();
    else {
      this.#advance();
      this.#core.pump(true);
    }
  }

  /** Starts nothing and gives up every task not yet started (counted as skipped). */
  skip(): void {
    this.#started = true;
    this.#skipRest();
  }

  /**
   * Waits for the tasks: what a Workers `ctx.waitUntil` receives.
   *
   * @returns a promise that resolves once every task added so far, and every
   *   task those add, has settled (for `waitUntil`); it never rejects
   */
  settled(): Promise<void> {
    if (this.#started && this.#active === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#settledWaiters ??= []).push(resolve));
  }

  /** One of the tasks finished for good (`failed`: after its last attempt); the runner pumps after this. */
  #taskDone(failed: boolean): void {
    this.#active--;
    if (failed && this.#policy.stopOnError === true) this.#skipRest();
    else this.#advance();
  }

  /** Hands waiting tasks to the runner: all of them when parallel, else the next when none runs. */
  #advance(): void {
    while (this.#waiting.length > 0 && (this.#policy.order === "parallel" || this.#active === 0)) {
      this.#active++;
      this.#core.enqueue(this.#waiting.shift()!);
    }
    this.#afterProgress();
  }

  #skipRest(): void {
    const skipped = this.#waiting;
    this.#waiting = [];
    for (const task of skipped) this.#core.skip(task);
    this.#afterProgress();
  }

  #afterProgress(): void {
    if (this.#active > 0 || this.#waiting.length > 0 || this.#settledWaiters === undefined) return;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  static {
    taskDone = (task, failed) => (task.owner as BackgroundTasks).#taskDone(failed);
  }
}

/**
 * What `start` is told of the response: `responseAborted` is read only when
 * the answer is needed (asking some platforms costs), so it may be a getter
 * or a function.
 */
type _Outcome = { readonly responseAborted?: boolean | (() => boolean) };

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

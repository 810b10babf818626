import type { BackgroundTasksOptions, TaskFunction, TaskOrder, TaskRequestInfo } from "./types.ts";
import { _Task } from "./_task.ts";
import { _checkTaskFunction, TaskRunner } from "./TaskRunner.ts";

/**
 * The runner used when none is given: no concurrency limit, no bound, no
 * timeout, no retries, failures logged to `console.error`. Drain it on
 * shutdown with `defaultTaskRunner.drain({ timeoutMs })`.
 */
export const defaultTaskRunner: TaskRunner = new TaskRunner();

/** Options of a {@link BackgroundTasks} list. */
export interface BackgroundTasksInit extends BackgroundTasksOptions {
  /**
   * The runner that executes the tasks.
   * @default defaultTaskRunner
   */
  readonly runner?: TaskRunner;
  /** The request the tasks belong to; reported to hooks. */
  readonly request?: TaskRequestInfo;
}

const HOLDING = 0;
const STARTED = 1;

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
  /** The runner that executes these tasks. */
  readonly runner: TaskRunner;
  /** The request these tasks belong to, if any. */
  readonly request: TaskRequestInfo | undefined;
  readonly #order: TaskOrder;
  readonly #stopOnError: boolean;
  readonly #runOnAbort: boolean;
  #tasks: (_Task | undefined)[] = [];
  #next = 0;
  #active = 0;
  #added = 0;
  #state = HOLDING;
  #aborted = false;
  #settledWaiters: (() => void)[] | undefined = undefined;
  #storing: Promise<void>[] | undefined = undefined;

  /** @param init the runner, the request, and ordering options */
  constructor(init: BackgroundTasksInit = {}) {
    const { order = "sequential", runner = defaultTaskRunner } = init;
    if (order !== "sequential" && order !== "parallel") {
      throw new RangeError(`BackgroundTasks: order must be "sequential" or "parallel", got ${JSON.stringify(order)}.`);
    }
    if (!(runner instanceof TaskRunner)) {
      throw new TypeError("BackgroundTasks: runner must be a TaskRunner (new TaskRunner({ ... })).");
    }
    this.runner = runner;
    this.request = init.request;
    this.#order = order;
    this.#stopOnError = init.stopOnError ?? false;
    this.#runOnAbort = init.runOnAbort ?? true;
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
   */
  // deno-lint-ignore no-explicit-any
  addTask<Args extends any[]>(fn: TaskFunction<Args>, ...args: Args): void {
    _checkTaskFunction(fn);
    const task = new _Task(fn, args, this);
    const stored = this.runner._accept(task);
    if (stored === false) return;
    if (stored !== undefined) (this.#storing ??= []).push(stored);
    this.#added++;
    if (this.#tasks.length === this.#next) this.runner._hold(this);
    this.#tasks.push(task);
    if (this.#state === STARTED) this.#advance();
  }

  /** How many tasks were accepted so far. */
  get size(): number {
    return this.#added;
  }

  /** Whether the response was aborted before it was fully sent. */
  get responseAborted(): boolean {
    return this.#aborted;
  }

  /**
   * With a durable runner: a promise that settles once every task added so
   * far is stored (it rejects when storing failed). `undefined` when there is
   * nothing to wait for. `withBackgroundTasks` awaits it before it sends the
   * response, so an acknowledged request never loses its tasks.
   */
  stored(): Promise<void> | undefined {
    const storing = this.#storing;
    if (storing === undefined) return undefined;
    this.#storing = undefined;
    return Promise.all(storing).then(() => this.stored());
  }

  /** Whether {@link BackgroundTasks.start} was called. */
  get started(): boolean {
    return this.#state === STARTED;
  }

  /**
   * Hands the tasks to the runner. Integrations call this once the response
   * body has been handed over; calling it again does nothing.
   *
   * @param outcome `responseAborted: true` when the client went away first;
   *   then the tasks are skipped if `runOnAbort` is `false`
   */
  start(outcome: { responseAborted?: boolean } = {}): void {
    if (this.#state === STARTED) return;
    this.#state = STARTED;
    this.#aborted = outcome.responseAborted === true;
    if (this.#aborted && !this.#runOnAbort) {
      this.#skipRest();
      return;
    }
    this.#advance();
  }

  /** Starts nothing and gives up every task not yet started (counted as skipped). */
  skip(): void {
    this.#state = STARTED;
    this.#skipRest();
  }

  /**
   * @returns a promise that resolves once every task added so far, and every
   *   task those add, has settled (for `waitUntil`); it never rejects
   */
  settled(): Promise<void> {
    if (this.#state === STARTED && this.#active === 0 && this.#next === this.#tasks.length) {
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.#settledWaiters ??= []).push(resolve));
  }

  /** @internal */
  _onTaskDone(_task: _Task, failed: boolean): void {
    this.#active--;
    if (failed && this.#stopOnError) this.#skipRest();
    else this.#advance();
  }

  /** @internal */
  *_waitingTasks(): Iterable<_Task> {
    for (let i = this.#next; i < this.#tasks.length; i++) yield this.#tasks[i]!;
  }

  #advance(): void {
    const tasks = this.#tasks;
    const runner = this.runner;
    while (this.#next < tasks.length && (this.#order === "parallel" || this.#active === 0)) {
      const task = tasks[this.#next]!;
      tasks[this.#next++] = undefined;
      this.#active++;
      runner._enqueue(task);
    }
    this.#afterProgress();
  }

  #skipRest(): void {
    const tasks = this.#tasks;
    while (this.#next < tasks.length) {
      const task = tasks[this.#next]!;
      tasks[this.#next++] = undefined;
      this.runner._skip(task);
    }
    this.#afterProgress();
  }

  #afterProgress(): void {
    if (this.#next < this.#tasks.length) return;
    if (this.#tasks.length > 0) {
      this.#tasks = [];
      this.#next = 0;
      this.runner._release(this);
    }
    if (this.#active === 0 && this.#settledWaiters !== undefined) {
      const waiters = this.#settledWaiters;
      this.#settledWaiters = undefined;
      for (const resolve of waiters) resolve();
    }
  }
}

import type {
  AcceptedTask,
  DrainResult,
  OverflowPolicy,
  TaskErrorInfo,
  TaskFunction,
  TaskRunnerOptions,
  TaskRunnerStats,
  TaskState,
  UnfinishedTask,
} from "./types.ts";
import { DrainTimeoutError, TaskQueueFullError, TaskTimeoutError } from "./errors.ts";
import { type TaskDefinition, taskDefinition } from "./defineTask.ts";
import { _checkSettings, _checkTimeout, _MAX_TIMER_MS } from "./_settings.ts";
import { _Task } from "./runner/_task.ts";
import { _abortContext, _TaskContext } from "./runner/TaskContext.ts";
import { _Queue } from "./runner/queue.ts";
import { _WaitingTasks } from "./runner/waiting.ts";
import { _KindLimiter, _ownLimit } from "./runner/limiter.ts";
import { _nextRetryDelay, _retriesOf, type _RetryDelay, _retryDelayOf, _timeoutOf, _withinTimeout } from "./runner/attempt.ts";
import { _Events, _reportFailure, type TaskEventInfo, type TaskRunnerEvents } from "./runner/events.ts";
import { _checkOptions, _RUNNER_OPTIONS } from "./_options.ts";
import { _invokeTask, _observeAdded, _observeQueued, type _TaskObserver } from "./_observers.ts";

export type { TaskEventInfo, TaskRunnerEvents };

/**
 * What a request's task list uses of its runner. Not part of the public
 * surface: reached through {@link _runnerCore}.
 * @internal
 */
export interface _RunnerCore {
  /** Counts a new task as waiting and stores it: `false` when dropped, else the store promise if any. */
  accept(task: _Task): Promise<void> | undefined | false;
  /** Moves a waiting task to the run queue; it starts at the next {@link _RunnerCore.pump}. */
  enqueue(task: _Task): void;
  /** Starts queued tasks: now (in the caller's turn), or in a microtask. */
  pump(now: boolean): void;
  /** Gives up a waiting task that will never start. */
  skip(task: _Task): void;
  /** Tracing, metrics and the testing kit (src/_observers.ts): told of each task, and wrap each attempt. */
  observers: readonly _TaskObserver[] | undefined;
}

let coreOf: (runner: TaskRunner) => _RunnerCore;

/**
 * The executor that runs background tasks: a concurrency limit, a bound on
 * pending tasks, per-attempt timeouts that abort the task's `signal`, retries
 * with backoff, lifecycle events, `stats()` and `drain()` for shutdown.
 * Errors never escape as unhandled rejections: each failure is reported once
 * to `onError` (or `console.error`).
 *
 * Durable runners extend it through three protected methods: `store(task)`
 * when a task is added, `invoke(task)` to run an attempt, `discard(task)`
 * for a stored task that will never start.
 *
 * @example Limit, time out, retry, and drain on shutdown
 * ```ts
 * import { TaskRunner } from "@background/tasks";
 *
 * const runner = new TaskRunner({ concurrency: 4, timeoutMs: 5_000, retries: 2 });
 * let sent = 0;
 * runner.addTask(async (to: string) => { sent++; }, "ada@example.com");
 * const { drained } = await runner.drain({ timeoutMs: 10_000 });
 * console.assert(drained && sent === 1 && runner.stats().succeeded === 1);
 * ```
 */
export class TaskRunner {
  readonly #concurrency: number;
  readonly #maxPending: number;
  readonly #overflow: OverflowPolicy;
  readonly #timeoutMs: number | undefined;
  readonly #retries: number;
  readonly #retryDelay: _RetryDelay;
  readonly #onError: ((error: unknown, info: TaskErrorInfo) => void) | undefined;
  readonly #events = new _Events();

  /** Accepted, waiting for their response or an earlier task of their request. */
  readonly #waiting = new _WaitingTasks();
  /** Ready to run, in order. */
  readonly #queue = new _Queue<_Task>();
  /** Tasks of a kind with its own `concurrency`, waiting for a place. */
  readonly #limiter = new _KindLimiter<TaskDefinition, _Task>();
  /** Waiting for a retry delay. */
  readonly #delayed = new Set<_Task>();
  /** Running attempts that returned a promise (a sync attempt ends before anyone can look). */
  readonly #running = new Set<_Task>();
  #runningCount = 0;
  #pumpScheduled = false;
  #pumping = false;
  #drainWaiters: (() => void)[] = [];

  #succeeded = 0;
  #failed = 0;
  #timedOut = 0;
  #retried = 0;
  #dropped = 0;
  #skipped = 0;

  readonly #core: _RunnerCore = {
    accept: (task) => this.#accept(task),
    enqueue: (task) => this.#enqueue(task),
    pump: (now) => (now ? this.#pumpNow() : this.#pumpSoon()),
    skip: (task) => this.#skip(task),
    observers: undefined,
  };

  static {
    coreOf = (runner) => runner.#core;
  }

  /**
   * Makes a runner; every option is checked here, so a bad one fails at start-up.
   *
   * @param options limits, timeout, retries and the error hook; all optional
   */
  constructor(options: TaskRunnerOptions = {}) {
    if (new.target === TaskRunner) _checkOptions("TaskRunner", options, _RUNNER_OPTIONS); // subclasses check their own
    const { concurrency = Infinity, maxPending = Infinity, overflow = "reject", retryDelayMs, onError } = options;
    if (!(concurrency >= 1) || (concurrency !== Infinity && !Number.isInteger(concurrency))) {
      throw new RangeError(`TaskRunner: concurrency must be a whole number ≥ 1 or Infinity, got ${String(concurrency)}.`);
    }
    if (!(maxPending >= 0) || (maxPending !== Infinity && !Number.isInteger(maxPending))) {
      throw new RangeError(`TaskRunner: maxPending must be a whole number ≥ 0 or Infinity, got ${String(maxPending)}.`);
    }
    if (overflow !== "reject" && overflow !== "drop") {
      throw new RangeError(`TaskRunner: overflow must be "reject" or "drop", got ${JSON.stringify(overflow)}.`);
    }
    _checkSettings("TaskRunner", options);
    if (
      retryDelayMs !== undefined && typeof retryDelayMs !== "function" &&
      !(typeof retryDelayMs === "number" && retryDelayMs >= 0 && retryDelayMs <= _MAX_TIMER_MS)
    ) {
      throw new RangeError(
        `TaskRunner: retryDelayMs must be a number of milliseconds ≥ 0 and at most ${_MAX_TIMER_MS} (about 24.8 days), ` +
          `or a function (retry, error) => number, got ${String(retryDelayMs)}.`,
      );
    }
    if (onError !== undefined && typeof onError !== "function") {
      throw new TypeError(`TaskRunner: onError must be a function (error, info) => void, got ${typeof onError}.`);
    }
    this.#concurrency = concurrency;
    this.#maxPending = maxPending;
    this.#overflow = overflow;
    this.#timeoutMs = options.timeoutMs === Infinity ? undefined : options.timeoutMs;
    this.#retries = options.retries ?? 0;
    this.#retryDelay = _retryDelayOf(retryDelayMs);
    this.#onError = onError;
  }

  /**
   * Runs `fn(...args)` in the background as soon as a slot is free, outside
   * any request. The arguments are type-checked against `fn`'s parameters.
   *
   * @param fn a sync or async function; `this` is its {@link TaskContext}
   * @param args the arguments `fn` takes
   * @returns `true` when accepted, `false` when dropped (`overflow: "drop"`)
   * @throws {TaskQueueFullError} when full and `overflow` is `"reject"`
   *
   * @example
   * ```ts
   * import { TaskRunner } from "@background/tasks";
   *
   * const runner = new TaskRunner();
   * const seen: string[] = [];
   * runner.addTask((line: string) => void seen.push(line), "hello");
   * await runner.drain();
   * console.assert(seen[0] === "hello");
   * ```
   */
  // deno-lint-ignore no-explicit-any
  addTask<Args extends any[]>(fn: TaskFunction<Args>, ...args: Args): boolean {
    _checkTaskFunction(fn);
    const task = new _Task(fn, args);
    if (this.#accept(task) === false) return false;
    this.#enqueue(task);
    this.#pumpSoon();
    return true;
  }

  /**
   * Subscribes to a lifecycle event.
   *
   * @param event `start`, `success`, `retry`, `failure`, `drop` or `skip`
   * @param listener called synchronously; errors it throws are logged
   * @returns a function that unsubscribes
   *
   * @example
   * ```ts
   * import { TaskRunner } from "@background/tasks";
   *
   * const runner = new TaskRunner();
   * const names: string[] = [];
   * const off = runner.on("success", (task) => names.push(task.name));
   * runner.addTask(function greet() {});
   * await runner.drain();
   * off();
   * console.assert(names[0] === "greet");
   * ```
   */
  on<E extends keyof TaskRunnerEvents>(event: E, listener: TaskRunnerEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * The runner's counters now: how many tasks wait, are queued or run, and
   * how many succeeded, failed, timed out, were retried, dropped or skipped.
   *
   * @returns the current counters; see {@link TaskRunnerStats}
   *
   * @example
   * ```ts
   * import { TaskRunner } from "@background/tasks";
   *
   * const runner = new TaskRunner();
   * runner.addTask(() => {});
   * await runner.drain();
   * console.assert(runner.stats().succeeded === 1);
   * ```
   */
  stats(): TaskRunnerStats {
    return {
      waiting: this.#waiting.size,
      queued: this.#queuedCount(),
      running: this.#runningCount,
      succeeded: this.#succeeded,
      failed: this.#failed,
      timedOut: this.#timedOut,
      retried: this.#retried,
      dropped: this.#dropped,
      skipped: this.#skipped,
    };
  }

  /**
   * Waits until every accepted task has settled, including tasks that are
   * still waiting for their response and tasks added meanwhile. Use it on
   * shutdown, after the server stopped accepting requests.
   *
   * @param options `timeoutMs`: give up after this long (at most 2147483647;
   *   `Infinity` or unset: wait for ever), abort the signals of running
   *   tasks, and report what did not finish
   * @returns `{ drained, unfinished }`
   *
   * @example
   * ```ts
   * import { TaskRunner } from "@background/tasks";
   *
   * const runner = new TaskRunner();
   * runner.addTask(function forever(this: { signal: AbortSignal }) {
   *   return new Promise((resolve) => this.signal.addEventListener("abort", resolve));
   * });
   * const result = await runner.drain({ timeoutMs: 10 });
   * console.assert(!result.drained && result.unfinished[0]?.name === "forever");
   * ```
   */
  drain(options: { timeoutMs?: number } = {}): Promise<DrainResult> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) _checkTimeout("TaskRunner.drain", "timeoutMs", timeoutMs, true);
    if (this.#isIdle()) return Promise.resolve({ drained: true, unfinished: [] });
    return new Promise((resolve) => {
      // deno-lint-ignore prefer-const -- done() reads it before the timer is set
      let deadline: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        clearTimeout(deadline);
        resolve({ drained: true, unfinished: [] });
      };
      // Waiting before the timer is set: a platform may run microtasks inside setTimeout (Deno's test runner does).
      this.#drainWaiters.push(done);
      if (timeoutMs === undefined || timeoutMs === Infinity) return;
      deadline = setTimeout(() => {
        const at = this.#drainWaiters.indexOf(done);
        if (at < 0) return; // drained meanwhile
        this.#drainWaiters.splice(at, 1);
        const unfinished = this.#unfinished();
        const reason = new DrainTimeoutError(timeoutMs);
        for (const task of [...this.#running]) _abortContext(task.context!, reason);
        resolve({ drained: false, unfinished });
      }, timeoutMs);
      if (!this.#drainWaiters.includes(done)) clearTimeout(deadline); // drained while the timer was being set
    });
  }

  /**
   * Extension point for durable runners: called for each task as it is
   * added, before it is counted. Throw to refuse the task (for example a
   * plain function where a `defineTask` one is needed); return a promise to
   * make `withBackgroundTasks` wait until the task is stored before it sends
   * the response. The base runner stores nothing.
   *
   * @param _task the task being added
   * @returns `undefined`, or a promise that settles once the task is stored
   */
  protected store(_task: AcceptedTask): Promise<void> | undefined {
    return undefined;
  }

  /**
   * Extension point for durable runners: runs one attempt of a task in this
   * process. The base runner calls the task function with the attempt's
   * context as `this`; a durable runner hands the stored task to its
   * workers instead.
   *
   * @param task the task to run
   * @returns the task function's result (a promise for async work)
   */
  protected invoke(task: AcceptedTask): unknown {
    const context = task instanceof _Task ? task.context! : new _TaskContext(task, task.attempt, task.signal);
    return task.fn.apply(context, task.args as unknown[]);
  }

  /**
   * Extension point for durable runners: called for a task that was accepted
   * (and so stored) but will never start here: its request answered 503
   * because storing failed, its response was aborted with `runOnAbort:
   * false`, its handler failed with `runOnHandlerError: false`, or an
   * earlier task failed with `stopOnError`. A durable runner removes the
   * stored copy. The base runner does nothing. It must not throw.
   *
   * @param _task the task given up
   */
  protected discard(_task: AcceptedTask): void {}

  #accept(task: _Task): Promise<void> | undefined | false {
    if (this.#waiting.size + this.#queuedCount() >= this.#maxPending) {
      const error = new TaskQueueFullError(this.#maxPending);
      task.finish(); // it will never run
      if (this.#overflow === "reject") throw error;
      this.#dropped++;
      this.#emit("drop", task);
      _reportFailure(this.#onError, error, this.#info(task, false, true));
      return false;
    }
    const stored = this.store(task);
    this.#waiting.add(task);
    const observers = this.#core.observers;
    if (observers !== undefined) _observeAdded(observers, task);
    return stored;
  }

  #enqueue(task: _Task): void {
    this.#waiting.delete(task);
    task.state = "queued";
    this.#queue.push(task);
    const observers = this.#core.observers;
    if (observers !== undefined) _observeQueued(observers, task);
  }

  #pumpSoon(): void {
    if (this.#pumping || this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pumpNow();
    });
  }

  /**
   * Starts queued tasks in the caller's turn. On Workers each request has
   * its own context and a timer belongs to the context that set it, so a
   * request's tasks start from its own callback, not a shared microtask.
   */
  #pumpNow(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#runningCount < this.#concurrency && this.#queue.size > 0) {
        const task = this.#queue.shift()!;
        const definition = taskDefinition(task.fn);
        const limit = _ownLimit(definition?.settings.concurrency);
        if (limit !== undefined && !task.holdsPlace) {
          if (!this.#limiter.acquire(definition!, limit, task)) continue; // parked until a place is free
          task.holdsPlace = true;
        }
        this.#start(task);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #skip(task: _Task): void {
    try {
      this.discard(task);
    } catch (error) {
      console.error("[background-tasks] discard() threw while giving up a task:", error);
    }
    this.#waiting.delete(task);
    this.#skipped++;
    task.finish();
    this.#emit("skip", task);
    this.#checkIdle();
  }

  #start(task: _Task): void {
    this.#runningCount++;
    task.state = "running";
    task.context = new _TaskContext(task, ++task.attempt);
    this.#emit("start", task);
    let result: unknown;
    let isAsync: boolean;
    try {
      result = _invokeTask(this.#core.observers, task, this.invoke, this);
      // Reading `then` runs user code too (a getter); it must not escape the runner.
      isAsync = result !== null && (typeof result === "object" || typeof result === "function") &&
        typeof (result as PromiseLike<unknown>).then === "function";
    } catch (error) {
      this.#settle(task, error, false, false);
      return;
    }
    if (!isAsync) {
      this.#settle(task, undefined, true, false);
      return;
    }
    this.#running.add(task);
    const context = task.context;
    const timeoutMs = _timeoutOf(task.fn, this.#timeoutMs);
    let timedOut = false;
    _withinTimeout(result, timeoutMs, () => new TaskTimeoutError(task.name, timeoutMs!), (error) => {
      timedOut = true;
      this.#timedOut++;
      _abortContext(context, error);
    }).then(
      () => this.#settle(task, undefined, true, false),
      (error: unknown) => this.#settle(task, error, false, timedOut),
    );
  }

  #settle(task: _Task, error: unknown, ok: boolean, timedOut: boolean): void {
    this.#runningCount--;
    this.#running.delete(task);
    if (task.holdsPlace) {
      task.holdsPlace = false;
      const next = this.#limiter.release(taskDefinition(task.fn)!);
      if (next !== undefined) {
        next.holdsPlace = true; // handed over: it goes first
        this.#queue.unshift(next);
      }
    }
    if (ok) {
      task.finish();
      this.#succeeded++;
      this.#emit("success", task);
      task.ownerDone?.(task, false);
    } else {
      const final = task.attempt > _retriesOf(task.fn, this.#retries);
      const info = this.#info(task, timedOut, final);
      if (final) {
        task.finish();
        this.#failed++;
        this.#events.emit("failure", error, info);
        _reportFailure(this.#onError, error, info);
        task.ownerDone?.(task, true);
      } else {
        this.#retried++;
        this.#events.emit("retry", error, info);
        this.#retryLater(task, _nextRetryDelay(this.#retryDelay, task.attempt, error));
      }
    }
    this.#pumpNow();
    this.#checkIdle();
  }

  #retryLater(task: _Task, delay: number): void {
    task.state = "queued";
    this.#delayed.add(task);
    setTimeout(() => {
      this.#delayed.delete(task);
      this.#queue.push(task);
      const observers = this.#core.observers;
      if (observers !== undefined) _observeQueued(observers, task);
      this.#pumpNow();
    }, delay);
  }

  #info(task: _Task, timedOut: boolean, final: boolean): TaskErrorInfo {
    return {
      name: task.name,
      attempt: task.attempt,
      maxAttempts: _retriesOf(task.fn, this.#retries) + 1,
      request: _requestInfo(task),
      timedOut,
      final,
    };
  }

  #emit(event: "start" | "success" | "drop" | "skip", task: _Task): void {
    if (this.#events.has(event)) this.#events.emit(event, { name: task.name, attempt: task.attempt, request: task.request });
  }

  /** Ready to run: in the queue, waiting for a place under their own limit, or for a retry delay. */
  #queuedCount(): number {
    return this.#queue.size + this.#limiter.waitingCount + this.#delayed.size;
  }

  #isIdle(): boolean {
    return this.#waiting.size === 0 && this.#queuedCount() === 0 && this.#runningCount === 0;
  }

  #checkIdle(): void {
    if (this.#drainWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const done of waiters) done();
  }

  #unfinished(): UnfinishedTask[] {
    const list: UnfinishedTask[] = [];
    const add = (task: _Task, state: TaskState): void => void list.push({ name: task.name, state, request: _requestInfo(task) });
    for (const task of this.#running) add(task, "running");
    for (const task of this.#queue) add(task, "queued");
    for (const task of this.#limiter.waiting()) add(task, "queued");
    for (const task of this.#delayed) add(task, "queued");
    for (const task of this.#waiting) add(task, "waiting");
    return list;
  }
}

/** The runner's side that request lists use. @internal */
export function _runnerCore(runner: TaskRunner): _RunnerCore {
  return coreOf(runner);
}

/** A copy of the task's request summary: hooks get data, not the request. */
function _requestInfo(task: _Task): UnfinishedTask["request"] {
  const request = task.request;
  return request === undefined ? undefined : { method: request.method, url: request.url };
}

/** Throws a TypeError unless `fn` can be run as a task. @internal */
export function _checkTaskFunction(fn: unknown): void {
  if (typeof fn !== "function") {
    throw new TypeError(
      `addTask(fn, ...args): fn must be a function, got ${fn === null ? "null" : typeof fn}. ` +
        `Pass the function itself, e.g. addTask(sendEmail, to), not its result sendEmail(to).`,
    );
  }
}

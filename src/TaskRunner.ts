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
import { _DONE, _QUEUED, _RUNNING, _Task, type _TaskSlots } from "./_task.ts";
import { DrainTimeoutError, TaskQueueFullError, TaskTimeoutError } from "./errors.ts";
import { _taskTarget, type TaskDefinition, taskDefinition } from "./defineTask.ts";
import { _checkSettings, _checkTimeout, _MAX_TIMER_MS } from "./_settings.ts";
import { _checkOptions, _RUNNER_OPTIONS } from "./_options.ts";
import { _invokeTask, _observeAdded, _observeQueued, type _TaskObserver } from "./_observers.ts";

/** Lifecycle events of a {@link TaskRunner}, with what each listener receives. */
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

/** What `start`, `success`, `drop` and `skip` listeners receive: the task's context. */
export type TaskEventInfo = Pick<TaskErrorInfo, "name" | "attempt" | "request">;

/** A request's task list while it holds waiting tasks, linked without allocation. */
interface _Holder {
  _prevHeld: _Holder | undefined;
  _nextHeld: _Holder | undefined;
  _waitingTasks(): Iterable<_Task>;
}

type Listeners = { [E in keyof TaskRunnerEvents]: TaskRunnerEvents[E][] };

const defaultRetryDelay = (retry: number): number => Math.min(100 * 2 ** (retry - 1), 30_000);

/**
 * The executor that runs background tasks: a concurrency limit, a bound on
 * pending tasks, per-attempt timeouts that abort the task's `signal`, retries
 * with backoff, lifecycle events, `stats()` and `drain()` for shutdown.
 * Errors never escape as unhandled rejections: each failure is reported once
 * to `onError` (or `console.error`).
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
  readonly #retryDelay: (retry: number, error: unknown) => number;
  readonly #onError: ((error: unknown, info: TaskErrorInfo) => void) | undefined;

  // Tasks ready to run are queue[head..tail). The array keeps its room between bursts, so a
  // request's task does not grow a fresh array each time.
  #queue: (_Task | undefined)[] = [];
  #head = 0;
  #tail = 0;
  #pumpScheduled = false;
  #pumping = false;
  #runningCount = 0;
  // Only tasks that returned a promise (a sync task is never seen running from outside), linked
  // through the tasks: a Set grew and shrank with every burst, costing Bun a rehash each time.
  #firstRunning: _Task | undefined = undefined;
  readonly #delayed = new Set<_Task>();
  // A batching writer returns one promise to many tasks: the later ones wait on the first one's
  // reaction instead of each adding two closures and a reaction to the same promise.
  #lastResult: unknown = undefined;
  readonly #sharers = new Map<unknown, (_Task | number)[]>();
  // Per defined task with its own `concurrency`: how many run, and the queued ones waiting for a place.
  readonly #slots = new Map<TaskDefinition, _TaskSlots>();
  #held: _Holder | undefined = undefined;
  /** Tracing, metrics and the testing kit (src/_observers.ts). @internal */
  _observers: readonly _TaskObserver[] | undefined = undefined;
  #listeners: Partial<Listeners> = {};
  #drainWaiters: (() => void)[] = [];

  #waiting = 0;
  #queued = 0;
  #succeeded = 0;
  #failed = 0;
  #timedOut = 0;
  #retried = 0;
  #dropped = 0;
  #skipped = 0;

  /** @param options limits, timeout, retries and the error hook; all optional */
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
    this.#retryDelay = typeof retryDelayMs === "function"
      ? retryDelayMs
      : retryDelayMs === undefined
      ? defaultRetryDelay
      : () => retryDelayMs;
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
   */
  // deno-lint-ignore no-explicit-any
  addTask<Args extends any[]>(fn: TaskFunction<Args>, ...args: Args): boolean {
    _checkTaskFunction(fn);
    const task = new _Task(fn, args, undefined, undefined);
    if (this._accept(task) === false) return false;
    this._enqueue(task);
    return true;
  }

  /**
   * Subscribes to a lifecycle event.
   *
   * @param event `start`, `success`, `retry`, `failure`, `drop` or `skip`
   * @param listener called synchronously; errors it throws are logged
   * @returns a function that unsubscribes
   */
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

  /** @returns the current counters; see {@link TaskRunnerStats} */
  stats(): TaskRunnerStats {
    return {
      waiting: this.#waiting,
      queued: this.#queued,
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
   */
  drain(options: { timeoutMs?: number } = {}): Promise<DrainResult> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) _checkTimeout("TaskRunner.drain", "timeoutMs", timeoutMs, true);
    if (this.#isIdle()) return Promise.resolve({ drained: true, unfinished: [] });
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve({ drained: true, unfinished: [] });
      };
      this.#drainWaiters.push(done);
      if (timeoutMs !== undefined && timeoutMs !== Infinity) {
        timer = setTimeout(() => {
          const at = this.#drainWaiters.indexOf(done);
          if (at >= 0) this.#drainWaiters.splice(at, 1);
          const unfinished = this.#unfinished();
          const reason = new DrainTimeoutError(timeoutMs);
          for (const task of this.#running()) task.abort(reason);
          resolve({ drained: false, unfinished });
        }, timeoutMs);
      }
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
   * process. The base runner calls the task function with its context as
   * `this`; a durable runner hands the stored task to its workers instead.
   *
   * @param task the task to run
   * @returns the task function's result (a promise for async work)
   */
  protected invoke(task: AcceptedTask): unknown {
    return task instanceof _Task ? task._call(_taskTarget(task.fn)) : _taskTarget(task.fn).apply(task, task.args as unknown[]);
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

  /** Stores and admits a task: `false` when dropped, else the store promise if any. @internal */
  _accept(task: _Task): Promise<void> | undefined | false {
    if (!this._admit(task)) return false;
    try {
      const stored = this.store(task);
      if (this._observers !== undefined) _observeAdded(this._observers, task);
      return stored;
    } catch (error) {
      this.#waiting--;
      throw error;
    }
  }

  /** Accepts a task as waiting, or applies the overflow policy. @internal */
  _admit(task: _Task): boolean {
    if (this.#waiting + this.#queued >= this.#maxPending) {
      const error = new TaskQueueFullError(this.#maxPending);
      if (this.#overflow === "reject") throw error;
      this.#dropped++;
      this.#emit("drop", task);
      this.#report(error, this.#info(task, false, true));
      return false;
    }
    this.#waiting++;
    return true;
  }

  /** Registers a request's task list so `drain()` can name its waiting tasks. @internal */
  _hold(holder: _Holder): void {
    holder._prevHeld = undefined;
    holder._nextHeld = this.#held;
    if (this.#held !== undefined) this.#held._prevHeld = holder;
    this.#held = holder;
  }

  /** @internal */
  _release(holder: _Holder): void {
    const { _prevHeld: prev, _nextHeld: next } = holder;
    if (prev !== undefined) prev._nextHeld = next;
    else if (this.#held === holder) this.#held = next;
    if (next !== undefined) next._prevHeld = prev;
    holder._prevHeld = holder._nextHeld = undefined;
  }

  /**
   * Moves a waiting task to the run queue. `pumpSoon: false` when the caller
   * makes the runner pump right after (no microtask is queued then). @internal
   */
  _enqueue(task: _Task, pumpSoon = true): void {
    this.#waiting--;
    this.#queued++;
    task.state = _QUEUED;
    this.#queue[this.#tail++] = task;
    if (this._observers !== undefined) _observeQueued(this._observers, task);
    if (pumpSoon && !this.#pumping && !this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(this.#pump);
    }
  }

  /**
   * Starts queued tasks now, in the caller's turn. On Workers each request has
   * its own context and a timer belongs to the context that set it, so a
   * request's tasks must start from its own callback, not a shared microtask.
   * @internal
   */
  _pumpNow(): void {
    if (!this.#pumping) this.#pump();
  }

  /** Gives up a waiting task that will never start. @internal */
  _skip(task: _Task): void {
    try {
      this.discard(task);
    } catch (error) {
      console.error("[background-tasks] discard() threw while giving up a task:", error);
    }
    this.#waiting--;
    this.#skipped++;
    task.state = _DONE;
    this.#emit("skip", task);
    this.#checkIdle();
  }

  #pump = (): void => {
    this.#pumpScheduled = false;
    this.#pumping = true;
    const queue = this.#queue;
    try {
      while (this.#runningCount < this.#concurrency && this.#head < this.#tail) {
        const task = queue[this.#head]!;
        queue[this.#head++] = undefined;
        const definition = taskDefinition(task.fn);
        if (_hasOwnLimit(definition) && !this.#takeSlot(task, definition)) continue;
        this.#start(task);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#head === this.#tail) {
      // Every slot was cleared as it was taken; only the room of a large burst is given back.
      if (queue.length > 1024) queue.length = 0;
      this.#head = this.#tail = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#tail) {
      this.#queue = queue.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
  };

  /** Gives `task` a place under its own limit, or parks it (still queued) until one is free. */
  #takeSlot(task: _Task, definition: TaskDefinition): boolean {
    let slots = this.#slots.get(definition);
    if (slots === undefined) this.#slots.set(definition, slots = { running: 0, parked: [] });
    if (slots.running >= definition.settings.concurrency!) {
      slots.parked.push(task);
      return false;
    }
    slots.running++;
    return true;
  }

  /** Frees an ended attempt's place; the first parked task of its kind goes to the front of the queue. */
  #freeSlot(definition: TaskDefinition): void {
    const slots = this.#slots.get(definition)!;
    slots.running--;
    const next = slots.parked.shift();
    if (next === undefined) return;
    if (this.#head > 0) this.#queue[--this.#head] = next;
    else {
      this.#queue.unshift(next);
      this.#tail++;
    }
  }

  #start(task: _Task): void {
    this.#queued--;
    this.#runningCount++;
    task.state = _RUNNING;
    const attempt = ++task.attempt;
    task.controller = undefined;
    if (this.#listeners.start?.length) this.#emit("start", task);
    let result: unknown;
    let then: unknown;
    try {
      result = _invokeTask(this._observers, task, this.invoke, this);
      // Reading `then` runs user code too (a getter); it must not escape the runner.
      if (result !== null && (typeof result === "object" || typeof result === "function")) {
        then = (result as PromiseLike<unknown>).then;
      }
    } catch (error) {
      this.#settle(task, attempt, error, false);
      return;
    }
    if (typeof then !== "function") {
      this.#settle(task, attempt, undefined, true);
      return;
    }
    task.previous = undefined;
    task.next = this.#firstRunning;
    if (this.#firstRunning !== undefined) this.#firstRunning.previous = task;
    this.#firstRunning = task;
    const timeoutMs = taskDefinition(task.fn)?.settings.timeoutMs ?? this.#timeoutMs;
    if (timeoutMs !== undefined && timeoutMs !== Infinity) task.timer = this.#timeOutLater(task, attempt, timeoutMs);
    if (result === this.#lastResult) {
      // The previous async task returned the same result and its reaction has not run yet.
      const sharers = this.#sharers.get(result);
      if (sharers === undefined) this.#sharers.set(result, [task, attempt]);
      else sharers.push(task, attempt);
      return;
    }
    this.#lastResult = result; // before then(): a thenable may call back at once
    this.#react(result, then as PromiseLike<unknown>["then"], task, attempt);
  }

  // The closures of #start and #settle are made in methods of their own: a function whose variables
  // a closure captures allocates a scope on every call, on JSC even when the closure is not made.

  #timeOutLater(task: _Task, attempt: number, timeoutMs: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      if (task.state !== _RUNNING || task.attempt !== attempt) return;
      this.#timedOut++;
      const error = new TaskTimeoutError(task.name, timeoutMs);
      task.abort(error);
      this.#settle(task, attempt, error, false, true);
    }, timeoutMs);
  }

  #react(result: unknown, then: PromiseLike<unknown>["then"], task: _Task, attempt: number): void {
    try {
      then.call(
        result,
        () => this.#settleResult(result, task, attempt, undefined, true),
        (error: unknown) => this.#settleResult(result, task, attempt, error, false),
      );
    } catch (error) {
      this.#settleResult(result, task, attempt, error, false); // a thenable whose then() throws
    }
  }

  #retryLater(task: _Task, delay: number): void {
    setTimeout(() => {
      this.#delayed.delete(task);
      this.#queued--;
      this.#waiting++;
      this._enqueue(task);
    }, delay);
  }

  /** Settles the task whose reaction this is, and the tasks that returned the same result after it. */
  #settleResult(result: unknown, task: _Task, attempt: number, error: unknown, ok: boolean): void {
    if (this.#lastResult === result) this.#lastResult = undefined;
    this.#settle(task, attempt, error, ok);
    if (this.#sharers.size === 0) return;
    const sharers = this.#sharers.get(result);
    if (sharers === undefined) return;
    this.#sharers.delete(result);
    for (let i = 0; i < sharers.length; i += 2) this.#settle(sharers[i] as _Task, sharers[i + 1] as number, error, ok);
  }

  #settle(task: _Task, attempt: number, error: unknown, ok: boolean, timedOut = false): void {
    if (task.state !== _RUNNING || task.attempt !== attempt) return; // a late result after a timeout
    if (task.timer !== undefined) {
      clearTimeout(task.timer);
      task.timer = undefined;
    }
    this.#runningCount--;
    const definition = taskDefinition(task.fn);
    if (_hasOwnLimit(definition)) this.#freeSlot(definition); // every running attempt of such a task took a place
    if (task.previous !== undefined || this.#firstRunning === task) this.#unlinkRunning(task); // most tasks are sync, never linked
    if (ok) {
      task.state = _DONE;
      this.#succeeded++;
      if (this.#listeners.success?.length) this.#emit("success", task);
      task.owner?._onTaskDone(task, false);
    } else {
      const retries = definition?.settings.retries ?? this.#retries;
      const final = attempt > retries;
      const info = this.#info(task, timedOut, final);
      if (final) {
        task.state = _DONE;
        this.#failed++;
        this.#emitError("failure", error, info);
        this.#report(error, info);
        task.owner?._onTaskDone(task, true);
      } else {
        this.#retried++;
        this.#emitError("retry", error, info);
        task.state = _QUEUED;
        this.#queued++;
        this.#delayed.add(task);
        let delay: number;
        try {
          delay = this.#retryDelay(attempt, error);
        } catch (delayError) {
          console.error("[background-tasks] retryDelayMs threw; retrying at once:", delayError);
          delay = 0;
        }
        // Not a number or below 0: at once; past what a timer keeps: as late as one can wait.
        delay = delay >= 0 ? Math.min(delay, _MAX_TIMER_MS) : 0;
        this.#retryLater(task, delay);
      }
    }
    if (!this.#pumping && this.#head < this.#tail) this.#pump();
    this.#checkIdle();
  }

  #info(task: _Task, timedOut: boolean, final: boolean): TaskErrorInfo {
    const retries = taskDefinition(task.fn)?.settings.retries ?? this.#retries;
    return {
      name: task.name,
      attempt: task.attempt,
      maxAttempts: retries + 1,
      request: task.request === undefined ? undefined : { method: task.request.method, url: task.request.url },
      timedOut,
      final,
    };
  }

  #report(error: unknown, info: TaskErrorInfo): void {
    if (this.#onError === undefined) {
      _logFailure(error, info);
      return;
    }
    try {
      this.#onError(error, info);
    } catch (hookError) {
      console.error("[background-tasks] onError threw while reporting a task failure:", hookError);
      _logFailure(error, info);
    }
  }

  #emit(event: "start" | "success" | "drop" | "skip", task: _Task): void {
    const list = this.#listeners[event];
    if (!list?.length) return;
    const info = { name: task.name, attempt: task.attempt, request: task.request };
    for (const listener of list) {
      try {
        listener(info);
      } catch (error) {
        console.error(`[background-tasks] a "${event}" listener threw:`, error);
      }
    }
  }

  #emitError(event: "retry" | "failure", error: unknown, info: TaskErrorInfo): void {
    const list = this.#listeners[event];
    if (!list?.length) return;
    for (const listener of list) {
      try {
        listener(error, info);
      } catch (listenerError) {
        console.error(`[background-tasks] a "${event}" listener threw:`, listenerError);
      }
    }
  }

  #unlinkRunning(task: _Task): void {
    const { previous, next } = task;
    if (previous !== undefined) previous.next = next;
    else this.#firstRunning = next;
    if (next !== undefined) next.previous = previous;
    task.previous = task.next = undefined;
  }

  /** The running async tasks, copied: aborting one may settle it at once. */
  #running(): _Task[] {
    const list: _Task[] = [];
    for (let task = this.#firstRunning; task !== undefined; task = task.next) list.push(task);
    return list;
  }

  #isIdle(): boolean {
    return this.#waiting === 0 && this.#queued === 0 && this.#runningCount === 0;
  }

  #checkIdle(): void {
    if (this.#drainWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const done of waiters) done();
  }

  #unfinished(): UnfinishedTask[] {
    const list: UnfinishedTask[] = [];
    const add = (task: _Task, state: TaskState): void => {
      const request = task.request;
      list.push({ name: task.name, state, request: request && { method: request.method, url: request.url } });
    };
    for (const task of this.#running()) add(task, "running");
    for (let i = this.#head; i < this.#tail; i++) add(this.#queue[i]!, "queued");
    for (const slots of this.#slots.values()) for (const task of slots.parked) add(task, "queued");
    for (const task of this.#delayed) add(task, "queued");
    for (let holder = this.#held; holder !== undefined; holder = holder._nextHeld) {
      for (const task of holder._waitingTasks()) add(task, "waiting");
    }
    return list;
  }
}

function _hasOwnLimit(definition: TaskDefinition | undefined): definition is TaskDefinition {
  const limit = definition?.settings.concurrency;
  return limit !== undefined && limit !== Infinity;
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

function _logFailure(error: unknown, info: TaskErrorInfo): void {
  const where = info.request ? ` for ${info.request.method} ${info.request.url}` : "";
  console.error(
    `[background-tasks] task "${info.name}" failed${info.timedOut ? " (timed out)" : ""}${where}, ` +
      `attempt ${info.attempt} of ${info.maxAttempts}:`,
    error,
  );
}


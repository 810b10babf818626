import type { BackgroundTasksOptions, RequestAddressServer, TaskFunction, TaskRequestInfo } from "./types.ts";
import { _NO_ARGUMENTS, _Task } from "./_task.ts";
import { _checkTaskFunction, TaskRunner } from "./TaskRunner.ts";
import { _storeWorks } from "./_storeFailures.ts";

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
/** The checked options of a list, computed once per options object. */
interface _Policy {
  readonly runner: TaskRunner;
  readonly parallel: boolean;
  readonly stopOnError: boolean;
  readonly runOnAbort: boolean;
}

const kPolicy: unique symbol = Symbol("@background/tasks.policy");

/**
 * Checks options once and attaches the result, so every request that shares
 * this options object skips the checks. @internal
 */
export function _withPolicy(init: BackgroundTasksInit): BackgroundTasksInit {
  return Object.freeze({ ...init, [kPolicy]: _policyOf(init) });
}

function _policyOf(init: BackgroundTasksInit): _Policy {
  const cached = (init as { [kPolicy]?: _Policy })[kPolicy];
  if (cached !== undefined) return cached;
  const order = init.order ?? "sequential";
  const runner = init.runner ?? defaultTaskRunner;
  if (order !== "sequential" && order !== "parallel") {
    throw new RangeError(`BackgroundTasks: order must be "sequential" or "parallel", got ${JSON.stringify(order)}.`);
  }
  if (!(runner instanceof TaskRunner)) {
    throw new TypeError("BackgroundTasks: runner must be a TaskRunner (new TaskRunner({ ... })).");
  }
  return { runner, parallel: order === "parallel", stopOnError: init.stopOnError ?? false, runOnAbort: init.runOnAbort ?? true };
}

/** What few lists need: kept apart, so every request's list is smaller. */
interface _Rare {
  settledWaiters: (() => void)[] | undefined;
  storing: Promise<void>[] | undefined;
}

export class BackgroundTasks {
  /** The request these tasks belong to, if any. */
  readonly request: TaskRequestInfo | undefined;
  readonly #policy: _Policy;
  // Tasks not yet handed to the runner, linked through task.next: no array per request.
  #firstWaiting: _Task | undefined = undefined;
  #lastWaiting: _Task | undefined = undefined;
  #active = 0;
  #added = 0;
  #started = false;
  // A boolean, or what tells it when first asked: a function, or a request whose signal aborts.
  #aborted: boolean | (() => boolean) | { readonly signal?: AbortSignal | null } = false;
  #rare: _Rare | undefined = undefined;
  /** Links in the runner's list of lists that hold waiting tasks. @internal */
  _prevHeld: BackgroundTasks | undefined = undefined;
  /** @internal */
  _nextHeld: BackgroundTasks | undefined = undefined;
  // Kept here for integrations rather than on a subclass: a subclass made every request's list
  // measurably dearer on Bun.
  /** Bun's server the request came from, when an integration knows it. @internal */
  _server: RequestAddressServer | undefined = undefined;
  /** The handler failed, as an integration's error hook saw it. @internal */
  _failed = false;

  /**
   * @param init the runner, the request, and ordering options
   * @param request the request, overriding `init.request` (so one `init` can serve many requests)
   */
  constructor(init: BackgroundTasksInit = {}, request: TaskRequestInfo | undefined = init.request) {
    this.request = request;
    this.#policy = _policyOf(init);
  }

  /** The runner that executes these tasks. */
  get runner(): TaskRunner {
    return this.#policy.runner;
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
  addTask<Args extends any[]>(fn: TaskFunction<Args>, ...args: Args): void;
  addTask(fn: TaskFunction, arg?: unknown): void {
    _checkTaskFunction(fn);
    // One argument, the common case, is kept without an array.
    const count = arguments.length;
    const task = count === 2
      ? new _Task(fn, undefined, this, arg)
      : new _Task(fn, count < 2 ? _NO_ARGUMENTS : Array.prototype.slice.call(arguments, 1), this, undefined);
    const stored = this.#policy.runner._accept(task);
    if (stored === false) return;
    if (stored !== undefined) ((this.#rare ??= { settledWaiters: undefined, storing: undefined }).storing ??= []).push(stored);
    this.#added++;
    if (this.#lastWaiting === undefined) {
      this.#firstWaiting = this.#lastWaiting = task;
      this.#policy.runner._hold(this);
    } else {
      this.#lastWaiting = this.#lastWaiting.next = task;
    }
    if (this.#started) this.#advance(true);
  }

  /** How many tasks were accepted so far. */
  get size(): number {
    return this.#added;
  }

  /** Whether the response was aborted before it was fully sent. */
  get responseAborted(): boolean {
    const aborted = this.#aborted;
    if (typeof aborted === "boolean") return aborted;
    return this.#aborted = typeof aborted === "function" ? aborted() : aborted.signal?.aborted === true;
  }

  /**
   * With a durable runner: a promise that settles once every task added so
   * far is stored (it rejects when storing failed). `undefined` when there is
   * nothing to wait for. `withBackgroundTasks` awaits it before it sends the
   * response, so an acknowledged request never loses its tasks.
   */
  stored(): Promise<void> | undefined {
    const storing = this.#rare?.storing;
    if (storing === undefined) return undefined;
    this.#rare!.storing = undefined;
    return _storedAll(this, storing);
  }

  /** Whether {@link BackgroundTasks.start} was called. */
  get started(): boolean {
    return this.#started;
  }

  /**
   * Hands the tasks to the runner. Integrations call this once the response
   * body has been handed over; calling it again does nothing.
   *
   * @param outcome `responseAborted: true` when the client went away first
   *   (then the tasks are skipped if `runOnAbort` is `false`); a function is
   *   asked only when the answer is needed, for platforms where asking costs
   */
  start(outcome?: { responseAborted?: boolean | (() => boolean) }): void {
    this._start(outcome?.responseAborted);
  }

  /**
   * {@link BackgroundTasks.start}, where `aborted` may also be a request whose
   * `signal` tells it, read only if asked (no closure per request). @internal
   */
  _start(aborted: boolean | (() => boolean) | { readonly signal?: AbortSignal | null } | undefined): void {
    if (this.#started) return;
    this.#started = true;
    if (aborted !== undefined) this.#aborted = aborted;
    if (this.#firstWaiting === undefined) this.#afterProgress(); // nothing waits
    else if (!this.#policy.runOnAbort && this.responseAborted) this.#skipRest();
    else {
      this.#advance(false);
      this.#policy.runner._pumpNow();
    }
  }

  /** Starts nothing and gives up every task not yet started (counted as skipped). */
  skip(): void {
    this.#started = true;
    this.#skipRest();
  }

  /**
   * @returns a promise that resolves once every task added so far, and every
   *   task those add, has settled (for `waitUntil`); it never rejects
   */
  settled(): Promise<void> {
    if (this.#started && this.#active === 0 && this.#firstWaiting === undefined) {
      return Promise.resolve();
    }
    return new Promise((resolve) => ((this.#rare ??= { settledWaiters: undefined, storing: undefined }).settledWaiters ??= []).push(resolve));
  }

  /** @internal */
  _onTaskDone(_task: _Task, failed: boolean): void {
    this.#active--;
    if (failed && this.#policy.stopOnError) this.#skipRest();
    else this.#advance(false); // the runner pumps after this
  }

  /** @internal */
  *_waitingTasks(): Iterable<_Task> {
    for (let task = this.#firstWaiting; task !== undefined; task = task.next) yield task;
  }

  /** Takes the first waiting task off the list. */
  #takeWaiting(): _Task {
    const task = this.#firstWaiting!;
    this.#firstWaiting = task.next;
    task.next = undefined;
    if (this.#firstWaiting === undefined) {
      // Everything was handed over: the runner no longer needs to list this request's tasks.
      this.#lastWaiting = undefined;
      this.#policy.runner._release(this);
    }
    return task;
  }

  /** Hands waiting tasks to the runner; `pumpSoon: false` when the caller makes the runner pump right after. */
  #advance(pumpSoon: boolean): void {
    const parallel = this.#policy.parallel;
    while (this.#firstWaiting !== undefined && (parallel || this.#active === 0)) {
      this.#active++;
      this.#policy.runner._enqueue(this.#takeWaiting(), pumpSoon);
    }
    this.#afterProgress();
  }

  #skipRest(): void {
    while (this.#firstWaiting !== undefined) this.#policy.runner._skip(this.#takeWaiting());
    this.#afterProgress();
  }

  #afterProgress(): void {
    if (this.#active === 0 && this.#firstWaiting === undefined && this.#rare?.settledWaiters !== undefined) {
      const waiters = this.#rare.settledWaiters;
      this.#rare.settledWaiters = undefined;
      for (const resolve of waiters) resolve();
    }
  }
}

// Apart from stored(), which runs on every request: a method whose `this` an arrow function
// captures allocates a scope on every call, on JSC even when the arrow is not made.
function _storedAll(tasks: BackgroundTasks, storing: Promise<void>[]): Promise<void> {
  return Promise.all(storing).then(() => (_storeWorks(), tasks.stored()));
}

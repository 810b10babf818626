/**
 * The contract: handler shapes, options and the small structural types of the
 * platform objects the core touches. Nothing here names a runtime; the core
 * feature-detects these shapes on the arguments a server passes to a handler.
 *
 * @module
 */

/**
 * A value or a promise of it.
 *
 * @example
 * ```ts
 * import type { Awaitable } from "@background/tasks";
 *
 * const later: Awaitable<number> = Promise.resolve(1);
 * console.assert((await later) === 1);
 * ```
 */
export type Awaitable<T> = T | PromiseLike<T>;

/**
 * Any Fetch-style handler: a `Request` first, then whatever the server passes along.
 *
 * @example
 * ```ts
 * import type { FetchHandler } from "@background/tasks";
 *
 * const handler: FetchHandler = (_request: Request) => new Response("ok");
 * console.assert((await handler(new Request("http://localhost/"))).status === 200);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type FetchHandler = (request: Request, ...rest: any[]) => Awaitable<Response>;

/**
 * The request a task was added for, as reported to hooks.
 *
 * @example
 * ```ts
 * import { TaskRunner, type TaskRequestInfo } from "@background/tasks";
 *
 * const failedFor: (TaskRequestInfo | undefined)[] = [];
 * const runner = new TaskRunner({ onError: (_error, info) => void failedFor.push(info.request) });
 * runner.addTask(() => { throw new Error("boom"); });
 * await runner.drain();
 * console.assert(failedFor[0] === undefined); // added to the runner directly, not for a request
 * ```
 */
export interface TaskRequestInfo {
  /** The HTTP method, e.g. `"POST"`. */
  readonly method: string;
  /**
   * The full request URL. On Bun it is `""` once the response has been sent
   * unless the app or its router read it while handling the request (Bun
   * forgets an unread URL, and reading it costs every request).
   */
  readonly url: string;
}

/**
 * What a running task sees as `this`. Declare `this: TaskContext` as the first
 * parameter of a task function to read it; arrow functions cannot.
 *
 * @example Stop work when the task times out
 * ```ts
 * import type { TaskContext } from "@background/tasks";
 *
 * async function resizeImage(this: TaskContext, url: string): Promise<void> {
 *   const response = await fetch(url, { signal: this.signal });
 *   if (this.responseAborted) console.warn("the client left before the response ended");
 *   await response.arrayBuffer();
 * }
 * ```
 */
export interface TaskContext {
  /** The task's name: its `defineTask` name, else the function's name, else `"anonymous"`. */
  readonly name: string;
  /** 1 on the first try, 2 on the first retry, and so on. */
  readonly attempt: number;
  /** Aborted when the attempt times out or a `drain()` deadline passes. */
  readonly signal: AbortSignal;
  /** The request the task was added for, or `undefined` for tasks added to a runner directly. */
  readonly request: TaskRequestInfo | undefined;
  /** `true` when the client went away before the response body was fully sent. */
  readonly responseAborted: boolean;
  /**
   * The task's idempotency key, the same on every attempt: the one given with
   * `withIdempotencyKey(task, key)` or derived by the task's `defineTask`
   * `idempotencyKey` setting; a durable runner falls back to the job id.
   * `undefined` when none applies. Pass it to a sink that deduplicates
   * (a mail `Message-ID`, a payment provider's idempotency key).
   */
  readonly idempotencyKey?: string | undefined;
}

/**
 * A background task: a sync or async function, called with `this` bound to its {@link TaskContext}.
 *
 * @example
 * ```ts
 * import type { TaskContext, TaskFunction } from "@background/tasks";
 *
 * const sendMail: TaskFunction<[to: string]> = async function (this: TaskContext, to: string) {
 *   if (this.signal.aborted) return;
 *   console.log(`mail to ${to}, attempt ${this.attempt}`);
 * };
 * ```
 */
// deno-lint-ignore no-explicit-any
export type TaskFunction<Args extends any[] = any[]> = (this: TaskContext, ...args: Args) => unknown;

/**
 * A task a runner accepted: its context plus the function and arguments to run.
 *
 * @example
 * ```ts
 * import { type AcceptedTask, TaskRunner } from "@background/tasks";
 *
 * class LoggingRunner extends TaskRunner {
 *   readonly names: string[] = [];
 *   protected override store(task: AcceptedTask): undefined {
 *     this.names.push(`${task.name}(${task.args.length})`);
 *     return undefined;
 *   }
 * }
 * const runner = new LoggingRunner();
 * runner.addTask(function ping(_n: number) {}, 1);
 * await runner.drain();
 * console.assert(runner.names[0] === "ping(1)");
 * ```
 */
export interface AcceptedTask extends TaskContext {
  /** The function added. */
  readonly fn: TaskFunction;
  /** The arguments it was added with. */
  readonly args: readonly unknown[];
}

/**
 * Per-task settings, set once with `defineTask` and applied wherever the task is added.
 *
 * @example
 * ```ts
 * import { defineTask, type TaskSettings } from "@background/tasks";
 *
 * const settings: TaskSettings<[to: string]> = { timeoutMs: 10_000, retries: 3, concurrency: 4 };
 * const sendMail = defineTask("send-mail", async (to: string) => console.log(`mail ${to}`), settings);
 * ```
 */
// deno-lint-ignore no-explicit-any
export interface TaskSettings<Args extends any[] = any[]> {
  /**
   * Abort and fail an attempt after this many milliseconds (at most
   * 2147483647, about 24.8 days); `Infinity` for no timeout, whatever the
   * runner's.
   * @default the runner's `timeoutMs`
   */
  readonly timeoutMs?: number;
  /**
   * How many times to try again after a failed or timed-out attempt.
   * @default the runner's `retries`
   */
  readonly retries?: number;
  /**
   * How many attempts of this task may run at once in one runner (or one
   * `createTaskWorker` process). The others stay queued without holding back
   * other tasks; a timed-out attempt frees its place. Limit the tasks that
   * use a scarce resource (SMTP connections, CPU) and leave cheap ones free.
   * @default no limit of its own (the runner's `concurrency` still applies)
   */
  readonly concurrency?: number;
  /**
   * Derives the task's idempotency key from its arguments, e.g.
   * `(email, username) => \`welcome ${email}\``: the same work gets the same key.
   * A durable runner makes it the job id, so the same work added twice is one
   * job; every attempt reads it as `this.idempotencyKey`. A key given with
   * `withIdempotencyKey(task, key)` wins. Must return a non-empty string of
   * at most 256 characters.
   * @default undefined (no key)
   */
  readonly idempotencyKey?: (...args: Args) => string;
}

/**
 * How a request's tasks run relative to each other.
 *
 * @example
 * ```ts
 * import type { TaskOrder } from "@background/tasks";
 *
 * const order: TaskOrder = "parallel";
 * ```
 */
export type TaskOrder = "sequential" | "parallel";

/**
 * What a runner does when a new task would exceed `maxPending`.
 *
 * @example
 * ```ts
 * import { TaskRunner, type OverflowPolicy } from "@background/tasks";
 *
 * const overflow: OverflowPolicy = "drop";
 * const runner = new TaskRunner({ maxPending: 0, overflow, onError: () => {} });
 * console.assert(runner.addTask(() => {}) === false);
 * ```
 */
export type OverflowPolicy = "reject" | "drop";

/**
 * Where a task stands when it is reported as unfinished by `drain()`.
 *
 * @example
 * ```ts
 * import { TaskRunner, type TaskState } from "@background/tasks";
 *
 * const runner = new TaskRunner();
 * runner.addTask(function stuck(this: { signal: AbortSignal }) {
 *   return new Promise((resolve) => this.signal.addEventListener("abort", resolve));
 * });
 * const { unfinished } = await runner.drain({ timeoutMs: 10 });
 * const state: TaskState | undefined = unfinished[0]?.state;
 * console.assert(state === "running");
 * ```
 */
export type TaskState = "waiting" | "queued" | "running";

/**
 * Passed to `onError` and to `failure` and `retry` listeners.
 *
 * @example
 * ```ts
 * import { TaskRunner, type TaskErrorInfo } from "@background/tasks";
 *
 * const reports: TaskErrorInfo[] = [];
 * const runner = new TaskRunner({ retries: 1, retryDelayMs: 0, onError: (_error, info) => void reports.push(info) });
 * runner.addTask(function flaky() { throw new Error("down"); });
 * await runner.drain();
 * console.assert(reports[0]?.attempt === 2 && reports[0]?.maxAttempts === 2 && reports[0]?.final);
 * ```
 */
export interface TaskErrorInfo {
  /** The task's name. */
  readonly name: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Attempts allowed in total (retries + 1). */
  readonly maxAttempts: number;
  /** The request the task was added for, if any. */
  readonly request: TaskRequestInfo | undefined;
  /** `true` when the attempt failed by timing out. */
  readonly timedOut: boolean;
  /** `true` when no retry follows: this is the task's last report. */
  readonly final: boolean;
}

/**
 * Options of a `TaskRunner` (and of the runners that extend it).
 *
 * @example
 * ```ts
 * import { TaskRunner, type TaskRunnerOptions } from "@background/tasks";
 *
 * const options: TaskRunnerOptions = { concurrency: 8, maxPending: 1_000, timeoutMs: 30_000, retries: 2 };
 * console.assert(new TaskRunner(options).stats().running === 0);
 * ```
 */
export interface TaskRunnerOptions {
  /**
   * How many tasks may run at once, across all requests.
   * @default Infinity
   */
  readonly concurrency?: number;
  /**
   * How many accepted tasks may wait (for their response, their turn or a
   * free slot) before `overflow` applies.
   * @default Infinity
   */
  readonly maxPending?: number;
  /**
   * `"reject"`: `addTask` throws a `TaskQueueFullError`, so the handler can
   * answer 503. `"drop"`: the task is not accepted; it is counted in
   * `stats().dropped` and reported to `onError` with a `TaskQueueFullError`.
   * @default "reject"
   */
  readonly overflow?: OverflowPolicy;
  /**
   * Abort and fail an attempt after this many milliseconds (at most
   * 2147483647, about 24.8 days); `Infinity` or unset for no timeout.
   * @default undefined (no timeout)
   */
  readonly timeoutMs?: number;
  /**
   * How many times to try a failed or timed-out task again.
   * @default 0
   */
  readonly retries?: number;
  /**
   * Milliseconds to wait before retry number `retry` (1 for the first), at
   * most 2147483647. A function's result is kept within 0 and that bound
   * (not a number: 0).
   * @default exponential: 100 ms, 200 ms, 400 ms … capped at 30 s
   */
  readonly retryDelayMs?: number | ((retry: number, error: unknown) => number);
  /**
   * Called once for each task that finally failed, with its context. Without
   * it, failures are written to `console.error`. It must not throw; if it
   * does, that error is written to `console.error` too.
   * @default undefined (log to console.error)
   */
  readonly onError?: (error: unknown, info: TaskErrorInfo) => void;
}

/**
 * Counters of a runner, from `stats()`.
 *
 * @example
 * ```ts
 * import { TaskRunner, type TaskRunnerStats } from "@background/tasks";
 *
 * const runner = new TaskRunner();
 * runner.addTask(() => {});
 * await runner.drain();
 * const stats: TaskRunnerStats = runner.stats();
 * console.assert(stats.succeeded === 1 && stats.running === 0);
 * ```
 */
export interface TaskRunnerStats {
  /** Accepted, waiting for their response to be sent or for an earlier task of their request. */
  readonly waiting: number;
  /** Ready to run, waiting for a free slot or a retry delay. */
  readonly queued: number;
  /** Running now. */
  readonly running: number;
  /** Finished without error. */
  readonly succeeded: number;
  /** Failed after their last attempt. */
  readonly failed: number;
  /** Attempts that timed out (each also counts as a failure or a retry). */
  readonly timedOut: number;
  /** Retries scheduled. */
  readonly retried: number;
  /** Not accepted because the runner was full (`overflow: "drop"`). */
  readonly dropped: number;
  /** Never started: their response was aborted with `runOnAbort: false`, or an earlier task failed with `stopOnError`. */
  readonly skipped: number;
}

/**
 * A task that had not finished when a `drain()` deadline passed.
 *
 * @example
 * ```ts
 * import { TaskRunner, type UnfinishedTask } from "@background/tasks";
 *
 * const runner = new TaskRunner();
 * runner.addTask(function slow(this: { signal: AbortSignal }) {
 *   return new Promise((resolve) => this.signal.addEventListener("abort", resolve));
 * });
 * const left: readonly UnfinishedTask[] = (await runner.drain({ timeoutMs: 10 })).unfinished;
 * console.assert(left[0]?.name === "slow");
 * ```
 */
export interface UnfinishedTask {
  /** The task's name. */
  readonly name: string;
  /** Where it stood. */
  readonly state: TaskState;
  /** The request it was added for, if any. */
  readonly request: TaskRequestInfo | undefined;
}

/**
 * What `drain()` resolves to.
 *
 * @example
 * ```ts
 * import { type DrainResult, TaskRunner } from "@background/tasks";
 *
 * const result: DrainResult = await new TaskRunner().drain();
 * console.assert(result.drained && result.unfinished.length === 0);
 * ```
 */
export interface DrainResult {
  /** `true` when every accepted task settled before the deadline. */
  readonly drained: boolean;
  /** The tasks still waiting, queued or running at the deadline (empty when drained). */
  readonly unfinished: readonly UnfinishedTask[];
}

/**
 * Options of `withBackgroundTasks` and of integrations built on it.
 *
 * @example
 * ```ts
 * import { type BackgroundTasksOptions, withBackgroundTasks } from "@background/tasks";
 *
 * const options: BackgroundTasksOptions = { order: "parallel", stopOnError: false, runOnAbort: true };
 * const fetch = withBackgroundTasks(() => new Response("ok"), options);
 * ```
 */
export interface BackgroundTasksOptions {
  /**
   * `"sequential"` runs a request's tasks one after another in the order
   * added (as Starlette does); `"parallel"` starts them together.
   * @default "sequential"
   */
  readonly order?: TaskOrder;
  /**
   * Skip a request's later tasks after one fails for good (Starlette's
   * behaviour). Skipped tasks are counted in `stats().skipped`.
   * @default false
   */
  readonly stopOnError?: boolean;
  /**
   * Run the tasks when the client disconnected before the response was fully
   * sent. Tasks can read `this.responseAborted` either way.
   * @default true
   */
  readonly runOnAbort?: boolean;
  /**
   * Run the tasks added before the handler threw or rejected.
   * @default true
   */
  readonly runOnHandlerError?: boolean;
}

/**
 * How to read Deno's `request.signal` once `info.completed` resolved, to
 * tell whether the client left (`responseAborted`). Deno's legacy abort
 * behaviour (its default in Deno 2) aborts the signal after every response,
 * so there it says nothing; with `--unstable-no-legacy-abort` it aborts
 * only when the client left.
 *
 * - `"auto"`: learn it, per wrapped handler. One live signal after a
 *   completed response proves the flag is on; 32 aborted signals in a row
 *   (and no live one) make it presume legacy and read only one signal in
 *   64 requests, and at most one a second, until a live one proves the
 *   flag is on after all.
 * - `"reliable"`: always read it (Deno runs with `--unstable-no-legacy-abort`).
 * - `"legacy"`: never read it; `responseAborted` stays `false` on Deno.
 *
 * @example Deno run with `--unstable-no-legacy-abort`
 * ```ts
 * import { withBackgroundTasks } from "@background/tasks";
 *
 * const fetch = withBackgroundTasks(() => new Response("ok"), { denoAbortSignal: "reliable" });
 * ```
 */
export type DenoAbortSignal = "auto" | "reliable" | "legacy";

/**
 * Deno's `ServeHandlerInfo`: `completed` settles once the response has been sent.
 *
 * @example
 * ```ts
 * import type { CompletionInfo } from "@background/tasks";
 *
 * const info: CompletionInfo = { completed: Promise.resolve() };
 * await info.completed;
 * ```
 */
export interface CompletionInfo {
  /** Settles once the response has been sent (or could not be). */
  readonly completed: PromiseLike<unknown>;
}

/**
 * A Node `http.ServerResponse`, reached through a Fetch adapter.
 *
 * @example
 * ```ts
 * import type { NodeResponseLike } from "@background/tasks";
 *
 * const res: NodeResponseLike = { writableFinished: true, once: () => {} };
 * console.assert(res.writableFinished);
 * ```
 */
export interface NodeResponseLike {
  /** The whole response has been handed to the operating system. */
  readonly writableFinished: boolean;
  /** Node ≥ 18: the response was closed (finished, or cut off). */
  readonly closed?: boolean;
  /** The response's socket was destroyed. */
  readonly destroyed?: boolean;
  /** Listens once for the response's `close` event. */
  once(event: "close", listener: () => void): unknown;
}

/**
 * A server that can tell whether a request is still attached to its connection (Bun's `Server`).
 *
 * @example
 * ```ts
 * import type { RequestAddressServer } from "@background/tasks";
 *
 * const server: RequestAddressServer = { requestIP: () => null }; // detached: the response was written
 * console.assert(server.requestIP(new Request("http://localhost/")) === null);
 * ```
 */
export interface RequestAddressServer {
  /** The client's address, or `null` once the request is detached from its connection. */
  requestIP(request: Request): unknown;
}

/**
 * Workers' and Vercel's `ExecutionContext`: keeps the isolate alive until the promise settles.
 *
 * @example
 * ```ts
 * import type { WaitUntilContext } from "@background/tasks";
 *
 * const kept: Promise<unknown>[] = [];
 * const ctx: WaitUntilContext = { waitUntil: (promise) => void kept.push(promise) };
 * ctx.waitUntil(Promise.resolve());
 * console.assert(kept.length === 1);
 * ```
 */
export interface WaitUntilContext {
  /** Keeps the isolate alive until `promise` settles. */
  waitUntil(promise: Promise<unknown>): void;
}

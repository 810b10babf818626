/**
 * The contract: handler shapes, options and the small structural types of the
 * platform objects the core touches. Nothing here names a runtime; the core
 * feature-detects these shapes on the arguments a server passes to a handler.
 *
 * @module
 */

/** A value or a promise of it. */
export type Awaitable<T> = T | PromiseLike<T>;

/** Any Fetch-style handler: a `Request` first, then whatever the server passes along. */
// deno-lint-ignore no-explicit-any
export type FetchHandler = (request: Request, ...rest: any[]) => Awaitable<Response>;

/** The request a task was added for, as reported to hooks. */
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

/** A background task: a sync or async function, called with `this` bound to its {@link TaskContext}. */
// deno-lint-ignore no-explicit-any
export type TaskFunction<Args extends any[] = any[]> = (this: TaskContext, ...args: Args) => unknown;

/** A task a runner accepted: its context plus the function and arguments to run. */
export interface AcceptedTask extends TaskContext {
  /** The function added. */
  readonly fn: TaskFunction;
  /** The arguments it was added with. */
  readonly args: readonly unknown[];
}

/** Per-task settings, set once with `defineTask` and applied wherever the task is added. */
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

/** How a request's tasks run relative to each other. */
export type TaskOrder = "sequential" | "parallel";

/** What a runner does when a new task would exceed `maxPending`. */
export type OverflowPolicy = "reject" | "drop";

/** Where a task stands when it is reported as unfinished by `drain()`. */
export type TaskState = "waiting" | "queued" | "running";

/** Passed to `onError` and to `failure` and `retry` listeners. */
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

/** Options of a {@link TaskRunnerLike} runner. */
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

/** Counters of a runner, from `stats()`. */
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

/** A task that had not finished when a `drain()` deadline passed. */
export interface UnfinishedTask {
  /** The task's name. */
  readonly name: string;
  /** Where it stood. */
  readonly state: TaskState;
  /** The request it was added for, if any. */
  readonly request: TaskRequestInfo | undefined;
}

/** What `drain()` resolves to. */
export interface DrainResult {
  /** `true` when every accepted task settled before the deadline. */
  readonly drained: boolean;
  /** The tasks still waiting, queued or running at the deadline (empty when drained). */
  readonly unfinished: readonly UnfinishedTask[];
}

/** Options of `withBackgroundTasks` and of integrations built on it. */
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
 *   64, until a live one proves the flag is on after all.
 * - `"reliable"`: always read it (Deno runs with `--unstable-no-legacy-abort`).
 * - `"legacy"`: never read it; `responseAborted` stays `false` on Deno.
 */
export type DenoAbortSignal = "auto" | "reliable" | "legacy";

/** Deno's `ServeHandlerInfo`: `completed` settles once the response has been sent. */
export interface CompletionInfo {
  /** Settles once the response has been sent (or could not be). */
  readonly completed: PromiseLike<unknown>;
}

/** A Node `http.ServerResponse`, reached through a Fetch adapter. */
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

/** A server that can tell whether a request is still attached to its connection (Bun's `Server`). */
export interface RequestAddressServer {
  /** The client's address, or `null` once the request is detached from its connection. */
  requestIP(request: Request): unknown;
}

/** Workers' and Vercel's `ExecutionContext`: keeps the isolate alive until the promise settles. */
export interface WaitUntilContext {
  /** Keeps the isolate alive until `promise` settles. */
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * What a `WorkerTaskRunner` and its threads (thread.js, which repeats these
 * constants: it is plain JavaScript without imports) share: the message
 * kinds, the thread's start data, and how an error crosses threads.
 *
 * Each message is an array of entries, so a burst travels as one message.
 * To a thread: `[_RUN, id, name, args, attempt, request, responseAborted, trace]`,
 * `[_ABORT, id, reason]`. `trace` is the attempt's trace context as
 * propagation fields (W3C `traceparent`, `tracestate`) when it is traced
 * (`instrumentTasks`), else `undefined`; the thread runs the task inside it
 * when it can load `@opentelemetry/api`. From a thread: `[id]` (the attempt succeeded),
 * `[id, error]` (it failed), `[_READY, names]` once the tasks module is
 * loaded, `[_BROKEN, error]` when it cannot be.
 *
 * @module
 */

/** A message entry that runs a task: `[_RUN, id, name, args, attempt, request, responseAborted, trace]`. */
export const _RUN = 0;
/** A message entry that aborts a running task's signal: `[_ABORT, id, reason]`. */
export const _ABORT = 1;

/** From a thread: the tasks module is loaded; the entry carries the task names it exports. */
export const _READY = -1;
/** From a thread: the tasks module could not be loaded; the entry carries the error. */
export const _BROKEN = -2;

/** Set on `globalThis` in a pool thread before it imports the tasks module: a runner made there starts no threads. */
export const _IN_POOL_THREAD: unique symbol = Symbol.for("@background/tasks.workerThread") as never;

/** The `workerData` a thread starts with. */
export interface _ThreadData {
  /** The URL of the module whose exported `defineTask` functions the thread runs. */
  readonly module: string;
  /** The niceness the thread gives itself (0: leave it). */
  readonly niceness: number;
}

/** An error as it travels between threads: its class name, message and stack survive. */
export interface _SentError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code?: unknown;
}

/** Turns a thrown value into something `postMessage` can carry, keeping an error's name, message and stack. */
export function _toTransferable(error: unknown): _SentError | string | number | boolean | null | undefined {
  if (error instanceof Error || (error !== null && typeof error === "object" && "message" in error)) {
    const { name, message, stack, code } = error as Error & { code?: unknown };
    const sent: _SentError = {
      name: String(name ?? "Error"),
      message: String(message),
      stack: typeof stack === "string" ? stack : undefined,
    };
    return typeof code === "string" || typeof code === "number" ? { ...sent, code } : sent;
  }
  if (
    error === null || typeof error !== "object" && typeof error !== "function" && typeof error !== "symbol" && typeof error !== "bigint"
  ) {
    return error as string | number | boolean | null | undefined;
  }
  return String(error);
}

/** Rebuilds an error sent by {@link _toTransferable}. */
export function _fromTransferable(sent: unknown): unknown {
  if (sent === null || typeof sent !== "object") return sent;
  const { name, message, stack, code } = sent as _SentError;
  const error = new Error(message);
  if (name !== "Error") Object.defineProperty(error, "name", { value: name, configurable: true, writable: true });
  if (stack !== undefined) error.stack = stack;
  if (code !== undefined) (error as Error & { code?: unknown }).code = code;
  return error;
}

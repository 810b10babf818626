import type { BackgroundTasksOptions, FetchHandler } from "./types.ts";
import { _withPolicy, BackgroundTasks, type BackgroundTasksInit, defaultTaskRunner } from "./BackgroundTasks.ts";
import type { TaskRunner } from "./TaskRunner.ts";
import { _kTasks, type _Registered } from "./_registry.ts";
import { _afterResponse, _afterResponseOf } from "./runAfterResponse.ts";
import { _isResponse } from "./_isResponse.ts";
import { _checkOptions, _POLICY_OPTIONS } from "./_options.ts";
import { _reportStoreFailure } from "./_storeFailures.ts";

/** Options of {@link withBackgroundTasks}. */
export interface WithBackgroundTasksOptions extends BackgroundTasksOptions {
  /**
   * The runner that executes the tasks; share one across handlers to share
   * its limits and drain it once on shutdown.
   * @default defaultTaskRunner
   */
  readonly runner?: TaskRunner;
}

/**
 * Wraps a Fetch handler so it can add background tasks with
 * `getBackgroundTasks(request).addTask(fn, ...args)`. The tasks start after
 * the response body has been handed over (see `runAfterResponse` for how
 * each platform tells). The wrapper keeps the handler's call signature and
 * passes every extra argument (`env`/`ctx`, `server`, `info`) through; the
 * response is returned as is, unless its body must be tracked.
 *
 * @param handler `(request, ...rest) => Response | Promise<Response>`
 * @param options the runner, task order and error policies
 * @returns a handler with the same signature
 *
 * @example Bun, Deno, Workers
 * ```ts
 * import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
 *
 * const written: string[] = [];
 * function writeLog(message: string): void { written.push(message); }
 *
 * const fetch = withBackgroundTasks((request: Request) => {
 *   const email = new URL(request.url).pathname.split("/").pop()!;
 *   getBackgroundTasks(request).addTask(writeLog, `Sending notification to ${email}`);
 *   return Response.json({ message: "Notification sent in the background" });
 * });
 * export default { fetch };
 * ```
 */
export function withBackgroundTasks<H extends FetchHandler>(handler: H, options: WithBackgroundTasksOptions = {}): H {
  if (typeof handler !== "function") {
    throw new TypeError(
      `withBackgroundTasks(handler): handler must be a function (request, ...rest) => Response, got ${typeof handler}.`,
    );
  }
  _checkOptions("withBackgroundTasks(handler, options)", options, { runner: true }, _POLICY_OPTIONS);
  const runner = options.runner ?? defaultTaskRunner;
  const runOnHandlerError = options.runOnHandlerError ?? true;
  // Checked here once, not on every request.
  const init = _withPolicy({ runner, order: options.order, stopOnError: options.stopOnError, runOnAbort: options.runOnAbort });

  // Named parameters instead of `arguments`: materialising `arguments` costs JavaScriptCore a
  // few hundred nanoseconds a request. Up to three extra arguments (env, ctx / server / info) take
  // this path; more fall back to `arguments`.
  return function withTasks(this: unknown, request: Request, a?: unknown, b?: unknown, c?: unknown): unknown {
    const count = arguments.length;
    // deno-lint-ignore prefer-rest-params
    if (count > 4) return _withTasksSlow(this, handler, init, runOnHandlerError, arguments);
    const registered = request as _Registered;
    if (registered?.[_kTasks] !== undefined) return _call(handler, this, count, request, a, b, c); // an outer wrapper owns the tasks
    registered[_kTasks] = init;
    let result: unknown;
    try {
      result = _call(handler, this, count, request, a, b, c);
    } catch (error) {
      return _handlerFailed(request, runOnHandlerError, error);
    }
    if (result !== null && typeof result === "object" && !_isResponse(result) &&
      typeof (result as PromiseLike<unknown>).then === "function") {
      return _handOverLater(result as PromiseLike<unknown>, request, runOnHandlerError, count, a, b, c);
    }
    return _handOver(request, result, count, a, b, c);
  } as H;
}

// Closures are made only in the small functions that need them: a function whose variables a
// closure captures allocates a scope on every call, even when the closure is not made.

function _handOverLater(
  result: PromiseLike<unknown>,
  request: Request,
  runOnHandlerError: boolean,
  count: number,
  a: unknown,
  b: unknown,
  c: unknown,
): Promise<unknown> {
  return Promise.resolve(result).then(
    (response) => _handOver(request, response, count, a, b, c),
    (error: unknown) => _handlerFailed(request, runOnHandlerError, error),
  );
}

/** Calls the handler with exactly the arguments it was given (no closure, no `arguments`). */
function _call(
  handler: FetchHandler,
  self: unknown,
  count: number,
  request: Request,
  a: unknown,
  b: unknown,
  c: unknown,
): unknown {
  return count <= 1
    ? handler.call(self, request)
    : count === 2
    ? handler.call(self, request, a)
    : count === 3
    ? handler.call(self, request, a, b)
    : handler.call(self, request, a, b, c);
}

function _withTasksSlow(
  self: unknown,
  handler: FetchHandler,
  init: BackgroundTasksInit,
  runOnHandlerError: boolean,
  args: IArguments,
): unknown {
  const request = args[0] as Request;
  const registered = request as _Registered;
  if (registered?.[_kTasks] !== undefined) return handler.apply(self, args as never);
  registered[_kTasks] = init;
  let result: unknown;
  try {
    result = handler.apply(self, args as never);
  } catch (error) {
    return _handlerFailed(request, runOnHandlerError, error);
  }
  return Promise.resolve(result).then(
    (response) => _handOverAll(request, response, args),
    (error: unknown) => _handlerFailed(request, runOnHandlerError, error),
  );
}

function _handOverAll(request: Request, response: unknown, args: IArguments): unknown {
  const tasks = _tasksToWatch(request, response);
  if (tasks === undefined) return response;
  const stored = tasks.stored();
  if (stored === undefined) return _afterResponseOf(tasks, response as Response, request, args, 1);
  return _whenStored(tasks, stored, () => _afterResponseOf(tasks, response as Response, request, args, 1));
}

function _handOver(request: Request, response: unknown, count: number, a: unknown, b: unknown, c: unknown): unknown {
  const tasks = _tasksToWatch(request, response);
  if (tasks === undefined) return response;
  // Arguments the handler was not given are not platform values.
  if (count < 4) c = undefined;
  if (count < 3) b = undefined;
  if (count < 2) a = undefined;
  const stored = tasks.stored();
  if (stored === undefined) return _afterResponse(tasks, response as Response, request, a, b, c);
  return _afterStored(tasks, stored, response as Response, request, a, b, c);
}

function _afterStored(
  tasks: BackgroundTasks,
  stored: Promise<void>,
  response: Response,
  request: Request,
  a: unknown,
  b: unknown,
  c: unknown,
): Promise<Response> {
  return _whenStored(tasks, stored, () => _afterResponse(tasks, response, request, a, b, c));
}

/** The request's tasks when they wait for the response to be sent; otherwise starts any soon. */
function _tasksToWatch(request: Request, response: unknown): BackgroundTasks | undefined {
  const value = (request as _Registered)[_kTasks];
  if (!(value instanceof BackgroundTasks)) return undefined; // no task was added: nothing was made
  if (value.size > 0 && _isResponse(response)) return value;
  _startInMicrotask(value);
  return undefined;
}

function _startInMicrotask(tasks: BackgroundTasks): void {
  queueMicrotask(() => tasks.start());
}

/** With a durable runner the response waits until the tasks are stored; 503 when that failed. */
function _whenStored(tasks: BackgroundTasks, stored: Promise<void>, send: () => Response): Promise<Response> {
  return stored.then(send, (error: unknown) => {
    tasks.skip();
    return _storeFailed(error);
  });
}

function _handlerFailed(request: Request, runOnHandlerError: boolean, error: unknown): never {
  const tasks = (request as _Registered)[_kTasks];
  if (tasks instanceof BackgroundTasks) {
    // After the error is on its way, not before: a slow sync task must not delay it.
    if (runOnHandlerError) _startInMicrotask(tasks);
    else tasks.skip();
  }
  throw error;
}

/** The answer when a durable runner could not store the request's tasks: the work was not accepted. */
function _storeFailed(error: unknown): Response {
  _reportStoreFailure(error);
  return Response.json(
    { error: "Service Unavailable", message: "The background work for this request could not be queued. Try again later." },
    { status: 503, headers: { "retry-after": "5" } },
  );
}

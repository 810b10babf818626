/**
 * The Elysia plugin: a typed `backgroundTasks` on the context of every route,
 * whose tasks start once the response body has been fully sent, including
 * `ReadableStream`, generator and SSE bodies (Elysia's own `onAfterResponse`
 * fires as soon as the handler returns).
 *
 * @example
 * ```ts
 * import { Elysia } from "elysia";
 * import { backgroundTasks } from "@background/tasks/elysia";
 *
 * function writeLog(message: string): void { console.log(message); }
 *
 * const app = new Elysia()
 *   .use(backgroundTasks())
 *   .post("/send-notification/:email", ({ params, backgroundTasks }) => {
 *     backgroundTasks.addTask(writeLog, `Sending notification to ${params.email}`);
 *     return { message: "Notification sent in the background" };
 *   });
 * ```
 *
 * @module
 */
import { Elysia } from "elysia";
import type { BackgroundTasksOptions, RequestAddressServer, TaskRunnerOptions } from "./types.ts";
import { _withPolicy, BackgroundTasks, type BackgroundTasksInit, defaultTaskRunner } from "./BackgroundTasks.ts";
import { TaskRunner } from "./TaskRunner.ts";
import { TaskQueueFullError } from "./errors.ts";
import { _afterResponse } from "./runAfterResponse.ts";
import { getBackgroundTasks } from "./getBackgroundTasks.ts";
import { _kTasks, type _Registered } from "./_registry.ts";
import { _isResponse } from "./_isResponse.ts";
import { _checkOptions, _POLICY_OPTIONS } from "./_options.ts";
import { _reportStoreFailure } from "./_storeFailures.ts";

/**
 * Options of the {@link backgroundTasks} plugin: the runner (or its options)
 * and the order and error policies of each request's tasks.
 *
 * `runOnHandlerError: false` is seen through the plugin's `onError` hook, so
 * use the plugin before error handlers that answer every error themselves.
 *
 * @example
 * ```ts
 * import { backgroundTasks } from "@background/tasks/elysia";
 *
 * const plugin = backgroundTasks({ runner: { concurrency: 4, retries: 2 }, order: "parallel" });
 * ```
 */
export interface ElysiaBackgroundTasksOptions extends BackgroundTasksOptions {
  /**
   * The runner that executes the tasks, or the options of a new one. Share
   * one runner to share its limits, and drain it on shutdown.
   * @default defaultTaskRunner
   */
  readonly runner?: TaskRunner | TaskRunnerOptions;
}

/**
 * What the plugin adds to the context of every route.
 *
 * @example
 * ```ts
 * import type { BackgroundTasksContext } from "@background/tasks/elysia";
 *
 * function notify({ backgroundTasks }: BackgroundTasksContext, email: string): void {
 *   backgroundTasks.addTask((to: string) => console.log(`notified ${to}`), email);
 * }
 * ```
 */
export type BackgroundTasksContext = {
  /** This request's tasks: `backgroundTasks.addTask(fn, ...args)` runs `fn(...args)` after the response is sent. */
  readonly backgroundTasks: BackgroundTasks;
};

/**
 * The type of the plugin instance: an Elysia app that derives
 * `backgroundTasks` for every route.
 *
 * @example
 * ```ts
 * import { backgroundTasks, type BackgroundTasksPlugin } from "@background/tasks/elysia";
 *
 * export const tasksPlugin: BackgroundTasksPlugin = backgroundTasks();
 * ```
 */
export type BackgroundTasksPlugin = Elysia<"", {
  decorator: {};
  store: {};
  derive: BackgroundTasksContext;
  resolve: {};
}>;

/** The plugin's name in Elysia's dependency list; with `seed`, repeated `.use()` is skipped. */
const PLUGIN_NAME = "@background/tasks/elysia";

const runnerIds = new WeakMap<TaskRunner, number>();
let lastRunnerId = 0;
let warnedUnwrapped = false;
// Bun servers of started apps, by the app's store. The context's `store` costs nothing to read; its
// `server` does: a hook that reads it makes Elysia define a getter on every request's context
// (about a tenth of a small route's time).
const serverByStore = new WeakMap<object, RequestAddressServer>();
// One app usually serves every request: its answer is kept, so most requests skip the WeakMap.
let lastStore: unknown;
let lastStoreServer: RequestAddressServer | undefined;

/**
 * The Elysia plugin: adds `backgroundTasks` to the context of every route
 * (also routes of sub-apps that use it) and starts the request's tasks once
 * the response body has been handed over: on Bun when the server has written
 * the last byte (streams, generators and SSE included), on Elysia's Node
 * adapter when the Node response closes, elsewhere when the body has been
 * read. Repeated `.use()` with the same runner and options is deduplicated.
 * `getBackgroundTasks(request)` returns the same object.
 *
 * A `TaskQueueFullError` thrown by `addTask` becomes a 503 JSON answer.
 *
 * @param options a `TaskRunner`, or the runner (or its options) plus the order and error policies
 * @returns the plugin, for `app.use(...)`
 *
 * @example Shared runner, drained on shutdown
 * ```ts
 * import { Elysia } from "elysia";
 * import { TaskRunner } from "@background/tasks";
 * import { backgroundTasks } from "@background/tasks/elysia";
 *
 * const runner = new TaskRunner({ concurrency: 8, timeoutMs: 30_000, retries: 2 });
 * const app = new Elysia()
 *   .use(backgroundTasks(runner))
 *   .post("/register", ({ backgroundTasks }) => {
 *     backgroundTasks.addTask(async (to: string) => { console.log(`welcome mail to ${to}`); }, "ada@example.com");
 *     return { message: "Registered; the welcome mail follows" };
 *   });
 * const response = await app.handle(new Request("http://localhost/register", { method: "POST" }));
 * await response.text(); // the body is read: the task may start
 * console.assert((await runner.drain({ timeoutMs: 1_000 })).drained);
 * ```
 */
export function backgroundTasks(options: TaskRunner | ElysiaBackgroundTasksOptions = {}): BackgroundTasksPlugin {
  const settings: ElysiaBackgroundTasksOptions = options instanceof TaskRunner ? { runner: options } : options;
  if (settings === null || typeof settings !== "object") {
    throw new TypeError(
      `backgroundTasks(options): options must be a TaskRunner or an object such as { runner, order }, got ${String(settings)}.`,
    );
  }
  _checkOptions("backgroundTasks(options)", settings, { runner: true }, _POLICY_OPTIONS);
  const runner = settings.runner === undefined
    ? defaultTaskRunner
    : settings.runner instanceof TaskRunner
    ? settings.runner
    : new TaskRunner(settings.runner);
  // Checked here once, not on every request.
  const init = _withPolicy({ runner, order: settings.order, stopOnError: settings.stopOnError, runOnAbort: settings.runOnAbort });
  const runOnHandlerError = settings.runOnHandlerError ?? true;

  let runnerId = runnerIds.get(runner);
  if (runnerId === undefined) runnerIds.set(runner, runnerId = ++lastRunnerId);
  const seed = { runner: runnerId, order: init.order, stopOnError: init.stopOnError, runOnAbort: init.runOnAbort, runOnHandlerError };

  // Elysia calls the higher-order function with its handler on every request; the wrapper is made
  // once per handler and kept on it (a property read is cheaper than a WeakMap lookup).
  const kWrapped = Symbol("@background/tasks.elysiaWrapped");
  type Handle = ((request: Request) => unknown) & { [kWrapped]?: (request: Request) => unknown };
  const wrapHandler = (handle: Handle): (request: Request) => unknown => {
    const wrapped = handle[kWrapped];
    return wrapped !== undefined ? wrapped : _wrap(handle, kWrapped, init, runOnHandlerError);
  };

  return new Elysia({ name: PLUGIN_NAME, seed })
    .onStart((app) => _recordServer(app.store, app.server))
    .wrap(wrapHandler)
    .onError({ as: "global" }, ({ request, error }) => {
      const tasks = (request as _Registered)[_kTasks];
      if (tasks instanceof BackgroundTasks) tasks._failed = true;
      if (error instanceof TaskQueueFullError) {
        return Response.json(
          { error: "Service Unavailable", message: "Too much background work is pending. Try again shortly." },
          { status: 503, headers: { "retry-after": "1" } },
        );
      }
    })
    // The list is set on the context itself: returning it in an object costs Elysia an
    // Object.assign per request. Only `request` and `store` are read (see serverByStore).
    .derive({ as: "global" }, (context) => {
      (context as { backgroundTasks?: BackgroundTasks }).backgroundTasks = _tasksOf(context.request, context.store, init);
      return undefined as unknown as BackgroundTasksContext;
    }) as unknown as BackgroundTasksPlugin; // the 503 answer stays out of every route's response types
}

// The closures below are made in functions of their own: a function whose variables a closure
// captures allocates a scope on every call, on JSC even when the closure is not made.

/** The handler wrapped to own its request's tasks, kept on the handler under `key`. */
function _wrap(
  handle: (request: Request) => unknown,
  key: symbol,
  init: BackgroundTasksInit,
  runOnHandlerError: boolean,
): (request: Request) => unknown {
  const wrapped = (request: Request): unknown => _runWrapped(handle, request, init, runOnHandlerError);
  if (Object.isExtensible(handle)) Object.defineProperty(handle, key, { value: wrapped });
  return wrapped;
}

function _runWrapped(handle: (request: Request) => unknown, request: Request, init: BackgroundTasksInit, runOnHandlerError: boolean): unknown {
  const registered = request as _Registered;
  // An outer wrapper (withBackgroundTasks(app.fetch), or the plugin on an outer app) owns them.
  if (registered[_kTasks] !== undefined) return handle(request);
  const tasks = new BackgroundTasks(init, request);
  registered[_kTasks] = tasks;
  let result: unknown;
  try {
    result = handle(request);
  } catch (error) {
    _handOver(tasks, request, undefined, true, runOnHandlerError);
    throw error;
  }
  return result instanceof Promise
    ? _handOverLater(result, tasks, request, runOnHandlerError)
    : _handOver(tasks, request, result, false, runOnHandlerError);
}

function _handOverLater(result: Promise<unknown>, tasks: BackgroundTasks, request: Request, runOnHandlerError: boolean): Promise<unknown> {
  return result.then(
    (response: unknown) => _handOver(tasks, request, response, false, runOnHandlerError),
    (error: unknown) => {
      _handOver(tasks, request, undefined, true, runOnHandlerError);
      throw error;
    },
  );
}

/** The request's list: made by the plugin's wrapper, by getBackgroundTasks under an outer `withBackgroundTasks`, or here. */
function _tasksOf(request: Request, store: unknown, init: BackgroundTasksInit): BackgroundTasks {
  const value = (request as _Registered)[_kTasks];
  if (value instanceof BackgroundTasks) {
    value._server = _serverOf(store);
    return value;
  }
  // withBackgroundTasks(app.fetch) owns them (it stores its options until a list is needed).
  if (value !== undefined) return getBackgroundTasks(request);
  // No wrapper ran: Elysia's dynamic mode (aot: false).
  const tasks = new BackgroundTasks(init, request);
  (request as _Registered)[_kTasks] = tasks;
  _startUnwrapped(tasks, request, _serverOf(store));
  return tasks;
}

function _handOver(tasks: BackgroundTasks, request: Request, response: unknown, threw: boolean, runOnHandlerError: boolean): unknown {
  if ((threw || tasks._failed) && !runOnHandlerError) {
    tasks.skip();
    return response;
  }
  if (tasks.size === 0 || !_isResponse(response)) {
    tasks.start();
    return response;
  }
  const stored = tasks.stored();
  return stored === undefined ? _afterResponse(tasks, response, request, tasks._server) : _handOverStored(stored, tasks, response, request);
}

/** Answers once the runner has stored the request's tasks, or 503 if it could not. */
function _handOverStored(stored: Promise<void>, tasks: BackgroundTasks, response: Response, request: Request): Promise<Response> {
  return stored.then(() => _afterResponse(tasks, response, request, tasks._server), (error: unknown) => {
      tasks.skip();
      _reportStoreFailure(error);
      return Response.json(
        { error: "Service Unavailable", message: "The background work for this request could not be queued. Try again later." },
        { status: 503, headers: { "retry-after": "5" } },
      );
    });
}

/** Keeps a started app's server if it is Bun's: adapters that only imitate `requestIP` throw. */
function _recordServer(store: unknown, server: unknown): void {
  if (store === null || typeof store !== "object") return;
  if (server === null || typeof server !== "object" || typeof (server as RequestAddressServer).requestIP !== "function") return;
  try {
    (server as RequestAddressServer).requestIP(new Request("http://localhost/"));
  } catch {
    return;
  }
  serverByStore.set(store, server as RequestAddressServer);
  lastStore = undefined;
}

/** The Bun server the app with this store was started on, if any. */
function _serverOf(store: unknown): RequestAddressServer | undefined {
  if (store === lastStore) return lastStoreServer;
  lastStore = store;
  return lastStoreServer = store !== null && typeof store === "object" ? serverByStore.get(store) : undefined;
}

/** Elysia's dynamic mode (`aot: false`) calls no higher-order function: only Bun's server can tell then. */
function _startUnwrapped(tasks: BackgroundTasks, request: Request, bun: RequestAddressServer | undefined): void {
  if (bun !== undefined) {
    _afterResponse(tasks, new Response(null), request, bun);
    return;
  }
  if (!warnedUnwrapped) {
    warnedUnwrapped = true;
    console.warn(
      "[background-tasks] Elysia runs without its compiled handler (aot: false), so the plugin cannot see the " +
        "response; tasks start on the next macrotask. Keep aot enabled (the default) to start them after the body is sent.",
    );
  }
  _afterResponse(tasks, new Response(null), request);
}

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
import { BackgroundTasks, defaultTaskRunner } from "./BackgroundTasks.ts";
import { TaskRunner } from "./TaskRunner.ts";
import { TaskQueueFullError } from "./errors.ts";
import { _HandOver, _queueFullResponse } from "./handOver.ts";
import { _kTasks, type _Registered } from "./_registry.ts";
import { _checkOptions, _POLICY_OPTIONS } from "./_options.ts";

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
  // Elysia's own types spell "nothing added" as {}.
  // deno-lint-ignore ban-types
  decorator: {};
  // deno-lint-ignore ban-types
  store: {};
  derive: BackgroundTasksContext;
  // deno-lint-ignore ban-types
  resolve: {};
}>;

/** The plugin's name in Elysia's dependency list; with `seed`, repeated `.use()` is skipped. */
const PLUGIN_NAME = "@background/tasks/elysia";

/** Marks a request whose handler failed, as the plugin's error hook saw it. */
const kFailed: unique symbol = Symbol("@background/tasks.elysiaFailed");
/** The platform values of the request (Bun's server, in an array made once per app), set by `derive`. */
const kPlatform: unique symbol = Symbol("@background/tasks.elysiaPlatform");
type _Marked = Request & { [kFailed]?: true; [kPlatform]?: readonly [RequestAddressServer] };
/** A started app's Bun server, kept on the app's store (non-enumerable) by the plugin's start hook. */
const kStoreServer: unique symbol = Symbol("@background/tasks.elysiaStoreServer");
const kStoreSettings: unique symbol = Symbol("@background/tasks.elysiaStoreSettings");
const NO_PLATFORM: readonly unknown[] = Object.freeze([]);

const runnerIds = new WeakMap<TaskRunner, number>();
let lastRunnerId = 0;

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
  const { order, stopOnError, runOnAbort, runOnHandlerError = true } = settings;
  const handOver = new _HandOver({
    init: Object.freeze({ runner, order, stopOnError, runOnAbort }),
    runOnHandlerError,
    handlerFailed: (request) => (request as _Marked)[kFailed] === true,
  });
  const platformOf = (request: Request): readonly unknown[] => (request as _Marked)[kPlatform] ?? NO_PLATFORM;

  let runnerId = runnerIds.get(runner);
  if (runnerId === undefined) runnerIds.set(runner, runnerId = ++lastRunnerId);
  const seed = { runner: runnerId, order, stopOnError, runOnAbort, runOnHandlerError };

  // Elysia calls the higher-order function with its handler on every request: the wrapper is made
  // once per handler and kept on it (a property read is cheaper than a WeakMap lookup on Bun).
  const kWrapped = Symbol("@background/tasks.elysiaWrapped");
  type Handle = ((request: Request) => unknown) & { [kWrapped]?: (request: Request) => unknown };
  const wrapHandler = (handle: Handle): (request: Request) => unknown => {
    let wrapper = handle[kWrapped];
    if (wrapper === undefined) {
      wrapper = function elysiaTasks(request: Request): unknown {
        return handOver.run(request, handle, undefined, arguments, platformOf);
      };
      if (Object.isExtensible(handle)) Object.defineProperty(handle, kWrapped, { value: wrapper });
    }
    return wrapper;
  };

  return new Elysia({ name: PLUGIN_NAME, seed })
    .onStart((app) => {
      _claimApp(app.store, seed);
      _recordServer(app.store, app.server);
    })
    .wrap(wrapHandler)
    .onError({ as: "global" }, ({ request, error }) => {
      (request as _Marked)[kFailed] = true;
      if (error instanceof TaskQueueFullError) return _queueFullResponse();
    })
    // The list is set on the context itself: returning it in an object costs Elysia an
    // Object.assign per request. Only `request` and `store` are read: a hook that reads the
    // context's `server` makes Elysia define a getter on every request's context.
    .derive({ as: "global" }, (context) => {
      const request = context.request as _Marked;
      const platform = (context.store as { [kStoreServer]?: readonly [RequestAddressServer] })[kStoreServer];
      if (platform !== undefined) request[kPlatform] = platform;
      // The wrapper registered the request (or an outer withBackgroundTasks did, with its options).
      const registered = (request as _Registered)[_kTasks];
      const unwrapped = registered === undefined;
      const tasks = registered instanceof BackgroundTasks
        ? registered
        : ((request as _Registered)[_kTasks] = new BackgroundTasks(registered ?? handOver.init, request));
      (context as { backgroundTasks?: BackgroundTasks }).backgroundTasks = tasks;
      if (unwrapped) _startUnwrapped(handOver, tasks, request, platform?.[0]);
      return undefined as unknown as BackgroundTasksContext;
    }) as unknown as BackgroundTasksPlugin; // the 503 answer stays out of every route's response types
}

/**
 * Refuses a second plugin with other settings in one app: the plugin's hooks are global, so the
 * first one registered would serve every route and the other's runner would silently go unused.
 */
function _claimApp(store: unknown, seed: object): void {
  if (store === null || typeof store !== "object") return;
  const settings = JSON.stringify(seed);
  const claimed = (store as { [kStoreSettings]?: string })[kStoreSettings];
  if (claimed === undefined) Object.defineProperty(store, kStoreSettings, { value: settings, configurable: true });
  else if (claimed !== settings) {
    throw new Error(
      "backgroundTasks(): this Elysia app uses the plugin twice with different settings (another runner or policy). " +
        "Its hooks serve every route of the app, so only the first would apply. Use one backgroundTasks(...) per app; " +
        "to run some tasks on another runner (a WorkerTaskRunner, a durable runner), add a task that hands them over: " +
        "backgroundTasks.addTask(() => void otherRunner.addTask(processCsv, path)).",
    );
  }
}

/** Keeps a started app's server on its store if it is Bun's: adapters that only imitate `requestIP` throw. */
function _recordServer(store: unknown, server: unknown): void {
  if (store === null || typeof store !== "object") return;
  if (server === null || typeof server !== "object" || typeof (server as RequestAddressServer).requestIP !== "function") return;
  try {
    (server as RequestAddressServer).requestIP(new Request("http://localhost/"));
  } catch {
    return;
  }
  Object.defineProperty(store, kStoreServer, { value: Object.freeze([server]), configurable: true });
}

let warnedUnwrapped = false;

/** Elysia's dynamic mode (`aot: false`) calls no higher-order function: only Bun's server can tell then. */
function _startUnwrapped(handOver: _HandOver, tasks: BackgroundTasks, request: Request, bun: RequestAddressServer | undefined): void {
  if (bun === undefined && !warnedUnwrapped) {
    warnedUnwrapped = true;
    console.warn(
      "[background-tasks] Elysia runs without its compiled handler (aot: false), so the plugin cannot see the " +
        "response; tasks start on the next macrotask. Keep aot enabled (the default) to start them after the body is sent.",
    );
  }
  handOver.watch(tasks, new Response(null), request, bun === undefined ? [] : [bun]);
}

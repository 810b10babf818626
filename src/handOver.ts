import type { DenoAbortSignal } from "./types.ts";
import { _checkInit, BackgroundTasks, type BackgroundTasksInit } from "./BackgroundTasks.ts";
import { _kTasks, type _Registered } from "./_registry.ts";
import { _Completions } from "./completion/choose.ts";
import { _isResponse } from "./_isResponse.ts";
import { _reportStoreFailure } from "./_storeFailures.ts";

/** How an integration hands a request's tasks over. @internal */
export interface _HandOverOptions {
  /** The options of each request's list. */
  readonly init: BackgroundTasksInit;
  /** Run the tasks added before the handler failed. */
  readonly runOnHandlerError: boolean;
  /** How to read Deno's `request.signal`. */
  readonly denoAbortSignal?: DenoAbortSignal;
  /** Whether the handler failed though it returned a response (a framework's error hook saw it). */
  readonly handlerFailed?: (request: Request) => boolean;
}

/** How to find the platform's values (Bun's server, Deno's info, Workers' env and ctx) once the handler has returned. @internal */
export type _PlatformOf = (request: Request) => readonly unknown[];

/**
 * The one path from "the handler returned" to "the tasks start", shared by
 * `withBackgroundTasks`, the Elysia plugin and any later integration:
 * register the request, call the handler, then on its response wait for a
 * durable runner to store the tasks (503 when it could not) and start them
 * once the platform says the response has been handed over.
 * @internal
 */
export class _HandOver {
  readonly #options: _HandOverOptions;
  readonly #completions: _Completions;

  constructor(options: _HandOverOptions) {
    _checkInit(options.init); // once here, not on every request
    const mode = options.denoAbortSignal;
    if (mode !== undefined && mode !== "auto" && mode !== "reliable" && mode !== "legacy") {
      throw new RangeError(`denoAbortSignal must be "auto", "reliable" or "legacy", got ${JSON.stringify(mode)}.`);
    }
    this.#options = options;
    this.#completions = new _Completions(options.denoAbortSignal);
  }

  /** The options of each request's list. */
  get init(): BackgroundTasksInit {
    return this.#options.init;
  }

  /**
   * Calls `handler` with `thisArg` and `args` (the request first) with the
   * request's tasks registered, and hands them over after it. The platform's
   * values are `args` after the request, unless `platformOf` finds them. A
   * request that already has tasks (an outer wrapper or plugin owns them) is
   * passed straight through.
   */
  run(
    request: Request,
    handler: (this: unknown, ...args: never[]) => unknown,
    thisArg: unknown,
    args: ArrayLike<unknown>,
    platformOf?: _PlatformOf,
  ): unknown {
    const registered = request as _Registered;
    // apply with the caller's `arguments`: no closure and no spread per request
    if (registered[_kTasks] !== undefined) return Reflect.apply(handler, thisArg, args);
    registered[_kTasks] = this.#options.init; // the list itself is made by the first getBackgroundTasks
    let result: unknown;
    try {
      result = Reflect.apply(handler, thisArg, args);
    } catch (error) {
      this.#failed(request);
      throw error;
    }
    if (_isResponse(result) || !_isThenable(result)) return this.#returned(request, result, args, platformOf);
    return Promise.resolve(result).then(
      (response) => this.#returned(request, response, args, platformOf),
      (error: unknown) => {
        this.#failed(request);
        throw error;
      },
    );
  }

  /** Starts `tasks` once `response` has been handed over, as the platform tells. */
  watch(tasks: BackgroundTasks, response: Response, request: Request | undefined, platform: ArrayLike<unknown>, first = 0): Response {
    return this.#completions.watch(tasks, response, request, platform, first);
  }

  #returned(request: Request, response: unknown, args: ArrayLike<unknown>, platformOf: _PlatformOf | undefined): unknown {
    const tasks = _tasksOf(request);
    if (tasks === undefined) return response; // no task was added: nothing was made
    if (!this.#options.runOnHandlerError && this.#options.handlerFailed?.(request) === true) {
      tasks.skip();
      return response;
    }
    if (tasks.size === 0) {
      tasks.start();
      return response;
    }
    if (!_isResponse(response)) {
      queueMicrotask(() => tasks.start());
      return response;
    }
    // A Fetch handler's platform values are its arguments after the request.
    const platform = platformOf === undefined ? args : platformOf(request);
    const first = platformOf === undefined ? 1 : 0;
    const stored = tasks.stored();
    if (stored === undefined) return this.watch(tasks, response, request, platform, first);
    return stored.then(() => this.watch(tasks, response, request, platform, first), (error: unknown) => {
      tasks.skip();
      return _unavailableResponse(error);
    });
  }

  #failed(request: Request): void {
    const tasks = _tasksOf(request);
    if (tasks === undefined) return;
    // After the error is on its way, not before: a slow sync task must not delay it.
    if (this.#options.runOnHandlerError) queueMicrotask(() => tasks.start());
    else tasks.skip();
  }
}

function _tasksOf(request: Request): BackgroundTasks | undefined {
  const value = (request as _Registered)[_kTasks];
  return value instanceof BackgroundTasks ? value : undefined;
}

function _isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as PromiseLike<unknown>).then === "function";
}

/** The answer when a durable runner could not store the request's tasks: the work was not accepted. @internal */
export function _unavailableResponse(error: unknown): Response {
  _reportStoreFailure(error);
  return Response.json(
    { error: "Service Unavailable", message: "The background work for this request could not be queued. Try again later." },
    { status: 503, headers: { "retry-after": "5" } },
  );
}

/** The answer when the runner is full (`TaskQueueFullError`), for integrations that answer it themselves. @internal */
export function _queueFullResponse(): Response {
  return Response.json(
    { error: "Service Unavailable", message: "Too much background work is pending. Try again shortly." },
    { status: 503, headers: { "retry-after": "1" } },
  );
}

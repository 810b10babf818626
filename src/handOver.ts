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

/** The handler's extra arguments, or how to find them once it has returned. @internal */
export type _Platform = readonly unknown[] | ((request: Request) => readonly unknown[]);

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
   * Calls `handler` for `request` with the request's tasks registered, and
   * hands them over after it. A request that already has tasks (an outer
   * wrapper or plugin owns them) is passed straight through.
   */
  run(request: Request, platform: _Platform, handler: () => unknown): unknown {
    const registered = request as _Registered;
    if (registered[_kTasks] !== undefined) return handler();
    registered[_kTasks] = this.#options.init; // the list itself is made by the first getBackgroundTasks
    let result: unknown;
    try {
      result = handler();
    } catch (error) {
      this.#failed(request);
      throw error;
    }
    if (_isResponse(result) || !_isThenable(result)) return this.#returned(request, result, platform);
    return Promise.resolve(result).then(
      (response) => this.#returned(request, response, platform),
      (error: unknown) => {
        this.#failed(request);
        throw error;
      },
    );
  }

  /** Starts `tasks` once `response` has been handed over, as the platform tells. */
  watch(tasks: BackgroundTasks, response: Response, request: Request | undefined, platform: readonly unknown[]): Response {
    return this.#completions.watch(tasks, response, request, platform);
  }

  #returned(request: Request, response: unknown, platform: _Platform): unknown {
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
    const extra = typeof platform === "function" ? platform(request) : platform;
    const stored = tasks.stored();
    if (stored === undefined) return this.watch(tasks, response, request, extra);
    return stored.then(() => this.watch(tasks, response, request, extra), (error: unknown) => {
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

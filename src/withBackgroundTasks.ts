import type { BackgroundTasksOptions, DenoAbortSignal, FetchHandler } from "./types.ts";
import { defaultTaskRunner } from "./BackgroundTasks.ts";
import type { TaskRunner } from "./TaskRunner.ts";
import { _HandOver } from "./handOver.ts";
import { _checkOptions, _POLICY_OPTIONS } from "./_options.ts";

/**
 * Options of {@link withBackgroundTasks}.
 *
 * @example
 * ```ts
 * import { TaskRunner, withBackgroundTasks, type WithBackgroundTasksOptions } from "@background/tasks";
 *
 * const options: WithBackgroundTasksOptions = { runner: new TaskRunner({ concurrency: 4 }), order: "parallel" };
 * const fetch = withBackgroundTasks(() => new Response("ok"), options);
 * ```
 */
export interface WithBackgroundTasksOptions extends BackgroundTasksOptions {
  /**
   * The runner that executes the tasks; share one across handlers to share
   * its limits and drain it once on shutdown.
   * @default defaultTaskRunner
   */
  readonly runner?: TaskRunner;
  /**
   * On Deno: how to read `request.signal` to tell whether the client left
   * before the response was sent. See {@link DenoAbortSignal}.
   * @default "auto"
   */
  readonly denoAbortSignal?: DenoAbortSignal;
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
 * const response = await fetch(new Request("http://localhost/send-notification/ada@example.com"));
 * await response.text(); // the body is read: the task may start
 * await new Promise((resolve) => setTimeout(resolve, 0));
 * console.assert(written[0] === "Sending notification to ada@example.com");
 * ```
 */
export function withBackgroundTasks<H extends FetchHandler>(handler: H, options: WithBackgroundTasksOptions = {}): H {
  if (typeof handler !== "function") {
    throw new TypeError(
      `withBackgroundTasks(handler): handler must be a function (request, ...rest) => Response, got ${typeof handler}.`,
    );
  }
  _checkOptions("withBackgroundTasks(handler, options)", options, { runner: true, denoAbortSignal: true }, _POLICY_OPTIONS);
  const { runner = defaultTaskRunner, order, stopOnError, runOnAbort, runOnHandlerError = true, denoAbortSignal } = options;
  const handOver = new _HandOver({
    init: Object.freeze({ runner, order, stopOnError, runOnAbort }),
    runOnHandlerError,
    denoAbortSignal,
  });
  return function withTasks(this: unknown, request: Request): unknown {
    return handOver.run(request, handler, this, arguments);
  } as H;
}

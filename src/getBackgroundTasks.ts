import { BackgroundTasks } from "./BackgroundTasks.ts";
import { _kTasks, type _Registered } from "./_registry.ts";

/**
 * The background tasks of the request a wrapped handler is handling. Works
 * wherever that `Request` travels: Hono's `c.req.raw`, itty-router's
 * `request` (a `Proxy` of it), middleware. A clone (`request.clone()`,
 * `new Request(request)`) is a different request and has no tasks: look the
 * tasks up before cloning.
 *
 * @param request the `Request` the server passed to the wrapped handler
 * @returns that request's {@link BackgroundTasks}
 * @throws {TypeError} when no `withBackgroundTasks` wrapper (or plugin) saw this request
 *
 * @example
 * ```ts
 * import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
 *
 * const handler = withBackgroundTasks((request: Request) => {
 *   getBackgroundTasks(request).addTask((path: string) => console.log(`served ${path}`), new URL(request.url).pathname);
 *   return new Response("ok");
 * });
 * const response = await handler(new Request("http://localhost/hello"));
 * console.assert((await response.text()) === "ok");
 * ```
 */
export function getBackgroundTasks(request: Request): BackgroundTasks {
  const registered = request as _Registered | null | undefined;
  const value = registered?.[_kTasks];
  if (value instanceof BackgroundTasks) return value;
  if (value === undefined) {
    throw new TypeError(
      "getBackgroundTasks(request): no background tasks for this request. Wrap the fetch handler " +
        "with withBackgroundTasks(handler) (or use the Elysia plugin), and pass the Request the " +
        "server gave you: a clone or new Request(...) is a different object.",
    );
  }
  const tasks = new BackgroundTasks(value, request);
  registered![_kTasks] = tasks;
  return tasks;
}

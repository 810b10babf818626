import type { BackgroundTasks } from "./BackgroundTasks.ts";
import { _Completions } from "./completion/choose.ts";

/**
 * Starts `tasks` once `response` has been handed over to the client, using
 * the best signal the platform offers, found by shape among `platform` (the
 * extra arguments the server passed to the handler):
 *
 * - Deno's handler info: `info.completed`;
 * - a Node `ServerResponse` from a Fetch adapter (`env.outgoing` of
 *   `@hono/node-server`, `ctx.res` of `@whatwg-node/server`,
 *   `request.runtime.node.res` of srvx): `writableFinished` on the next
 *   macrotask, else its `close` event;
 * - Bun's server: `server.requestIP(request)` turns `null` once the response
 *   has been written; checked on the next macrotask, then every 10 ms;
 * - otherwise the body itself: a `null` body counts as sent on the next
 *   macrotask; a stream body is passed through a tracking stream that starts
 *   the tasks once its last chunk has been read (or it was cancelled).
 *
 * A Workers/Vercel `ctx.waitUntil` also receives a promise of the tasks, so
 * the isolate lives until they end. Integrations call this; handlers wrapped
 * by `withBackgroundTasks` get it for free (and, on Deno, learn whether
 * `request.signal` can tell that the client left: see `DenoAbortSignal`;
 * here each call reads it afresh, so a cut-short response is reported only
 * through `info.completed`).
 *
 * @param tasks the request's tasks, not yet started
 * @param response what the handler returned
 * @param platform the handler's extra arguments (and anything else that may carry a signal)
 * @returns the response to give the server: the same object, or a copy whose body is tracked
 *
 * @example
 * ```ts
 * import { BackgroundTasks, runAfterResponse, TaskRunner } from "@background/tasks";
 *
 * const runner = new TaskRunner();
 * const tasks = new BackgroundTasks({ runner });
 * let ran = false;
 * tasks.addTask(() => { ran = true; });
 * const sent = runAfterResponse(tasks, new Response("hello"));
 * console.assert(!ran);
 * await sent.text(); // the body is consumed: the tasks may start
 * await runner.drain();
 * console.assert(ran);
 * ```
 */
export function runAfterResponse(tasks: BackgroundTasks, response: Response, ...platform: unknown[]): Response {
  const request = tasks.request instanceof Request ? tasks.request : undefined;
  return new _Completions().watch(tasks, response, request, platform);
}

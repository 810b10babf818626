/**
 * Background tasks on Cloudflare Workers (module syntax). The runtime calls
 * `fetch(request, env, ctx)`; the wrapper passes all three through and gives
 * `ctx.waitUntil` a promise of the request's tasks, so the isolate stays
 * alive until they end.
 *
 * Workers end `waitUntil` work 30 s after the response. A task still running
 * then would be cut off silently, so the runner's `timeoutMs` is set below
 * that limit: such a task is aborted (its `this.signal` fires) and reported
 * to `onError` as a `TaskTimeoutError` while the isolate is still alive.
 *
 *   npm run build && npx wrangler dev --config examples/wrangler.jsonc   (port 8787; --port to change it)
 *   curl -X POST http://127.0.0.1:8787/send-notification/ada@example.com
 */
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
import { contractRoutes, contractVariants, recordTaskError } from "./_contract.ts";

/** Workers' `ExecutionContext`, declared here so the example needs no workers-types. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

function writeLog(message: string): void {
  console.log(`[log] ${message}`);
}

function handle(request: Request, _env: unknown, _ctx: ExecutionContext): Response {
  const url = new URL(request.url);
  const match = url.pathname.match(/^\/send-notification\/([^/]+)$/);
  if (request.method === "POST" && match) {
    getBackgroundTasks(request).addTask(writeLog, `Sending notification to ${decodeURIComponent(match[1]!)}`);
    return Response.json({ message: "Notification sent in the background" });
  }
  return contractRoutes(request) ?? new Response("Not Found", { status: 404 });
}

/** Below Workers' 30 s `waitUntil` limit, so a task that would outlive it is reported. */
const runner = new TaskRunner({ timeoutMs: 25_000, onError: recordTaskError });

export default {
  // The contract suite (test/contract) also calls `handle` unwrapped and with order "parallel".
  fetch: contractVariants(withBackgroundTasks(handle, { runner }), handle, { runner }),
};

/**
 * Background tasks in itty-router 5's `AutoRouter`. The router hands its
 * handlers a Proxy of the request (to add `params` and `query`); the tasks
 * are found through it all the same. Extra arguments (Bun's `server`, Deno's
 * `info`, Workers' `env` and `ctx`) pass through the wrapper and the router.
 *
 *   PORT=3000 bun examples/itty-router.ts
 *   PORT=3000 deno run --allow-net --allow-env examples/itty-router.ts
 *   curl -X POST http://127.0.0.1:3000/send-notification/ada@example.com
 */
import { AutoRouter, type IRequest } from "itty-router";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
import { contractRoutes, contractVariants, record, recordTaskError } from "./_contract.ts";

function writeLog(message: string): void {
  console.log(`[log] ${message}`);
}

/** Middleware (`before`): adds a task to requests that ask for one. */
function middlewareTask(request: IRequest): void {
  if (request.url.includes("/contract/middleware")) {
    getBackgroundTasks(request).addTask(record, request.query.id as string, "middleware:task");
  }
}

const router = AutoRouter({ before: [middlewareTask] });

router.post("/send-notification/:email", (request) => {
  getBackgroundTasks(request).addTask(writeLog, `Sending notification to ${request.params.email}`);
  return { message: "Notification sent in the background" };
});

// The contract suite's routes (test/contract), handed itty's Proxy of the request.
router.all("/contract/*", (request) => contractRoutes(request));

const runner = new TaskRunner({ timeoutMs: 30_000, onError: recordTaskError });
export const fetch: typeof router.fetch = withBackgroundTasks(router.fetch, { runner });

// The contract suite also calls `router.fetch` unwrapped and with order "parallel".
const served = contractVariants(fetch, router.fetch, { runner });

// The two runtimes this file runs on, typed here so it checks under either one's types.
declare const Bun: { serve(options: { hostname: string; port: number; fetch: typeof served }): { url: URL } } | undefined;
declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen(address: { hostname: string; port: number }): void },
    handler: typeof served,
  ): unknown;
};
declare const process: { env: Record<string, string | undefined> };

const port = Number(process.env.PORT ?? 3000);
if (typeof Bun !== "undefined") {
  const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: served });
  console.log(`listening on ${server.url.href.replace(/\/$/, "")}`);
} else {
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
  }, served);
}

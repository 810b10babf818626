/**
 * Background tasks in Hono: wrap `app.fetch` once; middleware and routes
 * reach the request's tasks through `c.req.raw` (the `Request` the server
 * passed in). Runs on Bun and Deno as is (on Node, serve `fetch` with
 * `@hono/node-server`, see node-server.ts; on Workers, `export default { fetch }`).
 *
 *   PORT=3000 bun examples/hono.ts
 *   PORT=3000 deno run --allow-net --allow-env examples/hono.ts
 *   curl -X POST http://127.0.0.1:3000/send-notification/ada@example.com
 *
 * Hono is a dependency of this example only; the core does not import it.
 */
import { type Context, Hono } from "hono";
import { type BackgroundTasks, getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
import { contractRoutes, contractVariants, record, recordTaskError } from "./_contract.ts";

/** The request's background tasks, from a Hono context: a typed one-liner instead of an integration. */
export function backgroundTasks(c: Context): BackgroundTasks {
  return getBackgroundTasks(c.req.raw);
}

function writeLog(message: string): void {
  console.log(`[log] ${message}`);
}

function audit(method: string, path: string): void {
  console.log(`[audit] ${method} ${path}`);
}

const app = new Hono();

// Middleware adds a task for every request it sees; it runs after the route's response is sent.
app.use("/send-notification/*", async (c, next) => {
  backgroundTasks(c).addTask(audit, c.req.method, c.req.path);
  await next();
});

app.post("/send-notification/:email", (c) => {
  backgroundTasks(c).addTask(writeLog, `Sending notification to ${c.req.param("email")}`);
  return c.json({ message: "Notification sent in the background" });
});

// For the contract suite (test/contract): a middleware task before the route's, then the shared routes.
app.use("/contract/middleware", async (c, next) => {
  backgroundTasks(c).addTask(record, c.req.query("id") ?? "none", "middleware:task");
  await next();
});
app.all("/contract/*", (c) => contractRoutes(c.req.raw) ?? c.notFound());

const runner = new TaskRunner({ timeoutMs: 30_000, onError: recordTaskError });
export const fetch: typeof app.fetch = withBackgroundTasks(app.fetch, { runner });

// The contract suite also calls `app.fetch` unwrapped and with order "parallel".
const served = contractVariants(fetch, app.fetch, { runner });

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

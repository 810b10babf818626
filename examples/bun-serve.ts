/**
 * Background tasks on `Bun.serve`, no framework: FastAPI's "write a log line
 * after the response" example. Bun passes the server as the handler's second
 * argument; the wrapper passes it through and uses it to tell when the
 * response has been written.
 *
 *   PORT=3000 bun examples/bun-serve.ts
 *   curl -X POST http://127.0.0.1:3000/send-notification/ada@example.com
 */
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
import { contractRoutes, contractVariants, recordTaskError } from "./_contract.ts";

function writeLog(message: string): void {
  console.log(`[log] ${message}`);
}

function handle(request: Request): Response {
  const url = new URL(request.url);
  const match = url.pathname.match(/^\/send-notification\/([^/]+)$/);
  if (request.method === "POST" && match) {
    getBackgroundTasks(request).addTask(writeLog, `Sending notification to ${decodeURIComponent(match[1]!)}`);
    return Response.json({ message: "Notification sent in the background" });
  }
  return contractRoutes(request) ?? new Response("Not Found", { status: 404 });
}

// One runner for the whole server: failures go to onError, and drain() waits for them on shutdown.
const runner = new TaskRunner({ timeoutMs: 30_000, onError: recordTaskError });
const fetch = withBackgroundTasks(handle, { runner });

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 3000),
  // The contract suite (test/contract) also calls `handle` unwrapped and with order "parallel".
  fetch: contractVariants(fetch, handle, { runner }),
});
console.log(`listening on ${server.url.href.replace(/\/$/, "")}`);

process.on("SIGTERM", async () => {
  await server.stop();
  const { unfinished } = await runner.drain({ timeoutMs: 5_000 });
  if (unfinished.length > 0) console.error("[example] unfinished tasks:", unfinished);
  process.exit(0);
});

/**
 * Background tasks on `Deno.serve`, no framework. Deno passes `info` as the
 * handler's second argument; the wrapper passes it through and starts the
 * tasks when `info.completed` settles, i.e. once the response has been sent.
 *
 *   PORT=3000 deno run --allow-net --allow-env examples/deno-serve.ts
 *   curl -X POST http://127.0.0.1:3000/send-notification/ada@example.com
 *
 * The import is the package's JSR name, as in your own project; here
 * `examples/deno.json` maps "jsr:@background/tasks" to the local ../src/mod.ts.
 */
// deno-lint-ignore no-unversioned-import -- examples/deno.json maps it to the local source
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "jsr:@background/tasks";
import { contractRoutes, contractVariants, recordTaskError } from "./_contract.ts";

function writeLog(message: string): void {
  console.log(`[log] ${message}`);
}

function handle(request: Request, _info: Deno.ServeHandlerInfo): Response {
  const url = new URL(request.url);
  const match = url.pathname.match(/^\/send-notification\/([^/]+)$/);
  if (request.method === "POST" && match) {
    getBackgroundTasks(request).addTask(writeLog, `Sending notification to ${decodeURIComponent(match[1]!)}`);
    return Response.json({ message: "Notification sent in the background" });
  }
  return contractRoutes(request) ?? new Response("Not Found", { status: 404 });
}

const runner = new TaskRunner({ timeoutMs: 30_000, onError: recordTaskError });
const fetch = withBackgroundTasks(handle, { runner });

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 3000),
  onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
  // The contract suite (test/contract) also calls `handle` unwrapped and with order "parallel".
}, contractVariants(fetch, handle, { runner }));

Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  const { unfinished } = await runner.drain({ timeoutMs: 5_000 });
  if (unfinished.length > 0) console.error("[example] unfinished tasks:", unfinished);
  Deno.exit(0);
});

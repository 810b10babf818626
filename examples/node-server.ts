/**
 * Background tasks on Node's `node:http`, through `@hono/node-server`'s
 * `getRequestListener` (the Fetch adapter behind Hono on Node, maintained
 * with it). The adapter calls `fetch(request, { incoming, outgoing })`; the
 * wrapper passes that through and starts the tasks on `outgoing`'s `close`
 * event, i.e. once Node has written the whole response (or the client left).
 *
 *   npm run build && PORT=3000 npx tsx examples/node-server.ts
 *   curl -X POST http://127.0.0.1:3000/send-notification/ada@example.com
 *
 * Under Node, "@background/tasks" resolves to the built package (dist/).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
import { contractRoutes, contractVariants, recordTaskError } from "./_contract.ts";

function writeLog(message: string): void {
  console.log(`[log] ${message}`);
}

function handle(request: Request, _env: HttpBindings | Http2Bindings): Response {
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

// The contract suite (test/contract) also calls `handle` unwrapped and with order "parallel".
const server = createServer(getRequestListener(contractVariants(fetch, handle, { runner })));
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`listening on http://${address}:${port}`);
});

process.on("SIGTERM", () => {
  server.close(async () => {
    const { unfinished } = await runner.drain({ timeoutMs: 5_000 });
    if (unfinished.length > 0) console.error("[example] unfinished tasks:", unfinished);
    process.exit(0);
  });
  server.closeAllConnections();
});

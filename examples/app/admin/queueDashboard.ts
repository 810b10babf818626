/**
 * bull-board, the BullMQ dashboard, for the example's durable queue. Its API
 * and Hono adapter run inside Elysia as one fetch handler: bull-board's own
 * Elysia adapter is two major versions behind its API and UI. The UI is
 * served from the installed `@bull-board/ui` package; its one external
 * reference (a web font stylesheet) is removed, so the page loads nothing
 * from outside the server (the fonts fall back to the system's).
 */
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import { Hono } from "hono";

/** Where the dashboard lives; fixed, since bull-board writes it into its page. */
export const QUEUE_DASHBOARD_PATH = "/admin/queues";

/** A fetch handler serving bull-board for `queues` under {@link QUEUE_DASHBOARD_PATH}. */
export function queueDashboard(queues: readonly Queue[]): (request: Request) => Promise<Response> {
  const adapter = new HonoAdapter(serveStatic);
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: "Background tasks" } },
  });
  const app = new Hono().route(QUEUE_DASHBOARD_PATH, adapter.registerPlugin());
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === `${QUEUE_DASHBOARD_PATH}/`) return Response.redirect(new URL(QUEUE_DASHBOARD_PATH + url.search, url), 302);
    const response = await app.fetch(request);
    if (!response.headers.get("content-type")?.startsWith("text/html")) return response;
    const html = (await response.text()).replace(/<link[^>]*href="https?:\/\/[^"]*"[^>]*>/g, "");
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    return new Response(html, { status: response.status, headers });
  };
}

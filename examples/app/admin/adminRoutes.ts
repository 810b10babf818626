/**
 * The admin pages, closed unless ADMIN_TOKEN is set (adminAuth.ts):
 *
 * - `/admin/tasks`: the runner's `stats()` and the latest failures, live
 *   (a plain page polling `/admin/tasks/stats` once a second).
 * - `/admin/queues`: bull-board, the BullMQ dashboard, in durable mode
 *   (REDIS_URL set); without Redis it answers 404 saying so.
 *
 * Hidden from the API docs: they are for operators, not API clients.
 */
import { readFileSync } from "node:fs";
import { Elysia } from "elysia";
import { config } from "../config.ts";
import { errorBody } from "../errors.ts";
import { durableRunner, runner } from "../runner.ts";
import { recentTaskFailures } from "../taskReports.ts";
import { adminGate } from "./adminAuth.ts";

const gate = adminGate(config.adminToken);
const tasksPage = readFileSync(new URL("./tasks.html", import.meta.url), "utf8");
const hidden = { detail: { hide: true } };

// bull-board is loaded on the first request, and only in durable mode.
let dashboard: Promise<(request: Request) => Promise<Response>> | undefined;
function queues(request: Request): Response | Promise<Response> {
  const refused = gate(request);
  if (refused !== undefined) return refused;
  if (durableRunner === undefined) {
    return Response.json(
      errorBody(
        404,
        "The queue dashboard shows the durable queue: start the server with REDIS_URL set (docs/durable.md). /admin/tasks shows the in-process runner.",
      ),
      { status: 404 },
    );
  }
  const queue = durableRunner.queue;
  dashboard ??= import("./queueDashboard.ts").then(({ queueDashboard }) => queueDashboard([queue]));
  return dashboard.then((handle) => handle(request));
}

export const adminRoutes = new Elysia({ name: "routes/admin" })
  .get(
    "/admin/tasks",
    ({ request }) =>
      gate(request) ?? new Response(tasksPage, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } }),
    hidden,
  )
  .get("/admin/tasks/stats", ({ request }) =>
    gate(request) ?? Response.json({
      mode: durableRunner !== undefined ? "durable (counts promotions; workers' jobs are in /admin/queues)" : "in-process",
      stats: runner.stats(),
      recentFailures: [...recentTaskFailures()],
      at: new Date().toISOString(),
    }, { headers: { "cache-control": "no-store" } }), hidden)
  .all("/admin/queues", ({ request }) => queues(request), hidden)
  .all("/admin/queues/*", ({ request }) => queues(request), hidden);

/** `GET /tasks`: what the background task runner is doing, and what failed. */
import { Elysia, t } from "elysia";
import { runner } from "../runner.ts";
import { currentWarnings, recentTaskFailures } from "../taskReports.ts";

const count = t.Integer({ minimum: 0 });

export const taskRoutes = new Elysia({ name: "routes/tasks" })
  .get("/tasks", () => ({ stats: runner.stats(), recentFailures: [...recentTaskFailures()], warnings: currentWarnings() }), {
    response: {
      200: t.Object({
        stats: t.Object({
          waiting: count, queued: count, running: count, succeeded: count, failed: count,
          timedOut: count, retried: count, dropped: count, skipped: count,
        }),
        recentFailures: t.Array(t.Object({
          task: t.String(),
          attempts: t.Integer(),
          timedOut: t.Boolean(),
          error: t.String(),
          request: t.Optional(t.String()),
          at: t.String({ format: "date-time" }),
        })),
        warnings: t.Array(t.String(), { description: "Conditions that stand now, e.g. durable jobs waiting with no worker." }),
      }),
    },
    detail: { tags: ["tasks"], summary: "Runner counters and the latest task failures" },
  });

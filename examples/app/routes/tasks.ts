/** `GET /tasks`: what the background task runner is doing, and what failed. */
import { Elysia, t } from "elysia";
import { allRunners } from "../runner.ts";
import { currentWarnings, recentTaskFailures } from "../taskReports.ts";
import { Integer } from "../schemas.ts";

const count = Integer({ minimum: 0 });

export const taskRoutes = new Elysia({ name: "routes/tasks" })
  .get("/tasks", () => ({ stats: allRunners.stats(), recentFailures: [...recentTaskFailures()], warnings: currentWarnings() }), {
    response: {
      200: t.Object({
        stats: t.Object({
          waiting: count,
          queued: count,
          running: count,
          succeeded: count,
          failed: count,
          timedOut: count,
          retried: count,
          dropped: count,
          skipped: count,
        }),
        recentFailures: t.Array(t.Object({
          task: t.String(),
          attempts: Integer({ minimum: 1 }),
          timedOut: t.Boolean(),
          error: t.String(),
          request: t.Optional(t.String()),
          subject: t.Optional(
            t.String({
              description: 'What the task was about; a mail: its subject and masked recipient, `"Welcome!" to a***@example.com`.',
            }),
          ),
          at: t.String({ format: "date-time" }),
        })),
        warnings: t.Array(t.String(), { description: "Conditions that stand now, e.g. durable jobs waiting with no worker." }),
      }, {
        description: "The runner's counters since the start, and the latest failures.",
        examples: [{
          stats: { waiting: 0, queued: 0, running: 1, succeeded: 41, failed: 1, timedOut: 0, retried: 3, dropped: 0, skipped: 0 },
          recentFailures: [{
            task: "send-welcome-email",
            attempts: 4,
            timedOut: false,
            error: "Error: connect ECONNREFUSED 127.0.0.1:25",
            request: "POST http://127.0.0.1:3000/register",
            at: "2026-11-30T08:00:00.000Z",
          }],
          warnings: [],
        }],
      }),
    },
    detail: { tags: ["tasks"], summary: "Runner counters and the latest task failures" },
  });

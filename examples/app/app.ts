/** The example app: JSON errors, API docs and the routes, ready for `.listen()` or `.handle()`. */
import { Elysia } from "elysia";
import { adminRoutes } from "./admin/adminRoutes.ts";
import { apiDocs } from "./docs.ts";
import { jsonErrors } from "./errors.ts";
import { connectionCloseWhenStopping } from "./shutdown.ts";
import { notificationRoutes } from "./routes/notifications.ts";
import { outboxRoutes } from "./routes/outbox.ts";
import { taskRoutes } from "./routes/tasks.ts";
import { uploadRoutes } from "./routes/uploads.ts";
import { userRoutes } from "./routes/users.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { telemetry } from "./telemetry.ts";

export function createApp() {
  return new Elysia({
    name: "background-tasks-example",
    // Bun's own limit answers in plain text; the routes enforce theirs and answer JSON.
    serve: { maxRequestBodySize: Number.MAX_SAFE_INTEGER },
  })
    .use(connectionCloseWhenStopping)
    .use(telemetry()?.requestSpans ?? new Elysia({ name: "request-spans" }))
    .use(jsonErrors)
    .use(apiDocs({
      title: "Background tasks example",
      version: "0.1.0",
      description: "The three FastAPI background-task examples (log, email, CSV upload) on Elysia with " +
        "@background/tasks: each endpoint answers at once and finishes its work after the response is sent.",
      tags: [
        { name: "notifications", description: "Log a line in the background." },
        { name: "users", description: "Register and get a welcome email in the background." },
        { name: "uploads", description: "Upload a CSV and follow its background processing." },
        { name: "mail", description: "The local mailbox used when SMTP_URL is not set." },
        { name: "tasks", description: "The background task runner." },
      ],
    }))
    .use(notificationRoutes)
    .use(userRoutes)
    .use(uploadRoutes)
    .use(outboxRoutes)
    .use(taskRoutes)
    .use(metricsRoutes)
    .use(adminRoutes)
    .get("/", ({ redirect }) => redirect("/swagger"), { detail: { hide: true } });
}

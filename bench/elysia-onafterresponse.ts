// The seed's endpoints as examples/server.ts serves them, but with the work done in Elysia's own
// `afterResponse` hook instead of @background/tasks: the peer our plugin must not be slower than.
// Same routes, same schemas, same error handling and the very same work: the example's own task
// functions (writeLog, sendWelcomeEmail, processCsv) and upload receiver are imported and called
// directly, without a runner (no limits, timeouts, retries or reports). Bun only.
//   PORT=3001 DATA_DIR=/tmp/x bun bench/elysia-onafterresponse.ts
// MODE=plugin serves the same app with our plugin (default runner: no limits, no timeouts) adding
// the same work as tasks: a diagnostic that separates the plugin's own cost from the example
// server's extras (its runner's limits and timeouts, Swagger, the other routes).
import { mkdir } from "node:fs/promises";
import { Elysia, t } from "elysia";
import type { TaskContext } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";
import { HttpError, jsonErrors } from "../examples/app/errors.ts";
import { Email, ErrorResponse, MessageResponse } from "../examples/app/schemas.ts";
import { writeLog } from "../examples/app/tasks/writeLog.ts";
import { sendWelcomeEmail } from "../examples/app/tasks/sendWelcomeEmail.ts";
import { processCsv } from "../examples/app/tasks/processCsv.ts";
import { receiveFile } from "../examples/app/uploads/receiveFile.ts";
import { createJob, getJob, newUpload, uploadsDir } from "../examples/app/uploads/uploadJobs.ts";
import { config } from "../examples/app/config.ts";

const plugin = process.env.MODE === "plugin";
const report = (error: unknown) => console.error("[onAfterResponse] work failed:", error);
/** processCsv reads `this.signal`; outside a runner nothing ever aborts it. */
const context = { signal: new AbortController().signal } as TaskContext;

await mkdir(uploadsDir, { recursive: true });

const notification = { params: t.Object({ email: Email }), response: { 200: MessageResponse, 422: ErrorResponse } };
const register = {
  parse: "application/json" as const,
  body: t.Object({ email: Email, username: t.String({ minLength: 1, maxLength: 64, pattern: "^[^\\r\\n]+$" }) }),
  response: { 200: MessageResponse, 400: ErrorResponse, 422: ErrorResponse },
};
async function receive(request: Request, set: { status?: number | string }) {
  const { id, path } = newUpload();
  const file = await receiveFile(request, { field: "file", path, maxBytes: config.maxUploadBytes });
  if (file.bytes === 0) throw new HttpError(400, "The file is empty.");
  const job = createJob(id, file.filename, file.bytes);
  set.status = 202;
  return JSON.parse(JSON.stringify(job)) as { id: string };
}
const registered = (username: string) => ({ message: `Registered ${username}; the welcome email is sent in the background` });

const base = new Elysia({ serve: { maxRequestBodySize: Number.MAX_SAFE_INTEGER } })
  .use(jsonErrors)
  .get("/", () => "ok")
  .get("/uploads/:id", ({ params }) => {
    const job = getJob(params.id);
    if (job === undefined) throw new HttpError(404, `No upload ${params.id}.`);
    return JSON.parse(JSON.stringify(job));
  });

const app = plugin
  ? base
    .use(backgroundTasks())
    .post("/send-notification/:email", ({ params, backgroundTasks }) => {
      backgroundTasks.addTask(writeLog, `Sending notification to ${params.email}`);
      return { message: "Notification sent in the background" };
    }, notification)
    .post("/register", ({ body, backgroundTasks }) => {
      backgroundTasks.addTask(sendWelcomeEmail, body.email, body.username);
      return registered(body.username);
    }, register)
    .post("/upload", async ({ request, set, backgroundTasks }) => {
      const job = await receive(request, set);
      backgroundTasks.addTask(processCsv, job.id);
      return job;
    })
  : base
    .post("/send-notification/:email", () => ({ message: "Notification sent in the background" }), {
      ...notification,
      afterResponse({ params }) {
        writeLog(`Sending notification to ${params.email}`).catch(report);
      },
    })
    .post("/register", ({ body }) => registered(body.username), {
      ...register,
      afterResponse({ body }) {
        sendWelcomeEmail(body.email, body.username).catch(report);
      },
    })
    .post("/upload", ({ request, set }) => receive(request, set), {
      afterResponse({ responseValue }) {
        const id = (responseValue as { id?: string } | undefined)?.id;
        if (id !== undefined) (processCsv.call(context, id) as Promise<void>).catch(report);
      },
    });

app.listen({ port: config.port, hostname: "127.0.0.1" });
// A signal ends the process normally (so `bun --cpu-prof` can write its profile).
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));

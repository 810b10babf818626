// Stand-in for examples/server.ts until it is on main: the seed's endpoints on Elysia with the work
// added through the core (withBackgroundTasks around app.fetch, getBackgroundTasks(request)).
// Same work as bench/elysia-onafterresponse.ts. Bun only.
import { Elysia, t } from "elysia";
import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
import { processCsv, sendWelcomeEmail, storeUpload, writeLog } from "./seedWork.ts";

const jobs = new Map<string, { id: string; status: string; rows: number }>();

const app = new Elysia()
  .get("/", () => "ok")
  .post("/send-notification/:email", ({ params, request }) => {
    getBackgroundTasks(request).addTask(writeLog, `Sending notification to ${params.email}`);
    return { message: "Notification sent in the background" };
  }, { params: t.Object({ email: t.String({ format: "email" }) }) })
  .post("/register", ({ body, request }) => {
    getBackgroundTasks(request).addTask(sendWelcomeEmail, body.email, body.username);
    return { message: "Registered; the welcome email is sent in the background" };
  }, { body: t.Object({ email: t.String({ format: "email" }), username: t.String({ minLength: 1 }) }) })
  .post("/upload", async ({ body, request }) => {
    const path = await storeUpload(body.file);
    const job = { id: crypto.randomUUID(), status: "queued", rows: 0 };
    jobs.set(job.id, job);
    getBackgroundTasks(request).addTask(processCsv, path, job);
    return job;
  }, { body: t.Object({ file: t.File() }) })
  .get("/uploads/:id", ({ params, status }) => jobs.get(params.id) ?? status(404, { error: "unknown upload" }));

Bun.serve({ port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1", fetch: withBackgroundTasks(app.fetch) });

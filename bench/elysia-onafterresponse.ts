// The seed's endpoints on Elysia, with the work done in Elysia's own `afterResponse` hook instead
// of @background/tasks: the peer our plugin must not be slower than. Bun only.
//   PORT=3001 DATA_DIR=/tmp/x bun bench/elysia-onafterresponse.ts
import { Elysia, t } from "elysia";
import { processCsv, sendWelcomeEmail, storeUpload, writeLog } from "./servers/seedWork.ts";

const uploadPaths = new Map<string, string>();

const logError = (error: unknown) => console.error("[onAfterResponse] task failed:", error);

new Elysia()
  .get("/", () => "ok")
  .post("/send-notification/:email", () => ({ message: "Notification sent in the background" }), {
    params: t.Object({ email: t.String({ format: "email" }) }),
    afterResponse({ params }) {
      writeLog(`Sending notification to ${params.email}`).catch(logError);
    },
  })
  .post("/register", () => ({ message: "Registered; the welcome email is sent in the background" }), {
    body: t.Object({ email: t.String({ format: "email" }), username: t.String({ minLength: 1 }) }),
    afterResponse({ body }) {
      sendWelcomeEmail(body.email, body.username).catch(logError);
    },
  })
  .post("/upload", async ({ body }) => {
    const path = await storeUpload(body.file);
    const id = crypto.randomUUID();
    uploadPaths.set(id, path);
    return { id, status: "queued" };
  }, {
    body: t.Object({ file: t.File() }),
    afterResponse({ responseValue }) {
      const id = (responseValue as { id?: string } | undefined)?.id;
      const path = id === undefined ? undefined : uploadPaths.get(id);
      if (id === undefined || path === undefined) return;
      uploadPaths.delete(id);
      processCsv(path).catch(logError);
    },
  })
  .listen({ port: Number(process.env.PORT ?? 3001), hostname: "127.0.0.1" });

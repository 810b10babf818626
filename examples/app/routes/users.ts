/** `POST /register`: the seed's email example. */
import { Elysia, t } from "elysia";
import { backgroundTasks } from "@background/tasks/elysia";
import { runner } from "../runner.ts";
import { Email, ErrorResponse, MessageResponse } from "../schemas.ts";
import { sendWelcomeEmail } from "../tasks/sendWelcomeEmail.ts";
import { mailDelivery } from "../mail/mailer.ts";
import { HttpError } from "../errors.ts";

const MAX_JSON_BYTES = 64 * 1024;

/** Runs before the JSON parser: refuses large bodies by their declared length. */
function limitJsonSize({ request }: { request: Request }): undefined {
  if (Number(request.headers.get("content-length")) > MAX_JSON_BYTES) {
    throw new HttpError(413, `The JSON body is larger than ${MAX_JSON_BYTES} bytes.`);
  }
  return undefined;
}

const User = t.Object({
  email: Email,
  username: t.String({ minLength: 1, maxLength: 64, pattern: "^[^\\r\\n]+$", description: "Shown in the welcome mail.", examples: ["ada"] }),
}, { description: "The user to register." });

export const userRoutes = new Elysia({ name: "routes/users" })
  .use(backgroundTasks(runner))
  .post("/register", ({ body, backgroundTasks }) => {
    backgroundTasks.addTask(sendWelcomeEmail, body.email, body.username);
    return { message: `Registered ${body.username}; the welcome email is sent in the background` };
  }, {
    parse: [limitJsonSize, "application/json"],
    body: User,
    response: { 200: MessageResponse, 400: ErrorResponse, 422: ErrorResponse, 503: ErrorResponse },
    detail: {
      tags: ["users"],
      summary: "Register a user",
      description: `Answers at once; a welcome email goes out in the background (now: ${mailDelivery === "smtp" ? "through SMTP_URL" : "to the local outbox, see GET /outbox"}). ` +
        "Failed sends are retried with backoff, then reported in GET /tasks.",
    },
  });

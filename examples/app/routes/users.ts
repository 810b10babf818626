/** `POST /register`: the seed's email example. */
import { Elysia, t } from "elysia";
import { backgroundTasks } from "@background/tasks/elysia";
import { runner } from "../runner.ts";
import { Busy, Email, Failure, Message } from "../schemas.ts";
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
}, { description: "The user to register.", examples: [{ email: "ada@example.com", username: "ada" }] });

export const userRoutes = new Elysia({ name: "routes/users" })
  .use(backgroundTasks(runner))
  .post("/register", ({ body, backgroundTasks }) => {
    backgroundTasks.addTask(sendWelcomeEmail, body.email, body.username);
    return { message: `Registered ${body.username}; the welcome email is sent in the background` };
  }, {
    parse: [limitJsonSize, "application/json"],
    body: User,
    response: {
      200: Message("Registered ada; the welcome email is sent in the background"),
      400: Failure(400, "The body is not JSON.", "The request body could not be parsed: send JSON with Content-Type: application/json."),
      413: Failure(413, `The body is larger than ${MAX_JSON_BYTES} bytes.`, `The JSON body is larger than ${MAX_JSON_BYTES} bytes.`),
      422: Failure(422, "A field is missing or not valid.", "Invalid body username: Expected property 'username' to be string but found: undefined."),
      503: Busy,
    },
    detail: {
      tags: ["users"],
      summary: "Register a user",
      description: `Answers at once; a welcome email goes out in the background (now: ${mailDelivery === "smtp" ? "through SMTP_URL" : "to the local outbox, see GET /outbox"}). ` +
        "Failed sends are retried with backoff, then reported in GET /tasks.",
    },
  });

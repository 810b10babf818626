/** `POST /register`: the seed's email example. */
import { Elysia, t } from "elysia";
import { backgroundTasks } from "@background/tasks/elysia";
import { runner } from "../runner.ts";
import { Busy, Email, Failure, Message } from "../schemas.ts";
import { sendWelcomeEmail } from "../tasks/sendWelcomeEmail.ts";
import { mailDelivery } from "../mail/mailer.ts";
import { jsonBody } from "../http/readBody.ts";

const MAX_JSON_BYTES = 64 * 1024;

const User = t.Object({
  email: Email,
  username: t.String({
    minLength: 1,
    maxLength: 64,
    pattern: "^[^\\r\\n]+$",
    description: "Shown in the welcome mail.",
    examples: ["ada"],
  }),
}, { description: "The user to register.", examples: [{ email: "ada@example.com", username: "ada" }] });

export const userRoutes = new Elysia({ name: "routes/users" })
  .use(backgroundTasks(runner))
  .post("/register", ({ body, backgroundTasks }) => {
    backgroundTasks.addTask(sendWelcomeEmail, body.email, body.username);
    return { message: `Registered ${body.username}; the welcome email is sent in the background` };
  }, {
    // jsonBody reads the body (capped, JSON only); the string names the content type in the OpenAPI document.
    parse: [jsonBody(MAX_JSON_BYTES), "application/json"],
    body: User,
    response: {
      200: Message("Registered ada; the welcome email is sent in the background"),
      400: Failure(400, "The body is not JSON.", "The body is not valid JSON (Unexpected end of JSON input); send a JSON object."),
      413: Failure(
        413,
        `The body is larger than ${MAX_JSON_BYTES} bytes.`,
        `The JSON body is larger than ${MAX_JSON_BYTES} bytes, the most this endpoint accepts.`,
      ),
      415: Failure(
        415,
        "The body is not sent as application/json.",
        'Send the body as JSON with Content-Type: application/json; got "text/plain".',
      ),
      422: Failure(
        422,
        "A field is missing or not valid.",
        "Invalid body username: Expected property 'username' to be string but found: undefined.",
      ),
      503: Busy,
    },
    detail: {
      tags: ["users"],
      summary: "Register a user",
      description:
        `Answers at once; a welcome email goes out in the background (now: ${
          mailDelivery === "smtp" ? "through SMTP_URL" : "to the local outbox, see GET /outbox"
        }). ` +
        "Failed sends are retried with backoff, then reported in GET /tasks. " +
        `The body must be JSON (Content-Type: application/json, else 415) of at most ${MAX_JSON_BYTES} bytes (else 413).`,
    },
  });

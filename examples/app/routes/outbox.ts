/** `GET /outbox`: the embedded mailbox that receives mail when no SMTP_URL is set. */
import { Elysia, t } from "elysia";
import { listOutbox, mailDelivery } from "../mail/mailer.ts";
import { Failure } from "../schemas.ts";

const StoredMail = t.Object({
  id: t.String(),
  from: t.String(),
  to: t.String(),
  subject: t.String(),
  text: t.String(),
  date: t.String({ format: "date-time" }),
  messageId: t.String(),
}, {
  examples: [{
    id: "1764489600000-0f3c",
    from: "Background tasks example <noreply@example.com>",
    to: "ada@example.com",
    subject: "Welcome, ada",
    text: "Hello ada, welcome aboard!",
    date: "2026-11-30T08:00:00.000Z",
    messageId: "<0f3c@example.com>",
  }],
});

export const outboxRoutes = new Elysia({ name: "routes/outbox" })
  .get("/outbox", ({ query }) => listOutbox(query.limit ?? 20), {
    query: t.Object({
      limit: t.Optional(
        t.Integer({
          minimum: 1,
          maximum: 500,
          default: 20,
          description: "How many messages to list.",
          error: "The query parameter limit must be a whole number from 1 to 500.",
        }),
      ),
    }),
    response: {
      200: t.Array(StoredMail, { description: "The messages, newest first." }),
      422: Failure(422, "limit is not a whole number from 1 to 500.", "The query parameter limit must be a whole number from 1 to 500."),
    },
    detail: {
      tags: ["mail"],
      summary: "Messages in the local outbox, newest first",
      description: mailDelivery === "outbox"
        ? "Mail is delivered here (DATA_DIR/outbox, one .eml file per message) because SMTP_URL is not set."
        : "SMTP_URL is set, so mail goes to that server and this list stays empty.",
    },
  });

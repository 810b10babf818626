/** `GET /outbox`: the embedded mailbox that receives mail when no SMTP_URL is set. */
import { Elysia, t } from "elysia";
import { listOutbox, mailDelivery } from "../mail/mailer.ts";

const StoredMail = t.Object({
  id: t.String(),
  from: t.String(),
  to: t.String(),
  subject: t.String(),
  text: t.String(),
  date: t.String({ format: "date-time" }),
  messageId: t.String(),
});

export const outboxRoutes = new Elysia({ name: "routes/outbox" })
  .get("/outbox", ({ query }) => listOutbox(query.limit ?? 20), {
    query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 20 })) }),
    response: { 200: t.Array(StoredMail) },
    detail: {
      tags: ["mail"],
      summary: "Messages in the local outbox, newest first",
      description: mailDelivery === "outbox"
        ? "Mail is delivered here (DATA_DIR/outbox, one .eml file per message) because SMTP_URL is not set."
        : "SMTP_URL is set, so mail goes to that server and this list stays empty.",
    },
  });

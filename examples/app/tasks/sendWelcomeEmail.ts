/**
 * The seed's `send_email`: the welcome mail after `POST /register`, retried with backoff by the runner.
 * One welcome per address and name: its idempotency key makes the same registration one job in
 * Redis, one `Message-ID`, and one message in the local outbox, however often it is attempted.
 */
import { defineTask, type TaskContext } from "@background/tasks";
import { config } from "../config.ts";
import { type Mail, sendMail } from "../mail/mailer.ts";
import { registerMailTask } from "../mail/mailSpool.ts";

/** The welcome mail for a new user. */
export function welcomeMail(email: string, username: string): Mail {
  return { to: email, subject: "Welcome!", text: `Welcome ${username}, thanks for registering!` };
}

export const sendWelcomeEmail = defineTask(
  "send-welcome-email",
  async function (this: TaskContext, email: string, username: string): Promise<void> {
    await sendMail(welcomeMail(email, username), this.idempotencyKey);
  },
  {
    retries: config.mailRetries,
    timeoutMs: config.smtpTimeoutMs * 3,
    concurrency: config.mailConcurrency,
    idempotencyKey: (email, username) => `welcome ${email.toLowerCase()} ${username}`,
  },
);

// Tracked until sent, named in reports, spooled at a shutdown deadline (in-process mode).
registerMailTask(sendWelcomeEmail, welcomeMail, config.mailRetries);

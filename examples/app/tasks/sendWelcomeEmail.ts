/** The seed's `send_email`: the welcome mail after `POST /register`, retried with backoff by the runner. */
import { defineTask } from "@background/tasks";
import { config } from "../config.ts";
import { sendMail } from "../mail/mailer.ts";

export const sendWelcomeEmail = defineTask("send-welcome-email", async (email: string, username: string): Promise<void> => {
  await sendMail({
    to: email,
    subject: "Welcome!",
    text: `Welcome ${username}, thanks for registering!`,
  });
}, { retries: config.mailRetries, timeoutMs: config.smtpTimeoutMs * 3, concurrency: config.mailConcurrency });

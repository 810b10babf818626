/**
 * Sends mail with nodemailer: through `SMTP_URL` when set, otherwise into an
 * embedded local mailbox (`DATA_DIR/outbox`: one `.eml` file per message and
 * a `.json` summary that `GET /outbox` lists), so the example works with no
 * configuration and no credentials in the code.
 */
import nodemailer from "nodemailer";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { config } from "../config.ts";

export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** What `GET /outbox` shows of a stored message. */
export interface StoredMail extends Mail {
  readonly id: string;
  readonly from: string;
  readonly date: string;
  readonly messageId: string;
}

const outboxDir = join(config.dataDir, "outbox");

const transport = config.smtpUrl === undefined
  ? nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" })
  : nodemailer.createTransport({
    url: config.smtpUrl,
    connectionTimeout: config.smtpTimeoutMs,
    greetingTimeout: config.smtpTimeoutMs,
    socketTimeout: config.smtpTimeoutMs,
  });

/** `"smtp"` when `SMTP_URL` is set, else `"outbox"`. */
export const mailDelivery: "smtp" | "outbox" = config.smtpUrl === undefined ? "outbox" : "smtp";

/** Sends one message; rejects when the transport fails (the task runner retries). */
export async function sendMail(mail: Mail): Promise<string> {
  const info = await transport.sendMail({ from: config.mailFrom, to: mail.to, subject: mail.subject, text: mail.text });
  if (mailDelivery === "outbox") await storeInOutbox(mail, info.messageId, (info as { message: Buffer }).message);
  return info.messageId;
}

async function storeInOutbox(mail: Mail, messageId: string, raw: Buffer): Promise<void> {
  await mkdir(outboxDir, { recursive: true });
  const date = new Date();
  // A sortable name: the listing is newest first by name alone.
  const id = `${date.getTime().toString().padStart(15, "0")}-${randomUUID().slice(0, 8)}`;
  await writeFile(join(outboxDir, `${id}.eml`), raw);
  const summary: StoredMail = { id, from: config.mailFrom, to: mail.to, subject: mail.subject, text: mail.text, date: date.toISOString(), messageId };
  // The summary appears last and whole (rename), so a listing never sees half a message.
  await writeFile(join(outboxDir, `${id}.json.tmp`), JSON.stringify(summary));
  await rename(join(outboxDir, `${id}.json.tmp`), join(outboxDir, `${id}.json`));
}

/** The newest `limit` messages of the local outbox, newest first. */
export async function listOutbox(limit: number): Promise<StoredMail[]> {
  let names: string[];
  try {
    names = await readdir(outboxDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const newest = names.filter((name) => name.endsWith(".json")).sort().reverse().slice(0, limit);
  return Promise.all(newest.map(async (name) => JSON.parse(await readFile(join(outboxDir, name), "utf8")) as StoredMail));
}

/**
 * Sends mail with nodemailer: through `SMTP_URL` when set, otherwise into an
 * embedded local mailbox (`DATA_DIR/outbox`: one `.eml` file per message and
 * a `.json` summary that `GET /outbox` lists), so the example works with no
 * configuration and no credentials in the code.
 */
import type { Transporter } from "nodemailer";
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createHash, randomUUID } from "node:crypto";
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

// nodemailer is loaded with the first mail: a server that sends none starts without it.
let transport: Promise<Transporter> | undefined;
function transporter(): Promise<Transporter> {
  return transport ??= import("nodemailer").then(({ default: nodemailer }) =>
    config.smtpUrl === undefined
      ? nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" })
      : nodemailer.createTransport({
        url: config.smtpUrl,
        connectionTimeout: config.smtpTimeoutMs,
        greetingTimeout: config.smtpTimeoutMs,
        socketTimeout: config.smtpTimeoutMs,
      })
  );
}

/** `"smtp"` when `SMTP_URL` is set, else `"outbox"`. */
export const mailDelivery: "smtp" | "outbox" = config.smtpUrl === undefined ? "outbox" : "smtp";

/**
 * Sends one message; rejects when the transport fails (the task runner retries).
 * With an idempotency `key` (the same on every attempt of the same mail), the
 * `Message-ID` derives from it and the local outbox stores the message once,
 * however often it is sent.
 */
export async function sendMail(mail: Mail, key: string = randomUUID()): Promise<string> {
  const id = createHash("sha256").update(key).digest("hex").slice(0, 32);
  const messageId = `<${id}@${/@([^>\s]+)>?\s*$/.exec(config.mailFrom)?.[1] ?? "localhost"}>`;
  const info = await (await transporter()).sendMail({
    from: config.mailFrom,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    messageId,
  });
  if (mailDelivery === "outbox") await storeInOutbox(id, mail, info.messageId, (info as { message: Buffer }).message);
  return info.messageId;
}

async function storeInOutbox(id: string, mail: Mail, messageId: string, raw: Buffer): Promise<void> {
  await mkdir(outboxDir, { recursive: true });
  const temp = `${randomUUID()}.tmp`;
  try {
    // The message first (replacing one a cut-off attempt left), then its summary: the summary marks it delivered.
    await writeFile(join(outboxDir, temp), raw);
    await rename(join(outboxDir, temp), join(outboxDir, `${id}.eml`));
    const summary: StoredMail = {
      id,
      from: config.mailFrom,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      date: new Date().toISOString(),
      messageId,
    };
    // Created exclusively and whole (a hard link of a complete file fails if the name exists):
    // a second attempt of the same mail, even concurrent, finds it there and stores nothing.
    await writeFile(join(outboxDir, temp), JSON.stringify(summary));
    try {
      await link(join(outboxDir, temp), join(outboxDir, `${id}.json`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  } finally {
    // A failed write (a full disk) leaves no empty or cut file behind.
    await rm(join(outboxDir, temp), { force: true });
  }
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
  const stored = await Promise.all(
    names.filter((name) => name.endsWith(".json")).map(async (name) => {
      try {
        return { name, at: (await stat(join(outboxDir, name))).mtimeMs };
      } catch {
        return undefined; // removed meanwhile
      }
    }),
  );
  const newest = stored.filter((entry) => entry !== undefined).sort((a, b) => b.at - a.at || (a.name < b.name ? 1 : -1)).slice(0, limit);
  return Promise.all(newest.map(async ({ name }) => JSON.parse(await readFile(join(outboxDir, name), "utf8")) as StoredMail));
}

// The work behind the seed's three endpoints, shared by the bench-only Elysia apps so that
// "ours" and "onAfterResponse" do exactly the same thing; only when it runs differs.
import { createReadStream } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { parse } from "csv-parse";
import nodemailer from "nodemailer";

export const dataDir: string = process.env.DATA_DIR ?? join(process.cwd(), "data", "bench");
await mkdir(join(dataDir, "outbox"), { recursive: true });
await mkdir(join(dataDir, "uploads"), { recursive: true });

/** The seed's write_log: append one line to log.txt. */
export async function writeLog(message: string): Promise<void> {
  await appendFile(join(dataDir, "log.txt"), message + "\n");
}

const mailer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });

/** The seed's send_email, to a local .eml sink (nodemailer's stream transport). */
export async function sendWelcomeEmail(email: string, username: string): Promise<void> {
  const info = await mailer.sendMail({
    from: "your_email@example.com",
    to: email,
    subject: "欢迎注册",
    text: `欢迎 ${username} 注册!`,
  });
  await writeFile(join(dataDir, "outbox", `${Date.now()}-${randomUUID()}.eml`), info.message as Buffer);
}

/** Stores an uploaded file under a server-chosen name. */
export async function storeUpload(file: Blob): Promise<string> {
  const path = join(dataDir, "uploads", `${randomUUID()}.csv`);
  await Bun.write(path, file);
  return path;
}

/** The seed's process_csv, streaming: counts the data rows with csv-parse. */
export async function processCsv(path: string, progress?: { rows: number; status: string }): Promise<number> {
  let rows = 0;
  if (progress) progress.status = "running";
  try {
    const parser = createReadStream(path).pipe(parse({ from_line: 2 }));
    for await (const _record of parser) {
      rows++;
      if (progress) progress.rows = rows;
    }
    if (progress) progress.status = "done";
  } catch (error) {
    if (progress) progress.status = "failed";
    throw error;
  }
  return rows;
}

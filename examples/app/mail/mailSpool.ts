/**
 * Mail accepted but not sent yet, so none of it is lost in-process: the
 * runner below notes each mail task as it is accepted and forgets it once it
 * is sent. At a shutdown deadline the mail still unsent is written to
 * `DATA_DIR/mail-spool/` (one JSON file each, written whole: temp name, then
 * rename) and sent after the next start; mail that failed for good is kept in
 * `DATA_DIR/mail-spool/failed/` for a person to look at (move a file back up
 * one directory to send it again). Reports name a mail by its subject and
 * masked recipient (`"Welcome!" to a***@example.com`), never the full address.
 *
 * A crash (SIGKILL, out of memory) still loses the mail held in memory: the
 * durable mode (REDIS_URL) is the answer for that.
 */
import { type AcceptedTask, BackgroundTasks, defineTask, type TaskFunction, TaskRunner, TaskTimeoutError } from "@background/tasks";
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { config } from "../config.ts";
import { type Mail, sendMail } from "./mailer.ts";

/** `ada@example.com` → `a***@example.com`: enough to find a mail, not enough to harvest an address. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf("@");
  return at <= 0 ? "***" : `${address[0]}***${address.slice(at)}`;
}

/** How reports name a mail: `"Welcome!" to a***@example.com`. */
export function describeMail(mail: Mail): string {
  return `${JSON.stringify(mail.subject)} to ${maskAddress(mail.to)}`;
}

export const spoolDir: string = join(config.dataDir, "mail-spool");
const failedDir = join(spoolDir, "failed");

interface Pending {
  readonly mail: Mail;
  /** The task's idempotency key: the spooled mail keeps its Message-ID. */
  readonly key: string | undefined;
  readonly attempts: number;
  /** The spool file it came from (sent again after a restart), deleted once sent. */
  spoolId: string | undefined;
}

/** Mail tasks and how to get their mail from their arguments. */
const mailTasks = new Map<TaskFunction, { compose: (...args: never[]) => Mail; attempts: number }>();
/** Accepted mail tasks not settled yet. */
const pending = new Map<AcceptedTask, Pending>();
/** The failures of mail tasks (thrown errors and timeouts alike), for reports. */
const mailOfFailure = new WeakMap<object, Mail>();

/** Declares `task` a mail task: `compose` turns its arguments into the mail it sends. */
export function registerMailTask<Args extends unknown[]>(
  task: TaskFunction<Args>,
  compose: (...args: Args) => Mail,
  retries: number,
): void {
  mailTasks.set(task as TaskFunction, { compose: compose as unknown as (...args: never[]) => Mail, attempts: retries + 1 });
}

/** The mail a task failure was about, when it was a mail task's. */
export function mailOfTaskFailure(error: unknown): Mail | undefined {
  return typeof error === "object" && error !== null ? mailOfFailure.get(error) : undefined;
}

/** A plain TaskRunner that keeps track of the mail it has accepted and not sent. */
export class MailTrackingTaskRunner extends TaskRunner {
  protected override store(task: AcceptedTask): Promise<void> | undefined {
    const kind = mailTasks.get(task.fn);
    if (kind !== undefined) {
      const spoolId = task.fn === sendSpooledMail ? task.args[0] as string : undefined;
      pending.set(task, { mail: kind.compose(...task.args as never[]), key: task.idempotencyKey, attempts: kind.attempts, spoolId });
      // A timeout is reported with the signal's reason (a drain deadline aborts it too: that mail is spooled).
      task.signal.addEventListener("abort", () => {
        if (task.signal.reason instanceof TaskTimeoutError) this.#failed(task, task.signal.reason);
      });
    }
    return super.store(task);
  }

  protected override invoke(task: AcceptedTask): unknown {
    const result = super.invoke(task);
    if (!pending.has(task)) return result;
    return Promise.resolve(result).then(() => this.#sent(task), (error: unknown) => {
      this.#failed(task, error);
      throw error;
    });
  }

  protected override discard(task: AcceptedTask): void {
    pending.delete(task); // never accepted for good: the request was answered with an error
    super.discard(task);
  }

  #sent(task: AcceptedTask): void {
    const entry = pending.get(task);
    pending.delete(task);
    if (entry?.spoolId !== undefined) void rm(join(spoolDir, `${entry.spoolId}.json`), { force: true }).catch(logSpoolError);
  }

  #failed(task: AcceptedTask, error: unknown): void {
    const entry = pending.get(task);
    if (entry === undefined) return;
    if (typeof error === "object" && error !== null) mailOfFailure.set(error, entry.mail);
    if (task.attempt < entry.attempts) return; // retried
    pending.delete(task);
    void keepFailed(entry).catch(logSpoolError);
  }
}

/** Sends a mail that was spooled at a shutdown. */
export const sendSpooledMail = defineTask(
  "send-spooled-mail",
  async (_id: string, to: string, subject: string, text: string, key?: string): Promise<void> => {
    await sendMail({ to, subject, text }, key);
  },
  { retries: config.mailRetries, timeoutMs: config.smtpTimeoutMs * 3, concurrency: config.mailConcurrency },
);
registerMailTask(sendSpooledMail, (_id, to, subject, text) => ({ to, subject, text }), config.mailRetries);

/**
 * Writes the mail not sent yet to the spool; returns how each is named in reports.
 * Call it after the drain, when nothing sends any more.
 */
export async function spoolUnsentMail(): Promise<string[]> {
  const names: string[] = [];
  for (const entry of pending.values()) {
    if (entry.spoolId === undefined) {
      entry.spoolId = newSpoolId();
      await writeWhole(spoolDir, entry.spoolId, entry);
    }
    names.push(describeMail(entry.mail));
  }
  pending.clear();
  return names;
}

/** Queues every spooled mail on `runner` again (at start); returns how many. */
export async function resendSpooledMail(runner: TaskRunner): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(spoolDir)).filter((name) => name.endsWith(".json")).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  const tasks = new BackgroundTasks({ runner, order: "parallel" });
  for (const name of names) {
    const { to, subject, text, key } = JSON.parse(await readFile(join(spoolDir, name), "utf8")) as Mail & { key?: string };
    tasks.addTask(sendSpooledMail, name.slice(0, -".json".length), to, subject, text, key);
  }
  tasks.start();
  return names.length;
}

async function keepFailed(entry: Pending): Promise<void> {
  const id = entry.spoolId ?? newSpoolId();
  await writeWhole(failedDir, id, entry);
  if (entry.spoolId !== undefined) await rm(join(spoolDir, `${entry.spoolId}.json`), { force: true });
}

function newSpoolId(): string {
  return `${Date.now().toString().padStart(15, "0")}-${randomUUID().slice(0, 8)}`;
}

/** Writes the mail of `entry` as `dir/id.json`, whole or not at all. */
async function writeWhole(dir: string, id: string, { mail, key }: Pending): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${id}.json.tmp`);
  try {
    await writeFile(temp, JSON.stringify({ to: mail.to, subject: mail.subject, text: mail.text, key }));
    await rename(temp, join(dir, `${id}.json`));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function logSpoolError(error: unknown): void {
  console.error(`could not update the mail spool in ${spoolDir}:`, error instanceof Error ? error.message : error);
}

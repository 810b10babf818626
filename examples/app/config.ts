/**
 * The example server's settings, read once from the environment. Every
 * variable is optional; `examples/.env.example` lists them with defaults.
 */
import { resolve } from "node:path";

export interface Config {
  /** `PORT`: TCP port; 0 picks a free one. */
  readonly port: number;
  /** `HOST`: interface to listen on. */
  readonly hostname: string;
  /** `DATA_DIR`: log file, uploads and the local outbox live here. */
  readonly dataDir: string;
  /** `SMTP_URL`: send mail through this server (`smtp://user:pass@host:587`); unset = local outbox. */
  readonly smtpUrl: string | undefined;
  /** `MAIL_FROM`: sender of the welcome mail. */
  readonly mailFrom: string;
  /** `MAIL_RETRIES`: extra attempts after a failed send. */
  readonly mailRetries: number;
  /** `SMTP_TIMEOUT_MS`: connect, greeting and socket timeout of one SMTP attempt. */
  readonly smtpTimeoutMs: number;
  /** `RETRY_BASE_MS`: first retry delay; doubles each retry, capped at 30 s. */
  readonly retryBaseMs: number;
  /** `MAX_UPLOAD_BYTES`: largest accepted CSV file. */
  readonly maxUploadBytes: number;
  /** `UPLOAD_KEEP_SECONDS`: processed uploads older than this are deleted (file and status). */
  readonly uploadKeepSeconds: number;
  /** `UPLOAD_KEEP_COUNT`: at most this many uploads are kept; the oldest processed ones go first. */
  readonly uploadKeepCount: number;
  /** `UPLOAD_KEEP_BYTES`: at most this many bytes of uploads are kept; the oldest processed ones go first. */
  readonly uploadKeepBytes: number;
  /** `MAIL_CONCURRENCY`: welcome mails being sent at once (each an SMTP connection). */
  readonly mailConcurrency: number;
  /** `CSV_THREADS`: worker threads that parse uploads; 0 parses them on the server's own thread. */
  readonly csvThreads: number;
  /** `CSV_CONCURRENCY`: uploads being parsed at once (with `CSV_THREADS=0`, on the server's thread). */
  readonly csvConcurrency: number;
  /** `TASK_CONCURRENCY`: background tasks running at once, all kinds together. */
  readonly taskConcurrency: number;
  /** `TASK_MAX_PENDING`: tasks that may wait before requests get 503. */
  readonly taskMaxPending: number;
  /** `TASK_TIMEOUT_MS`: default time limit of one task attempt. */
  readonly taskTimeoutMs: number;
  /** `SHUTDOWN_TIMEOUT_MS`: how long SIGINT/SIGTERM waits for background tasks. */
  readonly shutdownTimeoutMs: number;
  /** `WORKER_CHECK_MS`: with `REDIS_URL`, how often to check that a worker takes the stored jobs. */
  readonly workerCheckMs: number;
  /** `WORKER_LOCK_DURATION_MS`: a durable worker's job lock; unset = createTaskWorker's default. */
  readonly workerLockDurationMs: number | undefined;
  /** `WORKER_STALLED_INTERVAL_MS`: how often workers look for jobs of dead workers; unset = the default. */
  readonly workerStalledIntervalMs: number | undefined;
  /** `ADMIN_TOKEN`: opens /admin/queues and /admin/tasks to requests carrying it; unset = closed. */
  readonly adminToken: string | undefined;
}

const DEFAULT_DATA_DIR = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../../data");

/** Reads and checks the settings; throws a message naming the bad variable. */
export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}.`);
    }
    return value;
  };
  const text = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };
  const smtpUrl = text("SMTP_URL");
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) {
    throw new RangeError(`SMTP_URL must start with smtp:// or smtps://, got ${JSON.stringify(smtpUrl.replace(/\/\/[^@/]*@/, "//***@"))}.`);
  }
  return {
    port: int("PORT", 3000, 0),
    hostname: text("HOST") ?? "127.0.0.1",
    dataDir: resolve(text("DATA_DIR") ?? DEFAULT_DATA_DIR),
    smtpUrl,
    mailFrom: text("MAIL_FROM") ?? "Background Tasks Example <no-reply@example.com>",
    mailRetries: int("MAIL_RETRIES", 3, 0),
    smtpTimeoutMs: int("SMTP_TIMEOUT_MS", 10_000, 1),
    retryBaseMs: int("RETRY_BASE_MS", 500, 0),
    maxUploadBytes: int("MAX_UPLOAD_BYTES", 100 * 1024 * 1024, 1),
    uploadKeepSeconds: int("UPLOAD_KEEP_SECONDS", 24 * 60 * 60, 0),
    uploadKeepCount: int("UPLOAD_KEEP_COUNT", 1000, 0),
    uploadKeepBytes: int("UPLOAD_KEEP_BYTES", 1024 * 1024 * 1024, 0),
    mailConcurrency: int("MAIL_CONCURRENCY", 8, 1),
    csvThreads: int("CSV_THREADS", 1, 0),
    csvConcurrency: int("CSV_CONCURRENCY", 2, 1),
    taskConcurrency: int("TASK_CONCURRENCY", 1000, 1),
    taskMaxPending: int("TASK_MAX_PENDING", 10_000, 1),
    taskTimeoutMs: int("TASK_TIMEOUT_MS", 60_000, 1),
    shutdownTimeoutMs: int("SHUTDOWN_TIMEOUT_MS", 10_000, 0),
    workerCheckMs: int("WORKER_CHECK_MS", 10_000, 1),
    workerLockDurationMs: text("WORKER_LOCK_DURATION_MS") === undefined ? undefined : int("WORKER_LOCK_DURATION_MS", 0, 1),
    workerStalledIntervalMs: text("WORKER_STALLED_INTERVAL_MS") === undefined ? undefined : int("WORKER_STALLED_INTERVAL_MS", 0, 1),
    adminToken: text("ADMIN_TOKEN"),
  };
}

/** The settings of this process. */
export const config: Config = readConfig();

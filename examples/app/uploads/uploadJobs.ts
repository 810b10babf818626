/**
 * The state of each uploaded CSV, kept in memory by the server's main thread
 * (the latest 1000 jobs).
 *
 * The CSV task may run on a worker thread, which cannot see this map: it
 * reports with `publishUploadProgress()`, a message on a `BroadcastChannel`,
 * and the main thread applies it to the job. The same path is used when the
 * task runs in-process, so both ways behave alike.
 */
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { TaskErrorInfo } from "@background/tasks";
import { WorkerThreadError } from "@background/tasks/worker";
import { config } from "../config.ts";

export type UploadStatus = "queued" | "running" | "done" | "failed";

export interface UploadJob {
  readonly id: string;
  status: UploadStatus;
  readonly filename: string;
  readonly bytes: number;
  /** Data rows processed so far (the header line excluded). */
  rows: number;
  /** The header's column names: at most `MAX_COLUMNS`, each at most `MAX_COLUMN_NAME_LENGTH` characters. */
  columns: string[] | undefined;
  /** How many columns the header has (more than `columns` holds when they were cut). */
  columnCount: number | undefined;
  /** True when `columns` was cut: too many columns, or a name too long. */
  columnsTruncated: boolean | undefined;
  error: { line: number | undefined; reason: string } | undefined;
  readonly createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
}

/** What the CSV task reports: the job's id and the fields that changed. */
export type UploadProgress =
  & { readonly id: string }
  & Partial<Pick<UploadJob, "status" | "rows" | "columns" | "columnCount" | "columnsTruncated" | "error" | "startedAt" | "finishedAt">>;

/** A job keeps (and `GET /uploads/{id}` returns) at most this many column names... */
export const MAX_COLUMNS = 256;
/** ...each cut to this many characters. */
export const MAX_COLUMN_NAME_LENGTH = 128;

const KEEP = 1000;
const CHANNEL = "example:upload-progress";
const jobs = new Map<string, UploadJob>();
let listening: BroadcastChannel | undefined;
let publisher: BroadcastChannel | undefined;

/** Where uploads are stored: server-chosen names only. */
export const uploadsDir: string = join(config.dataDir, "uploads");

/** A fresh id and the path its file will have. */
export function newUpload(): { id: string; path: string } {
  const id = randomUUID();
  return { id, path: uploadPath(id) };
}

export function uploadPath(id: string): string {
  return join(uploadsDir, `${id}.csv`);
}

export function createJob(id: string, filename: string, bytes: number): UploadJob {
  followUploadProgress();
  const job: UploadJob = {
    id,
    status: "queued",
    filename,
    bytes,
    rows: 0,
    columns: undefined,
    columnCount: undefined,
    columnsTruncated: undefined,
    error: undefined,
    createdAt: new Date().toISOString(),
    startedAt: undefined,
    finishedAt: undefined,
  };
  jobs.set(id, job);
  if (jobs.size > KEEP) jobs.delete(jobs.keys().next().value!);
  return job;
}

export function getJob(id: string): UploadJob | undefined {
  return jobs.get(id);
}

/** Reports a job's progress from wherever the CSV task runs (this thread or a worker thread). */
export function publishUploadProgress(progress: UploadProgress): void {
  publisher ??= unref(new BroadcastChannel(CHANNEL));
  publisher.postMessage(progress);
}

/**
 * The CSV runner's `onError`: a CSV task reports its own failures, but one whose worker thread was
 * lost (it crashed, ran out of memory, or was terminated after a timeout) could not. Its job, the
 * task's argument, is failed here with the error's message, which names the task and attempt;
 * the jobs on other threads run on. Nothing changes while a retry follows.
 */
export function failUploadOfLostThread(error: unknown, info: TaskErrorInfo): void {
  if (!(error instanceof WorkerThreadError) || !info.final) return;
  const id = error.task?.args[0];
  if (typeof id === "string") failUpload(id, error.message);
}

/** Fails a job that will not run, with `reason`. */
export function failUpload(id: string, reason: string): void {
  const job = jobs.get(id);
  if (job === undefined || job.status === "done" || job.status === "failed") return;
  Object.assign(job, { status: "failed", error: { line: undefined, reason }, finishedAt: new Date().toISOString() });
}

/** Applies the CSV task's reports to the jobs of this thread; called when the first job is created. */
function followUploadProgress(): void {
  if (listening !== undefined) return;
  listening = unref(new BroadcastChannel(CHANNEL));
  listening.onmessage = ({ data }: MessageEvent<UploadProgress>) => {
    const job = jobs.get(data.id);
    if (job === undefined) return; // expired meanwhile
    const { id: _id, ...changes } = data;
    // A report sent before a later one cannot arrive after it (one sender, in order), but a job
    // that has finished keeps its final state.
    if (job.status === "done" || job.status === "failed") return;
    Object.assign(job, changes);
  };
}

/** A channel that does not keep the process (or a worker thread) alive on its own. */
function unref(channel: BroadcastChannel): BroadcastChannel {
  (channel as BroadcastChannel & { unref?: () => void }).unref?.();
  return channel;
}

/** Forgets a job (its upload was refused, or its file was removed by the retention policy). */
export function deleteJob(id: string): void {
  jobs.delete(id);
}

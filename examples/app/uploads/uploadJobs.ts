/** The state of each uploaded CSV, kept in memory (the latest 1000 jobs). */
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { config } from "../config.ts";

export type UploadStatus = "queued" | "running" | "done" | "failed";

export interface UploadJob {
  readonly id: string;
  status: UploadStatus;
  readonly filename: string;
  readonly bytes: number;
  /** Data rows processed so far (the header line excluded). */
  rows: number;
  columns: string[] | undefined;
  error: { line: number | undefined; reason: string } | undefined;
  readonly createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
}

const KEEP = 1000;
const jobs = new Map<string, UploadJob>();

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
  const job: UploadJob = {
    id,
    status: "queued",
    filename,
    bytes,
    rows: 0,
    columns: undefined,
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

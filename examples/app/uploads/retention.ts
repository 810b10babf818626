/**
 * The retention policy of uploaded files: processed uploads are deleted (file
 * and status) once they are older than `UPLOAD_KEEP_SECONDS`, or when more
 * than `UPLOAD_KEEP_COUNT` uploads or `UPLOAD_KEEP_BYTES` bytes are stored,
 * oldest first. An upload still queued or being parsed is never deleted.
 * Applied at start, when an upload arrives or finishes, and every minute.
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { TaskRunner } from "@background/tasks";
import { config } from "../config.ts";
import { processCsv } from "../tasks/processCsv.ts";
import { deleteJob, getJob, uploadPath, uploadsDir } from "./uploadJobs.ts";

export interface RetentionLimits {
  readonly maxAgeMs: number;
  readonly maxCount: number;
  readonly maxBytes: number;
}

const STORED = /^([0-9a-f-]{36})\.csv$/;

/** The stored uploads, oldest first: read from the directory at start, then kept up to date. */
const stored = new Map<string, { readonly bytes: number; readonly storedAt: number }>();
let storedBytes = 0;

/** Adds the uploads found in the directory (a previous run's) to the index, oldest first. */
async function indexStoredUploads(): Promise<void> {
  const found: { id: string; bytes: number; storedAt: number }[] = [];
  for (const name of await readdir(uploadsDir).catch(() => [] as string[])) {
    const id = STORED.exec(name)?.[1];
    if (id === undefined || stored.has(id)) continue;
    const info = await stat(join(uploadsDir, name)).catch(() => undefined);
    if (info?.isFile()) found.push({ id, bytes: info.size, storedAt: info.mtimeMs });
  }
  for (const upload of found.sort((a, b) => a.storedAt - b.storedAt)) record(upload.id, upload.bytes, upload.storedAt);
}

function record(id: string, bytes: number, storedAt: number): void {
  stored.set(id, { bytes, storedAt });
  storedBytes += bytes;
}

/** Deletes the processed uploads past `limits`, oldest first; resolves with how many were deleted. */
export async function pruneUploads(limits: RetentionLimits, now: number = Date.now()): Promise<number> {
  let deleted = 0;
  for (const [id, upload] of stored) {
    const tooOld = now - upload.storedAt > limits.maxAgeMs;
    if (!tooOld && stored.size <= limits.maxCount && storedBytes <= limits.maxBytes) break; // the rest are newer
    const status = getJob(id)?.status;
    if (status === "queued" || status === "running") continue; // its task still needs the file
    stored.delete(id);
    storedBytes -= upload.bytes;
    deleteJob(id);
    await rm(uploadPath(id), { force: true });
    deleted++;
  }
  return deleted;
}

const limits: RetentionLimits = {
  maxAgeMs: config.uploadKeepSeconds * 1000,
  maxCount: config.uploadKeepCount,
  maxBytes: config.uploadKeepBytes,
};
let running: Promise<void> | undefined;
let again = false;

/** Applies the policy soon; calls made while it runs are folded into one more pass. */
export function applyUploadRetention(): Promise<void> {
  if (running !== undefined) {
    again = true;
    return running;
  }
  const pass = async (): Promise<void> => {
    do {
      again = false;
      try {
        await pruneUploads(limits);
      } catch (error) {
        console.error(JSON.stringify({ level: "error", msg: "upload retention failed", error: String(error) }));
      }
    } while (again);
    running = undefined;
  };
  return running = pass();
}

/** Records a stored upload whose job exists, and applies the policy. */
export function uploadStored(id: string, bytes: number): void {
  record(id, bytes, Date.now());
  void applyUploadRetention();
}

/** Indexes the stored uploads and applies the policy, then whenever an upload finishes, and every minute (for the age bound). */
export async function startUploadRetention(runner: TaskRunner): Promise<void> {
  await indexStoredUploads();
  await applyUploadRetention();
  // The job's final status arrives as a message (uploadJobs.ts) posted before the task settled:
  // the pass waits one macrotask so that it sees it.
  const finished = (info: { name: string }): void => {
    if (info.name === processCsv.name) setTimeout(() => void applyUploadRetention(), 0);
  };
  runner.on("success", finished);
  runner.on("failure", (_error, info) => finished(info));
  setInterval(() => void applyUploadRetention(), 60_000).unref?.();
}

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
import { deleteJob, getJob, uploadsDir } from "./uploadJobs.ts";

export interface RetentionLimits {
  readonly maxAgeMs: number;
  readonly maxCount: number;
  readonly maxBytes: number;
}

const STORED = /^([0-9a-f-]{36})\.csv$/;
/** Uploads being received: stored, but their job is not created yet. */
const arriving = new Set<string>();

/** Keeps the policy away from upload `id` until `release` is called (its job exists or it was refused). */
export function holdUpload(id: string): () => void {
  arriving.add(id);
  return () => void arriving.delete(id);
}

/** Deletes the processed uploads past `limits`, oldest first; resolves with how many were deleted. */
export async function pruneUploads(limits: RetentionLimits, now: number = Date.now()): Promise<number> {
  const stored: { id: string; path: string; mtimeMs: number; bytes: number }[] = [];
  for (const name of await readdir(uploadsDir).catch(() => [] as string[])) {
    const id = STORED.exec(name)?.[1];
    if (id === undefined) continue;
    const path = join(uploadsDir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) stored.push({ id, path, mtimeMs: info.mtimeMs, bytes: info.size });
  }
  stored.sort((a, b) => a.mtimeMs - b.mtimeMs);
  let count = stored.length;
  let bytes = stored.reduce((sum, upload) => sum + upload.bytes, 0);
  let deleted = 0;
  for (const upload of stored) {
    const tooOld = now - upload.mtimeMs > limits.maxAgeMs;
    if (!tooOld && count <= limits.maxCount && bytes <= limits.maxBytes) break; // the rest are newer and within bounds
    const status = getJob(upload.id)?.status;
    if (status === "queued" || status === "running" || arriving.has(upload.id)) continue; // still needed
    await rm(upload.path, { force: true });
    deleteJob(upload.id);
    count--;
    bytes -= upload.bytes;
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

/** Applies the policy now, then whenever an upload finishes processing, and every minute (for the age bound). */
export async function startUploadRetention(runner: TaskRunner): Promise<void> {
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

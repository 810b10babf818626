/**
 * The seed's `process_csv`: parses an uploaded CSV with csv-parse, streaming
 * from disk (never the whole file in memory), counting data rows as it goes.
 * A malformed file is a result, not a crash: the job fails with the line and
 * reason, and the task is not retried.
 */
import { defineTask, type TaskContext } from "@background/tasks";
import { createReadStream } from "node:fs";
import { parse, CsvError } from "csv-parse";
import { config } from "../config.ts";
import { getJob, uploadPath } from "../uploads/uploadJobs.ts";

export const processCsv = defineTask("process-csv", async function (this: TaskContext, id: string): Promise<void> {
  const job = getJob(id);
  if (job === undefined) throw new Error(`No upload job ${id}; it expired before it ran.`);
  job.status = "running";
  job.startedAt = new Date().toISOString();
  job.rows = 0;
  const source = createReadStream(uploadPath(id));
  const parser = source.pipe(parse({
    bom: true,
    columns: (header: string[]) => {
      job.columns = header;
      return header;
    },
    skip_empty_lines: true,
  }));
  // pipe() does not pass on the file's errors (say it vanished): without this the
  // unhandled 'error' event would crash the process instead of failing the job.
  source.once("error", (error) => parser.destroy(error));
  const stop = (): void => void parser.destroy(this.signal.reason as Error);
  this.signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const _record of parser) job.rows++;
    job.status = "done";
  } catch (error) {
    job.status = "failed";
    job.error = error instanceof CsvError
      ? { line: (error as CsvError & { lines?: number }).lines, reason: error.message }
      : { line: undefined, reason: error instanceof Error ? error.message : String(error) };
    if (!(error instanceof CsvError)) throw error; // I/O trouble or a timeout: report it
  } finally {
    this.signal.removeEventListener("abort", stop);
    source.destroy(); // closes the file if parsing stopped early
    job.finishedAt = new Date().toISOString();
  }
}, { retries: 0, concurrency: config.csvConcurrency });

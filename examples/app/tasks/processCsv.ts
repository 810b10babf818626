/**
 * The seed's `process_csv`: parses an uploaded CSV with csv-parse, streaming
 * from disk (never the whole file in memory), counting data rows as it goes.
 * A malformed file is a result, not a crash: the job fails with the line and
 * reason, and the task is not retried.
 *
 * It runs on a worker thread (`CSV_THREADS`, the default) or on the server's
 * own thread (`CSV_THREADS=0`). On the server's thread it gives the event loop
 * back every few milliseconds, so requests are answered while it works. Its
 * progress travels to the job by `publishUploadProgress()` either way.
 *
 * Hostile files are bounded: a line longer than `MAX_RECORD_BYTES` (which
 * also bounds the fields of one record) or a record longer than that (a quoted
 * field over many lines) fails the job with the line; a header keeps at most
 * `MAX_COLUMNS` names of at most `MAX_COLUMN_NAME_LENGTH` characters.
 */
import { defineTask, type TaskContext } from "@background/tasks";
import { createReadStream } from "node:fs";
import { finished } from "node:stream/promises";
import { isMainThread } from "node:worker_threads";
import { CsvError, parse } from "csv-parse";
import { config } from "../config.ts";
import {
  MAX_COLUMN_NAME_LENGTH,
  MAX_COLUMNS,
  publishUploadProgress,
  type UploadJob,
  uploadPath,
  type UploadProgress,
} from "../uploads/uploadJobs.ts";

/** The longest line, and the longest record, a CSV may have. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** On the server's own thread, the longest the task works before letting requests in. */
const SLICE_MS = 3;
/** How often the row count is reported while parsing. */
const PROGRESS_EVERY_MS = 100;
/** Small reads keep each slice short: parsing 16 KiB takes about a millisecond. */
const READ_BYTES = 16 * 1024;

export const processCsv = defineTask("process-csv", async function (this: TaskContext, id: string): Promise<void> {
  const report = (progress: Omit<UploadProgress, "id">): void => publishUploadProgress({ id, ...progress });
  report({ status: "running", startedAt: new Date().toISOString(), rows: 0 });
  let rows = 0;
  let header: string[] | undefined;
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
    // Named, not discovered: while csv-parse looks for the line break it rescans the
    // bytes seen so far, which makes a long line cost far more than its length.
    record_delimiter: ["\r\n", "\n", "\r"],
  });
  parser.on("data", (record: string[]) => {
    if (header !== undefined) rows++;
    else report(columnsOf(header = record));
  });
  let parseError: unknown;
  parser.on("error", (error) => (parseError ??= error));
  const lines = new LineLengthGuard(MAX_RECORD_BYTES);
  try {
    let sliceStart = performance.now();
    let reportedAt = sliceStart;
    for await (const chunk of createReadStream(uploadPath(id), { highWaterMark: READ_BYTES })) {
      this.signal.throwIfAborted(); // a timeout or a shutdown deadline
      lines.check(chunk as Buffer, parser.info.lines);
      parser.write(chunk);
      if (parseError !== undefined) throw parseError;
      const now = performance.now();
      if (now - reportedAt >= PROGRESS_EVERY_MS) {
        report({ rows });
        reportedAt = now;
      }
      if (isMainThread && now - sliceStart >= SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    parser.end();
    await finished(parser);
    if (parseError !== undefined) throw parseError;
    report({ status: "done", rows, finishedAt: new Date().toISOString() });
  } catch (error) {
    const failure = error instanceof CsvError
      ? { line: typeof error.lines === "number" ? error.lines : undefined, reason: error.message }
      : { line: undefined, reason: error instanceof Error ? error.message : String(error) };
    report({ status: "failed", rows, error: failure, finishedAt: new Date().toISOString() });
    if (!(error instanceof CsvError)) throw error; // I/O trouble or a timeout: report it
  } finally {
    parser.destroy();
  }
}, { retries: 0, concurrency: config.csvConcurrency });

/**
 * A macrotask turn, so that timers and I/O (requests) run before the task goes on.
 * `setTimeout` rather than `setImmediate` or a microtask: on Bun only it lets both
 * timers and pending requests through at every turn.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The header as a job keeps it: bounded in count and length, and saying when it was cut. */
function columnsOf(header: string[]): Pick<UploadJob, "columns" | "columnCount" | "columnsTruncated"> {
  const kept = header.slice(0, MAX_COLUMNS).map((name) => name.slice(0, MAX_COLUMN_NAME_LENGTH));
  const truncated = header.length > MAX_COLUMNS || header.some((name) => name.length > MAX_COLUMN_NAME_LENGTH);
  return { columns: kept, columnCount: header.length, columnsTruncated: truncated };
}

/**
 * Fails as soon as a line grows past `limit` bytes, before the parser builds
 * it: csv-parse's `max_record_size` counts the characters of fields, not their
 * number, so a line of a million commas would otherwise become a record of a
 * million fields.
 */
class LineLengthGuard {
  readonly #limit: number;
  /** Bytes since the last line break, carried over from earlier chunks. */
  #open = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Throws a `CsvError` naming `line` (the parser's current line) when the line gets too long. */
  check(chunk: Buffer, line: number): void {
    const first = firstBreak(chunk);
    if (first === -1) {
      this.#open += chunk.length;
    } else {
      // Lines inside one chunk are shorter than the limit: a chunk is far smaller than it.
      if (this.#open + first > this.#limit) this.#fail(line);
      this.#open = chunk.length - 1 - Math.max(chunk.lastIndexOf(0x0a), chunk.lastIndexOf(0x0d));
    }
    if (this.#open > this.#limit) this.#fail(line);
  }

  #fail(line: number): never {
    throw new CsvError(
      "CSV_MAX_RECORD_SIZE",
      `Line too long: line ${line} is longer than ${this.#limit} bytes; a CSV record may span at most ${this.#limit} bytes.`,
      undefined,
      { lines: line },
    );
  }
}

function firstBreak(chunk: Buffer): number {
  const lf = chunk.indexOf(0x0a);
  const cr = chunk.indexOf(0x0d);
  return lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
}

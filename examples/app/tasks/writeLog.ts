/** The seed's `write_log`: one line per call, appended to `DATA_DIR/log.txt`. */
import { defineTask } from "@background/tasks";
import { join } from "node:path";
import { config } from "../config.ts";
import { LineAppender } from "../log/LineAppender.ts";

/** The log file's single appender; close it on shutdown. */
export const notificationLog: LineAppender = new LineAppender(join(config.dataDir, "log.txt"));

// No timeout: the line is written synchronously in the next turn of the event loop, which a
// timer could not interrupt anyway.
export const writeLog = defineTask("write-log", (message: string): Promise<void> => {
  return notificationLog.append(`${timestamp()} ${message}`);
}, { retries: 2, timeoutMs: Infinity });

// Lines written in the same millisecond share one formatted time.
let lastMs = Number.NaN;
let lastIso = "";
function timestamp(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

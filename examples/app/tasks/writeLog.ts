/** The seed's `write_log`: one line per call, appended to `DATA_DIR/log.txt`. */
import { defineTask } from "@background/tasks";
import { join } from "node:path";
import { config } from "../config.ts";
import { LineAppender } from "../log/LineAppender.ts";

/** The log file's single appender; close it on shutdown. */
export const notificationLog: LineAppender = new LineAppender(join(config.dataDir, "log.txt"));

export const writeLog = defineTask("write-log", (message: string): Promise<void> => {
  return notificationLog.append(`${new Date().toISOString()} ${message}`);
}, { retries: 2 });

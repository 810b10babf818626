import type { TaskSettings } from "./types.ts";

/** Throws a RangeError naming `where` when a timeout or retry count is not usable. */
export function _checkSettings(where: string, settings: TaskSettings): void {
  const { timeoutMs, retries } = settings;
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs > 0)) {
    throw new RangeError(`${where}: timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}.`);
  }
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    throw new RangeError(`${where}: retries must be a whole number ≥ 0, got ${String(retries)}.`);
  }
}

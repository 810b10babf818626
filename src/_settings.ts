import type { TaskSettings } from "./types.ts";

/** Throws a RangeError naming `where` when a timeout, retry count or concurrency is not usable. */
export function _checkSettings(where: string, settings: TaskSettings): void {
  const { timeoutMs, retries, concurrency } = settings;
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs > 0)) {
    throw new RangeError(`${where}: timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}.`);
  }
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    throw new RangeError(`${where}: retries must be a whole number ≥ 0, got ${String(retries)}.`);
  }
  if (concurrency !== undefined && !(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new RangeError(`${where}: concurrency must be a whole number ≥ 1 or Infinity, got ${String(concurrency)}.`);
  }
}

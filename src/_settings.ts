import type { TaskSettings } from "./types.ts";

/** The longest delay a timer keeps on every runtime; longer ones fire after 1 ms. */
export const _MAX_TIMER_MS = 2_147_483_647;

/**
 * Throws a RangeError naming `where` unless `value` is a usable limit in
 * milliseconds: more than 0 (or 0 itself when `zero`), at most
 * {@link _MAX_TIMER_MS}, or Infinity for none.
 */
export function _checkTimeout(where: string, name: string, value: unknown, zero = false): void {
  if (typeof value === "number" && (zero ? value >= 0 : value > 0) && (value <= _MAX_TIMER_MS || value === Infinity)) return;
  throw new RangeError(
    `${where}: ${name} must be a number of milliseconds ${zero ? "≥ 0" : "> 0"} and at most ${_MAX_TIMER_MS} (about 24.8 days), ` +
      `or Infinity for no limit, got ${String(value)}.`,
  );
}

/** Throws a RangeError naming `where` when a timeout, retry count or concurrency is not usable. */
export function _checkSettings(where: string, settings: TaskSettings): void {
  const { timeoutMs, retries, concurrency, idempotencyKey } = settings;
  if (timeoutMs !== undefined) _checkTimeout(where, "timeoutMs", timeoutMs);
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    throw new RangeError(`${where}: retries must be a whole number ≥ 0, got ${String(retries)}.`);
  }
  if (concurrency !== undefined && !(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new RangeError(`${where}: concurrency must be a whole number ≥ 1 or Infinity, got ${String(concurrency)}.`);
  }
  if (idempotencyKey !== undefined && typeof idempotencyKey !== "function") {
    throw new TypeError(
      `${where}: idempotencyKey must be a function of the task's arguments returning a string, got ${typeof idempotencyKey}.`,
    );
  }
}

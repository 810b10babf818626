import type { BackgroundTasksOptions, TaskRunnerOptions, TaskSettings } from "./types.ts";

/** The keys of an options type, each set to `true`: the compiler keeps the list complete and exact. */
export type _OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/** The keys of {@link TaskRunnerOptions}. */
export const _RUNNER_OPTIONS: _OptionKeys<TaskRunnerOptions> = {
  concurrency: true,
  maxPending: true,
  overflow: true,
  timeoutMs: true,
  retries: true,
  retryDelayMs: true,
  onError: true,
};

/** The keys of {@link BackgroundTasksOptions}. */
export const _POLICY_OPTIONS: _OptionKeys<BackgroundTasksOptions> = {
  order: true,
  stopOnError: true,
  runOnAbort: true,
  runOnHandlerError: true,
};

/** The keys of {@link TaskSettings}. */
export const _TASK_SETTINGS: _OptionKeys<TaskSettings> = { timeoutMs: true, retries: true, concurrency: true, idempotencyKey: true };

/**
 * Throws a TypeError naming `where` when `options` has a key that is not in
 * `known`, with the closest known key as a "did you mean" and the full list.
 * Plain JavaScript callers get no compiler to catch a misspelt option, and a
 * misspelt limit would otherwise be ignored without a word.
 */
export function _checkOptions(where: string, options: unknown, ...known: readonly object[]): void {
  if (options === null || typeof options !== "object") return;
  for (const key of Object.keys(options)) {
    if (known.some((keys) => Object.hasOwn(keys, key))) continue;
    const names = known.flatMap((keys) => Object.keys(keys));
    const guess = _closest(key, names);
    throw new TypeError(
      `${where}: unknown option ${JSON.stringify(key)}${guess === undefined ? "" : ` (did you mean ${JSON.stringify(guess)}?)`}. ` +
        `Known options: ${names.join(", ")}.`,
    );
  }
}

/** The name nearest to `key` by edit distance (case ignored), if it is near enough to be a likely typo. */
export function _closest(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const name of names) {
    const candidate = name.toLowerCase();
    // A shared stem ("retry", "retries") counts as near as one typo.
    const stem = Math.max(4, Math.min(lower.length, candidate.length) - 1);
    const distance = _commonPrefix(lower, candidate) >= stem ? 1 : _editDistance(lower, candidate);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

function _commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function _editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

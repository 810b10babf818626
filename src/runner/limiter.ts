import { _Queue } from "./queue.ts";

/**
 * Per-kind concurrency limits (a `defineTask` task's own `concurrency`):
 * how many of a kind run, and who waits for a place. Shared by the
 * in-process runner, which parks queued tasks here, and the durable worker,
 * which parks the resolve function of a job's promise.
 * @internal
 */
export class _KindLimiter<K, W> {
  readonly #kinds = new Map<K, { running: number; readonly waiting: _Queue<W> }>();
  #waitingCount = 0;

  /** How many wait for a place, of every kind. */
  get waitingCount(): number {
    return this.#waitingCount;
  }

  /**
   * Takes a place of `kind` for `waiter`: `true` when one was free. Else the
   * waiter waits, and {@link release} hands it a place later.
   */
  acquire(kind: K, limit: number, waiter: W): boolean {
    let places = this.#kinds.get(kind);
    if (places === undefined) this.#kinds.set(kind, places = { running: 0, waiting: new _Queue() });
    if (places.running < limit) {
      places.running++;
      return true;
    }
    places.waiting.push(waiter);
    this.#waitingCount++;
    return false;
  }

  /** Gives back a place of `kind`: returns the waiter it goes to, if one waits (it now holds the place). */
  release(kind: K): W | undefined {
    const places = this.#kinds.get(kind);
    if (places === undefined) return undefined;
    const next = places.waiting.shift();
    if (next === undefined) places.running--;
    else this.#waitingCount--;
    return next;
  }

  /** Every waiter, for a report of what is unfinished. */
  *waiting(): Iterable<W> {
    for (const places of this.#kinds.values()) yield* places.waiting;
  }
}

/** A kind's own limit when it has one, else `undefined`. @internal */
export function _ownLimit(concurrency: number | undefined): number | undefined {
  return concurrency === undefined || concurrency === Infinity ? undefined : concurrency;
}

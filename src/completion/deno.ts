import type { CompletionInfo, DenoAbortSignal } from "../types.ts";
import type { BackgroundTasks } from "../BackgroundTasks.ts";
import { _ABORTED, type _CompletionSignal } from "./_signal.ts";

/** After this many aborted signals in a row and no live one, `"auto"` presumes Deno's legacy behaviour. */
const PRESUME_LEGACY_AFTER = 32;
/** While legacy is presumed, one request in this many still reads its signal, so a wrong guess recovers, */
const SAMPLE_EVERY = 64;
/** but no more than one in this many milliseconds: even a rare legacy signal slows Deno's serving for a while after. */
const SAMPLE_GAP_MS = 1000;

/**
 * Deno's handler info: `info.completed` resolves once the response has been
 * sent, even when the client left. Whether it left shows only on
 * `request.signal`, and only when Deno runs without its legacy abort
 * behaviour (which aborts the signal after every response).
 *
 * `mode` says how to read the signal. `"auto"` learns it, per integration
 * (each wrapper owns one of these): one live signal after a completed
 * response proves the signal means "client left"; 32 aborted ones in a row
 * make it presume legacy and read only one signal in 64 requests, and at
 * most one a second (making the signal costs Deno more than the rest of a
 * small request), until a live one proves otherwise.
 * @internal
 */
export class _DenoCompletion implements _CompletionSignal<PromiseLike<unknown>> {
  readonly #mode: DenoAbortSignal;
  #learned: "unknown" | "reliable" | "presumed-legacy" = "unknown";
  #abortedInARow = 0;
  #sinceSample = 0;
  #sampledAt = 0;

  constructor(mode: DenoAbortSignal = "auto") {
    this.#mode = mode;
  }

  find(value: object): PromiseLike<unknown> | undefined {
    // Read once: `completed` is a getter that makes the promise when first asked.
    const completed = (value as Partial<CompletionInfo>).completed;
    return typeof completed?.then === "function" ? completed : undefined;
  }

  watch(tasks: BackgroundTasks, request: Request, completed: PromiseLike<unknown>): void {
    // The signal must exist before the client leaves to record it, so it is made now or never.
    const signal = this.#readsSignal() ? request.signal : undefined;
    completed.then(
      () => tasks.start(signal !== undefined && this.#clientLeft(signal) ? _ABORTED : undefined),
      () => tasks.start(_ABORTED),
    );
  }

  #readsSignal(): boolean {
    if (this.#mode !== "auto") return this.#mode === "reliable";
    if (this.#learned !== "presumed-legacy") return true;
    if (++this.#sinceSample < SAMPLE_EVERY) return false;
    this.#sinceSample = 0;
    const now = Date.now();
    if (now - this.#sampledAt < SAMPLE_GAP_MS) return false;
    this.#sampledAt = now;
    return true;
  }

  /** Whether a completed response's signal says the client left; in `"auto"`, learns from it. */
  #clientLeft(signal: AbortSignal): boolean {
    if (this.#mode === "reliable" || this.#learned === "reliable") return signal.aborted;
    if (!signal.aborted) {
      this.#learned = "reliable";
      return false;
    }
    if (++this.#abortedInARow < PRESUME_LEGACY_AFTER) return false;
    this.#learned = "presumed-legacy";
    this.#sampledAt = Date.now();
    return false;
  }
}

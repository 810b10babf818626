import type { DenoAbortSignal } from "../types.ts";
import type { BackgroundTasks } from "../BackgroundTasks.ts";
import type { _CompletionSignal } from "./_signal.ts";
import { _BunCompletion } from "./bun.ts";
import { _DenoCompletion } from "./deno.ts";
import { _NodeCompletion, _nodeResponseOf } from "./node.ts";
import { _watchBody } from "./body.ts";
import { _keepAlive } from "./waitUntil.ts";

/**
 * The completion signals of one integration, each with the little it
 * learns (Bun's server, Deno's abort mode): chooses, for each response, the
 * signal whose shape one of the handler's extra arguments has, else the
 * body itself.
 * @internal
 */
export class _Completions {
  readonly #bun = new _BunCompletion();
  readonly #node = new _NodeCompletion();
  readonly #signals: readonly _CompletionSignal<never>[];

  constructor(denoAbortSignal: DenoAbortSignal = "auto") {
    this.#signals = [this.#bun, new _DenoCompletion(denoAbortSignal), this.#node] as _CompletionSignal<never>[];
  }

  /**
   * Starts `tasks` once `response` has been handed over; returns the
   * response to give the server: the same object, or a copy whose body is
   * tracked when no platform signal was found. The platform's values are
   * `platform` from index `first` on (a Fetch handler's arguments after the
   * request, read in place).
   */
  watch(tasks: BackgroundTasks, response: Response, request: Request | undefined, platform: ArrayLike<unknown>, first = 0): Response {
    for (let i = first; i < platform.length; i++) {
      const value = platform[i];
      // Bun's server has no waitUntil, and asking it is a slow property miss on every request.
      if (_isObject(value) && !this.#bun.knows(value)) _keepAlive(value, tasks);
    }
    for (const signal of this.#signals) {
      if (signal === this.#bun && request === undefined) continue; // Bun tells by the request
      for (let i = first; i < platform.length; i++) {
        const value = platform[i];
        if (!_isObject(value)) continue;
        const found = signal.find(value);
        if (found === undefined) continue;
        signal.watch(tasks, request!, found);
        return response;
      }
    }
    const res = request === undefined ? undefined : _nodeResponseOf(request);
    if (res !== undefined) {
      this.#node.watch(tasks, request!, res);
      return response;
    }
    return _watchBody(tasks, response);
  }
}

function _isObject(value: unknown): value is object {
  return value !== null && typeof value === "object";
}

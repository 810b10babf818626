import type { BackgroundTasks } from "../BackgroundTasks.ts";

/**
 * One way a platform tells that a response has been handed over, found by
 * the shape of a value the server passed to the handler. Each lives in its
 * own file; `_Completions` asks them in turn.
 * @internal
 */
export interface _CompletionSignal<P = unknown> {
  /** The platform value this signal uses, if `value` (a handler argument) has its shape. */
  find(value: object): P | undefined;
  /** Starts `tasks` once the response to `request` has been handed over, as `platform` tells. */
  watch(tasks: BackgroundTasks, request: Request, platform: P): void;
}

/** What `start` receives for a response the client cut short. @internal */
export const _ABORTED: { readonly responseAborted: true } = Object.freeze({ responseAborted: true });

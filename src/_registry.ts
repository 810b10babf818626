import type { BackgroundTasks, BackgroundTasksInit } from "./BackgroundTasks.ts";

/**
 * The request's tasks live on the request itself under this symbol: a lookup
 * through a `Proxy` of the request (itty-router's AutoRouter) reaches the
 * target's property, and nothing outlives the request.
 */
export const _kTasks: unique symbol = Symbol.for("@background/tasks.tasks");

/**
 * A wrapper stores its shared options under the symbol; the first
 * `getBackgroundTasks` replaces them with the request's list, so a request
 * that adds no task allocates nothing.
 */
export type _Registered = { [_kTasks]?: BackgroundTasks | BackgroundTasksInit };

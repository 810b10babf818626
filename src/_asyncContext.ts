/**
 * Keeps the `AsyncLocalStorage` context of the code that added a task, and runs the task in it,
 * so request-scoped loggers and tracers work inside tasks. `node:async_hooks` is reached through
 * `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno, Workers with `nodejs_compat`), not a
 * static import, so the core still loads where it does not exist (Workers without
 * `nodejs_compat`, browsers); there, and on older Node, tasks run in the runner's own context.
 *
 * An `AsyncResource` made when the task is accepted is the capture: on Node it is far cheaper
 * than `AsyncLocalStorage.snapshot()` (which binds a function each time), and on Bun and Deno
 * both cost about the same. It is destroyed once the task is done for good, as an async
 * resource should be: `async_hooks` destroy hooks fire then, and Deno, which otherwise keeps
 * every resource registered for a destroy at garbage collection, lets it go at once.
 *
 * @module
 */

/** The captured context of one task: run a call inside it. */
export interface _AsyncContext {
  runInAsyncScope<This, A, R>(fn: (this: This, a: A) => R, thisArg: This, a: A): R;
  /** Missing where the platform tracks no resource lifetimes (Workers). */
  emitDestroy?(): unknown;
}

type _AsyncResourceClass = new (type: string) => _AsyncContext;

const _AsyncResource: _AsyncResourceClass | undefined = _loadAsyncResource();

function _loadAsyncResource(): _AsyncResourceClass | undefined {
  try {
    const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const hooks = process?.getBuiltinModule?.("node:async_hooks") as { AsyncResource?: _AsyncResourceClass } | undefined;
    return typeof hooks?.AsyncResource === "function" ? hooks.AsyncResource : undefined;
  } catch {
    return undefined; // a platform that refuses the module: tasks keep the runner's context
  }
}

/** Captures the caller's async context, or `undefined` where the platform has none to keep. */
export function _captureContext(): _AsyncContext | undefined {
  return _AsyncResource === undefined ? undefined : new _AsyncResource("BackgroundTask");
}

/** Calls `fn` with `thisArg` and `a`, inside `context` when there is one. */
export function _runInContext<This, A, R>(context: _AsyncContext | undefined, fn: (this: This, a: A) => R, thisArg: This, a: A): R {
  return context === undefined ? fn.call(thisArg, a) : context.runInAsyncScope(fn, thisArg, a);
}

/** Ends `context`'s life as an async resource: call once, when its task is done for good. */
export function _releaseContext(context: _AsyncContext | undefined): void {
  context?.emitDestroy?.();
}

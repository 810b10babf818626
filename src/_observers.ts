/**
 * What tracing, metrics and the testing kit see of a runner: a task accepted, a task handed to
 * the run queue, and each attempt, which an observer may wrap (to run it inside a span). A runner
 * without observers pays one `undefined` check per step.
 *
 * @module
 */
import type { AcceptedTask } from "./types.ts";
import { _runnerCore, type TaskRunner } from "./TaskRunner.ts";
import { type _AsyncContext, _runInContext } from "./_asyncContext.ts";

/** One observer of a runner's tasks. Every method is optional and must not throw. */
export interface _TaskObserver {
  /** A task was accepted (stored, for a durable runner); it has not started. */
  added?(task: AcceptedTask): void;
  /** A task was handed to the run queue: once, and again before each retry. */
  queued?(task: AcceptedTask): void;
  /**
   * Runs one attempt: calls `attempt()` exactly once and returns what it returned (or throws
   * what it threw). Called inside the context the task was added in.
   */
  attempt?(task: AcceptedTask, attempt: () => unknown): unknown;
  /**
   * The running attempt's trace context as propagation fields (W3C `traceparent`, `tracestate`),
   * or `undefined`. Asked, inside the attempt, by a runner that hands the attempt to another thread.
   */
  traceContext?(): Record<string, string> | undefined;
}

/**
 * Adds an observer to `runner`.
 *
 * @returns a function that removes it
 */
export function _observe(runner: TaskRunner, observer: _TaskObserver): () => void {
  const core = _runnerCore(runner);
  core.observers = [...(core.observers ?? []), observer];
  return () => {
    const rest = (core.observers ?? []).filter((entry) => entry !== observer);
    core.observers = rest.length === 0 ? undefined : rest;
  };
}

/** The trace context the observers give the running attempt (see {@link _TaskObserver.traceContext}), or `undefined`. */
export function _traceContext(runner: TaskRunner): Record<string, string> | undefined {
  const observers = _runnerCore(runner).observers;
  if (observers === undefined) return undefined;
  for (const observer of observers) {
    try {
      const fields = observer.traceContext?.();
      if (fields !== undefined) return fields;
    } catch (error) {
      console.error("[background-tasks] an observer threw while giving a trace context:", error);
    }
  }
  return undefined;
}

/** Tells the observers a task was accepted. */
export function _observeAdded(observers: readonly _TaskObserver[], task: AcceptedTask): void {
  for (const observer of observers) {
    try {
      observer.added?.(task);
    } catch (error) {
      console.error("[background-tasks] an observer threw on an added task:", error);
    }
  }
}

/** Notes when a task was queued and tells the observers. */
export function _observeQueued(observers: readonly _TaskObserver[], task: AcceptedTask & { _queuedAt: number }): void {
  task._queuedAt = performance.now();
  for (const observer of observers) {
    try {
      observer.queued?.(task);
    } catch (error) {
      console.error("[background-tasks] an observer threw on a queued task:", error);
    }
  }
}

/** When an observed task last entered the run queue (`performance.now()`), or 0. */
export function _queuedAt(task: AcceptedTask): number {
  return (task as { _queuedAt?: number })._queuedAt ?? 0;
}

/** One attempt under observation: what the nested calls need, kept in one object. */
interface _Attempt<R> {
  readonly observers: readonly _TaskObserver[];
  readonly invoke: (this: R, task: AcceptedTask) => unknown;
  readonly runner: R;
}

/**
 * Runs one attempt of `task` (`invoke` with `runner` as `this`) in the context the task was
 * added in, through the observers' `attempt` wrappers when there are any.
 */
export function _invokeTask<R>(
  observers: readonly _TaskObserver[] | undefined,
  task: AcceptedTask & { readonly asyncContext: _AsyncContext | undefined },
  invoke: (this: R, task: AcceptedTask) => unknown,
  runner: R,
): unknown {
  if (observers === undefined) return _runInContext(task.asyncContext, invoke, runner, task);
  return _runInContext(task.asyncContext, _observedAttempt, { observers, invoke, runner } as _Attempt<R>, task);
}

function _observedAttempt<R>(this: _Attempt<R>, task: AcceptedTask): unknown {
  const { observers, invoke, runner } = this;
  if (observers.length === 1 && observers[0]!.attempt !== undefined) {
    return observers[0]!.attempt(task, () => invoke.call(runner, task)); // the usual case, one closure fewer
  }
  const step = (at: number): unknown => {
    for (; at < observers.length; at++) {
      const wrap = observers[at]!.attempt;
      if (wrap !== undefined) {
        const next = at + 1;
        return wrap.call(observers[at], task, () => step(next));
      }
    }
    return invoke.call(runner, task);
  };
  return step(0);
}

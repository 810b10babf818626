import type { AcceptedTask, TaskFunction, TaskRequestInfo } from "../types.ts";
import { taskDefinition } from "../defineTask.ts";
import { _TaskContext } from "./TaskContext.ts";
import { type _AsyncContext, _captureContext, _releaseContext } from "../_asyncContext.ts";
import { idempotencyKeyOf } from "../idempotencyKey.ts";

/** The request's list a task belongs to, as the task's context reads it. @internal */
export interface _TaskOwner {
  readonly request: TaskRequestInfo | undefined;
  readonly responseAborted: boolean;
}

/**
 * One accepted task as the runner keeps it. Durable runners receive it as
 * an {@link AcceptedTask}; the task function never sees it (its `this` is
 * the attempt's {@link _TaskContext}).
 * @internal
 */
export class _Task implements AcceptedTask {
  readonly fn: TaskFunction;
  readonly args: readonly unknown[];
  readonly owner: _TaskOwner | undefined;
  /** Tells the owner the task finished for good (`failed`: after its last attempt). */
  readonly ownerDone: ((task: _Task, failed: boolean) => void) | undefined;
  state: "waiting" | "queued" | "running" | "done" = "waiting";
  attempt = 0;
  /** The current attempt's context; made early only when a durable runner reads `signal` before the first attempt. */
  context: _TaskContext | undefined = undefined;
  /** Holds a place under its kind's own limit. */
  holdsPlace = false;
  /** The `AsyncLocalStorage` context the task was added in; it runs in it. */
  readonly asyncContext: _AsyncContext | undefined = _captureContext();
  /** When the task last entered the run queue (`performance.now()`), kept only for observers. */
  _queuedAt = 0;
  /** Its neighbours while the runner counts it as waiting (see `_WaitingTasks`). */
  previousWaiting: _Task | undefined = undefined;
  nextWaiting: _Task | undefined = undefined;

  constructor(
    fn: TaskFunction,
    args: readonly unknown[],
    owner?: _TaskOwner,
    ownerDone?: (task: _Task, failed: boolean) => void,
  ) {
    this.fn = fn;
    this.args = args;
    this.owner = owner;
    this.ownerDone = ownerDone;
  }

  /** The task is done for good: it ran, failed its last attempt, or was skipped. Call once. */
  finish(): void {
    this.state = "done";
    _releaseContext(this.asyncContext);
  }

  get name(): string {
    return taskDefinition(this.fn)?.name ?? (this.fn.name || "anonymous");
  }

  get request(): TaskRequestInfo | undefined {
    return this.owner?.request;
  }

  get responseAborted(): boolean {
    return this.owner?.responseAborted ?? false;
  }

  get idempotencyKey(): string | undefined {
    return idempotencyKeyOf(this.fn, this.args);
  }

  get signal(): AbortSignal {
    return (this.context ??= new _TaskContext(this, Math.max(this.attempt, 1))).signal;
  }
}

import type { AcceptedTask, TaskFunction, TaskRequestInfo } from "./types.ts";
import { taskDefinition } from "./defineTask.ts";
import { type _AsyncContext, _captureContext } from "./_asyncContext.ts";
import { idempotencyKeyOf } from "./idempotencyKey.ts";

/** The part of a request's task list that a task needs from it. */
export interface _TaskOwner {
  readonly request: TaskRequestInfo | undefined;
  readonly responseAborted: boolean;
  _onTaskDone(task: _Task, failed: boolean): void;
}

/** The arguments of a task added without any. */
export const _NO_ARGUMENTS: readonly unknown[] = Object.freeze([]);

export const _WAITING = 0;
export const _QUEUED = 1;
export const _RUNNING = 2;
export const _DONE = 3;

/** The attempts of one defined task that a runner runs, and those waiting for a free place. */
export interface _TaskSlots {
  running: number;
  readonly parked: _Task[];
}

/**
 * One accepted task. It is also the `this` of the task function, so running a
 * task allocates nothing beyond what the task itself does.
 */
export class _Task implements AcceptedTask {
  readonly fn: TaskFunction;
  /** The arguments; `undefined` when there is exactly one, kept in `_arg` (no array per task). */
  _args: readonly unknown[] | undefined;
  readonly _arg: unknown;
  readonly owner: _TaskOwner | undefined;
  state: number = _WAITING;
  attempt = 0;
  controller: AbortController | undefined = undefined;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /**
   * Links of the one list the task is in, if any: its request's tasks still waiting to be handed
   * to the runner (forward only), or the runner's running async tasks. No set, no array per task.
   */
  next: _Task | undefined = undefined;
  previous: _Task | undefined = undefined;
  /** The `AsyncLocalStorage` context the task was added in; it runs in it. */
  readonly _context: _AsyncContext | undefined = _captureContext();

  constructor(fn: TaskFunction, args: readonly unknown[] | undefined, owner: _TaskOwner | undefined, arg: unknown) {
    this.fn = fn;
    this._args = args;
    this.owner = owner;
    this._arg = arg;
  }

  get args(): readonly unknown[] {
    return this._args ??= [this._arg];
  }

  /** Calls `fn` (the function a defined task wraps) with the task as `this`. */
  _call(fn: TaskFunction): unknown {
    return this._args === undefined ? fn.call(this, this._arg) : fn.apply(this, this._args as unknown[]);
  }

  get name(): string {
    return taskDefinition(this.fn)?.name ?? (this.fn.name || "anonymous");
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
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

  /** Aborts the current attempt's signal, creating it if nobody read it yet. */
  abort(reason: unknown): void {
    (this.controller ??= new AbortController()).abort(reason);
  }
}

import type { BackgroundTasksOptions, TaskFunction, TaskRequestInfo } from "../types.ts";
import type { _RunnerCore } from "../TaskRunner.ts";
import { _Task, type _TaskOwner } from "./_task.ts";
import { _storeWorks } from "../_storeFailures.ts";

/**
 * What `start` is told of the response: `responseAborted` is read only when
 * the answer is needed (asking some platforms costs), so it may be a getter
 * or a function.
 * @internal
 */
export type _Outcome = { readonly responseAborted?: boolean | (() => boolean) };

/** How a request's tasks run: the list's options, checked by `BackgroundTasks`. @internal */
export type _ListPolicy = Pick<BackgroundTasksOptions, "order" | "stopOnError" | "runOnAbort">;

/**
 * One request's tasks as the runner sees them: the tasks not yet handed to
 * the runner, in order, and how many of them run. `BackgroundTasks` is its
 * public face.
 * @internal
 */
export class _TaskList implements _TaskOwner {
  readonly request: TaskRequestInfo | undefined;
  readonly #core: _RunnerCore;
  readonly #policy: _ListPolicy;
  /** Accepted, not yet handed to the runner. */
  #waiting: _Task[] = [];
  #active = 0;
  #added = 0;
  #started = false;
  #outcome: _Outcome | undefined;
  /** The outcome's answer, once asked. */
  #aborted: boolean | undefined;
  #settledWaiters: (() => void)[] | undefined;
  #storing: Promise<void>[] | undefined;

  constructor(core: _RunnerCore, policy: _ListPolicy, request: TaskRequestInfo | undefined) {
    this.#core = core;
    this.#policy = policy;
    this.request = request;
  }

  get size(): number {
    return this.#added;
  }

  get started(): boolean {
    return this.#started;
  }

  get responseAborted(): boolean {
    if (this.#aborted === undefined) {
      const told = this.#outcome?.responseAborted;
      this.#aborted = typeof told === "function" ? told() : told === true;
    }
    return this.#aborted;
  }

  add(fn: TaskFunction, args: readonly unknown[]): void {
    const task = new _Task(fn, args, this);
    const stored = this.#core.accept(task);
    if (stored === false) return;
    if (stored !== undefined) (this.#storing ??= []).push(stored);
    this.#added++;
    this.#waiting.push(task);
    if (this.#started) {
      this.#advance();
      this.#core.pump(false); // a task that adds a task: the new one starts after the caller returns
    }
  }

  stored(): Promise<void> | undefined {
    const storing = this.#storing;
    if (storing === undefined) return undefined;
    this.#storing = undefined;
    return Promise.all(storing).then(() => {
      _storeWorks();
      return this.stored();
    });
  }

  start(outcome: _Outcome | undefined): void {
    if (this.#started) return;
    this.#started = true;
    this.#outcome = outcome;
    this.#aborted = undefined; // asked again: a reading before the start knew nothing yet
    if (this.#waiting.length === 0) this.#afterProgress();
    else if (this.#policy.runOnAbort === false && this.responseAborted) this.#skipRest();
    else {
      this.#advance();
      this.#core.pump(true);
    }
  }

  skip(): void {
    this.#started = true;
    this.#skipRest();
  }

  settled(): Promise<void> {
    if (this.#started && this.#active === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#settledWaiters ??= []).push(resolve));
  }

  taskDone(_task: _Task, failed: boolean): void {
    this.#active--;
    if (failed && this.#policy.stopOnError === true) this.#skipRest();
    else this.#advance(); // the runner pumps after this
  }

  /** Hands waiting tasks to the runner: all of them when parallel, else the next when none runs. */
  #advance(): void {
    while (this.#waiting.length > 0 && (this.#policy.order === "parallel" || this.#active === 0)) {
      this.#active++;
      this.#core.enqueue(this.#waiting.shift()!);
    }
    this.#afterProgress();
  }

  #skipRest(): void {
    const skipped = this.#waiting;
    this.#waiting = [];
    for (const task of skipped) this.#core.skip(task);
    this.#afterProgress();
  }

  #afterProgress(): void {
    if (this.#active > 0 || this.#waiting.length > 0 || this.#settledWaiters === undefined) return;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = undefined;
    for (const resolve of waiters) resolve();
  }
}

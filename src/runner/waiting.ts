import type { _Task } from "./_task.ts";

/**
 * The tasks a runner accepted that wait for their response (or for an
 * earlier task of their request), in the order they came: a doubly linked
 * list through links in the tasks themselves, so adding or removing one is a
 * few field writes. A `Set` would hash every task on the way in and out, a
 * cost the side-by-side benchmark shows on every request.
 * @internal
 */
export class _WaitingTasks {
  #first: _Task | undefined;
  #last: _Task | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(task: _Task): void {
    task.previousWaiting = this.#last;
    task.nextWaiting = undefined;
    if (this.#last === undefined) this.#first = task;
    else this.#last.nextWaiting = task;
    this.#last = task;
    this.#size++;
  }

  /** Removes `task`; a task that is not in the list is left alone. */
  delete(task: _Task): void {
    if (task.previousWaiting === undefined && this.#first !== task) return;
    if (task.previousWaiting === undefined) this.#first = task.nextWaiting;
    else task.previousWaiting.nextWaiting = task.nextWaiting;
    if (task.nextWaiting === undefined) this.#last = task.previousWaiting;
    else task.nextWaiting.previousWaiting = task.previousWaiting;
    task.previousWaiting = task.nextWaiting = undefined;
    this.#size--;
  }

  *[Symbol.iterator](): Iterator<_Task> {
    for (let task = this.#first; task !== undefined; task = task.nextWaiting) {
      yield task;
    }
  }
}

import type { TaskContext, TaskRequestInfo } from "../types.ts";

/** What a context reads its fields from: a runner's task, or plain values in a worker. @internal */
export interface _ContextSource {
  readonly name: string;
  readonly request: TaskRequestInfo | undefined;
  readonly responseAborted: boolean;
  readonly idempotencyKey?: string | undefined;
}

/** What `JSON.stringify` writes for a context. @internal */
export interface _TaskContextJSON {
  name: string;
  attempt: number;
  signal: { aborted: boolean };
  request: TaskRequestInfo | undefined;
  responseAborted: boolean;
  idempotencyKey: string | undefined;
}

let abort: (context: _TaskContext, reason: unknown) => void;

/**
 * The `this` of one attempt of a task: the documented {@link TaskContext}
 * fields as read-only getters, and nothing else. What it reads them from is
 * private, so a task cannot reach the runner, its request's list or any
 * other task. `responseAborted` and `signal` are worked out only when read
 * (asking the platform whether the client left, or making an
 * `AbortController`, costs more than the rest of a small task).
 * @internal
 */
export class _TaskContext implements TaskContext {
  readonly #source: _ContextSource;
  readonly #attempt: number;
  #signal: AbortSignal | undefined;
  #controller: AbortController | undefined;

  /**
   * @param source the task's name, request and responseAborted
   * @param attempt the attempt number, from 1
   * @param signal the attempt's signal when its owner aborts it; else the context makes its own
   */
  constructor(source: _ContextSource, attempt: number, signal?: AbortSignal) {
    this.#source = source;
    this.#attempt = attempt;
    this.#signal = signal;
  }

  get name(): string {
    return this.#source.name;
  }

  get attempt(): number {
    return this.#attempt;
  }

  get signal(): AbortSignal {
    return this.#signal ??= (this.#controller = new AbortController()).signal;
  }

  get request(): TaskRequestInfo | undefined {
    return this.#source.request;
  }

  get responseAborted(): boolean {
    return this.#source.responseAborted;
  }

  get idempotencyKey(): string | undefined {
    return this.#source.idempotencyKey;
  }

  /** The fields as plain data; the signal as `{ aborted }` (an `AbortSignal` has no JSON form). */
  toJSON(): _TaskContextJSON {
    const request = this.request;
    return {
      name: this.name,
      attempt: this.attempt,
      signal: { aborted: this.#signal?.aborted ?? false },
      request: request && { method: request.method, url: request.url },
      responseAborted: this.responseAborted,
      idempotencyKey: this.idempotencyKey,
    };
  }

  static {
    abort = (context, reason) => {
      if (context.#signal === undefined) context.signal; // made now, so a later reader sees it aborted
      context.#controller?.abort(reason);
    };
  }
}

/** Aborts the signal of a context that made its own. @internal */
export function _abortContext(context: _TaskContext, reason: unknown): void {
  abort(context, reason);
}

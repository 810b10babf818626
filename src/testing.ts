/**
 * A testing kit for background tasks, for any test framework: record every
 * task a runner accepts (name, arguments, request), run them now or wait for
 * them all, assert on them, and call a handler the way FastAPI's `TestClient`
 * does: the request's tasks are done when the call returns.
 *
 * @example A handler's task is recorded, and done when the test client returns
 * ```ts
 * import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
 * import { createTestClient } from "@background/tasks/testing";
 *
 * const runner = new TaskRunner();
 * const sent: string[] = [];
 * async function sendWelcomeEmail(to: string): Promise<void> {
 *   sent.push(to);
 * }
 * const handler = withBackgroundTasks((request: Request) => {
 *   getBackgroundTasks(request).addTask(sendWelcomeEmail, "ada@example.com");
 *   return Response.json({ message: "registered" });
 * }, { runner });
 *
 * const client = createTestClient(handler, { runner });
 * const response = await client.fetch("/users", { method: "POST" });
 * console.assert(response.status === 200 && sent[0] === "ada@example.com");
 * client.tasks.expectTask(sendWelcomeEmail).toHaveBeenAddedWith("ada@example.com");
 * client.tasks.stop();
 * ```
 *
 * @module
 */
import type { AcceptedTask, TaskFunction, TaskRequestInfo } from "./types.ts";
import { BackgroundTasks, defaultTaskRunner } from "./BackgroundTasks.ts";
import { TaskRunner } from "./TaskRunner.ts";
import { taskDefinition } from "./defineTask.ts";
import { _kTasks, type _Registered } from "./_registry.ts";
import { _observe } from "./_observers.ts";

/** Where a recorded task stands. */
export type RecordedTaskState = "added" | "running" | "succeeded" | "failed";

/** A task a {@link TaskRecorder} saw being added. */
export interface RecordedTask {
  /** The task's name (its `defineTask` name, else the function's name). */
  readonly name: string;
  /** The function added. */
  readonly fn: TaskFunction;
  /** The arguments it was added with. */
  readonly args: readonly unknown[];
  /** The request it was added for, or `undefined` for a task added to a runner directly. */
  readonly request: TaskRequestInfo | undefined;
  /** Where it stands now: `"failed"` after a failed attempt (a retry may follow). */
  readonly state: RecordedTaskState;
  /** Attempts started so far. */
  readonly attempts: number;
  /** The error of the last failed attempt, if any. */
  readonly error: unknown;
}

/** Assertions on the tasks added under one name or function; each throws an `Error` saying what was seen. */
export interface TaskExpectation {
  /** Passes when at least one such task was added. */
  toHaveBeenAdded(): void;
  /** Passes when exactly `count` such tasks were added. */
  toHaveBeenAddedTimes(count: number): void;
  /** Passes when one such task was added with exactly these arguments (compared deeply). */
  toHaveBeenAddedWith(...args: unknown[]): void;
  /** Passes when no such task was added. */
  notToHaveBeenAdded(): void;
}

interface _Record {
  name: string;
  fn: TaskFunction;
  args: readonly unknown[];
  request: TaskRequestInfo | undefined;
  state: RecordedTaskState;
  attempts: number;
  error: unknown;
}

/**
 * Records the tasks a runner accepts, from now until {@link TaskRecorder.stop}.
 * Create one with {@link recordTasks}. Works with any `TaskRunner`, including
 * durable ones (it sees the tasks as they are stored).
 */
export class TaskRecorder {
  /** The runner recorded. */
  readonly runner: TaskRunner;
  readonly #records: _Record[] = [];
  readonly #byTask = new WeakMap<AcceptedTask, _Record>();
  readonly #lists = new Set<BackgroundTasks>();
  readonly #stop: () => void;

  /**
   * Starts recording every task added to `runner`; {@link recordTasks} is the usual way to make one.
   *
   * @param runner the runner to record
   */
  constructor(runner: TaskRunner = defaultTaskRunner) {
    if (!(runner instanceof TaskRunner)) {
      throw new TypeError("recordTasks(runner): runner must be a TaskRunner, e.g. the one your app passes to withBackgroundTasks.");
    }
    this.runner = runner;
    this.#stop = _observe(runner, {
      added: (task) => {
        const record: _Record = {
          name: task.name,
          fn: task.fn,
          args: task.args,
          request: task.request === undefined ? undefined : { method: task.request.method, url: task.request.url },
          state: "added",
          attempts: 0,
          error: undefined,
        };
        this.#records.push(record);
        this.#byTask.set(task, record);
        const owner = (task as { owner?: unknown }).owner;
        if (owner instanceof BackgroundTasks && !owner.started) this.#lists.add(owner);
      },
      attempt: (task, attempt) => this.#attempt(task, attempt),
    });
  }

  /** Every task added since recording began (or since {@link TaskRecorder.clear}), oldest first. */
  get added(): readonly RecordedTask[] {
    return this.#records.map((record) => ({ ...record }));
  }

  /** The recorded tasks with this name or function. */
  named(task: string | TaskFunction): readonly RecordedTask[] {
    return this.added.filter(_matches(task));
  }

  /** The recorded tasks whose last attempt failed. */
  get failed(): readonly RecordedTask[] {
    return this.added.filter((record) => record.state === "failed");
  }

  /**
   * Starts every recorded request's tasks that still wait for their response
   * (useful when a test calls a handler and never reads the body), then
   * waits until every task has settled, as {@link TaskRecorder.settled} does.
   */
  runNow(): Promise<void> {
    for (const list of this.#lists) list.start();
    this.#lists.clear();
    return this.settled();
  }

  /**
   * Waits until every task the runner accepted has settled (retries
   * included), as `runner.drain()` does. Tasks still waiting for a response
   * that is never sent keep it waiting: read the response, or use
   * {@link TaskRecorder.runNow}.
   */
  async settled(): Promise<void> {
    await this.runner.drain();
  }

  /** Assertions on the tasks added with this name or function. */
  expectTask(task: string | TaskFunction): TaskExpectation {
    const label = typeof task === "string" ? `"${task}"` : `"${_nameOf(task)}"`;
    const seen = (): string => {
      const all = this.#records.map((record) => `${record.name}(${_show(record.args)})`);
      return all.length === 0 ? "no task was added" : `added: ${all.join(", ")}`;
    };
    const matching = (): _Record[] => this.#records.filter(_matches(task));
    return {
      toHaveBeenAdded: () => {
        if (matching().length === 0) throw new Error(`expected task ${label} to have been added; ${seen()}`);
      },
      toHaveBeenAddedTimes: (count: number) => {
        const found = matching().length;
        if (found !== count) throw new Error(`expected task ${label} to have been added ${count} time(s), got ${found}; ${seen()}`);
      },
      toHaveBeenAddedWith: (...args: unknown[]) => {
        if (!matching().some((record) => _deepEqual(record.args, args))) {
          throw new Error(`expected task ${label} to have been added with (${_show(args)}); ${seen()}`);
        }
      },
      notToHaveBeenAdded: () => {
        if (matching().length > 0) throw new Error(`expected task ${label} not to have been added; ${seen()}`);
      },
    };
  }

  /** Forgets what was recorded so far; recording goes on. */
  clear(): void {
    this.#records.length = 0;
    this.#lists.clear();
  }

  /** Stops recording. */
  stop(): void {
    this.#stop();
  }

  #attempt(task: AcceptedTask, attempt: () => unknown): unknown {
    const record = this.#byTask.get(task);
    if (record === undefined) return attempt(); // added before recording began
    record.state = "running";
    record.attempts++;
    const failed = (error: unknown): void => {
      record.state = "failed";
      record.error = error;
    };
    let result: unknown;
    try {
      result = attempt();
    } catch (error) {
      failed(error);
      throw error;
    }
    if (result instanceof Promise) {
      result.then(() => {
        if (record.state === "running") record.state = "succeeded";
      }, failed);
      task.signal.addEventListener("abort", () => failed(task.signal.reason), { once: true });
    } else record.state = "succeeded";
    return result;
  }
}

/**
 * Starts recording the tasks `runner` accepts.
 *
 * @param runner the runner your handler uses
 * @default runner defaultTaskRunner
 * @returns a {@link TaskRecorder}; call `stop()` when the test ends
 */
export function recordTasks(runner: TaskRunner = defaultTaskRunner): TaskRecorder {
  return new TaskRecorder(runner);
}

/** Options of {@link createTestClient}. */
export interface TestClientOptions {
  /**
   * The runner the handler's tasks go to: the client records it, and waits
   * for it when the request's own list cannot be found.
   * @default defaultTaskRunner
   */
  readonly runner?: TaskRunner;
  /**
   * The base URL relative paths are resolved against.
   * @default "http://localhost"
   */
  readonly baseUrl?: string;
}

/** What {@link createTestClient} returns. */
export interface TestClient {
  /**
   * Sends a request to the handler, reads the whole response body, waits
   * until the tasks the request added have settled, and returns the response
   * with its body buffered.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The tasks the handler added, recorded. */
  readonly tasks: TaskRecorder;
}

/**
 * FastAPI's `TestClient` behaviour for a Fetch handler: `await
 * client.fetch(...)` returns once the response body was read and the
 * request's background tasks have settled.
 *
 * @param handler `app.fetch`, `app.handle` or a wrapped handler: `(request) => Response`
 * @param options the runner the handler uses, and the base URL
 * @returns the client
 */
export function createTestClient(
  handler: (request: Request) => Response | PromiseLike<Response>,
  options: TestClientOptions = {},
): TestClient {
  if (typeof handler !== "function") {
    throw new TypeError("createTestClient(handler): handler must be a function (request) => Response, e.g. app.fetch or app.handle.");
  }
  const runner = options.runner ?? defaultTaskRunner;
  const baseUrl = options.baseUrl ?? "http://localhost";
  const tasks = recordTasks(runner);
  return {
    tasks,
    async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request
        ? (init === undefined ? input : new Request(input, init))
        : new Request(new URL(input, baseUrl), init);
      const response = await handler(request);
      const body = response.body === null ? null : await response.arrayBuffer();
      const list = (request as _Registered)[_kTasks];
      if (list instanceof BackgroundTasks) await list.settled();
      else if (list === undefined) await runner.drain(); // not registered on the request: wait for the whole runner
      const nullBody = response.status === 204 || response.status === 205 || response.status === 304;
      return new Response(nullBody ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
  };
}

function _nameOf(fn: TaskFunction): string {
  return taskDefinition(fn)?.name ?? (fn.name || "anonymous");
}

function _matches(task: string | TaskFunction): (record: { name: string; fn: TaskFunction }) => boolean {
  return typeof task === "string" ? (record) => record.name === task : (record) => record.fn === task;
}

function _show(args: readonly unknown[]): string {
  return args.map((arg) => {
    try {
      return typeof arg === "string"
        ? JSON.stringify(arg)
        : typeof arg === "function"
        ? `[function ${arg.name}]`
        : JSON.stringify(arg) ?? String(arg);
    } catch {
      return String(arg);
    }
  }).join(", ");
}

function _deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => _deepEqual(item, other[i]));
  }
  if (a instanceof Map || a instanceof Set) {
    const left = [...a.entries()];
    const right = [...(b as Map<unknown, unknown>).entries()];
    return left.length === right.length && left.every((entry, i) => _deepEqual(entry, right[i]));
  }
  const keys = Object.keys(a);
  const other = b as Record<string, unknown>;
  return keys.length === Object.keys(other).length &&
    keys.every((key) => key in other && _deepEqual((a as Record<string, unknown>)[key], other[key]));
}

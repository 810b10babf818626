/**
 * Background tasks on worker threads, for CPU-bound work (parsing a CSV,
 * resizing images) that would otherwise hold the event loop and slow every
 * other response. Tasks are `defineTask` functions exported from one module;
 * each thread imports that module and runs the tasks it is sent, at a lower
 * CPU priority than the server. This is the only module that starts threads.
 *
 * @example Tasks in their own module, the runner in the server (needs that module beside it, so not run as a doc test)
 * ```ts ignore
 * // tasks.ts
 * import { defineTask } from "@background/tasks";
 * export const countPrimes = defineTask("count-primes", (below: number) => {
 *   let count = 0;
 *   for (let n = 2; n < below; n++) {
 *     let d = 2;
 *     while (d * d <= n && n % d !== 0) d++;
 *     if (d * d > n) count++; // no divisor up to its square root: a prime
 *   }
 *   console.log(`${count} primes below ${below}`);
 * });
 *
 * // server.ts
 * import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
 * import { WorkerTaskRunner } from "@background/tasks/worker";
 * import { countPrimes } from "./tasks.ts";
 *
 * const runner = new WorkerTaskRunner({ module: new URL("./tasks.ts", import.meta.url), threads: 2 });
 * await runner.ready(); // the threads have loaded tasks.ts
 * Deno.serve(withBackgroundTasks((request: Request) => {
 *   getBackgroundTasks(request).addTask(countPrimes, 1_000_000);
 *   return new Response("counting in the background");
 * }, { runner }));
 * ```
 *
 * @module
 */
import type { AcceptedTask, DrainResult, TaskRunnerOptions } from "./types.ts";
import { TaskRunner } from "./TaskRunner.ts";
import { taskDefinition } from "./defineTask.ts";
import { _checkTimeout, _MAX_TIMER_MS } from "./_settings.ts";
import { _checkOptions, type _OptionKeys, _RUNNER_OPTIONS } from "./_options.ts";
import {
  _ABORT,
  _BROKEN,
  _fromTransferable,
  _IN_POOL_THREAD,
  _READY,
  _RUN,
  type _ThreadData,
  _toTransferable,
} from "./worker/_protocol.ts";
import { _checkCloneableArguments } from "./worker/_cloneable.ts";
import { _traceContext } from "./_observers.ts";

/** V8 heap limits of one thread (Node's `resourceLimits`); a thread past them is replaced and its tasks fail. */
export interface WorkerResourceLimits {
  /** The main heap's size limit, in MB. */
  readonly maxOldGenerationSizeMb?: number;
  /** The size limit of the heap space for recently created objects, in MB. */
  readonly maxYoungGenerationSizeMb?: number;
  /** The size of the pre-allocated memory range for generated code, in MB. */
  readonly codeRangeSizeMb?: number;
  /** The thread's maximum stack size, in MB. */
  readonly stackSizeMb?: number;
}

/** Options of a {@link WorkerTaskRunner}: the {@link TaskRunnerOptions} plus where the tasks live and how many threads run them. */
export interface WorkerTaskRunnerOptions extends TaskRunnerOptions {
  /**
   * The module that exports your `defineTask` tasks, as a URL:
   * `new URL("./tasks.ts", import.meta.url)` (or a `file:` URL string or
   * an absolute path). Each thread imports it and finds a task by its
   * `defineTask` name among the exports. On Node, point it at JavaScript,
   * or start Node with a TypeScript loader (`node --import tsx`): threads
   * inherit the process's `execArgv`.
   */
  readonly module: URL | string;
  /**
   * How many threads run tasks. They start with the runner (`ready()`
   * waits for them) and stay, idle ones without keeping the process alive.
   * @default the number of CPU cores less one, at least 1 (2 on Node 20, which cannot tell)
   */
  readonly threads?: number;
  /**
   * How many tasks may run at once across the threads. With the default,
   * each thread runs one task at a time; raise it for async tasks that
   * mostly wait, so a thread interleaves several.
   * @default threads
   */
  readonly concurrency?: number;
  /**
   * The niceness (-20 … 19) each thread gives itself on Linux, where it
   * lowers that thread alone: 19 makes background work lose every contest
   * for a CPU core against the server's own thread. 0 leaves the threads at
   * the server's priority. Elsewhere (macOS, Windows) the priority is per
   * process, so it is left alone. Threads the runtime creates later from a
   * worker thread inherit its niceness; on Bun these can be helpers the
   * whole process shares (garbage collection, compilation), made on first
   * need by whichever thread needs them first.
   * @default 19
   */
  readonly niceness?: number;
  /**
   * After an attempt is aborted (its timeout, or a `drain()` deadline), how
   * long its thread may take to end it before the thread is terminated and
   * replaced; a task stuck in a loop never reads its `signal`.
   * @default 1_000
   */
  readonly abortGraceMs?: number;
  /**
   * Heap limits of each thread, on Node (Bun and Deno ignore them). A thread
   * that runs out of memory is replaced and its tasks fail (and are retried
   * if allowed) while the server lives on.
   * @default undefined (Node's defaults)
   */
  readonly resourceLimits?: WorkerResourceLimits;
}

/** The attempt a {@link WorkerThreadError} ended: which task, which attempt, and the arguments it was added with. */
export interface WorkerThreadTask {
  /** The task's `defineTask` name. */
  readonly name: string;
  /** The attempt that was running (or about to start), from 1. */
  readonly attempt: number;
  /** The arguments the task was added with: what tells apart several runs of one task, e.g. a job id. */
  readonly args: readonly unknown[];
}

/**
 * Why a task failed without an error of its own: its thread crashed, ran out
 * of memory, was terminated (a task stuck past its abort) or was stopped by
 * `close()`. The task may have done part of its work. The message names the
 * task and the attempt (`Task "process-csv" (attempt 1) did not finish: its
 * worker thread exited (code 7).`), and `task` carries them with the task's
 * arguments, so you can fail exactly the work whose thread was lost, even
 * when several tasks ran at once.
 *
 * @example Fail the job whose thread was lost
 * ```ts
 * import { WorkerThreadError } from "@background/tasks/worker";
 *
 * const failed = new Set<string>();
 * function onError(error: unknown): void {
 *   if (error instanceof WorkerThreadError && error.task?.name === "process-csv") failed.add(String(error.task.args[0]));
 * }
 * onError(new WorkerThreadError("its worker thread exited (code 1)", { task: { name: "process-csv", attempt: 1, args: ["job-7"] } }));
 * console.assert(failed.has("job-7"));
 * ```
 */
export class WorkerThreadError extends Error {
  /** Always `"WorkerThreadError"`. */
  override readonly name = "WorkerThreadError";
  /** The attempt the thread was running or about to run; `undefined` when the error is about no task (`ready()`). */
  declare readonly task: WorkerThreadTask | undefined;

  /**
   * Made by the runner when a thread is lost; reported to `onError` and the failure and retry events.
   *
   * @param message what happened to the thread
   * @param options the thread's error, if any, as `cause`; the attempt it ended, as `task`
   */
  constructor(message: string, options?: { cause?: unknown; task?: WorkerThreadTask }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // Not enumerable: a logged error shows its message (the task and attempt), never the task's arguments.
    Object.defineProperty(this, "task", { value: options?.task, enumerable: false });
  }
}

/** The parts of `node:worker_threads`' `Worker` the runner uses (Node, Bun and Deno all provide them). */
interface _Worker {
  postMessage(message: unknown): void;
  on(event: "message", listener: (message: unknown[][]) => void): unknown;
  on(event: "error", listener: (error: unknown) => void): unknown;
  on(event: "exit", listener: (code: number) => void): unknown;
  terminate(): unknown;
  ref(): void;
  unref(): void;
}

type _WorkerConstructor = new (url: URL, options: { workerData: _ThreadData; resourceLimits?: WorkerResourceLimits }) => _Worker;

interface _Thread {
  readonly worker: _Worker;
  /** Tasks sent and not yet ended. */
  running: number;
  /** Aborted tasks it has not ended yet: it gets no new task meanwhile. */
  aborting: number;
  /** Entries to post at the end of this turn, as one message. */
  outbox: unknown[][];
  /** It loaded the tasks module; an error before that means no thread can start. */
  ready: boolean;
  lost: boolean;
}

interface _Job {
  readonly id: number;
  readonly thread: _Thread;
  /** The task, its attempt and arguments, as a lost thread's error reports them. */
  readonly task: WorkerThreadTask;
  readonly signal: AbortSignal;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  onAbort: (() => void) | undefined;
  aborted: boolean;
  grace: ReturnType<typeof setTimeout> | undefined;
}

const _WORKER_OPTIONS: _OptionKeys<Omit<WorkerTaskRunnerOptions, keyof TaskRunnerOptions>> = {
  module: true,
  threads: true,
  niceness: true,
  abortGraceMs: true,
  resourceLimits: true,
};

/**
 * A {@link TaskRunner} that runs each task on a pool of worker threads, so
 * CPU-bound work never holds the server's event loop. Everything the
 * `TaskRunner` promises holds: tasks start after their response was sent,
 * `concurrency` (also per `defineTask` task), `maxPending`, timeouts,
 * retries, events, `stats()` and `drain()`.
 *
 * Tasks must be `defineTask` functions exported from `module`, with
 * arguments a thread can receive (structured clone: no functions, no class
 * instances); anything else throws a `TypeError` at `addTask` that says what
 * to do. In the thread, `this` is the task's own {@link TaskContext}; its
 * `signal` aborts when the attempt times out. A task that does not stop
 * within `abortGraceMs` of that, or that crashes its thread or runs it out
 * of memory, loses its thread: the thread is replaced, and its tasks fail
 * with a {@link WorkerThreadError} (and are retried if allowed).
 *
 * Runs on Bun, Deno and Node (`node:worker_threads`). Cloudflare Workers have
 * no threads: the constructor throws there.
 *
 * @example A task on a worker thread (its module written to a temporary folder, so the example runs as is)
 * ```ts
 * import { WorkerTaskRunner } from "@background/tasks/worker";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/tasks.ts`, `import { defineTask } from "@background/tasks";
 * export const square = defineTask("square", (n: number) => console.log(n * n));`);
 * const tasks = `file://${dir}/tasks.ts`;
 * const { square } = await import(tasks);
 *
 * const runner = new WorkerTaskRunner({ module: tasks, threads: 1, timeoutMs: 10_000 });
 * await runner.ready(); // the thread has imported tasks.ts
 * runner.addTask(square, 7); // logs 49 from the thread
 * const { drained } = await runner.close({ timeoutMs: 5_000 });
 * console.assert(drained && runner.stats().succeeded === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class WorkerTaskRunner extends TaskRunner {
  /** The URL of the tasks module, as the threads import it. */
  readonly module: string;
  /** How many threads run tasks. */
  readonly threads: number;
  readonly #niceness: number;
  readonly #graceMs: number;
  readonly #resourceLimits: WorkerResourceLimits | undefined;
  #Worker: _WorkerConstructor | undefined;
  readonly #loading: Promise<void>;
  #loadError: unknown = undefined;
  /** The task names the module exports, once a thread has loaded it. */
  #names: ReadonlySet<string> | undefined;
  /** Why no thread can start (the tasks module fails to load there): every later task is refused with it. */
  #broken: unknown = undefined;
  readonly #pool: _Thread[] = [];
  readonly #jobs = new Map<number, _Job>();
  #readyWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #nextId = 1;
  #closed = false;

  /**
   * Makes the runner and starts its threads; every option is checked here, so a bad one fails at start-up.
   *
   * @param options the tasks module, the number of threads, and the {@link TaskRunnerOptions}
   */
  constructor(options: WorkerTaskRunnerOptions) {
    _checkThreadsExist();
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `WorkerTaskRunner: pass options such as { module: new URL("./tasks.ts", import.meta.url), threads: 2 }, got ${String(options)}.`,
      );
    }
    _checkOptions("WorkerTaskRunner", options, _RUNNER_OPTIONS, _WORKER_OPTIONS);
    const { module, threads = _defaultThreads(), niceness = 19, abortGraceMs = 1_000, resourceLimits, ...runnerOptions } = options;
    if (!(Number.isInteger(threads) && threads >= 1)) {
      throw new RangeError(`WorkerTaskRunner: threads must be a whole number ≥ 1, got ${String(threads)}.`);
    }
    super({ ...runnerOptions, concurrency: runnerOptions.concurrency ?? threads });
    if (!(Number.isInteger(niceness) && niceness >= -20 && niceness <= 19)) {
      throw new RangeError(
        `WorkerTaskRunner: niceness must be a whole number from -20 to 19 (19: lowest priority, 0: unchanged), got ${String(niceness)}.`,
      );
    }
    _checkTimeout("WorkerTaskRunner", "abortGraceMs", abortGraceMs, true);
    if (resourceLimits !== undefined && (resourceLimits === null || typeof resourceLimits !== "object")) {
      throw new TypeError("WorkerTaskRunner: resourceLimits must be an object such as { maxOldGenerationSizeMb: 512 }.");
    }
    this.module = _moduleUrl(module);
    this.threads = threads;
    this.#niceness = _onLinux() ? niceness : 0;
    this.#graceMs = Math.min(abortGraceMs, _MAX_TIMER_MS);
    this.#resourceLimits = resourceLimits;
    // @ts-ignore: node:worker_threads has no types in this build (they would leak into users' types); used as _Worker
    this.#loading = import("node:worker_threads").then(
      (threadsModule: { Worker: unknown }) => {
        this.#Worker = threadsModule.Worker as unknown as _WorkerConstructor;
      },
      (error: unknown) => {
        this.#loadError = error;
      },
    );
    // Threads start with the runner, so the first tasks find them ready; not inside a pool thread (when
    // the tasks module makes the runner too), where the runner only serves to declare the tasks.
    if ((globalThis as Record<symbol, unknown>)[_IN_POOL_THREAD] !== true) {
      this.#loading.then(() => {
        while (this.#Worker !== undefined && !this.#closed && this.#pool.length < threads) this.#spawn();
      });
    }
  }

  /**
   * Resolves once every thread has started and imported the tasks module,
   * so the first tasks do not wait for that (and a task's timeout does not
   * count it). Await it before the server starts listening to fail early
   * when the module cannot load in a thread.
   *
   * @returns a promise that rejects with the reason when no thread can start
   */
  ready(): Promise<void> {
    return this.#loading.then(() =>
      new Promise<void>((resolve, reject) => {
        this.#readyWaiters.push({ resolve, reject });
        this.#checkReady();
      })
    );
  }

  /**
   * Waits for the tasks (as `drain()` does), then stops the threads. Call it
   * on shutdown, after the server stopped accepting requests; tasks added
   * afterwards are refused.
   *
   * @param options `timeoutMs`: give up waiting after this long and abort the running tasks
   * @returns what `drain()` returned
   */
  async close(options: { timeoutMs?: number } = {}): Promise<DrainResult> {
    const result = await this.drain(options);
    this.#closed = true;
    // Tasks still running past the deadline fail with their thread, so a later drain() does not wait for them.
    await Promise.all(this.#pool.slice().map((thread) => this.#lose(thread, "the runner was closed", undefined)));
    return result;
  }

  /** Refuses, at `addTask`, a task no thread could run or arguments no thread could receive. */
  protected override store(task: AcceptedTask): undefined {
    const definition = taskDefinition(task.fn);
    if (definition === undefined) {
      throw new TypeError(
        `WorkerTaskRunner: "${task.name}" is a plain function, so no worker thread can find it. Declare it with ` +
          `defineTask("${task.fn.name || "my-task"}", fn), export it from ${this.module}, and add the exported function.`,
      );
    }
    const { name } = definition;
    if (this.#closed) throw new Error(`WorkerTaskRunner: task "${name}" was added after close(); its threads are stopped.`);
    if (this.#broken !== undefined) {
      throw new TypeError(
        `WorkerTaskRunner: ${this.module} could not be imported in a worker thread, so no thread can run task "${name}": ` +
          `${_message(this.#broken)}`,
        { cause: this.#broken },
      );
    }
    if (this.#names !== undefined && !this.#names.has(name)) {
      throw new TypeError(
        `WorkerTaskRunner: ${this.module} exports no task named "${name}", so no worker thread can find it. ` +
          `Export it from there (export const myTask = defineTask("${name}", fn)) or give the runner the module that does.`,
      );
    }
    _checkCloneableArguments(name, task.args);
    return undefined;
  }

  /** Sends one attempt to a thread; settles when the thread reports its end, or loses it. */
  protected override invoke(task: AcceptedTask): Promise<void> {
    if (this.#Worker !== undefined) return new Promise((resolve, reject) => this.#send(task, resolve, reject));
    return this.#loading.then(() => new Promise<void>((resolve, reject) => this.#send(task, resolve, reject)));
  }

  #send(task: AcceptedTask, resolve: () => void, reject: (error: unknown) => void): void {
    const name = taskDefinition(task.fn)!.name; // store() refused any other function
    const lost: WorkerThreadTask = { name, attempt: task.attempt, args: task.args };
    if (this.#closed) {
      // A retry of a task that close() stopped: no thread is started again.
      reject(new WorkerThreadError(`${_describeTask(lost)} did not start: the runner was closed.`, { task: lost }));
      return;
    }
    if (this.#Worker === undefined || this.#broken !== undefined) {
      const cause = this.#loadError ?? this.#broken;
      reject(
        new WorkerThreadError(
          this.#Worker === undefined
            ? `This runtime cannot start worker threads (node:worker_threads), so ${_describeTask(lost)} cannot run: ${_message(cause)}`
            : `No worker thread can run ${_describeTask(lost)}: ${_message(cause)}`,
          { cause, task: lost },
        ),
      );
      return;
    }
    const thread = this.#pick();
    const id = this.#nextId++;
    const signal = task.signal;
    const job: _Job = { id, thread, task: lost, signal, resolve, reject, onAbort: undefined, aborted: false, grace: undefined };
    this.#jobs.set(id, job);
    if (thread.running++ === 0 && thread.ready) thread.worker.ref(); // a starting thread is still referenced
    const request = task.request;
    this.#post(thread, [
      _RUN,
      id,
      name,
      task.args,
      task.attempt,
      request && { method: request.method, url: request.url },
      task.responseAborted,
      _traceContext(this),
    ]);
    if (signal.aborted) this.#abort(job);
    else {
      job.onAbort = () => this.#abort(job);
      signal.addEventListener("abort", job.onAbort, { once: true });
    }
  }

  /** The thread with the fewest tasks, or a new one while there are fewer than `threads` and none is free. */
  #pick(): _Thread {
    let best: _Thread | undefined;
    let usable = 0;
    for (const thread of this.#pool) {
      if (thread.aborting > 0) continue;
      usable++;
      if (best === undefined || thread.running < best.running) best = thread;
    }
    if ((best === undefined || best.running > 0) && usable < this.threads) best = this.#spawn();
    return best!;
  }

  #spawn(): _Thread {
    const workerData: _ThreadData = { module: this.module, niceness: this.#niceness };
    // Plain JavaScript in src/ and dist/ alike (see the note at its top); resolved here, not at load,
    // since a bundle for Workers has no file URL to resolve it against.
    const threadEntry = new URL("./worker/thread.js", import.meta.url);
    const worker = new this.#Worker!(
      threadEntry,
      this.#resourceLimits === undefined ? { workerData } : { workerData, resourceLimits: this.#resourceLimits },
    );
    const thread: _Thread = { worker, running: 0, aborting: 0, outbox: [], ready: false, lost: false };
    // A starting thread keeps the process alive (someone may await ready()); an idle one does not.
    worker.on("message", (message) => this.#receive(thread, message));
    worker.on("error", (error) => {
      if (!thread.ready && !thread.lost) this.#broken ??= error;
      this.#lose(thread, thread.ready ? _describeCrash(error) : `its worker thread could not start: ${_message(error)}`, error);
    });
    worker.on("exit", (code) => this.#lose(thread, `its worker thread exited (code ${code})`, undefined));
    this.#pool.push(thread);
    return thread;
  }

  #post(thread: _Thread, entry: unknown[]): void {
    if (thread.outbox.length === 0) queueMicrotask(() => this.#flush(thread));
    thread.outbox.push(entry);
  }

  #flush(thread: _Thread): void {
    const message = thread.outbox;
    thread.outbox = [];
    if (!thread.lost) thread.worker.postMessage(message);
  }

  #receive(thread: _Thread, message: unknown[][]): void {
    for (const entry of message) {
      if (entry[0] === _READY) {
        thread.ready = true;
        if (thread.running === 0) thread.worker.unref();
        this.#names ??= new Set(entry[1] as string[]);
        this.#checkReady();
        if (thread.aborting > 0) { for (const job of this.#jobs.values()) if (job.thread === thread && job.aborted) this.#startGrace(job); }
        continue;
      }
      if (entry[0] === _BROKEN) {
        const error = _fromTransferable(entry[1]);
        this.#broken ??= error;
        this.#lose(thread, `its worker thread could not import ${this.module}: ${_message(error)}`, error);
        return;
      }
      const job = this.#jobs.get(entry[0] as number);
      if (job === undefined) continue; // its thread was given up meanwhile
      this.#end(job);
      if (entry.length === 1) job.resolve();
      else job.reject(_fromTransferable(entry[1]));
    }
  }

  /** Forwards an abort to the thread, and gives the thread `abortGraceMs` to end the task. */
  #abort(job: _Job): void {
    if (this.#jobs.get(job.id) !== job || job.aborted) return;
    job.aborted = true;
    if (job.thread.aborting++ === 0 && !this.#closed) {
      // The thread takes no new task until it ended this one (or is terminated): start its stand-in now.
      let usable = 0;
      for (const thread of this.#pool) if (thread.aborting === 0) usable++;
      if (usable < this.threads) this.#spawn();
    }
    this.#post(job.thread, [_ABORT, job.id, _toTransferable(job.signal.reason)]);
    // A thread still loading the tasks module has not started the task: it is not stuck, so it gets its grace once ready.
    if (job.thread.ready) this.#startGrace(job);
  }

  #startGrace(job: _Job): void {
    const thread = job.thread;
    job.grace = setTimeout(() => {
      if (this.#jobs.get(job.id) !== job) return;
      this.#lose(
        thread,
        `its worker thread was terminated: the task did not end within ${this.#graceMs} ms (abortGraceMs) of its abort. ` +
          `A long loop should check this.signal.aborted now and then`,
        job.signal.reason,
      );
    }, this.#graceMs);
  }

  #end(job: _Job): void {
    this.#jobs.delete(job.id);
    const thread = job.thread;
    if (job.aborted) thread.aborting--;
    if (job.grace !== undefined) clearTimeout(job.grace);
    if (job.onAbort !== undefined) job.signal.removeEventListener("abort", job.onAbort);
    if (--thread.running === 0 && !thread.lost) {
      if (thread.ready) thread.worker.unref();
      // A thread that stood aside while ending an aborted task was replaced meanwhile: one too many now.
      let usable = 0;
      for (const other of this.#pool) if (other.aborting === 0) usable++;
      if (usable > this.threads) void this.#lose(thread, "", undefined); // idle: no task to fail
    }
  }

  /** A thread crashed, ran out of memory, exited or is terminated: its tasks fail, and a new thread starts. */
  #lose(thread: _Thread, reason: string, cause: unknown): Promise<unknown> {
    if (thread.lost) return Promise.resolve();
    thread.lost = true;
    this.#pool.splice(this.#pool.indexOf(thread), 1);
    let terminated: Promise<unknown>;
    try {
      terminated = Promise.resolve(thread.worker.terminate()).catch(() => {});
    } catch {
      terminated = Promise.resolve(); // already gone
    }
    this.#checkReady();
    for (const job of [...this.#jobs.values()]) {
      if (job.thread !== thread) continue;
      this.#end(job);
      job.reject(new WorkerThreadError(`${_describeTask(job.task)} did not finish: ${reason}.`, { cause, task: job.task }));
    }
    // Start the replacement now, so a retry (or the next task) finds it ready instead of waiting for it to load.
    if (!this.#closed && this.#broken === undefined && this.#pool.length < this.threads) this.#spawn();
    return terminated;
  }

  #checkReady(): void {
    if (this.#readyWaiters.length === 0) return;
    const cause = this.#Worker === undefined ? this.#loadError : this.#broken;
    let ready = 0;
    for (const thread of this.#pool) if (thread.ready && thread.aborting === 0) ready++;
    const inPoolThread = (globalThis as Record<symbol, unknown>)[_IN_POOL_THREAD] === true;
    if (cause === undefined && ready < this.threads && !inPoolThread && !this.#closed) return;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const { resolve, reject } of waiters) {
      if (cause === undefined) resolve();
      else reject(new WorkerThreadError(`No worker thread can start: ${_message(cause)}`, { cause }));
    }
  }
}

function _describeTask(task: WorkerThreadTask): string {
  return `Task "${task.name}" (attempt ${task.attempt})`;
}

function _describeCrash(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === "ERR_WORKER_OUT_OF_MEMORY") return "its worker thread ran out of memory (see resourceLimits)";
  return `its worker thread crashed: ${_message(error)}`;
}

function _message(error: unknown): string {
  return String((error as Error)?.message ?? error);
}

/** Throws at once where there are no threads to start. */
function _checkThreadsExist(): void {
  const navigator = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  if (navigator?.userAgent === "Cloudflare-Workers") {
    throw new Error(
      "WorkerTaskRunner: Cloudflare Workers have no threads to run tasks on. Use the plain TaskRunner there " +
        "(tasks run after the response, kept alive by waitUntil), or hand CPU-heavy work to a queue.",
    );
  }
}

function _defaultThreads(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof cores === "number" && cores >= 1 ? Math.max(1, cores - 1) : 2;
}

function _onLinux(): boolean {
  const process = (globalThis as { process?: { platform?: string } }).process;
  return process?.platform === "linux";
}

function _moduleUrl(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module === "string") {
    if (module.startsWith("/")) return new URL("file://" + module.split("/").map(encodeURIComponent).join("/")).href;
    if (/^(file|https?|data|jsr|npm):/.test(module)) return new URL(module).href;
  }
  throw new TypeError(
    `WorkerTaskRunner: module must be the URL of the module that exports your tasks, ` +
      `e.g. new URL("./tasks.ts", import.meta.url), got ${typeof module === "string" ? JSON.stringify(module) : String(module)}.`,
  );
}

/**
 * Durable background tasks on Redis with BullMQ: the same
 * `addTask(sendWelcomeEmail, email, name)` as in-process, but the task is
 * stored in Redis before the response is sent and runs in a worker process
 * after the response has been handed over, at least once, even if the web
 * process dies. Tasks that travel are declared with `defineTask(name, fn)`
 * and take JSON arguments. This is the only module that imports `bullmq`.
 *
 * @example The web process and the worker share one list of tasks (needs Redis, so not run as a doc test)
 * ```ts ignore
 * import { defineTask, getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
 * import { BullMQTaskRunner, createTaskWorker } from "@background/tasks/bullmq";
 *
 * const sendWelcomeEmail = defineTask("send-welcome-email", async (to: string, username: string) => {
 *   console.log(`welcome mail to ${to} (${username})`);
 * }, { retries: 3, timeoutMs: 10_000 });
 * const connection = { url: "redis://127.0.0.1:6379" };
 *
 * // web process
 * const runner = new BullMQTaskRunner({ connection, tasks: [sendWelcomeEmail] });
 * const fetch = withBackgroundTasks((request: Request) => {
 *   getBackgroundTasks(request).addTask(sendWelcomeEmail, "ada@example.com", "ada");
 *   return Response.json({ message: "Registered" });
 * }, { runner });
 *
 * // worker process
 * const worker = createTaskWorker({ connection, tasks: [sendWelcomeEmail], concurrency: 8 });
 * ```
 *
 * @module
 */
import { type ConnectionOptions, type Job, type JobsOptions, Queue, UnrecoverableError, Worker, type WorkerOptions } from "bullmq";
import type { AcceptedTask, DrainResult, TaskContext, TaskErrorInfo, TaskFunction, TaskRequestInfo, TaskRunnerOptions } from "./types.ts";
import { TaskRunner } from "./TaskRunner.ts";
import { type TaskDefinition, taskDefinition } from "./defineTask.ts";
import { idempotencyKeyOf } from "./idempotencyKey.ts";
import { TaskTimeoutError } from "./errors.ts";
import { _checkTimeout, _MAX_TIMER_MS } from "./_settings.ts";
import { _checkOptions, type _OptionKeys, _RUNNER_OPTIONS } from "./_options.ts";
import { _TaskContext } from "./runner/TaskContext.ts";
import { _KindLimiter, _ownLimit } from "./runner/limiter.ts";
import { _timeoutOf, _withinTimeout } from "./runner/attempt.ts";

/** The queue name used when none is given. */
export const DEFAULT_QUEUE_NAME = "background-tasks";

/** What a {@link BullMQTaskRunner} does when Redis cannot store a request's tasks. */
export type UnavailablePolicy = "fail" | "in-process";

/** The BullMQ job options a {@link BullMQTaskRunner} lets you set for every job it adds. */
export type DurableJobOptions = Pick<JobsOptions, "attempts" | "backoff" | "removeOnComplete" | "removeOnFail" | "priority" | "lifo">;

/** Options of a {@link BullMQTaskRunner}. The {@link TaskRunnerOptions} apply to promotions and to tasks run in-process. */
export interface BullMQTaskRunnerOptions extends TaskRunnerOptions {
  /**
   * How to reach Redis: BullMQ's connection options (`{ host, port }`,
   * `{ url }`, …) or a client instance. Options get `enableOfflineQueue:
   * false` unless they set it, so adding fails fast while Redis is down.
   * Needed unless `queue` is given.
   */
  readonly connection?: ConnectionOptions;
  /** A BullMQ `Queue` to add to instead of one made from `connection`; the runner does not close it. */
  readonly queue?: Queue;
  /**
   * The queue's name; workers must use the same.
   * @default "background-tasks"
   */
  readonly queueName?: string;
  /**
   * The tasks the workers know. When given, adding any other task throws at
   * the call instead of failing later in a worker.
   * @default undefined (any `defineTask` task is accepted)
   */
  readonly tasks?: readonly TaskFunction[];
  /**
   * Tasks that stay in this process even with this runner, run as the plain
   * `TaskRunner` would: those that need this process's memory or files
   * (an upload on this machine's disk), or take arguments JSON cannot carry.
   * Plain functions may be listed too.
   * @default []
   */
  readonly inProcess?: readonly TaskFunction[];
  /**
   * When Redis cannot store a request's tasks (down, or slower than
   * `storeTimeoutMs`): `"fail"` answers the request with 503 and gives its
   * tasks up; `"in-process"` runs them in this process instead, as the
   * plain `TaskRunner` would (lost if this process dies).
   * @default "fail"
   */
  readonly onUnavailable?: UnavailablePolicy;
  /**
   * How long to wait for Redis to store a task before treating it as unavailable.
   * @default 2_000
   */
  readonly storeTimeoutMs?: number;
  /**
   * Jobs are stored delayed by this much and promoted once the response has
   * been sent; if this process dies first, the job starts anyway when the
   * delay passes. Keep it longer than your slowest response.
   * @default 60_000
   */
  readonly recoverAfterMs?: number;
  /**
   * Job options for every job. `attempts` defaults to the task's (or the
   * runner's) `retries` + 1; `backoff` to `retryDelayMs` when it is a number,
   * else exponential from 1 s.
   * @default { removeOnComplete: { age: 86_400, count: 1_000 }, removeOnFail: { age: 604_800, count: 10_000 } }
   */
  readonly jobOptions?: DurableJobOptions;
}

/** The task context inside a worker: a {@link TaskContext} plus the job's id and a stable idempotency key. */
export interface DurableTaskContext extends TaskContext {
  /**
   * The BullMQ job id: the same on every attempt and after a worker crash.
   * `undefined` when the task ran in-process (`onUnavailable: "in-process"`).
   */
  readonly jobId: string | undefined;
  /**
   * The same on every attempt, after a worker crash, and for the same work
   * added twice: the task's own key (`defineTask`'s `idempotencyKey` or
   * `withIdempotencyKey`) when it has one, else the job id. Hand it to a sink
   * that deduplicates (a mail `Message-ID`, a payment provider's idempotency
   * key, a file created exclusively) to make the at-least-once run count once.
   */
  readonly idempotencyKey: string | undefined;
}

/** A worker's task context: the shared one plus the job's id (its idempotency key comes from the source). */
class _DurableContext extends _TaskContext implements DurableTaskContext {
  readonly #jobId: string | undefined;

  constructor(source: ConstructorParameters<typeof _TaskContext>[0], attempt: number, signal: AbortSignal, jobId: string | undefined) {
    super(source, attempt, signal);
    this.#jobId = jobId;
  }

  get jobId(): string | undefined {
    return this.#jobId;
  }

  override toJSON(): ReturnType<_TaskContext["toJSON"]> & { jobId: string | undefined } {
    return { ...super.toJSON(), jobId: this.jobId };
  }
}

/** Why a task could not be stored: Redis was down or too slow. The request answers 503 (or runs the task in-process). */
export class QueueUnavailableError extends Error {
  /** Always `"QueueUnavailableError"`. */
  override readonly name = "QueueUnavailableError";

  /**
   * Made by the runner when Redis cannot store a task.
   *
   * @param message what failed
   * @param options the underlying error as `cause`
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What a job carries: the JSON arguments and where the task came from. */
interface _JobData {
  readonly v: 1;
  readonly args: unknown[];
  readonly request?: TaskRequestInfo;
  readonly responseAborted?: boolean;
  /** The task's idempotency key, when it has one (the job id derives from it). */
  readonly key?: string;
  /** Which add stored a keyed job: only that one may remove it (a second add of the same key returns the first job). */
  readonly addedBy?: string;
}

/**
 * The job id of a keyed task: the same for the same task and key, so BullMQ
 * stores the same work once. Percent-encoded, since BullMQ refuses `:` in ids.
 */
export function durableJobId(name: string, key: string): string {
  return `${encodeURIComponent(name)}~${encodeURIComponent(key)}`;
}

/** A task's stored copy, as this process knows it. */
interface _Stored {
  /** Resolves with the job once stored, or `undefined` when the task runs in-process instead. */
  readonly ready: Promise<Job | undefined>;
  job: Job | undefined;
  /** Set once the job must not run: its store gave up, or the task was discarded. */
  abandoned: boolean;
}

const noop = (): void => {};

/**
 * A durable {@link TaskRunner}: each task is added to a BullMQ queue as a
 * delayed job while the handler runs (the response waits until Redis has
 * it), and promoted once the response has been sent, so a worker from
 * {@link createTaskWorker} runs it. The guarantee is at-least-once: a job
 * whose worker dies is run again, so tasks should be idempotent.
 *
 * Only `defineTask` tasks with JSON arguments can travel; anything else
 * throws a `TypeError` at `addTask`. When Redis is unavailable the request
 * answers 503, or with `onUnavailable: "in-process"` the task runs here.
 * `stats()` and the events count promotions (and in-process runs), not the
 * work done by workers.
 *
 * @example Needs Redis, so not run as a doc test
 * ```ts ignore
 * import { defineTask, getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
 * import { BullMQTaskRunner } from "@background/tasks/bullmq";
 *
 * const writeLog = defineTask("write-log", (line: string) => console.log(line));
 * const runner = new BullMQTaskRunner({
 *   connection: { url: "redis://127.0.0.1:6379" },
 *   tasks: [writeLog],
 *   onUnavailable: "in-process",
 * });
 * const fetch = withBackgroundTasks((request: Request) => {
 *   getBackgroundTasks(request).addTask(writeLog, `served ${request.url}`);
 *   return new Response("ok");
 * }, { runner });
 * // on shutdown: await runner.close({ timeoutMs: 10_000 });
 * ```
 */
export class BullMQTaskRunner extends TaskRunner {
  /** The queue jobs are added to. */
  readonly queue: Queue;
  readonly #ownsQueue: boolean;
  readonly #known: ReadonlySet<string> | undefined;
  readonly #inProcess: ReadonlySet<TaskFunction>;
  readonly #onUnavailable: UnavailablePolicy;
  readonly #storeTimeoutMs: number;
  readonly #recoverAfterMs: number;
  readonly #jobOptions: DurableJobOptions;
  readonly #retries: number;
  readonly #stored = new WeakMap<AcceptedTask, _Stored>();
  #lastWarning = 0;
  /** Why Redis cannot be reached, from the connection's last error until it is ready again. */
  #outage: { readonly error: Error; readonly since: number } | undefined;
  #connected = false;

  /**
   * Makes the runner and, unless `queue` is given, its BullMQ queue.
   *
   * @param options the connection or queue, the known tasks, and what to do when Redis is down
   */
  constructor(options: BullMQTaskRunnerOptions) {
    _checkOptions("BullMQTaskRunner", options, _RUNNER_OPTIONS, _BULLMQ_RUNNER_OPTIONS);
    super(options);
    const {
      queueName = DEFAULT_QUEUE_NAME,
      onUnavailable = "fail",
      storeTimeoutMs = 2_000,
      recoverAfterMs = 60_000,
    } = options;
    if (onUnavailable !== "fail" && onUnavailable !== "in-process") {
      throw new RangeError(`BullMQTaskRunner: onUnavailable must be "fail" or "in-process", got ${JSON.stringify(onUnavailable)}.`);
    }
    if (!(storeTimeoutMs > 0 && storeTimeoutMs <= _MAX_TIMER_MS)) {
      throw new RangeError(
        `BullMQTaskRunner: storeTimeoutMs must be a number of milliseconds > 0 and at most ${_MAX_TIMER_MS}, got ${
          String(storeTimeoutMs)
        }.`,
      );
    }
    if (!(recoverAfterMs > 0 && Number.isFinite(recoverAfterMs))) {
      throw new RangeError(`BullMQTaskRunner: recoverAfterMs must be a positive number of milliseconds, got ${String(recoverAfterMs)}.`);
    }
    if (options.queue !== undefined) {
      this.queue = options.queue;
      this.#ownsQueue = false;
    } else if (options.connection !== undefined) {
      // deno-lint-ignore no-explicit-any
      this.queue = new Queue<any>(queueName, { connection: _failFast(options.connection) });
      this.queue.on("error", (error: Error) => {
        // An error while connected (a failed command) is no outage; one while not connected is.
        if (this.#connected) this.#warn("Redis error:", error);
        else this.#connectionLost(error);
      });
      this.queue.on("ioredis:close", () => {
        this.#connected = false;
        this.#connectionLost(new Error("the connection was closed"));
      });
      // The backend is an EventEmitter; the build's types know no node:events.
      (this.queue.getBackend() as unknown as _Emitter).on("ready", () => this.#connectionBack());
      this.#ownsQueue = true;
    } else {
      throw new TypeError(
        "BullMQTaskRunner: give a connection ({ connection: { url: process.env.REDIS_URL } }) or a BullMQ queue ({ queue }).",
      );
    }
    this.#known = options.tasks === undefined ? undefined : new Set(_definedNames("BullMQTaskRunner", options.tasks).keys());
    this.#inProcess = new Set(options.inProcess ?? []);
    this.#onUnavailable = onUnavailable;
    this.#storeTimeoutMs = storeTimeoutMs;
    this.#recoverAfterMs = recoverAfterMs;
    this.#retries = options.retries ?? 0;
    const { retryDelayMs } = options;
    this.#jobOptions = {
      backoff: typeof retryDelayMs === "number" ? { type: "fixed", delay: retryDelayMs } : { type: "exponential", delay: 1_000 },
      removeOnComplete: { age: 86_400, count: 1_000 },
      removeOnFail: { age: 604_800, count: 10_000 },
      ...options.jobOptions,
    };
  }

  /**
   * Waits for the tasks added so far to be promoted (or run, when in-process),
   * then closes the queue if the runner made it. Call it on shutdown, after
   * the server stopped accepting requests.
   *
   * @param options `timeoutMs`: give up waiting after this long
   * @returns what `drain()` returned
   */
  async close(options: { timeoutMs?: number } = {}): Promise<DrainResult> {
    const result = await this.drain(options);
    if (this.#ownsQueue) await this.queue.close();
    return result;
  }

  /** Validates the task and adds it to Redis as a delayed job; the returned promise settles once Redis has it. */
  protected override store(task: AcceptedTask): Promise<void> | undefined {
    if (this.#inProcess.has(task.fn)) return undefined;
    const definition = taskDefinition(task.fn);
    if (definition === undefined) {
      throw new TypeError(
        `BullMQTaskRunner: "${task.name}" is a plain function, so no worker can find it. Declare it once with ` +
          `defineTask("${task.fn.name || "my-task"}", fn) and add the returned function, or list it in inProcess: [...].`,
      );
    }
    const name = definition.name;
    if (this.#known !== undefined && !this.#known.has(name)) {
      throw new TypeError(
        `BullMQTaskRunner: task "${name}" is not in the runner's tasks list, so the workers may not know it. ` +
          `Add it to tasks: [...] here and in the worker, or to inProcess: [...].`,
      );
    }
    const args = _jsonArguments(name, task.args);
    const key = idempotencyKeyOf(task.fn, task.args);
    const request = task.request === undefined ? undefined : { method: task.request.method, url: task.request.url };
    const addedBy = key === undefined ? undefined : globalThis.crypto.randomUUID();
    const data: _JobData = { v: 1, args, request, key, addedBy };
    const retries = definition.settings.retries ?? this.#retries;
    const opts: JobsOptions = {
      attempts: retries + 1,
      ...this.#jobOptions,
      jobId: key === undefined ? globalThis.crypto.randomUUID() : durableJobId(name, key),
      delay: this.#recoverAfterMs,
    };

    // deno-lint-ignore prefer-const -- assigned once, after the callbacks that read it are made
    let entry: _Stored;
    let added: Promise<Job>;
    try {
      // While Redis is known to be unreachable, refuse at once: before the first connection
      // BullMQ would wait for it, and every request would take storeTimeoutMs to fail.
      added = this.#outage === undefined ? this.queue.add(name, data, opts) : Promise.reject(this.#outage.error);
    } catch (error) {
      added = Promise.reject(error);
    }
    added.then((job) => {
      entry.job = job;
      if (entry.abandoned) this.#remove(job);
    }, noop);
    const ready = new Promise<Job | undefined>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () => unavailable(new Error(`Redis did not store the job within ${this.#storeTimeoutMs} ms.`)),
        this.#storeTimeoutMs,
      );
      const unavailable = (cause: unknown): void => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        entry.abandoned = true;
        if (this.#onUnavailable === "in-process") {
          this.#warn(`could not store task "${name}"; running it in this process instead:`, cause);
          resolve(undefined);
        } else {
          reject(new QueueUnavailableError(`Task "${name}" could not be stored in the BullMQ queue "${this.queue.name}".`, { cause }));
        }
      };
      added.then((job) => {
        clearTimeout(timer);
        settled = true;
        resolve(job);
      }, unavailable);
    });
    entry = { ready, job: undefined, abandoned: false };
    this.#stored.set(task, entry);
    const stored = ready.then(noop);
    stored.catch(noop); // reported by whoever awaits it (the wrapper answers 503), never as unhandled
    return stored;
  }

  /** Promotes the stored job so a worker runs it now, or runs the task here when it could not be stored. */
  protected override invoke(task: AcceptedTask): unknown {
    const entry = this.#stored.get(task);
    if (entry === undefined) return super.invoke(task);
    return entry.ready.then((job) => (job === undefined ? super.invoke(task) : this.#promote(job, task)));
  }

  /** Removes the stored job of a task that will never start. */
  protected override discard(task: AcceptedTask): void {
    const entry = this.#stored.get(task);
    if (entry === undefined || entry.abandoned) return;
    entry.abandoned = true;
    if (entry.job !== undefined) this.#remove(entry.job);
  }

  async #promote(job: Job, task: AcceptedTask): Promise<void> {
    try {
      if (task.responseAborted) await job.updateData({ ...(job.data as _JobData), responseAborted: true });
      await job.promote();
    } catch (error) {
      // Not lost: the job is still stored and starts once its delay passes, or a
      // worker already took it.
      if (!/not in the delayed state|Missing key/i.test(String((error as Error)?.message))) {
        this.#warn(`could not promote job ${job.id} ("${job.name}"); it starts within ${this.#recoverAfterMs} ms instead:`, error);
      }
    }
  }

  #remove(job: Job): void {
    const addedBy = (job.data as _JobData).addedBy;
    // A keyed job may be another request's, stored first under the same key: remove only our own.
    const removed = addedBy === undefined ? job.remove() : this.queue.getJob(job.id!).then((stored) => {
      if (stored !== undefined && (stored.data as Partial<_JobData>)?.addedBy === addedBy) return stored.remove();
    });
    removed.catch((error: unknown) => {
      this.#warn(`could not remove job ${job.id} ("${job.name}") of a task given up; it may still run:`, error);
    });
  }

  /** One line when Redis becomes unreachable, none for the errors of each reconnection attempt. */
  #connectionLost(error: Error): void {
    if (this.#outage !== undefined) return;
    this.#outage = { error, since: Date.now() };
    console.error(
      `[background-tasks/bullmq] Redis is unreachable (${error.message || error.name}); tasks for the queue "${this.queue.name}" ` +
        `are refused until it is back.`,
    );
  }

  /** One line when Redis is reachable again after an outage. */
  #connectionBack(): void {
    this.#connected = true;
    const outage = this.#outage;
    if (outage === undefined) return;
    this.#outage = undefined;
    console.error(`[background-tasks/bullmq] Redis is reachable again, after ${((Date.now() - outage.since) / 1000).toFixed(1)} s.`);
  }

  /** At most one warning every 10 s: Redis outages make many. */
  #warn(message: string, error: unknown): void {
    const now = Date.now();
    if (now - this.#lastWarning < 10_000) return;
    this.#lastWarning = now;
    console.error(`[background-tasks/bullmq] ${message} ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The takeover settings {@link createTaskWorker} uses unless told otherwise:
 * a job whose worker died is run by another worker within about
 * `lockDuration + 2 × stalledInterval` (16 s; usually 11 s), instead of BullMQ's 60–90 s.
 */
export const DEFAULT_TAKEOVER: {
  readonly lockDuration: number;
  readonly lockRenewTime: number;
  readonly stalledInterval: number;
  readonly maxStalledCount: number;
} = Object.freeze({
  lockDuration: 6_000,
  lockRenewTime: 3_000,
  stalledInterval: 5_000,
  maxStalledCount: 2,
});

/** Options of {@link createTaskWorker}: BullMQ's worker options plus the tasks to run. */
export interface TaskWorkerOptions
  extends Omit<WorkerOptions, "connection" | "lockDuration" | "lockRenewTime" | "stalledInterval" | "maxStalledCount"> {
  /** How to reach Redis: BullMQ's connection options or a client instance. */
  readonly connection: ConnectionOptions;
  /**
   * The queue to take jobs from; the same as the runner's.
   * @default "background-tasks"
   */
  readonly queueName?: string;
  /** The `defineTask` tasks this worker can run, found by name. */
  readonly tasks: readonly TaskFunction[];
  /**
   * Abort and fail an attempt after this many milliseconds (at most
   * 2147483647; `Infinity` for none), unless the task's `defineTask`
   * settings say otherwise. A failed attempt is retried while the job has
   * attempts left.
   * @default undefined (no timeout)
   */
  readonly timeoutMs?: number;
  /**
   * Called once for each job that finally failed. Without it, failures are
   * written to `console.error`; every failed job stays in the queue's failed
   * set for inspection (within the runner's `removeOnFail` bound).
   * @default undefined (log to console.error)
   */
  readonly onError?: (error: unknown, info: TaskErrorInfo) => void;
  /**
   * How long a running job's lock lasts without renewal. A job whose worker
   * died is free again this long after the last renewal. Shorter: faster
   * takeover; but a worker whose event loop is blocked for longer than
   * `lockDuration - lockRenewTime` (a long synchronous computation, a huge
   * GC pause) loses the lock, and another worker starts the job while the
   * first still runs it (the first one's `this.signal` is then aborted).
   * @default 6_000
   */
  readonly lockDuration?: number;
  /**
   * How often the worker renews the locks of its running jobs (one Redis
   * call for all of them). Must be below `lockDuration`.
   * @default 3_000 (half of `lockDuration` when that is given)
   */
  readonly lockRenewTime?: number;
  /**
   * How often a stalled-job check runs (one at a time across all workers of
   * the queue: one Redis script per interval, whatever the number of
   * workers). A job whose lock expired goes back to the queue at the next
   * check. Shorter: faster takeover, more Redis work (the script reads every
   * active job id).
   * @default 5_000
   */
  readonly stalledInterval?: number;
  /**
   * How many times a job may be taken over after its worker died before it
   * is failed instead ("job stalled more than allowable limit"). Higher:
   * survives more crashes and forced shutdowns; but a job that itself kills
   * its worker (out of memory) takes down `maxStalledCount + 1` workers.
   * @default 2
   */
  readonly maxStalledCount?: number;
}

/**
 * Starts a BullMQ worker that runs the queued tasks of a
 * {@link BullMQTaskRunner}: it looks each job's task up by its `defineTask`
 * name and calls it with the stored arguments and a
 * {@link DurableTaskContext} as `this`. Retries follow the job's attempts
 * and backoff; a job whose worker died is taken over by another worker once
 * its lock expires, within `lockDuration + 2 × stalledInterval` (16 s with
 * {@link DEFAULT_TAKEOVER}; usually 11 s). Run as many workers, on as many machines, as you like.
 * Close it on shutdown: `worker.close()` waits for the running tasks.
 *
 * @param options the connection, the tasks, and BullMQ worker options such as `concurrency`
 * @returns the BullMQ `Worker`, already running
 *
 * @example Needs Redis, so not run as a doc test
 * ```ts ignore
 * import { defineTask } from "@background/tasks";
 * import { createTaskWorker } from "@background/tasks/bullmq";
 *
 * const writeLog = defineTask("write-log", (line: string) => console.log(line));
 * const worker = createTaskWorker({
 *   connection: { url: "redis://127.0.0.1:6379" },
 *   tasks: [writeLog],
 *   concurrency: 8,
 *   timeoutMs: 30_000,
 * });
 * process.once("SIGTERM", () => void worker.close());
 * ```
 */
export function createTaskWorker(options: TaskWorkerOptions): Worker {
  _checkOptions("createTaskWorker", options, _TASK_WORKER_OPTIONS, _BULLMQ_WORKER_OPTIONS);
  const { queueName = DEFAULT_QUEUE_NAME, tasks, timeoutMs: workerTimeoutMs, onError, ...workerOptions } = options;
  if (workerTimeoutMs !== undefined) _checkTimeout("createTaskWorker", "timeoutMs", workerTimeoutMs);
  const takeover = _takeover(options);
  const byName = _definedNames("createTaskWorker", tasks);
  // Tasks with their own `concurrency`: jobs past it wait here (each holding one of the worker's slots).
  const limiter = new _KindLimiter<TaskDefinition, () => void>();
  // The running attempts' controllers, to stop an attempt whose lock was lost (another worker may take the job).
  const running = new Map<string, AbortController>();

  // deno-lint-ignore no-explicit-any
  const worker = new Worker<any>(queueName, async (job: Job, _token?: string, cancel?: AbortSignal): Promise<void> => {
    const fn = byName.get(job.name);
    if (fn === undefined) {
      throw new UnrecoverableError(
        `No task named "${job.name}" in this worker's tasks list; add it to createTaskWorker({ tasks: [...] }).`,
      );
    }
    const data = (job.data ?? {}) as Partial<_JobData>;
    const controller = new AbortController();
    const onCancel = (): void => controller.abort(cancel?.reason);
    cancel?.addEventListener("abort", onCancel, { once: true });
    const context = new _DurableContext(
      {
        name: job.name,
        request: data.request,
        responseAborted: data.responseAborted === true,
        idempotencyKey: typeof data.key === "string" ? data.key : job.id,
      },
      Math.max(job.attemptsStarted, job.attemptsMade + 1),
      controller.signal,
      job.id,
    );
    if (job.id !== undefined) running.set(job.id, controller);
    const definition = taskDefinition(fn);
    const limit = _ownLimit(definition?.settings.concurrency);
    if (limit !== undefined) {
      await new Promise<void>((resolve) => {
        if (limiter.acquire(definition!, limit, resolve)) resolve(); // else the place is handed over later
      });
    }
    const timeoutMs = _timeoutOf(fn, workerTimeoutMs);
    try {
      const run = Promise.resolve().then(() => fn.apply(context, Array.isArray(data.args) ? data.args : []));
      await _withinTimeout(run, timeoutMs, () => new TaskTimeoutError(job.name, timeoutMs!), (error) => controller.abort(error));
    } finally {
      if (job.id !== undefined && running.get(job.id) === controller) running.delete(job.id);
      cancel?.removeEventListener("abort", onCancel);
      if (limit !== undefined) limiter.release(definition!)?.();
    }
  }, { ...workerOptions, ...takeover, connection: options.connection });

  worker.on("lockRenewalFailed", (jobIds: string[]) => {
    for (const id of jobIds) {
      running.get(id)?.abort(new Error(`Job ${id} lost its lock (this worker was too slow to renew it); another worker may run it now.`));
    }
  });

  let lastWarning = 0;
  worker.on("error", (error: Error) => {
    const now = Date.now();
    if (now - lastWarning < 10_000) return;
    lastWarning = now;
    console.error("[background-tasks/bullmq] worker error:", error);
  });
  worker.on("failed", (job: Job | undefined, error: Error) => {
    if (job === undefined) return;
    const maxAttempts = job.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= maxAttempts;
    if (!final) return;
    const info: TaskErrorInfo = {
      name: job.name,
      attempt: job.attemptsMade,
      maxAttempts,
      request: (job.data as Partial<_JobData> | undefined)?.request,
      timedOut: error instanceof TaskTimeoutError,
      final,
    };
    if (onError === undefined) {
      console.error(
        `[background-tasks/bullmq] job ${job.id} ("${job.name}") failed for good after ${info.attempt} of ${maxAttempts} attempts:`,
        error,
      );
      return;
    }
    try {
      onError(error, info);
    } catch (hookError) {
      console.error("[background-tasks/bullmq] onError threw while reporting a failed job:", hookError);
    }
  });
  return worker;
}

/** The lock and stalled-check settings of a worker: the defaults, or the given ones, checked. */
function _takeover(options: TaskWorkerOptions): typeof DEFAULT_TAKEOVER {
  const lockDuration = options.lockDuration ?? DEFAULT_TAKEOVER.lockDuration;
  const lockRenewTime = options.lockRenewTime ??
    (options.lockDuration === undefined ? DEFAULT_TAKEOVER.lockRenewTime : Math.floor(lockDuration / 2));
  const stalledInterval = options.stalledInterval ?? DEFAULT_TAKEOVER.stalledInterval;
  const maxStalledCount = options.maxStalledCount ?? DEFAULT_TAKEOVER.maxStalledCount;
  for (
    const [name, value] of [["lockDuration", lockDuration], ["lockRenewTime", lockRenewTime], ["stalledInterval", stalledInterval]] as const
  ) {
    if (!(Number.isInteger(value) && value > 0 && value <= _MAX_TIMER_MS)) {
      throw new RangeError(`createTaskWorker: ${name} must be a whole number of milliseconds > 0, got ${String(value)}.`);
    }
  }
  if (lockRenewTime >= lockDuration) {
    throw new RangeError(
      `createTaskWorker: lockRenewTime (${lockRenewTime}) must be below lockDuration (${lockDuration}), or locks expire between renewals; ` +
        `leave it out to renew at half of lockDuration.`,
    );
  }
  if (!(Number.isInteger(maxStalledCount) && maxStalledCount >= 0)) {
    throw new RangeError(`createTaskWorker: maxStalledCount must be a whole number ≥ 0, got ${String(maxStalledCount)}.`);
  }
  return { lockDuration, lockRenewTime, stalledInterval, maxStalledCount };
}

/** Maps each task's `defineTask` name to it; throws for plain functions and duplicate names. */
function _definedNames(where: string, tasks: readonly TaskFunction[]): Map<string, TaskFunction> {
  if (!Array.isArray(tasks)) throw new TypeError(`${where}: tasks must be an array of defineTask(...) functions.`);
  const byName = new Map<string, TaskFunction>();
  for (const fn of tasks) {
    const definition = typeof fn === "function" ? taskDefinition(fn) : undefined;
    if (definition === undefined) {
      throw new TypeError(
        `${where}: every entry of tasks must come from defineTask(name, fn); got ${
          typeof fn === "function" ? `the plain function "${fn.name || "anonymous"}"` : typeof fn
        }.`,
      );
    }
    const existing = byName.get(definition.name);
    if (existing !== undefined && existing !== fn) throw new TypeError(`${where}: two tasks are named "${definition.name}".`);
    byName.set(definition.name, fn);
  }
  return byName;
}

/** The part of `node:events`' EventEmitter the runner uses. */
interface _Emitter {
  on(event: string, listener: () => void): unknown;
}

/** Connection options that make commands fail at once while Redis is unreachable, instead of queueing them. */
function _failFast(connection: ConnectionOptions): ConnectionOptions {
  const isPlainOptions = connection !== null && typeof connection === "object" &&
    (Object.getPrototypeOf(connection) === Object.prototype || Object.getPrototypeOf(connection) === null);
  return isPlainOptions ? { enableOfflineQueue: false, ...connection } : connection;
}

/**
 * Checks that a task's arguments survive JSON unchanged and returns them,
 * without trailing `undefined`s (which JSON cannot hold but defaults can fill).
 */
function _jsonArguments(name: string, args: readonly unknown[]): unknown[] {
  let length = args.length;
  while (length > 0 && args[length - 1] === undefined) length--;
  const kept = args.slice(0, length);
  const seen = new Set<object>();
  for (let i = 0; i < kept.length; i++) _checkJson(name, kept[i], `argument ${i + 1}`, seen);
  return kept;
}

function _checkJson(name: string, value: unknown, path: string, seen: Set<object>): void {
  const refuse = (what: string): never => {
    throw new TypeError(
      `BullMQTaskRunner: task "${name}": ${path} is ${what}; a durable task's arguments travel as JSON. ` +
        `Pass strings, finite numbers, booleans, null, arrays and plain objects (e.g. a date as date.toISOString()), ` +
        `or list the task in inProcess: [...].`,
    );
  };
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) refuse(String(value));
      return;
    case "undefined":
      return refuse("undefined (use null)");
    case "object": {
      if (value === null) return;
      if (seen.has(value)) refuse("a circular reference");
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) _checkJson(name, value[i], `${path}[${i}]`, seen);
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) refuse(`a ${(value as object).constructor?.name ?? "non-plain object"}`);
        for (const [key, item] of Object.entries(value)) {
          if (item !== undefined) _checkJson(name, item, `${path}.${key}`, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      refuse(`a ${typeof value}`);
  }
}

const _BULLMQ_RUNNER_OPTIONS: _OptionKeys<Omit<BullMQTaskRunnerOptions, keyof TaskRunnerOptions>> = {
  connection: true,
  queue: true,
  queueName: true,
  tasks: true,
  inProcess: true,
  onUnavailable: true,
  storeTimeoutMs: true,
  recoverAfterMs: true,
  jobOptions: true,
};
const _TASK_WORKER_OPTIONS: _OptionKeys<Omit<TaskWorkerOptions, keyof WorkerOptions>> = {
  queueName: true,
  tasks: true,
  timeoutMs: true,
  onError: true,
};
// BullMQ's own worker options, passed through to its Worker.
const _BULLMQ_WORKER_OPTIONS: _OptionKeys<WorkerOptions> = {
  name: true,
  autorun: true,
  concurrency: true,
  limiter: true,
  metrics: true,
  maximumRateLimitDelay: true,
  maxStartedAttempts: true,
  maxStalledCount: true,
  stalledInterval: true,
  removeOnComplete: true,
  removeOnFail: true,
  skipStalledCheck: true,
  skipLockRenewal: true,
  drainDelay: true,
  lockDuration: true,
  lockRenewTime: true,
  runRetryDelay: true,
  settings: true,
  useWorkerThreads: true,
  telemetry: true,
  connection: true,
  blockingConnection: true,
  skipVersionCheck: true,
  skipWaitingForReady: true,
  workerForkOptions: true,
  workerThreadsOptions: true,
  prefix: true,
};

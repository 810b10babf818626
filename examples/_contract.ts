/**
 * The routes the contract suite (test/contract/_tests.ts) calls on every
 * example, written once on web standards only so the same file runs on Bun,
 * Deno, Node and workerd. Not part of what an example teaches: an example
 * mounts `contractRoutes` in its router and serves through `contractVariants`.
 *
 * Every route takes `?id=<unique>`; what its tasks do is recorded under that
 * id and read back with `GET /contract/events?id=<id>`.
 *
 * @module
 */
import {
  type BackgroundTasks,
  defineTask,
  getBackgroundTasks,
  type TaskContext,
  type TaskErrorInfo,
  type TaskRunner,
  withBackgroundTasks,
} from "@background/tasks";

/** One thing that happened on the server, in the order it happened. */
export interface ContractEvent {
  readonly seq: number;
  readonly t: number;
  readonly event: string;
  readonly [detail: string]: unknown;
}

// deno-lint-ignore no-explicit-any
type Fetch = (request: Request, ...rest: any[]) => Response | Promise<Response>;

const events = new Map<string, ContractEvent[]>();
const MAX_IDS = 1_000;
let seq = 0;

/** Appends an event to the log of `id`. */
export function record(id: string, event: string, detail: Record<string, unknown> = {}): void {
  let list = events.get(id);
  if (list === undefined) {
    if (events.size >= MAX_IDS) events.delete(events.keys().next().value!);
    events.set(id, list = []);
  }
  list.push({ seq: ++seq, t: Date.now(), event, ...detail });
}

/**
 * The `onError` of the examples' runners: logs like the default and records
 * the report so the suite can check name, method, URL and attempt.
 */
export function recordTaskError(error: unknown, info: TaskErrorInfo): void {
  console.error(`[example] task "${info.name}" failed (attempt ${info.attempt}):`, String(error));
  const id = info.request === undefined ? null : new URL(info.request.url).searchParams.get("id");
  if (id === null) return;
  record(id, "onError", {
    name: info.name,
    method: info.request?.method,
    url: info.request?.url,
    attempt: info.attempt,
    timedOut: info.timedOut,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Serves `wrapped`, except when the suite asks (header `x-contract-variant`)
 * for the same app without the wrapper (`bare`) or with `order: "parallel"`.
 */
export function contractVariants<H extends Fetch>(wrapped: H, bare: H, options: { runner?: TaskRunner } = {}): H {
  const parallel = withBackgroundTasks(bare, { ...options, order: "parallel" });
  return function serve(this: unknown, request: Request): Response | Promise<Response> {
    const variant = request.headers.get("x-contract-variant");
    const handler = variant === "bare" ? bare : variant === "parallel" ? parallel : wrapped;
    return handler.apply(this, arguments as never);
  } as H;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const encoder = new TextEncoder();

/** The request's tasks, or `undefined` when served by the unwrapped (`bare`) variant. */
function tasksOf(request: Request): BackgroundTasks | undefined {
  return request.headers.get("x-contract-variant") === "bare" ? undefined : getBackgroundTasks(request);
}

/** A body of `chunks` lines, one every `everyMs`; records when it ends or is cancelled. */
function tickingBody(id: string, chunks: number, everyMs: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0) await delay(everyMs);
      if (sent === chunks) {
        record(id, "body:end");
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(`chunk ${sent++}\n`));
    },
    cancel() {
      record(id, "body:cancel");
    },
  }, { highWaterMark: 0 });
}

/** A task that records its start and end, taking `ms` (0: synchronous). */
function step(id: string, label: string, ms = 0): (this: TaskContext) => unknown {
  const task = {
    [label](this: TaskContext) {
      record(id, `${label}:start`, { responseAborted: this.responseAborted, attempt: this.attempt });
      if (ms === 0) {
        record(id, `${label}:end`);
        return;
      }
      return delay(ms).then(() => record(id, `${label}:end`));
    },
  }[label]!;
  return task;
}

/**
 * Never finishes by itself: stands for a task that would outlive the
 * platform's limit. Its 300 ms timeout (the examples' runners use a limit
 * below the platform's, e.g. 25 s on Workers) makes the runner abort it and
 * report a `TaskTimeoutError` to `onError` instead of losing it silently.
 */
const outlivesLimit = defineTask("outlivesLimit", function (this: TaskContext, id: string) {
  record(id, "outlivesLimit:start");
  return new Promise<void>((resolve) => this.signal.addEventListener("abort", () => resolve()));
}, { timeoutMs: 300 });

/**
 * Handles `/contract/*`, or returns `undefined` for any other path. `request`
 * is whatever the router handed its handler (itty-router: a Proxy; Hono:
 * `c.req.raw`), so every route also proves the task lookup through it.
 */
export function contractRoutes(request: Request): Response | undefined {
  const url = new URL(request.url);
  if (!url.pathname.startsWith("/contract/")) return undefined;
  const id = url.searchParams.get("id") ?? "none";
  const tasks = tasksOf(request);
  switch (url.pathname) {
    case "/contract/events":
      return Response.json(events.get(id) ?? []);
    case "/contract/slow-task":
      tasks?.addTask(step(id, "slow", 1_000));
      record(id, "handler:return");
      return Response.json({ message: "task runs in the background" });
    case "/contract/stream":
      tasks?.addTask(step(id, "task"));
      record(id, "handler:return");
      return new Response(tickingBody(id, 10, 100), { headers: { "content-type": "text/plain" } });
    case "/contract/endless":
      tasks?.addTask(step(id, "task"));
      return new Response(tickingBody(id, 400, 25), { headers: { "content-type": "text/plain" } });
    case "/contract/middleware":
      tasks?.addTask(step(id, "route"));
      return new Response("middleware and route tasks");
    case "/contract/order":
      tasks?.addTask(step(id, "first", 60));
      tasks?.addTask(step(id, "second"));
      tasks?.addTask(step(id, "third", 20));
      return new Response("ordered");
    case "/contract/fail": {
      tasks?.addTask(step(id, "before"));
      tasks?.addTask(function failingTask(this: TaskContext) {
        record(id, "failingTask:start");
        throw new Error("contract failure");
      });
      tasks?.addTask(step(id, "after", 10));
      return new Response("fails in the background");
    }
    case "/contract/timeout":
      tasks?.addTask(outlivesLimit, id);
      return new Response("times out in the background");
    case "/contract/spawn":
      if (tasks !== undefined) {
        tasks.addTask(async function parent() {
          record(id, "parent:start");
          tasks.addTask(step(id, "child", 10));
          await delay(20);
          record(id, "parent:end");
        });
      }
      return new Response("spawns in the background");
    case "/contract/throw":
      tasks?.addTask(step(id, "beforeThrow"));
      throw new Error("contract handler failure");
    case "/contract/bytes":
      tasks?.addTask(step(id, "task"));
      return new Response("exact bytes\n", {
        status: 201,
        statusText: "Created",
        headers: { "content-type": "text/plain; charset=utf-8", "x-contract": "bytes" },
      });
    case "/contract/bytes-stream":
      tasks?.addTask(step(id, "task"));
      return new Response(tickingBody(id, 3, 10), {
        headers: { "content-type": "text/plain", "content-length": String("chunk 0\n".length * 3) },
      });
    default:
      return new Response("no such contract route", { status: 404 });
  }
}

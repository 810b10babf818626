import type { CompletionInfo, NodeResponseLike, RequestAddressServer, WaitUntilContext } from "./types.ts";
import type { BackgroundTasks } from "./BackgroundTasks.ts";

const POLL_MS = 10;

/**
 * Starts `tasks` once `response` has been handed over to the client, using
 * the best signal the platform offers, found by shape among `platform` (the
 * extra arguments the server passed to the handler):
 *
 * - Deno's handler info: `info.completed`;
 * - a Node `ServerResponse` from a Fetch adapter (`env.outgoing` of
 *   `@hono/node-server`, `ctx.res` of `@whatwg-node/server`,
 *   `request.runtime.node.res` of srvx): its `close` event;
 * - Bun's server: `server.requestIP(request)` turns `null` once the response
 *   has been written; checked on the next macrotask, then every 10 ms;
 * - otherwise the body itself: a `null` body counts as sent on the next
 *   macrotask; a stream body is passed through a tracking stream that starts
 *   the tasks once its last chunk has been read (or it was cancelled).
 *
 * A Workers/Vercel `ctx.waitUntil` also receives a promise of the tasks, so
 * the isolate lives until they end. Integrations call this; handlers wrapped
 * by `withBackgroundTasks` get it for free.
 *
 * @param tasks the request's tasks, not yet started
 * @param response what the handler returned
 * @param platform the handler's extra arguments (and anything else that may carry a signal)
 * @returns the response to give the server: the same object, or a copy whose body is tracked
 *
 * @example
 * ```ts
 * import { BackgroundTasks, runAfterResponse, TaskRunner } from "@background/tasks";
 *
 * const runner = new TaskRunner();
 * const tasks = new BackgroundTasks({ runner });
 * let ran = false;
 * tasks.addTask(() => { ran = true; });
 * const sent = runAfterResponse(tasks, new Response("hello"));
 * console.assert(!ran);
 * await sent.text(); // the body is consumed: the tasks may start
 * await runner.drain();
 * console.assert(ran);
 * ```
 */
export function runAfterResponse(tasks: BackgroundTasks, response: Response, ...platform: unknown[]): Response {
  return _runAfterResponse(tasks, response, platform, 0);
}

/** {@link runAfterResponse} over `platform[from..]`, so wrappers can pass their `arguments` without copying. */
export function _runAfterResponse(
  tasks: BackgroundTasks,
  response: Response,
  platform: ArrayLike<unknown>,
  from: number,
  request: Request | undefined = tasks.request as Request | undefined,
): Response {
  let completion: CompletionInfo | undefined;
  let nodeResponse: NodeResponseLike | undefined = _nodeResponseOf(request);
  let server: RequestAddressServer | undefined;
  for (let i = from; i < platform.length; i++) {
    const value = platform[i];
    if (value === null || typeof value !== "object") continue;
    const candidate = value as Partial<CompletionInfo & WaitUntilContext & RequestAddressServer> & {
      outgoing?: unknown;
      res?: unknown;
    };
    if (typeof candidate.waitUntil === "function") {
      try {
        candidate.waitUntil(tasks.settled());
      } catch {
        // A context past its request refuses waitUntil; the tasks still run.
      }
    }
    if (typeof (candidate.completed as PromiseLike<unknown> | undefined)?.then === "function") {
      completion = candidate as CompletionInfo;
    } else if (typeof candidate.requestIP === "function") {
      server = candidate as RequestAddressServer;
    } else {
      nodeResponse ??= _asNodeResponse(candidate) ?? _asNodeResponse(candidate.outgoing) ??
        _asNodeResponse(candidate.res);
    }
  }

  if (completion !== undefined) {
    // The signal must exist before the client leaves to record it, so it is made now unless useless.
    const signal = signalMode === "legacy" ? undefined : (request as { signal?: AbortSignal } | undefined)?.signal;
    completion.completed.then(
      () => tasks.start({ responseAborted: _completedAborted(signal) }),
      () => tasks.start({ responseAborted: true }),
    );
    return response;
  }
  if (nodeResponse !== undefined) {
    const res = nodeResponse;
    if (res.writableFinished) _defer(() => tasks.start());
    else res.once("close", () => tasks.start({ responseAborted: !res.writableFinished }));
    return response;
  }
  if (server !== undefined && request !== undefined) {
    _watchAttached(tasks, request, server);
    return response;
  }
  const body = response.body;
  if (body === null) {
    // Its own timer, not the shared batch: on Workers a timer belongs to the request that set it.
    setTimeout(() => tasks.start(), 0);
    return response;
  }
  return new Response(_trackBody(body, tasks), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

// Deno's legacy behaviour aborts request.signal after every finished response,
// so there an aborted signal says nothing. A finished response with a live
// signal proves the signal means "client left" (Deno with
// --unstable-no-legacy-abort); 32 aborted ones in a row mean legacy, and from
// then on the signal, which costs Deno more than the rest of a request to
// create, is not made at all.
let signalMode: "unknown" | "reliable" | "legacy" = "unknown";
let abortedInARow = 0;
function _completedAborted(signal: AbortSignal | undefined): boolean {
  if (signal === undefined) return false;
  if (!signal.aborted) {
    signalMode = "reliable";
    return false;
  }
  if (signalMode === "reliable") return true;
  if (++abortedInARow >= 32) signalMode = "legacy";
  return false;
}

function _asNodeResponse(value: unknown): NodeResponseLike | undefined {
  const candidate = value as Partial<NodeResponseLike> | null | undefined;
  return candidate !== null && typeof candidate === "object" && typeof candidate.once === "function" &&
      typeof candidate.writableFinished === "boolean"
    ? candidate as NodeResponseLike
    : undefined;
}

function _nodeResponseOf(request: unknown): NodeResponseLike | undefined {
  if (request === null || typeof request !== "object") return undefined;
  const shaped = request as { runtime?: { node?: { res?: unknown } }; node?: { res?: unknown } };
  return _asNodeResponse(shaped.runtime?.node?.res) ?? _asNodeResponse(shaped.node?.res);
}

function _trackBody(body: ReadableStream<Uint8Array>, tasks: BackgroundTasks): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  const finish = (responseAborted: boolean): void => {
    if (finished) return;
    finished = true;
    setTimeout(() => tasks.start({ responseAborted }), 0);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        finish(true);
        controller.error(error);
        return;
      }
      if (chunk.done) {
        controller.close();
        finish(false);
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel(reason) {
      finish(true);
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

// One timer per macrotask for all responses that just left, however many.
let deferred: (() => void)[] = [];
function _defer(start: () => void): void {
  if (deferred.push(start) === 1) setTimeout(_flushDeferred, 0);
}
function _flushDeferred(): void {
  const batch = deferred;
  deferred = [];
  for (const start of batch) start();
}

interface Attached {
  tasks: BackgroundTasks;
  request: Request;
  server: RequestAddressServer;
}
let fresh: Attached[] = [];
let lingering: Attached[] = [];
let lingeringTimer: ReturnType<typeof setTimeout> | undefined;

function _watchAttached(tasks: BackgroundTasks, request: Request, server: RequestAddressServer): void {
  if (fresh.push({ tasks, request, server }) === 1) setTimeout(_checkFresh, 0);
}

function _isDetached(item: Attached): boolean {
  try {
    return item.server.requestIP(item.request) == null;
  } catch {
    return true;
  }
}

function _startDetached(item: Attached): void {
  // Bun can detach a request from its closed connection a moment before it
  // aborts request.signal (measured: ~0.3 ms), so start on the next macrotask;
  // and creating request.signal costs Bun about a microsecond, so read it only if asked.
  const request = item.request;
  _defer(() => item.tasks.start({ responseAborted: () => request.signal?.aborted === true }));
}

function _checkFresh(): void {
  const batch = fresh;
  fresh = [];
  for (const item of batch) {
    if (_isDetached(item)) _startDetached(item);
    else lingering.push(item);
  }
  if (lingering.length > 0 && lingeringTimer === undefined) lingeringTimer = setTimeout(_checkLingering, POLL_MS);
}

function _checkLingering(): void {
  lingeringTimer = undefined;
  const still: Attached[] = [];
  for (const item of lingering) {
    if (_isDetached(item)) _startDetached(item);
    else still.push(item);
  }
  lingering = still;
  if (still.length > 0) lingeringTimer = setTimeout(_checkLingering, POLL_MS);
}

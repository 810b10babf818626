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
 *   `request.runtime.node.res` of srvx): `writableFinished` on the next
 *   macrotask, else its `close` event;
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
  return _afterResponseOf(tasks, response, tasks.request as Request | undefined, platform, 0);
}

/** {@link runAfterResponse} over `platform[from..]`, for a wrapper's `arguments`. */
export function _afterResponseOf(
  tasks: BackgroundTasks,
  response: Response,
  request: Request | undefined,
  platform: ArrayLike<unknown>,
  from: number,
): Response {
  foundCompletion = foundNodeResponse = foundServer = undefined;
  for (let i = from; i < platform.length; i++) _inspect(platform[i], tasks);
  return _finish(tasks, response, request);
}

/**
 * {@link runAfterResponse} for wrappers: the platform values as arguments, so
 * no array is made per request. `request` is the one the server gave (a
 * router may have handed the handler a `Proxy` of it).
 */
export function _afterResponse(
  tasks: BackgroundTasks,
  response: Response,
  request: Request | undefined,
  a?: unknown,
  b?: unknown,
  c?: unknown,
): Response {
  foundCompletion = foundNodeResponse = foundServer = undefined;
  _inspect(a, tasks);
  _inspect(b, tasks);
  _inspect(c, tasks);
  return _finish(tasks, response, request);
}

// What the platform values of the current call offer; set by _inspect, read and reset by _finish
// within one synchronous call.
let foundCompletion: PromiseLike<unknown> | undefined;
let foundNodeResponse: NodeResponseLike | undefined;
let foundServer: RequestAddressServer | undefined;
// Bun passes the same server to every request: once recognised, it is not inspected again.
let knownServer: RequestAddressServer | undefined;

function _inspect(value: unknown, tasks: BackgroundTasks): void {
  if (value === null || typeof value !== "object") return;
  if (value === knownServer) {
    foundServer = knownServer;
    return;
  }
  const candidate = value as Partial<CompletionInfo & WaitUntilContext & RequestAddressServer> & {
    outgoing?: unknown;
    res?: unknown;
  };
  const waitUntil = candidate.waitUntil;
  if (typeof waitUntil === "function") {
    try {
      waitUntil.call(candidate, tasks.settled());
    } catch {
      // A context past its request refuses waitUntil; the tasks still run.
    }
  }
  // Read once: Deno's `completed` is a getter that makes the promise when first asked.
  const completed = candidate.completed as PromiseLike<unknown> | undefined;
  if (typeof completed?.then === "function") {
    foundCompletion = completed;
  } else if (typeof candidate.requestIP === "function") {
    foundServer = candidate as RequestAddressServer;
    if (typeof waitUntil !== "function") knownServer = foundServer;
  } else {
    foundNodeResponse ??= _asNodeResponse(candidate) ?? _asNodeResponse(candidate.outgoing) ??
      _asNodeResponse(candidate.res);
  }
}

const ABORTED: { readonly responseAborted: true } = Object.freeze({ responseAborted: true });

function _finish(tasks: BackgroundTasks, response: Response, request: Request | undefined): Response {
  const completion = foundCompletion;
  const server = foundServer;
  const nodeResponse = foundNodeResponse ?? (completion === undefined && server === undefined ? _nodeResponseOf(request) : undefined);
  foundCompletion = foundNodeResponse = foundServer = undefined;

  if (completion !== undefined) {
    // The signal must exist before the client leaves to record it, so it is made now unless useless.
    const signal = signalMode === "legacy" ? undefined : (request as { signal?: AbortSignal } | undefined)?.signal;
    _startOnCompletion(tasks, completion, signal);
    return response;
  }
  if (nodeResponse !== undefined) {
    // Checked on the next macrotask, when most responses are fully written: no listener per request.
    if (writing.push(tasks, nodeResponse) === 2) setTimeout(_checkWritten, 0);
    return response;
  }
  if (server !== undefined && request !== undefined) {
    if (fresh.push(tasks, request, server) === 3) setTimeout(_checkFresh, 0);
    return response;
  }
  const body = response.body;
  if (body === null) {
    _startOnNextMacrotask(tasks);
    return response;
  }
  return new Response(_trackBody(body, tasks), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

// The closures are made in functions of their own: a function whose variables a closure captures
// allocates a scope on every call, on JSC even when the closure is not made.
function _startOnCompletion(tasks: BackgroundTasks, completion: PromiseLike<unknown>, signal: AbortSignal | undefined): void {
  completion.then(
    () => tasks.start(_completedAborted(signal) ? ABORTED : undefined),
    () => tasks.start(ABORTED),
  );
}

// Its own timer, not the shared batch: on Workers a timer belongs to the request that set it.
function _startOnNextMacrotask(tasks: BackgroundTasks): void {
  setTimeout(() => tasks.start(), 0);
}

function _startOnClose(tasks: BackgroundTasks, res: NodeResponseLike): void {
  res.once("close", () => tasks.start(res.writableFinished ? undefined : ABORTED));
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

// Bun: one timer per macrotask for all requests that just detached, however many: pairs of
// (tasks, request). Creating request.signal costs Bun about a microsecond, so it is read only if asked.
let detached: (BackgroundTasks | Request)[] = [];
function _startSoon(tasks: BackgroundTasks, request: Request): void {
  if (detached.push(tasks, request) === 2) setTimeout(_startDetached, 0);
}
function _startDetached(): void {
  const batch = detached;
  detached = [];
  for (let i = 0; i < batch.length; i += 2) (batch[i] as BackgroundTasks)._start(batch[i + 1] as Request);
}

// Node: pairs (tasks, ServerResponse) whose response was handed over.
let writing: (BackgroundTasks | NodeResponseLike)[] = [];
function _checkWritten(): void {
  const batch = writing;
  writing = [];
  for (let i = 0; i < batch.length; i += 2) {
    const tasks = batch[i] as BackgroundTasks;
    const res = batch[i + 1] as NodeResponseLike;
    if (res.writableFinished) tasks.start();
    else if (res.closed === true || res.destroyed === true) tasks.start(ABORTED); // closed before the end was written
    else _startOnClose(tasks, res);
  }
}

// Bun: triples (tasks, request, server) whose response Bun may still be writing.
let fresh: (BackgroundTasks | Request | RequestAddressServer)[] = [];
let lingering: (BackgroundTasks | Request | RequestAddressServer)[] = [];
let lingeringTimer: ReturnType<typeof setTimeout> | undefined;

function _isDetached(request: Request, server: RequestAddressServer): boolean {
  try {
    return server.requestIP(request) == null;
  } catch {
    return true;
  }
}

// Bun can detach a request from its closed connection a moment before it aborts request.signal
// (measured: ~0.3 ms), so a detached request's tasks start on the next macrotask.
function _checkBatch(batch: (BackgroundTasks | Request | RequestAddressServer)[], still: typeof batch): void {
  for (let i = 0; i < batch.length; i += 3) {
    const tasks = batch[i] as BackgroundTasks;
    const request = batch[i + 1] as Request;
    const server = batch[i + 2] as RequestAddressServer;
    if (_isDetached(request, server)) _startSoon(tasks, request);
    else still.push(tasks, request, server);
  }
}

function _checkFresh(): void {
  const batch = fresh;
  fresh = [];
  _checkBatch(batch, lingering);
  if (lingering.length > 0 && lingeringTimer === undefined) lingeringTimer = setTimeout(_checkLingering, POLL_MS);
}

function _checkLingering(): void {
  lingeringTimer = undefined;
  const batch = lingering;
  lingering = [];
  _checkBatch(batch, lingering);
  if (lingering.length > 0) lingeringTimer = setTimeout(_checkLingering, POLL_MS);
}

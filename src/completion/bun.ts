import type { RequestAddressServer, WaitUntilContext } from "../types.ts";
import type { BackgroundTasks } from "../BackgroundTasks.ts";
import type { _CompletionSignal } from "./_signal.ts";

const POLL_MS = 10;

/** A request whose response is being written; it is also what its tasks are started with. */
class _Watched {
  readonly tasks: BackgroundTasks;
  readonly request: Request;
  readonly server: RequestAddressServer;

  constructor(tasks: BackgroundTasks, request: Request, server: RequestAddressServer) {
    this.tasks = tasks;
    this.request = request;
    this.server = server;
  }

  /** Read only if a task asks: making the signal costs Bun about a microsecond. */
  get responseAborted(): boolean {
    return this.request.signal.aborted;
  }
}

/**
 * Bun's server: `server.requestIP(request)` turns `null` once the request is
 * detached from its connection, that is once the response has been written
 * (or the client left). Checked for every watched request on the next
 * macrotask, then every 10 ms for those still being written; one timer
 * serves all requests of a moment.
 *
 * Bun may detach a request a moment before it aborts `request.signal`, so a
 * detached request's tasks start one macrotask later, and the signal (which
 * costs Bun about a microsecond to make) is read only if a task asks.
 * @internal
 */
export class _BunCompletion implements _CompletionSignal<RequestAddressServer> {
  /** Bun passes the same server to every request: once recognised, it is not inspected again. */
  #server: RequestAddressServer | undefined;
  #fresh: _Watched[] = [];
  #lingering: _Watched[] = [];
  #lingeringTimer: ReturnType<typeof setTimeout> | undefined;
  #detached: _Watched[] = [];

  find(value: object): RequestAddressServer | undefined {
    if (value === this.#server) return this.#server;
    const candidate = value as Partial<RequestAddressServer & WaitUntilContext>;
    // A Workers-style context may imitate requestIP; it has waitUntil, Bun's server has not.
    if (typeof candidate.requestIP !== "function" || typeof candidate.waitUntil === "function") return undefined;
    return this.#server = candidate as RequestAddressServer;
  }

  /** Whether `value` is the server already recognised. */
  knows(value: object): boolean {
    return value === this.#server;
  }

  watch(tasks: BackgroundTasks, request: Request, server: RequestAddressServer): void {
    if (this.#fresh.push(new _Watched(tasks, request, server)) === 1) setTimeout(() => this.#checkFresh(), 0);
  }

  #checkFresh(): void {
    const batch = this.#fresh;
    this.#fresh = [];
    this.#check(batch);
  }

  #checkLingering(): void {
    this.#lingeringTimer = undefined;
    const batch = this.#lingering;
    this.#lingering = [];
    this.#check(batch);
  }

  /** Moves detached requests on to start, the others to the 10 ms poll. */
  #check(batch: _Watched[]): void {
    for (const watched of batch) {
      if (!_isDetached(watched)) this.#lingering.push(watched);
      else if (this.#detached.push(watched) === 1) setTimeout(() => this.#startDetached(), 0);
    }
    if (this.#lingering.length > 0 && this.#lingeringTimer === undefined) {
      this.#lingeringTimer = setTimeout(() => this.#checkLingering(), POLL_MS);
    }
  }

  #startDetached(): void {
    const batch = this.#detached;
    this.#detached = [];
    for (const watched of batch) watched.tasks.start(watched);
  }
}

function _isDetached({ request, server }: _Watched): boolean {
  try {
    return server.requestIP(request) == null;
  } catch {
    return true;
  }
}

import type { NodeResponseLike } from "../types.ts";
import type { BackgroundTasks } from "../BackgroundTasks.ts";
import { _ABORTED, type _CompletionSignal } from "./_signal.ts";

/**
 * A Node `ServerResponse` reached through a Fetch adapter: `env.outgoing`
 * of `@hono/node-server`, `ctx.res` of `@whatwg-node/server`, or
 * `request.runtime.node.res` of srvx. Most responses are fully written by
 * the next macrotask (`writableFinished`); the others are watched until
 * they close. One timer checks all the responses of a moment, which costs
 * Node less CPU per request than a timer each (see bench/README.md).
 * @internal
 */
export class _NodeCompletion implements _CompletionSignal<NodeResponseLike> {
  #pending: { readonly tasks: BackgroundTasks; readonly res: NodeResponseLike }[] = [];

  find(value: object): NodeResponseLike | undefined {
    const shaped = value as { outgoing?: unknown; res?: unknown };
    return _asNodeResponse(value) ?? _asNodeResponse(shaped.outgoing) ?? _asNodeResponse(shaped.res);
  }

  watch(tasks: BackgroundTasks, _request: Request, res: NodeResponseLike): void {
    if (this.#pending.push({ tasks, res }) === 1) setTimeout(() => this.#check(), 0);
  }

  #check(): void {
    const batch = this.#pending;
    this.#pending = [];
    for (const { tasks, res } of batch) _startWhenWritten(tasks, res);
  }
}

/** The Node response an adapter hung on the request itself (srvx), if any. @internal */
export function _nodeResponseOf(request: Request): NodeResponseLike | undefined {
  const shaped = request as { runtime?: { node?: { res?: unknown } }; node?: { res?: unknown } };
  return _asNodeResponse(shaped.runtime?.node?.res) ?? _asNodeResponse(shaped.node?.res);
}

function _startWhenWritten(tasks: BackgroundTasks, res: NodeResponseLike): void {
  if (res.writableFinished) tasks.start();
  else if (res.closed === true || res.destroyed === true) tasks.start(_ABORTED); // closed before the end was written
  else res.once("close", () => tasks.start(res.writableFinished ? undefined : _ABORTED));
}

function _asNodeResponse(value: unknown): NodeResponseLike | undefined {
  const candidate = value as Partial<NodeResponseLike> | null | undefined;
  return candidate !== null && typeof candidate === "object" && typeof candidate.once === "function" &&
      typeof candidate.writableFinished === "boolean"
    ? candidate as NodeResponseLike
    : undefined;
}

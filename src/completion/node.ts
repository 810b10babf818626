import type { NodeResponseLike } from "../types.ts";
import type { BackgroundTasks } from "../BackgroundTasks.ts";
import { _ABORTED, type _CompletionSignal } from "./_signal.ts";

/**
 * A Node `ServerResponse` reached through a Fetch adapter: `env.outgoing`
 * of `@hono/node-server`, `ctx.res` of `@whatwg-node/server`, or
 * `request.runtime.node.res` of srvx. Most responses are fully written by
 * the next macrotask (`writableFinished`); the others are watched until
 * they close.
 * @internal
 */
export const _nodeCompletion: _CompletionSignal<NodeResponseLike> = {
  find(value) {
    const shaped = value as { outgoing?: unknown; res?: unknown };
    return _asNodeResponse(value) ?? _asNodeResponse(shaped.outgoing) ?? _asNodeResponse(shaped.res);
  },
  watch(tasks, _request, res) {
    setTimeout(() => _startWhenWritten(tasks, res), 0);
  },
};

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

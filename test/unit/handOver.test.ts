// The one hand-over path: the same for any number of handler arguments, and each wrapper
// learns Deno's abort mode for itself (nothing is shared through module state).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "../../src/mod.ts";
import type { DenoAbortSignal, TaskContext } from "../../src/mod.ts";
import { deferred } from "./_helpers.ts";

/** A request whose `signal` is aborted or live, counting how often the core reads it. */
function requestWith(aborted: boolean, reads: { count: number }): Request {
  const request = new Request("http://localhost/deno");
  const controller = new AbortController();
  if (aborted) controller.abort();
  Object.defineProperty(request, "signal", {
    get() {
      reads.count++;
      return controller.signal;
    },
  });
  return request;
}

/** A Deno-style server: calls the handler with `info`, then settles `completed`. */
function denoServer(options: { denoAbortSignal?: DenoAbortSignal } = {}) {
  const runner = new TaskRunner();
  const seen: boolean[] = [];
  const reads = { count: 0 };
  const handler = withBackgroundTasks((request: Request, _info: { completed: Promise<void> }) => {
    getBackgroundTasks(request).addTask(function record(this: TaskContext) {
      seen.push(this.responseAborted);
    });
    return new Response("ok");
  }, { runner, ...options });
  return {
    seen,
    reads,
    /** Serves one request whose signal is aborted (the client left, or Deno's legacy abort) or live. */
    async serve(aborted: boolean): Promise<boolean> {
      const before = seen.length;
      await handler(requestWith(aborted, reads), { completed: Promise.resolve() });
      await runner.drain();
      assert.equal(seen.length, before + 1);
      return seen[before]!;
    },
  };
}

describe("the hand-over path", () => {
  it("answers synchronously with the handler's own response, whatever the number of extra arguments", async () => {
    const runner = new TaskRunner();
    for (const count of [0, 1, 2, 3, 4, 6]) {
      const ran = deferred();
      const handler = withBackgroundTasks((request: Request, ..._rest: unknown[]) => {
        getBackgroundTasks(request).addTask(() => ran.resolve());
        return new Response(null, { status: 204 });
      }, { runner });
      // The completion signal is the last of the extra arguments.
      const extra: unknown[] = Array.from({ length: count }, (_, i) => ({ index: i }));
      const completed = deferred();
      if (count > 0) extra[count - 1] = { completed: completed.promise };
      const response = handler(new Request("http://localhost/"), ...extra);
      assert.ok(response instanceof Response, `with ${count} extra arguments the response is not a Promise`);
      assert.equal(response.status, 204);
      if (count > 0) {
        let started = false;
        void ran.promise.then(() => (started = true));
        await new Promise((resolve) => setTimeout(resolve, 0));
        assert.equal(started, false, `with ${count} extra arguments the task started before completed settled`);
        completed.resolve();
      }
      await ran.promise;
    }
    await runner.drain();
  });

  it('Deno "auto": a live signal proves it reliable; then an aborted one means the client left', async () => {
    const server = denoServer();
    assert.equal(await server.serve(false), false);
    assert.equal(await server.serve(true), true);
  });

  it('Deno "auto": presumes legacy after a run of aborted signals, and recovers on the next live one it samples', async () => {
    const server = denoServer();
    for (let i = 0; i < 31; i++) assert.equal(await server.serve(true), false, "unknown mode: an aborted signal says nothing");
    const presumedAt = Date.now(); // no later than the 32nd aborted signal, which makes it presume legacy
    assert.equal(await server.serve(true), false, "unknown mode: an aborted signal says nothing");
    const readsBefore = server.reads.count;
    let served = 0;
    // Clients now stay: the wrapper samples one signal in 64 requests and at most one a second,
    // and one live signal proves the mode.
    while (server.reads.count === readsBefore) {
      await server.serve(false);
      served++;
      if (served % 64 === 63) await new Promise((resolve) => setTimeout(resolve, 250)); // let time pass before each count check
      assert.ok(Date.now() - presumedAt < 10_000, "no signal was sampled within 10 s");
    }
    assert.ok(served >= 64, `presumed legacy, yet a signal was read after ${served} requests`);
    assert.ok(Date.now() - presumedAt >= 1000, "presumed legacy, yet a signal was read within the second");
    assert.equal(await server.serve(true), true, "after recovering, an aborted signal means the client left");
  });

  it('Deno: each wrapper learns for itself, and "legacy" / "reliable" are taken as told', async () => {
    const learned = denoServer();
    await learned.serve(false);
    assert.equal(await learned.serve(true), true);
    const fresh = denoServer();
    assert.equal(await fresh.serve(true), false, "a new wrapper learned from another one");

    const legacy = denoServer({ denoAbortSignal: "legacy" });
    assert.equal(await legacy.serve(true), false);
    assert.equal(legacy.reads.count, 0, "legacy mode read the signal");
    const reliable = denoServer({ denoAbortSignal: "reliable" });
    assert.equal(await reliable.serve(true), true);
    assert.throws(() => withBackgroundTasks(() => new Response(), { denoAbortSignal: "sometimes" as never }), /denoAbortSignal must be/);
  });
});

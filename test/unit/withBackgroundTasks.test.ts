import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "../../src/mod.ts";
import type { TaskContext, TaskErrorInfo } from "../../src/mod.ts";
import { deferred, tick } from "./_helpers.ts";

function stream(chunks: string[], gapMs: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      await tick(gapMs);
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
      else controller.close();
    },
  });
}

/** A stand-in for a Node ServerResponse: just what the core reads. */
class FakeNodeResponse {
  writableFinished = false;
  #listeners: (() => void)[] = [];
  once(_event: "close", listener: () => void): this {
    this.#listeners.push(listener);
    return this;
  }
  close(finished: boolean): void {
    this.writableFinished = finished;
    for (const listener of this.#listeners) listener();
  }
}

describe("withBackgroundTasks", () => {
  it("passes this and every extra argument through, untouched", async () => {
    const runner = new TaskRunner();
    const env = { KEY: "v" };
    const ctx = { waitUntil: (_p: Promise<unknown>) => {}, passThroughOnException: () => {} };
    let seen: unknown[] = [];
    const app = {
      name: "app",
      fetch: withBackgroundTasks(function (this: { name: string }, request: Request, e: typeof env, c: typeof ctx) {
        seen = [this.name, request.url, e, c];
        return new Response(null, { status: 204 });
      }, { runner }),
    };
    const response = await app.fetch(new Request("http://localhost/x"), env, ctx);
    assert.equal(response.status, 204);
    assert.deepEqual(seen, ["app", "http://localhost/x", env, ctx]);
  });

  it("declares the request as its first parameter, whatever the handler declares", () => {
    // Deno.serve passes no Request to a handler whose length is 0.
    assert.equal(withBackgroundTasks(() => new Response("ok")).length, 1);
    assert.equal(withBackgroundTasks((_request: Request, _info: unknown) => new Response("ok")).length, 1);
  });

  it("passes any number of extra arguments through, and counts them exactly", async () => {
    const runner = new TaskRunner();
    for (const extra of [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4, 5]]) {
      let seen: unknown[] = [];
      let ran = false;
      const handler = withBackgroundTasks(function (request: Request, ...rest: unknown[]) {
        seen = [arguments.length, ...rest];
        getBackgroundTasks(request).addTask(() => void (ran = true));
        return new Response(null, { status: 204 });
      }, { runner });
      await handler(new Request("http://localhost/"), ...extra);
      await runner.drain();
      assert.deepEqual(seen, [extra.length + 1, ...extra]);
      assert.ok(ran);
    }
  });

  it("starts tasks only after a streamed body has been read to the end", async () => {
    const runner = new TaskRunner();
    const log: string[] = [];
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(() => void log.push("task"));
      return new Response(stream(["a", "b", "c"], 10), { status: 201, headers: { "x-kept": "yes" } });
    }, { runner });
    const response = await handler(new Request("http://localhost/"));
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-kept"), "yes");
    await tick(20);
    assert.deepEqual(log, [], "no task while the body is unread");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      assert.deepEqual(log, [], "no task before the last chunk");
      text += decoder.decode(value);
    }
    assert.equal(text, "abc");
    await runner.drain();
    assert.deepEqual(log, ["task"]);
  });

  it("uses Deno's info.completed and returns the very same Response", async () => {
    const runner = new TaskRunner();
    const completed = deferred();
    const log: string[] = [];
    const original = new Response("hello");
    const handler = withBackgroundTasks((request: Request, _info: { completed: Promise<void> }) => {
      getBackgroundTasks(request).addTask(() => void log.push("task"));
      return original;
    }, { runner });
    const response = await handler(new Request("http://localhost/"), { completed: completed.promise });
    assert.equal(response, original);
    await tick(10);
    assert.deepEqual(log, []);
    completed.resolve();
    await runner.drain();
    assert.deepEqual(log, ["task"]);
  });

  it("uses a Node ServerResponse's close event (@hono/node-server env.outgoing) and reports an abort", async () => {
    const runner = new TaskRunner();
    const seen: boolean[] = [];
    const handler = withBackgroundTasks((request: Request, _env: unknown) => {
      getBackgroundTasks(request).addTask(function (this: TaskContext) {
        seen.push(this.responseAborted);
      });
      return new Response("hello");
    }, { runner });
    const outgoing = new FakeNodeResponse();
    const original = await handler(new Request("http://localhost/"), { incoming: {}, outgoing });
    assert.equal(await original.text(), "hello");
    await tick(10);
    assert.deepEqual(seen, [], "not before close");
    outgoing.close(false);
    await runner.drain();
    assert.deepEqual(seen, [true]);
  });

  it("uses a Bun-like server.requestIP(request), which turns null once the response is written", async () => {
    const runner = new TaskRunner();
    const log: string[] = [];
    let attached = true;
    const server = { requestIP: (_r: Request) => (attached ? { address: "127.0.0.1" } : null) };
    const original = new Response("hello");
    const handler = withBackgroundTasks((request: Request, _server: typeof server) => {
      getBackgroundTasks(request).addTask(() => void log.push("task"));
      return original;
    }, { runner });
    const response = await handler(new Request("http://localhost/"), server);
    assert.equal(response, original, "the body is not touched");
    await tick(30);
    assert.deepEqual(log, [], "still attached: still sending");
    attached = false;
    await tick(30);
    await runner.drain();
    assert.deepEqual(log, ["task"]);
  });

  it("hands ctx.waitUntil a promise that settles when the tasks are done", async () => {
    const runner = new TaskRunner();
    const kept: Promise<unknown>[] = [];
    let done = false;
    const handler = withBackgroundTasks((request: Request, _env: unknown, _ctx: unknown) => {
      getBackgroundTasks(request).addTask(async () => {
        await tick(10);
        done = true;
      });
      return new Response(null, { status: 202 });
    }, { runner });
    await handler(new Request("http://localhost/"), {}, { waitUntil: (p: Promise<unknown>) => void kept.push(p) });
    assert.equal(kept.length, 1);
    await kept[0];
    assert.ok(done);
  });

  it("lets the handler's error through and still runs the tasks added before it", async () => {
    for (const runOnHandlerError of [true, false]) {
      const runner = new TaskRunner();
      let ran = false;
      const sync = withBackgroundTasks((request: Request) => {
        getBackgroundTasks(request).addTask(() => void (ran = true));
        throw new Error("sync boom");
      }, { runner, runOnHandlerError });
      assert.throws(() => sync(new Request("http://localhost/")), /sync boom/);
      const async = withBackgroundTasks(async (request: Request) => {
        getBackgroundTasks(request).addTask(() => void (ran = true));
        throw new Error("async boom");
      }, { runner, runOnHandlerError });
      await assert.rejects(async(new Request("http://localhost/")), /async boom/);
      await runner.drain();
      assert.equal(ran, runOnHandlerError);
      assert.equal(runner.stats().skipped, runOnHandlerError ? 0 : 2);
    }
  });

  it("reports a failing task with its name, the request's method and URL, and the attempt", async () => {
    const reports: TaskErrorInfo[] = [];
    const runner = new TaskRunner({ onError: (_e, info) => void reports.push(info) });
    let laterRan = false;
    const handler = withBackgroundTasks((request: Request) => {
      const tasks = getBackgroundTasks(request);
      tasks.addTask(function sendWelcomeEmail() {
        throw new Error("smtp down");
      });
      tasks.addTask(() => void (laterRan = true));
      return new Response(null, { status: 204 });
    }, { runner });
    await handler(new Request("http://localhost/register", { method: "POST" }));
    await runner.drain();
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.name, "sendWelcomeEmail");
    assert.deepEqual(reports[0]!.request, { method: "POST", url: "http://localhost/register" });
    assert.equal(reports[0]!.attempt, 1);
    assert.ok(laterRan);
  });

  it("finds the tasks through a Proxy of the request (itty-router's AutoRouter)", async () => {
    const runner = new TaskRunner();
    let ran = false;
    const inner = (request: Request) => {
      getBackgroundTasks(request).addTask(() => void (ran = true));
      return new Response(null, { status: 204 });
    };
    const handler = withBackgroundTasks((request: Request) => {
      const proxy = new Proxy(request, {
        get: (target, prop) => (target as unknown as Record<PropertyKey, unknown>)[prop] ?? undefined,
      });
      return inner(proxy);
    }, { runner });
    await handler(new Request("http://localhost/"));
    await runner.drain();
    assert.ok(ran);
  });

  it("lets an inner wrapper reuse the outer wrapper's tasks", async () => {
    const runner = new TaskRunner();
    const log: string[] = [];
    const inner = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(() => void log.push("inner"));
      return new Response(null, { status: 204 });
    }, { runner });
    const outer = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(() => void log.push("outer"));
      return inner(request);
    }, { runner });
    await outer(new Request("http://localhost/"));
    await runner.drain();
    assert.deepEqual(log, ["outer", "inner"]);
  });

  it("throws a helpful error for a request no wrapper saw, including a clone", async () => {
    assert.throws(() => getBackgroundTasks(new Request("http://localhost/")), /Wrap the fetch handler with withBackgroundTasks/);
    const handler = withBackgroundTasks((request: Request) => {
      assert.throws(() => getBackgroundTasks(request.clone()), /a clone or new Request/);
      return new Response(null, { status: 204 });
    });
    await handler(new Request("http://localhost/"));
    assert.throws(() => withBackgroundTasks("nope" as never), /handler must be a function/);
  });

  it("keeps nothing once the tasks ran", async () => {
    const runner = new TaskRunner();
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(() => {});
      return new Response(null, { status: 204 });
    }, { runner });
    for (let i = 0; i < 1000; i++) await handler(new Request(`http://localhost/${i}`));
    const result = await runner.drain({ timeoutMs: 1000 });
    assert.deepEqual(result, { drained: true, unfinished: [] });
    assert.equal(runner.stats().succeeded, 1000);
  });
});

// The Elysia plugin on Deno: app.handle(), Deno.serve(app.fetch) (the body is
// tracked) and Deno.serve(withBackgroundTasks(app.fetch)) (Deno's
// info.completed; the outer wrapper owns the request's tasks).
import assert from "node:assert/strict";
const assertEquals = assert.deepEqual;
import { Elysia } from "elysia";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function slowStream(marks: { ended?: number }): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      await sleep(100);
      if (sent++ < 4) return controller.enqueue(encoder.encode(`chunk ${sent}\n`));
      marks.ended = performance.now();
      controller.close();
    },
  });
}

function streamingApp(runner: TaskRunner, marks: { ended?: number; ran?: number; same?: boolean }, done: () => void) {
  return new Elysia()
    .use(backgroundTasks(runner))
    .get("/stream", ({ backgroundTasks, request }) => {
      marks.same = getBackgroundTasks(request) === backgroundTasks;
      backgroundTasks.addTask(() => {
        marks.ran = performance.now();
        done();
      });
      return new Response(slowStream(marks));
    });
}

Deno.test("app.handle: the task runs after the body has been read", async () => {
  const runner = new TaskRunner();
  const marks: { ended?: number; ran?: number; same?: boolean } = {};
  const app = streamingApp(runner, marks, () => {});
  const response = await app.handle(new Request("http://localhost/stream"));
  // Each chunk read is a step of the body: the task must not have run at any of them.
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    assertEquals(marks.ran, undefined, `the task ran before the body ended, after ${JSON.stringify(text)}`);
    text += read.value;
  }
  assertEquals(text, "chunk 1\nchunk 2\nchunk 3\nchunk 4\n");
  await runner.drain({ timeoutMs: 5_000 });
  assert(marks.same);
  assert(marks.ran! >= marks.ended!);
});

for (const variant of ["Deno.serve(app.fetch)", "Deno.serve(withBackgroundTasks(app.fetch))"]) {
  Deno.test(`${variant}: the task starts after the streamed body ends`, async () => {
    const runner = new TaskRunner();
    const marks: { ended?: number; ran?: number; same?: boolean } = {};
    const { promise: ran, resolve } = Promise.withResolvers<void>();
    const app = streamingApp(runner, marks, resolve);
    const handler = variant.includes("withBackgroundTasks") ? withBackgroundTasks(app.fetch, { runner }) : app.fetch;
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
    try {
      const response = await fetch(`http://127.0.0.1:${server.addr.port}/stream`);
      assertEquals(await response.text(), "chunk 1\nchunk 2\nchunk 3\nchunk 4\n");
      await ran;
      assert(marks.same);
      assert(marks.ran! >= marks.ended!, "after the last chunk");
    } finally {
      await server.shutdown();
    }
  });
}

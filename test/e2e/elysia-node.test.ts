// The Elysia plugin on Node: app.handle() (body tracking) and Elysia's Node
// adapter (@elysiajs/node) serving real HTTP, where the Node response's
// 'close' tells when the body has been sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Elysia } from "elysia";
import { node } from "@elysiajs/node";
import { getBackgroundTasks, TaskRunner } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function slowStream(marks: { ended?: number }, chunks = 4, gapMs = 100): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      await sleep(gapMs);
      if (sent++ < chunks) return controller.enqueue(encoder.encode(`chunk ${sent}\n`));
      marks.ended = performance.now();
      controller.close();
    },
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test("app.handle: the task waits until the response body has been read", async () => {
  const runner = new TaskRunner();
  const marks: { ended?: number } = {};
  let ranAt: number | undefined;
  const app = new Elysia()
    .use(backgroundTasks(runner))
    .get("/stream", ({ backgroundTasks, request }) => {
      assert.equal(getBackgroundTasks(request), backgroundTasks);
      backgroundTasks.addTask(() => {
        ranAt = performance.now();
      });
      return new Response(slowStream(marks));
    })
    .post("/send-notification/:email", ({ params, backgroundTasks }) => {
      backgroundTasks.addTask((line: string) => {
        ranAt = performance.now();
        assert.equal(line, "Sending notification to ada@example.com");
      }, `Sending notification to ${params.email}`);
      return { message: "Notification sent in the background" };
    });

  const response = await app.handle(new Request("http://localhost/stream"));
  // Each chunk read is a step of the body: the task must not have run at any of them.
  let text = "";
  for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
    assert.equal(ranAt, undefined, `the task ran before the body ended, after ${JSON.stringify(text)}`);
    text += chunk;
  }
  assert.equal(text, "chunk 1\nchunk 2\nchunk 3\nchunk 4\n");
  await runner.drain({ timeoutMs: 5_000 });
  assert.ok(ranAt! >= marks.ended!, "after the last chunk");

  ranAt = undefined;
  const json = await app.handle(new Request("http://localhost/send-notification/ada@example.com", { method: "POST" }));
  assert.equal(json.headers.get("content-type"), "application/json");
  assert.equal(ranAt, undefined);
  assert.deepEqual(await json.json(), { message: "Notification sent in the background" });
  await runner.drain({ timeoutMs: 5_000 });
  assert.ok(ranAt !== undefined);
});

test("app.handle: a failed handler still answers; its tasks run by default", async () => {
  const runner = new TaskRunner();
  const app = new Elysia()
    .use(backgroundTasks(runner))
    .get("/plain", () => new Response("as is"))
    .get("/boom", ({ backgroundTasks }) => {
      backgroundTasks.addTask(() => {});
      throw new Error("handler failed");
    });
  const plain = new Response("as is");
  const response = await app.handle(new Request("http://localhost/plain"));
  assert.equal(await response.text(), await plain.text());
  const failed = await app.handle(new Request("http://localhost/boom"));
  assert.equal(failed.status, 500);
  await failed.text();
  const result = await runner.drain({ timeoutMs: 5_000 });
  assert.equal(result.drained, true);
  assert.equal(runner.stats().succeeded, 1, "runOnHandlerError defaults to true");
});

test("@elysiajs/node adapter over HTTP: tasks start after a streamed and a generator body end", async () => {
  const runner = new TaskRunner();
  const marks: { ended?: number; generatorEnded?: number } = {};
  const ran: Record<string, number> = {};
  const streamTask = deferred();
  const generatorTask = deferred();
  const app = new Elysia({ adapter: node() })
    .use(backgroundTasks(runner))
    .get("/stream", ({ backgroundTasks }) => {
      backgroundTasks.addTask(() => {
        ran.stream = performance.now();
        streamTask.resolve();
      });
      return new Response(slowStream(marks, 4, 150));
    })
    .get("/generator", async function* ({ backgroundTasks }) {
      backgroundTasks.addTask(() => {
        ran.generator = performance.now();
        generatorTask.resolve();
      });
      for (let i = 1; i <= 3; i++) {
        await sleep(150);
        yield `part ${i}\n`;
      }
      marks.generatorEnded = performance.now();
    });

  let info:
    | { raw: { ready(): Promise<unknown>; node: { server: { address(): { port: number } } }; close(force?: boolean): Promise<void> } }
    | undefined;
  app.listen({ port: 0, hostname: "127.0.0.1" }, (server) => {
    info = server as never;
  });
  await info!.raw.ready();
  const base = `http://127.0.0.1:${info!.raw.node.server.address().port}`;
  try {
    assert.equal(await (await fetch(base + "/stream")).text(), "chunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    await streamTask.promise;
    assert.ok(ran.stream! >= marks.ended!, "stream: after the last chunk");

    assert.equal(await (await fetch(base + "/generator")).text(), "part 1\npart 2\npart 3\n");
    await generatorTask.promise;
    assert.ok(ran.generator! >= marks.generatorEnded!, "generator: after the last part");
  } finally {
    await info!.raw.close(true);
  }
});

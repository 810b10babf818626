// The Elysia plugin on a real Bun server: when tasks start relative to the
// last body byte (stream, generator, SSE) compared with Elysia's own
// onAfterResponse, deduplication, sub-apps, and the shared runner's policies.
import { afterEach, describe, expect, test } from "bun:test";
import { Elysia, sse } from "elysia";
import { getBackgroundTasks, TaskQueueFullError, TaskRunner } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";

const encoder = new TextEncoder();
const servers: { stop(force?: boolean): unknown }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

function listen<A extends Elysia<any, any, any, any, any, any, any>>(app: A): string {
  app.listen({ port: 0, hostname: "127.0.0.1" });
  servers.push(app.server!);
  return `http://127.0.0.1:${app.server!.port}`;
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A 1 s body: four chunks 250 ms apart; `ended` is when the last chunk was handed to the server. */
function slowStream(marks: { ended?: number }): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      await Bun.sleep(250);
      if (sent++ < 4) return controller.enqueue(encoder.encode(`chunk ${sent}\n`));
      marks.ended = performance.now();
      controller.close();
    },
  });
}

interface Marks {
  ended?: number;
  afterResponse?: number;
  taskStarted?: number;
}

async function timing(path: string, build: (app: Elysia, marks: Marks, done: () => void) => Elysia): Promise<Marks & { body: string }> {
  const runner = new TaskRunner();
  const marks: Marks = {};
  const taskRan = deferred();
  const app = build(
    new Elysia()
      .use(backgroundTasks(runner))
      .onAfterResponse(() => {
        marks.afterResponse ??= performance.now();
      }) as unknown as Elysia,
    marks,
    () => {
      marks.taskStarted = performance.now();
      taskRan.resolve();
    },
  );
  const base = listen(app);
  const body = await (await fetch(base + path)).text();
  await taskRan.promise;
  return { ...marks, body };
}

describe("tasks start after the last body byte; Elysia's onAfterResponse does not wait", () => {
  test("ReadableStream body of 1 s", async () => {
    const marks = await timing("/stream", (app, marks, done) =>
      (app as any).get("/stream", ({ backgroundTasks }: any) => {
        backgroundTasks.addTask(done);
        return new Response(slowStream(marks));
      }));
    expect(marks.body).toBe("chunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    expect(marks.ended).toBeDefined();
    expect(marks.taskStarted!).toBeGreaterThanOrEqual(marks.ended!);
    expect(marks.afterResponse!).toBeLessThan(marks.ended! - 500); // fired right after the handler returned
  });

  test("generator body", async () => {
    const marks = await timing(
      "/generator",
      (app, marks, done) =>
        (app as any).get("/generator", async function* ({ backgroundTasks }: any) {
          backgroundTasks.addTask(done);
          for (let i = 1; i <= 4; i++) {
            await Bun.sleep(250);
            yield `part ${i}\n`;
          }
          marks.ended = performance.now();
        }),
    );
    expect(marks.body).toBe("part 1\npart 2\npart 3\npart 4\n");
    expect(marks.taskStarted!).toBeGreaterThanOrEqual(marks.ended!);
    expect(marks.afterResponse!).toBeLessThan(marks.ended! - 250);
  });

  test("server-sent events", async () => {
    const marks = await timing("/events", (app, marks, done) =>
      (app as any).get("/events", async function* ({ backgroundTasks }: any) {
        backgroundTasks.addTask(done);
        for (let i = 1; i <= 4; i++) {
          await Bun.sleep(250);
          yield sse({ event: "tick", data: String(i) });
        }
        marks.ended = performance.now();
      }));
    expect(marks.body).toContain("event: tick\ndata: 4\n\n");
    expect(marks.taskStarted!).toBeGreaterThanOrEqual(marks.ended!);
    expect(marks.afterResponse!).toBeLessThan(marks.ended! - 250);
  });

  test("a JSON body: the task runs once it is sent, with the request's context", async () => {
    const runner = new TaskRunner();
    const seen = deferred<{ sameRequest: boolean; method: string | undefined; same: boolean; responseAborted: boolean }>();
    const app = new Elysia()
      .use(backgroundTasks(runner))
      .post("/send-notification/:email", ({ params, request, backgroundTasks }) => {
        const same = getBackgroundTasks(request) === backgroundTasks;
        backgroundTasks.addTask(function (this: { request?: { method: string }; responseAborted: boolean }, email: string) {
          seen.resolve({
            sameRequest: this.request === request,
            method: this.request?.method,
            same,
            responseAborted: this.responseAborted,
          });
          expect(email).toBe("ada@example.com");
        }, params.email);
        return { message: "Notification sent in the background" };
      });
    const base = listen(app);
    const response = await fetch(`${base}/send-notification/ada@example.com`, { method: "POST" });
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({ message: "Notification sent in the background" });
    const result = await seen.promise;
    expect(result).toEqual({ sameRequest: true, method: "POST", same: true, responseAborted: false });
  });
});

describe("how the plugin learns that the response was sent", () => {
  test("a started server tells (a JSON body keeps its Content-Length), also for a sub-app's routes", async () => {
    const runner = new TaskRunner();
    const seen = deferred<boolean>();
    const routes = new Elysia()
      .use(backgroundTasks(runner))
      .get("/json", ({ backgroundTasks }) => {
        backgroundTasks.addTask(function (this: { responseAborted: boolean }) {
          seen.resolve(this.responseAborted);
        });
        return { message: "sent" };
      });
    const base = listen(new Elysia().use(routes));
    const response = await fetch(`${base}/json`);
    // A tracked body would be a stream, sent chunked.
    expect(response.headers.get("content-length")).toBe(String(JSON.stringify({ message: "sent" }).length));
    expect(response.headers.get("transfer-encoding")).toBeNull();
    expect(await response.json()).toEqual({ message: "sent" });
    expect(await seen.promise).toBe(false);
  });

  test("app.handle() of a request no server serves waits for the body to be read, while a server runs", async () => {
    listen(new Elysia().use(backgroundTasks()).get("/", () => "serving"));
    const runner = new TaskRunner();
    const ran = new Set<string>();
    const controlRan = deferred();
    const app = new Elysia()
      .use(backgroundTasks(runner))
      .get("/:name", ({ backgroundTasks, params }) => {
        backgroundTasks.addTask(() => {
          ran.add(params.name);
          if (params.name === "control") controlRan.resolve();
        });
        return { message: "handled" };
      });
    const response = await app.handle(new Request("http://localhost/unread"));
    // The control's body is read: once its task ran, the unread one had every chance to start.
    await (await app.handle(new Request("http://localhost/control"))).json();
    await controlRan.promise;
    expect(ran.has("unread")).toBe(false);
    expect(await response.json()).toEqual({ message: "handled" });
    expect((await runner.drain({ timeoutMs: 2_000 })).drained).toBe(true);
    expect(ran.has("unread")).toBe(true);
  });

  test("a client that leaves before the handler returns: the task still runs and sees the abort", async () => {
    const runner = new TaskRunner();
    const seen = deferred<boolean>();
    const entered = deferred();
    const app = new Elysia()
      .use(backgroundTasks(runner))
      .get("/slow", async ({ backgroundTasks, request }) => {
        backgroundTasks.addTask(function (this: { responseAborted: boolean }) {
          seen.resolve(this.responseAborted);
        });
        entered.resolve();
        await new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true })); // the server saw the client leave
        return { message: "too late" };
      });
    const base = listen(app);
    const leave = new AbortController();
    const request = fetch(`${base}/slow`, { signal: leave.signal }).catch(() => "left");
    await entered.promise;
    leave.abort();
    expect(await request).toBe("left");
    expect(await seen.promise).toBe(true);
  });
});

describe("plugin identity", () => {
  test("repeated .use() with the same runner is deduplicated; another runner is not", () => {
    const runner = new TaskRunner();
    const twice = new Elysia().use(backgroundTasks(runner)).use(backgroundTasks(runner));
    const once = new Elysia().use(backgroundTasks(runner));
    const other = new Elysia().use(backgroundTasks(runner)).use(backgroundTasks(new TaskRunner()));
    const hooks = (app: Elysia<any, any, any, any, any, any, any>) => ({
      wrap: (app as any).extender.higherOrderFunctions.length as number,
      derive: ((app as any).event.transform?.length ?? 0) as number,
    });
    expect(hooks(twice)).toEqual(hooks(once));
    expect(hooks(other).derive).toBe(hooks(once).derive * 2);
  });

  test("two plugins with different runners in one app are refused when it starts, with what to do instead", () => {
    const csvRunner = new TaskRunner();
    const csv = new Elysia({ prefix: "/csv" }).use(backgroundTasks(csvRunner)).post("/", () => "queued");
    const app = new Elysia().use(backgroundTasks()).use(csv);
    expect(() => listen(app)).toThrow(/uses the plugin twice with different settings.*otherRunner\.addTask/);
    servers.push(app.server!); // listen() started the server before its start hooks ran
  });

  test("routes of a sub-app that uses the plugin get a typed backgroundTasks, one list per request", async () => {
    const runner = new TaskRunner();
    const ran: string[] = [];
    const allDone = deferred();
    const users = new Elysia({ prefix: "/users" })
      .use(backgroundTasks(runner))
      .post("/:name", ({ params, backgroundTasks, request }) => {
        backgroundTasks.addTask((name: string) => ran.push(`sub ${name}`), params.name);
        getBackgroundTasks(request).addTask(() => {
          ran.push("same list");
          allDone.resolve();
        });
        return { size: backgroundTasks.size };
      });
    const app = new Elysia().use(backgroundTasks(runner)).use(users).get("/", ({ backgroundTasks }) => backgroundTasks.size);
    const base = listen(app);
    expect(await (await fetch(`${base}/users/ada`, { method: "POST" })).json()).toEqual({ size: 2 });
    await allDone.promise;
    expect(ran).toEqual(["sub ada", "same list"]);
    expect(await (await fetch(base + "/")).text()).toBe("0");
  });
});

describe("the shared runner's limits, errors and drain", () => {
  test("a full runner answers 503 JSON; accepted tasks still run", async () => {
    const runner = new TaskRunner({ concurrency: 1, maxPending: 1 });
    const release = deferred();
    const app = new Elysia()
      .use(backgroundTasks(runner))
      .post("/work", ({ backgroundTasks }) => {
        backgroundTasks.addTask(() => release.promise);
        return "accepted";
      });
    const base = listen(app);
    const firstStarted = deferred();
    runner.on("start", () => firstStarted.resolve());
    expect(await (await fetch(base + "/work", { method: "POST" })).text()).toBe("accepted");
    await firstStarted.promise; // running: 1, pending: 0
    expect(await (await fetch(base + "/work", { method: "POST" })).text()).toBe("accepted"); // pending: 1
    const refused = await fetch(base + "/work", { method: "POST" });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await refused.json()).message).toContain("Try again");
    release.resolve();
    const { drained } = await runner.drain({ timeoutMs: 5_000 });
    expect(drained).toBe(true);
    expect(runner.stats()).toMatchObject({ succeeded: 2, failed: 0 });
    expect(new TaskQueueFullError(1)).toBeInstanceOf(Error);
  });

  test("a failing task is reported with its request and does not change the response", async () => {
    const failures: { message: string; url: string | undefined; attempt: number }[] = [];
    const reported = deferred();
    const runner = new TaskRunner({
      retries: 1,
      retryDelayMs: 1,
      onError: (error, info) => {
        failures.push({ message: (error as Error).message, url: info.request?.url, attempt: info.attempt });
        reported.resolve();
      },
    });
    const after: string[] = [];
    const app = new Elysia()
      .use(backgroundTasks(runner))
      .get("/", ({ request, backgroundTasks }) => {
        // Bun forgets a URL nobody read once the response is sent; the plugin does not read it (it
        // costs Bun about 8 % of a trivial request), so a report carries the URL the app read.
        void request.url;
        backgroundTasks.addTask(function explode() {
          throw new Error("smtp down");
        });
        backgroundTasks.addTask(() => after.push("next task ran"));
        return "ok";
      });
    const base = listen(app);
    const response = await fetch(base + "/");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("ok");
    await reported.promise;
    await runner.drain({ timeoutMs: 5_000 });
    expect(failures).toEqual([{ message: "smtp down", url: base + "/", attempt: 2 }]);
    expect(after).toEqual(["next task ran"]);
  });

  test("drain() waits for the tasks of a response still streaming", async () => {
    const runner = new TaskRunner();
    const marks: { ended?: number } = {};
    let ranAt: number | undefined;
    const app = new Elysia()
      .use(backgroundTasks(runner))
      .get("/stream", ({ backgroundTasks }) => {
        backgroundTasks.addTask(() => {
          ranAt = performance.now();
        });
        return new Response(slowStream(marks));
      });
    const base = listen(app);
    const response = await fetch(base + "/stream");
    expect(runner.stats().waiting).toBe(1);
    const drained = runner.drain({ timeoutMs: 10_000 });
    await response.text();
    expect((await drained).drained).toBe(true);
    expect(ranAt!).toBeGreaterThanOrEqual(marks.ended!);
  });

  test("with runOnHandlerError: false, the tasks of a failed handler are skipped", async () => {
    const runner = new TaskRunner();
    const ran: string[] = [];
    const app = new Elysia()
      .use(backgroundTasks({ runner, runOnHandlerError: false }))
      .get("/boom", ({ backgroundTasks }) => {
        backgroundTasks.addTask(() => ran.push("should not run"));
        throw new Error("handler failed");
      })
      .get("/fine", ({ backgroundTasks }) => {
        backgroundTasks.addTask(() => ran.push("ran"));
        return "fine";
      });
    const base = listen(app);
    expect((await fetch(base + "/boom")).status).toBe(500);
    expect(await (await fetch(base + "/fine")).text()).toBe("fine");
    await runner.drain({ timeoutMs: 5_000 });
    expect(ran).toEqual(["ran"]);
    expect(runner.stats().skipped).toBe(1);
  });

  test("runner options create a runner, reachable from the context", async () => {
    let runner: TaskRunner | undefined;
    const app = new Elysia()
      .use(backgroundTasks({ runner: { concurrency: 2 }, order: "parallel" }))
      .get("/", ({ backgroundTasks }) => {
        runner = backgroundTasks.runner;
        return "ok";
      });
    const base = listen(app);
    await (await fetch(base + "/")).text();
    expect(runner).toBeInstanceOf(TaskRunner);
    expect(() => backgroundTasks({ order: "sideways" as never })).toThrow(RangeError);
  });
});

// Faulty tasks: each failure is reported exactly once with its context, later
// tasks still run, retries happen as configured, and nothing becomes an
// unhandled rejection. Runs on Node, Bun and Deno.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defineTask, getBackgroundTasks, TaskRunner, TaskTimeoutError, withBackgroundTasks } from "../../src/mod.ts";
import type { TaskContext, TaskErrorInfo } from "../../src/mod.ts";
import { captureConsoleError, deferred, noUnhandledRejections, tick } from "./_helpers.ts";

interface Report {
  error: unknown;
  info: TaskErrorInfo;
}

function reportingRunner(options: ConstructorParameters<typeof TaskRunner>[0] = {}): {
  runner: TaskRunner;
  reports: Report[];
} {
  const reports: Report[] = [];
  const runner = new TaskRunner({ ...options, onError: (error, info) => void reports.push({ error, info }) });
  return { runner, reports };
}

/** Calls a wrapped handler like a server would and reads the body, so the tasks start. */
async function serve(handler: (request: Request) => Response | Promise<Response>, request: Request): Promise<Response> {
  const response = await handler(request);
  await response.arrayBuffer();
  return response;
}

describe("reliability: faulty tasks", () => {
  it("reports each failure once with name, method, URL and attempt; later tasks run", async () => {
    const { runner, reports } = reportingRunner({ timeoutMs: 40 });
    const weird = { reason: "not an Error" };
    const lateRejected = deferred();
    const ran: string[] = [];
    const seenContext: { name: string; attempt: number; url: string | undefined }[] = [];

    function throwsError(this: TaskContext): void {
      seenContext.push({ name: this.name, attempt: this.attempt, url: this.request?.url });
      throw new Error("boom");
    }
    async function rejects(): Promise<void> {
      await tick();
      throw new RangeError("async boom");
    }
    function hangs(): Promise<void> {
      return new Promise(() => {}); // ignores its signal and never settles
    }
    async function rejectsLate(this: TaskContext): Promise<void> {
      await new Promise((resolve) => this.signal.addEventListener("abort", resolve));
      await tick(5);
      lateRejected.resolve();
      throw new Error("too late to matter");
    }
    function throwsString(): void {
      throw "a string";
    }
    function throwsUndefined(): void {
      throw undefined;
    }
    function throwsObject(): void {
      throw weird;
    }
    function rejectsNull(): Promise<void> {
      return Promise.reject(null);
    }
    function finallyRuns(label: string): void {
      ran.push(label);
    }

    const handler = withBackgroundTasks((request: Request) => {
      const tasks = getBackgroundTasks(request);
      tasks.addTask(throwsError);
      tasks.addTask(rejects);
      tasks.addTask(hangs);
      tasks.addTask(rejectsLate);
      tasks.addTask(throwsString);
      tasks.addTask(throwsUndefined);
      tasks.addTask(throwsObject);
      tasks.addTask(rejectsNull);
      tasks.addTask(finallyRuns, "after seven failures");
      return Response.json({ accepted: true });
    }, { runner });

    await noUnhandledRejections(async () => {
      const { calls } = await captureConsoleError(async () => {
        const url = "http://app.test/orders/42?x=1";
        const response = await serve(handler, new Request(url, { method: "POST" }));
        assert.equal(response.status, 200, "task failures never touch the response");
        assert.deepEqual(await runner.drain({ timeoutMs: 5_000 }), { drained: true, unfinished: [] });
        await lateRejected.promise;
        await tick(5);

        assert.deepEqual(ran, ["after seven failures"], "the task after the failures ran");
        const expected: [string, unknown, boolean][] = [
          ["throwsError", Error, false],
          ["rejects", RangeError, false],
          ["hangs", TaskTimeoutError, true],
          ["rejectsLate", TaskTimeoutError, true],
          ["throwsString", "a string", false],
          ["throwsUndefined", undefined, false],
          ["throwsObject", weird, false],
          ["rejectsNull", null, false],
        ];
        assert.deepEqual(reports.map((r) => r.info.name), expected.map(([name]) => name), "one report per failure, in order");
        for (const [i, [name, error, timedOut]] of expected.entries()) {
          const report = reports[i]!;
          if (typeof error === "function") assert.ok(report.error instanceof error, `${name}: ${String(report.error)}`);
          else assert.equal(report.error, error, `${name}: the thrown value itself is reported`);
          assert.deepEqual(report.info, {
            name,
            attempt: 1,
            maxAttempts: 1,
            request: { method: "POST", url },
            timedOut,
            final: true,
          });
        }
        assert.deepEqual(seenContext, [{ name: "throwsError", attempt: 1, url }]);
        const stats = runner.stats();
        assert.equal(stats.failed, 8);
        assert.equal(stats.succeeded, 1);
        assert.equal(stats.timedOut, 2);
        assert.equal(stats.running + stats.queued + stats.waiting, 0);
      });
      assert.deepEqual(calls, [], "with onError set, nothing is logged");
    });
  });

  it("retries as configured, then reports once with the last attempt", async () => {
    const { runner, reports } = reportingRunner({ retries: 2, retryDelayMs: 1 });
    const retries: TaskErrorInfo[] = [];
    runner.on("retry", (_error, info) => void retries.push(info));
    const attempts: Record<string, number[]> = { flaky: [], broken: [], once: [] };

    async function flaky(this: TaskContext): Promise<void> {
      attempts.flaky!.push(this.attempt);
      if (this.attempt < 3) throw new Error(`try ${this.attempt}`);
    }
    function broken(this: TaskContext): void {
      attempts.broken!.push(this.attempt);
      throw 0; // a falsy non-Error
    }
    const once = defineTask("once", function (this: TaskContext) {
      attempts.once!.push(this.attempt);
      throw new Error("no retry for me");
    }, { retries: 0 });

    await noUnhandledRejections(async () => {
      const handler = withBackgroundTasks((request: Request) => {
        getBackgroundTasks(request).addTask(flaky);
        getBackgroundTasks(request).addTask(broken);
        getBackgroundTasks(request).addTask(once);
        return new Response("ok");
      }, { runner });
      await serve(handler, new Request("http://app.test/retry", { method: "PUT" }));
      await runner.drain({ timeoutMs: 5_000 });
    });

    assert.deepEqual(attempts, { flaky: [1, 2, 3], broken: [1, 2, 3], once: [1] });
    assert.deepEqual(retries.map((r) => `${r.name}#${r.attempt}/${r.maxAttempts}:${r.final}`), [
      "flaky#1/3:false",
      "flaky#2/3:false",
      "broken#1/3:false",
      "broken#2/3:false",
    ]);
    assert.equal(reports.length, 2, "flaky recovered; broken and once reported once each");
    assert.equal(reports[0]!.error, 0);
    assert.deepEqual(reports[0]!.info, {
      name: "broken",
      attempt: 3,
      maxAttempts: 3,
      request: { method: "PUT", url: "http://app.test/retry" },
      timedOut: false,
      final: true,
    });
    assert.equal(reports[1]!.info.name, "once");
    assert.equal(reports[1]!.info.maxAttempts, 1, "defineTask's retries override the runner's");
    const stats = runner.stats();
    assert.equal(stats.retried, 4);
    assert.equal(stats.succeeded, 1);
    assert.equal(stats.failed, 2);
  });

  it("a task that hangs past its timeout is aborted, retried, then reported once as timed out", async () => {
    const { runner, reports } = reportingRunner({ timeoutMs: 20, retries: 1, retryDelayMs: 0 });
    const abortReasons: unknown[] = [];
    function hangs(this: TaskContext): Promise<void> {
      this.signal.addEventListener("abort", () => abortReasons.push(this.signal.reason));
      return new Promise(() => {});
    }
    let after = 0;
    await noUnhandledRejections(async () => {
      runner.addTask(hangs);
      runner.addTask(() => void after++);
      await runner.drain({ timeoutMs: 5_000 });
    });
    assert.equal(abortReasons.length, 2, "each attempt's signal was aborted");
    assert.ok(abortReasons.every((reason) => reason instanceof TaskTimeoutError));
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.info.timedOut, true);
    assert.equal(reports[0]!.info.attempt, 2);
    assert.equal(reports[0]!.info.request, undefined, "added to the runner directly: no request");
    assert.equal(after, 1, "the other task ran");
    assert.equal(runner.stats().timedOut, 2);
  });

  it("a task returning a hostile thenable (then() throws, or its getter does) fails like any task", async () => {
    // Before the fix the error escaped the runner as an uncaught exception (fatal on Node) and the
    // task held its concurrency slot for ever, so the next task never ran and drain() never ended.
    const { runner, reports } = reportingRunner({ concurrency: 1 });
    let later = 0;
    const uncaught: unknown[] = [];
    const proc = (globalThis as { process?: { on(e: string, f: unknown): void; off(e: string, f: unknown): void } })
      .process;
    const onUncaught = (error: unknown) => void uncaught.push(error);
    const onWebError = (event: Event) => {
      uncaught.push((event as ErrorEvent).error);
      event.preventDefault();
    };
    proc?.on("uncaughtException", onUncaught);
    globalThis.addEventListener?.("error", onWebError);
    try {
      await noUnhandledRejections(async () => {
        runner.addTask(function thenThrows() {
          return {
            then: () => {
              throw new Error("then() threw");
            },
          };
        });
        runner.addTask(function thenGetterThrows() {
          return {
            get then(): never {
              throw new Error("then getter threw");
            },
          };
        });
        runner.addTask(() => void later++);
        const result = await Promise.race([runner.drain(), tick(2_000).then(() => "drain hung")]);
        assert.deepEqual(result, { drained: true, unfinished: [] });
      });
    } finally {
      proc?.off("uncaughtException", onUncaught);
      globalThis.removeEventListener?.("error", onWebError);
    }
    assert.deepEqual(uncaught, []);
    assert.deepEqual(reports.map((r) => [r.info.name, String(r.error)]), [
      ["thenThrows", "Error: then() threw"],
      ["thenGetterThrows", "Error: then getter threw"],
    ]);
    assert.equal(later, 1, "the slot was freed for the next task");
  });

  it("a throwing onError, listener or retryDelayMs is logged and nothing else changes", async () => {
    const runner = new TaskRunner({
      retries: 1,
      retryDelayMs: () => {
        throw new Error("bad delay");
      },
      onError: () => {
        throw new Error("bad hook");
      },
    });
    runner.on("failure", () => {
      throw new Error("bad listener");
    });
    let later = 0;
    await noUnhandledRejections(async () => {
      const { calls } = await captureConsoleError(async () => {
        runner.addTask(function fails() {
          throw new Error("task error");
        });
        runner.addTask(() => void later++);
        await runner.drain({ timeoutMs: 5_000 });
      });
      const text = calls.map((args) => args.map(String).join(" ")).join("\n");
      assert.match(text, /retryDelayMs threw/);
      assert.match(text, /"failure" listener threw/);
      assert.match(text, /onError threw/);
      assert.match(text, /task "fails" failed/, "the original failure is still logged");
    });
    assert.equal(later, 1);
    assert.equal(runner.stats().failed, 1);
    assert.equal(runner.stats().retried, 1);
  });

  it("a failing handler: tasks added before the throw run (runOnHandlerError) and the error reaches the server", async () => {
    const { runner, reports } = reportingRunner();
    const ran: string[] = [];
    const handler = withBackgroundTasks(async (request: Request) => {
      getBackgroundTasks(request).addTask((what: string) => void ran.push(what), "audit");
      await tick();
      throw new Error("handler failed");
    }, { runner });
    await noUnhandledRejections(async () => {
      await assert.rejects(Promise.resolve(handler(new Request("http://app.test/x"))), /handler failed/);
      await runner.drain({ timeoutMs: 5_000 });
    });
    assert.deepEqual(ran, ["audit"]);
    assert.deepEqual(reports, []);
  });
});

// Options objects refuse keys they do not know (a typo from plain JavaScript would otherwise be ignored).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defineTask, TaskRunner, withBackgroundTasks } from "../../src/mod.ts";
import { backgroundTasks } from "../../src/elysia.ts";
import { BullMQTaskRunner, createTaskWorker } from "../../src/bullmq.ts";
import { _checkOptions, _closest } from "../../src/_options.ts";

// Plain JavaScript passes whatever it likes; the casts stand for that.
// deno-lint-ignore no-explicit-any
const loose = (options: Record<string, unknown>): any => options;
const handler = (): Response => new Response("ok");

/** Asserts that `fn` throws a TypeError naming `where`, the unknown key and the suggestion. */
function rejects(fn: () => unknown, where: string, key: string, suggestion: string | undefined): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TypeError, `a TypeError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${where}: unknown option "${key}"`), error.message);
    if (suggestion === undefined) assert.doesNotMatch(error.message, /did you mean/);
    else assert.ok(error.message.includes(`did you mean "${suggestion}"?`), error.message);
    assert.match(error.message, /Known options: /);
    return true;
  });
}

/** Asserts that `fn` either returns or throws an error that is not about an unknown option. */
function acceptsKeys(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    assert.doesNotMatch(String(error), /unknown option/);
  }
}

describe("unknown options", () => {
  it("new TaskRunner({ concurency }) is refused with a suggestion", () => {
    rejects(() => new TaskRunner(loose({ concurency: 4 })), "TaskRunner", "concurency", "concurrency");
    rejects(() => new TaskRunner(loose({ timeout: 1000 })), "TaskRunner", "timeout", "timeoutMs");
    rejects(() => new TaskRunner(loose({ onerror: () => {} })), "TaskRunner", "onerror", "onError");
    rejects(() => new TaskRunner(loose({ colour: "red" })), "TaskRunner", "colour", undefined);
    const runner = new TaskRunner({
      concurrency: 2,
      maxPending: 5,
      overflow: "drop",
      timeoutMs: 10,
      retries: 1,
      retryDelayMs: 1,
      onError: () => {},
    });
    assert.equal(runner.stats().running, 0);
  });

  it("withBackgroundTasks(handler, options) is refused with a suggestion", () => {
    rejects(() => withBackgroundTasks(handler, loose({ oder: "parallel" })), "withBackgroundTasks(handler, options)", "oder", "order");
    rejects(
      () => withBackgroundTasks(handler, loose({ runer: new TaskRunner() })),
      "withBackgroundTasks(handler, options)",
      "runer",
      "runner",
    );
    const wrapped = withBackgroundTasks(handler, {
      runner: new TaskRunner(),
      order: "parallel",
      stopOnError: true,
      runOnAbort: false,
      runOnHandlerError: false,
    });
    assert.equal(typeof wrapped, "function");
  });

  it("the Elysia plugin backgroundTasks(options), and its runner options", () => {
    rejects(() => backgroundTasks(loose({ stopOnErrors: true })), "backgroundTasks(options)", "stopOnErrors", "stopOnError");
    rejects(() => backgroundTasks({ runner: loose({ maxPendng: 3 }) }), "TaskRunner", "maxPendng", "maxPending");
    assert.ok(
      backgroundTasks({ runner: { concurrency: 2 }, order: "parallel", runOnAbort: true, runOnHandlerError: true, stopOnError: false }),
    );
  });

  it("defineTask settings", () => {
    rejects(() => defineTask("t", () => {}, loose({ retry: 3 })), 'defineTask("t", fn, settings)', "retry", "retries");
    rejects(() => defineTask("t", () => {}, loose({ concurrent: 3 })), 'defineTask("t", fn, settings)', "concurrent", "concurrency");
    assert.equal(typeof defineTask("t", () => {}, { retries: 1, timeoutMs: 5, concurrency: 1 }), "function");
  });

  it("BullMQTaskRunner: its own keys and the TaskRunner's (checked before any connection is made)", () => {
    rejects(
      () => new BullMQTaskRunner(loose({ connection: {}, onUnavailble: "fail" })),
      "BullMQTaskRunner",
      "onUnavailble",
      "onUnavailable",
    );
    rejects(() => new BullMQTaskRunner(loose({ connection: {}, concurency: 2 })), "BullMQTaskRunner", "concurency", "concurrency");
    // Every valid key passes the check; the bad onUnavailable is refused afterwards, before Redis is reached.
    assert.throws(() =>
      new BullMQTaskRunner(loose({
        connection: {},
        queueName: "q",
        tasks: [],
        inProcess: [],
        storeTimeoutMs: 1,
        recoverAfterMs: 1,
        jobOptions: {},
        concurrency: 1,
        maxPending: 1,
        overflow: "reject",
        timeoutMs: 1,
        retries: 0,
        retryDelayMs: 1,
        onError: () => {},
        onUnavailable: "never",
      })), /onUnavailable must be "fail" or "in-process"/);
  });

  it("createTaskWorker: its own keys and BullMQ's WorkerOptions", () => {
    rejects(
      () => createTaskWorker(loose({ connection: {}, tasks: [], lockDurationMs: 1 })),
      "createTaskWorker",
      "lockDurationMs",
      "lockDuration",
    );
    rejects(() => createTaskWorker(loose({ connection: {}, task: [] })), "createTaskWorker", "task", "tasks");
    // Valid keys pass; the plain function in `tasks` is refused afterwards, before Redis is reached.
    acceptsKeys(() =>
      createTaskWorker(loose({
        connection: {},
        tasks: [() => {}],
        queueName: "q",
        timeoutMs: 5,
        onError: () => {},
        concurrency: 2,
        lockDuration: 1000,
        stalledInterval: 1000,
        maxStalledCount: 1,
        autorun: false,
        prefix: "bull",
        limiter: { max: 1, duration: 1 },
      }))
    );
    assert.throws(
      () => createTaskWorker(loose({ connection: {}, tasks: [() => {}], concurrency: 2 })),
      (error: unknown) => !/unknown option/.test(String(error)),
    );
  });

  it("the suggestion is the nearest known name, and none for a far one", () => {
    const names = ["concurrency", "maxPending", "timeoutMs", "retries"];
    assert.equal(_closest("concurency", names), "concurrency");
    assert.equal(_closest("maxpending", names), "maxPending");
    assert.equal(_closest("timeout", names), "timeoutMs");
    assert.equal(_closest("retires", names), "retries");
    assert.equal(_closest("color", names), undefined);
    assert.doesNotThrow(() => _checkOptions("x", undefined, { a: true }));
    assert.doesNotThrow(() => _checkOptions("x", { a: 1 }, { a: true }));
  });
});

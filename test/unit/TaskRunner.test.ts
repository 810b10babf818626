import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defineTask, DrainTimeoutError, TaskQueueFullError, TaskRunner, TaskTimeoutError } from "../../src/mod.ts";
import type { TaskContext, TaskErrorInfo } from "../../src/mod.ts";
import { captureConsoleError, deferred, noUnhandledRejections, tick } from "./_helpers.ts";

describe("TaskRunner", () => {
  it("runs sync and async tasks with their arguments and counts them", async () => {
    const runner = new TaskRunner();
    const seen: string[] = [];
    runner.addTask((a: string, b: number) => void seen.push(`${a}${b}`), "x", 1);
    runner.addTask(async (a: string) => {
      await tick(1);
      seen.push(a);
    }, "y");
    assert.deepEqual(seen, [], "tasks never run inside addTask");
    assert.deepEqual(await runner.drain(), { drained: true, unfinished: [] });
    assert.deepEqual(seen.sort(), ["x1", "y"]);
    const stats = runner.stats();
    assert.equal(stats.succeeded, 2);
    assert.equal(stats.running + stats.queued + stats.waiting + stats.failed, 0);
  });

  it("never runs more than `concurrency` tasks at once", async () => {
    const runner = new TaskRunner({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      runner.addTask(async () => {
        peak = Math.max(peak, ++running);
        await tick(2);
        running--;
      });
    }
    await tick();
    assert.equal(runner.stats().running, 2);
    assert.equal(runner.stats().queued, 8);
    await runner.drain();
    assert.equal(peak, 2);
    assert.equal(runner.stats().succeeded, 10);
  });

  it("rejects tasks past maxPending with TaskQueueFullError by default", async () => {
    const runner = new TaskRunner({ concurrency: 1, maxPending: 2 });
    runner.addTask(() => {});
    runner.addTask(() => {});
    assert.throws(() => runner.addTask(() => {}), (error: unknown) => {
      assert.ok(error instanceof TaskQueueFullError);
      assert.equal(error.maxPending, 2);
      assert.match(error.message, /maxPending/);
      return true;
    });
    await runner.drain();
    assert.equal(runner.stats().succeeded, 2);
  });

  it("drops tasks past maxPending with overflow 'drop', counting and reporting each", async () => {
    const reports: [unknown, TaskErrorInfo][] = [];
    const runner = new TaskRunner({ maxPending: 1, overflow: "drop", onError: (e, info) => void reports.push([e, info]) });
    const dropped: string[] = [];
    runner.on("drop", (task) => void dropped.push(task.name));
    assert.equal(runner.addTask(function kept() {}), true);
    assert.equal(runner.addTask(function lost() {}), false);
    await runner.drain();
    assert.equal(runner.stats().dropped, 1);
    assert.equal(runner.stats().succeeded, 1);
    assert.deepEqual(dropped, ["lost"]);
    assert.equal(reports.length, 1);
    assert.ok(reports[0]![0] instanceof TaskQueueFullError);
    assert.equal(reports[0]![1].name, "lost");
  });

  it("times out an attempt: aborts the task's signal and reports a TaskTimeoutError", async () => {
    const reports: [unknown, TaskErrorInfo][] = [];
    const runner = new TaskRunner({ timeoutMs: 20, onError: (e, info) => void reports.push([e, info]) });
    let signal: AbortSignal | undefined;
    let laterRan = false;
    runner.addTask(async function hangs(this: TaskContext) {
      signal = this.signal;
      await new Promise(() => {});
    });
    runner.addTask(() => void (laterRan = true));
    await runner.drain();
    assert.ok(signal?.aborted);
    assert.ok(signal?.reason instanceof TaskTimeoutError);
    assert.equal(reports.length, 1);
    assert.ok(reports[0]![0] instanceof TaskTimeoutError);
    assert.deepEqual({ ...reports[0]![1] }, { name: "hangs", attempt: 1, maxAttempts: 1, request: undefined, timedOut: true, final: true });
    assert.equal(runner.stats().timedOut, 1);
    assert.equal(runner.stats().failed, 1);
    assert.ok(laterRan);
  });

  it("retries with the configured delay, then reports once with the attempt number", async () => {
    const reports: TaskErrorInfo[] = [];
    const retries: number[] = [];
    const delays: number[] = [];
    const runner = new TaskRunner({
      retries: 2,
      retryDelayMs: (retry) => (delays.push(retry), 5),
      onError: (_e, info) => void reports.push(info),
    });
    runner.on("retry", (_e, info) => void retries.push(info.attempt));
    const attempts: number[] = [];
    runner.addTask(function flaky(this: TaskContext) {
      attempts.push(this.attempt);
      throw new Error("still down");
    });
    await runner.drain();
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(retries, [1, 2]);
    assert.deepEqual(delays, [1, 2]);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.attempt, 3);
    assert.equal(reports[0]!.maxAttempts, 3);
    assert.equal(reports[0]!.final, true);
    assert.equal(runner.stats().retried, 2);
    assert.equal(runner.stats().failed, 1);
  });

  it("succeeds on a retry and counts no failure", async () => {
    const runner = new TaskRunner({ retries: 3, retryDelayMs: 1 });
    let calls = 0;
    runner.addTask(async () => {
      if (++calls < 3) throw new Error("transient");
    });
    await runner.drain();
    assert.equal(calls, 3);
    assert.equal(runner.stats().succeeded, 1);
    assert.equal(runner.stats().failed, 0);
  });

  it("timeoutMs Infinity means no timeout, also as a defined task's own setting", async () => {
    const slow = () => new Promise<void>((resolve) => setTimeout(resolve, 30));
    const reports: unknown[] = [];
    const unlimited = new TaskRunner({ timeoutMs: Infinity, onError: (e) => void reports.push(e) });
    unlimited.addTask(slow);
    await unlimited.drain();
    // Both wait on a gate that opens once the limited one has timed out (on its failure, not after a
    // delay): the unlimited one, started first, has run past the runner's 10 ms by then.
    const gate = deferred();
    const limited = new TaskRunner({ timeoutMs: 10, onError: (e) => void reports.push(e) });
    limited.on("failure", () => gate.resolve());
    limited.addTask(defineTask("unlimited", () => gate.promise, { timeoutMs: Infinity }));
    limited.addTask(defineTask("limited", () => gate.promise));
    await limited.drain();
    assert.equal(unlimited.stats().succeeded, 1);
    assert.deepEqual([limited.stats().succeeded, limited.stats().timedOut], [1, 1]);
    assert.equal(reports.length, 1);
    assert.ok(reports[0] instanceof TaskTimeoutError && /"limited"/.test(reports[0].message));
  });

  it("a retry delay that is not a number or below 0 retries at once", async () => {
    for (const bad of [Number.NaN, -5, "soon" as unknown as number]) {
      const runner = new TaskRunner({ retries: 1, retryDelayMs: () => bad, onError: () => {} });
      let calls = 0;
      runner.addTask(() => {
        if (++calls === 1) throw new Error("once");
      });
      const result = await runner.drain({ timeoutMs: 1_000 });
      assert.equal(result.drained, true, `retryDelayMs returning ${String(bad)}`);
      assert.equal(calls, 2);
    }
  });

  it("defineTask settings override the runner's", async () => {
    const runner = new TaskRunner({ retries: 0, onError: () => {} });
    let calls = 0;
    const flaky = defineTask("flaky", () => {
      calls++;
      throw new Error("x");
    }, { retries: 1 });
    runner.addTask(flaky);
    await runner.drain();
    assert.equal(calls, 2);
  });

  it("a defined task's own concurrency limits it without holding back other tasks", async () => {
    const runner = new TaskRunner({ concurrency: 4 });
    const gate = deferred();
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const limited = defineTask("limited", async (id: number) => {
      started.push(id);
      peak = Math.max(peak, ++running);
      await gate.promise;
      running--;
    }, { concurrency: 2 });
    for (let id = 0; id < 6; id++) runner.addTask(limited, id);
    let freeRan = 0;
    for (let i = 0; i < 3; i++) runner.addTask(() => void freeRan++);
    await tick(5);
    assert.deepEqual(started, [0, 1]);
    assert.equal(freeRan, 3, "tasks queued behind the limited ones ran");
    assert.deepEqual({ running: runner.stats().running, queued: runner.stats().queued }, { running: 2, queued: 4 });
    const report = await runner.drain({ timeoutMs: 1 });
    assert.deepEqual(
      report.unfinished.map((task) => `${task.name}:${task.state}`).sort(),
      ["limited:queued", "limited:queued", "limited:queued", "limited:queued", "limited:running", "limited:running"],
    );
    gate.resolve();
    assert.deepEqual(await runner.drain(), { drained: true, unfinished: [] });
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5], "the waiting ones start in the order they were added");
    assert.equal(peak, 2);
    assert.equal(runner.stats().succeeded, 9);
  });

  it("a timed-out or retried attempt gives its place to the next one of its kind", async () => {
    const failures: TaskErrorInfo[] = [];
    const runner = new TaskRunner({ onError: (_error, info) => void failures.push(info), retryDelayMs: 0 });
    const attempts: string[] = [];
    let running = 0;
    let peak = 0;
    const stuck = defineTask("stuck", function (this: TaskContext, id: number): Promise<void> {
      attempts.push(`${id}.${this.attempt}`);
      peak = Math.max(peak, ++running);
      this.signal.addEventListener("abort", () => running--);
      return new Promise(() => {}); // never settles: only the timeout ends it
    }, { concurrency: 1, timeoutMs: 15, retries: 1 });
    runner.addTask(stuck, 0);
    runner.addTask(stuck, 1);
    await runner.drain();
    // 0's retry queues behind 1, which was waiting for the place.
    assert.deepEqual(attempts, ["0.1", "1.1", "0.2", "1.2"]);
    assert.equal(peak, 1, "one attempt at a time");
    assert.deepEqual(failures.map((info) => [info.name, info.attempt, info.timedOut]), [["stuck", 2, true], ["stuck", 2, true]]);
  });

  it("reports throws, rejections and non-Error values once each and never leaks an unhandled rejection", async () => {
    await noUnhandledRejections(async () => {
      const reports: [unknown, string][] = [];
      const runner = new TaskRunner({ onError: (e, info) => void reports.push([e, info.name]) });
      runner.addTask(function throwsError() {
        throw new Error("boom");
      });
      runner.addTask(async function rejects() {
        throw new TypeError("bad");
      });
      runner.addTask(function throwsString() {
        throw "a string";
      });
      runner.addTask(async function rejectsUndefined() {
        return Promise.reject(undefined);
      });
      runner.addTask(function throwsObject() {
        throw { code: 42 };
      });
      let ran = false;
      runner.addTask(() => void (ran = true));
      await runner.drain();
      assert.ok(ran);
      assert.deepEqual(reports.map(([, name]) => name).sort(), [
        "rejects",
        "rejectsUndefined",
        "throwsError",
        "throwsObject",
        "throwsString",
      ]);
      assert.ok(reports.some(([e]) => e === "a string"));
      assert.ok(reports.some(([e]) => e === undefined));
      assert.equal(runner.stats().failed, 5);
    });
  });

  it("logs to console.error without onError, and when onError itself throws", async () => {
    const { calls } = await captureConsoleError(async () => {
      const runner = new TaskRunner();
      runner.addTask(function sendEmail() {
        throw new Error("smtp down");
      });
      await runner.drain();
      const hooked = new TaskRunner({
        onError: () => {
          throw new Error("hook broke");
        },
      });
      hooked.addTask(function other() {
        throw new Error("x");
      });
      await hooked.drain();
    });
    const text = calls.map((args) => args.map(String).join(" ")).join("\n");
    assert.match(text, /task "sendEmail" failed.*attempt 1 of 1/);
    assert.match(text, /onError threw/);
    assert.match(text, /task "other" failed/);
  });

  it("emits start and success events", async () => {
    const runner = new TaskRunner();
    const events: string[] = [];
    const off = runner.on("start", (t) => void events.push(`start ${t.name}`));
    runner.on("success", (t) => void events.push(`success ${t.name}`));
    runner.addTask(function one() {});
    await runner.drain();
    off();
    runner.addTask(function two() {});
    await runner.drain();
    assert.deepEqual(events, ["start one", "success one", "success two"]);
  });

  it("drain waits for tasks added by running tasks", async () => {
    const runner = new TaskRunner();
    const order: string[] = [];
    runner.addTask(async () => {
      await tick(2);
      order.push("parent");
      runner.addTask(async () => {
        await tick(2);
        order.push("child");
      });
    });
    await runner.drain();
    assert.deepEqual(order, ["parent", "child"]);
  });

  it("drain with a deadline reports unfinished tasks and aborts running ones", async () => {
    const runner = new TaskRunner({ concurrency: 1 });
    const stuck = deferred();
    let signal: AbortSignal | undefined;
    runner.addTask(async function stuckTask(this: TaskContext) {
      signal = this.signal;
      await stuck.promise;
    });
    runner.addTask(function behind() {});
    await tick();
    const result = await runner.drain({ timeoutMs: 20 });
    assert.equal(result.drained, false);
    assert.deepEqual(result.unfinished.map((t) => `${t.name}:${t.state}`), ["stuckTask:running", "behind:queued"]);
    assert.ok(signal?.reason instanceof DrainTimeoutError);
    stuck.resolve();
    assert.equal((await runner.drain()).drained, true);
  });

  it("keeps track of running async tasks that end in any order, time out or retry", async () => {
    const runner = new TaskRunner({ retries: 1, retryDelayMs: 0, onError: () => {} });
    const gates = Array.from({ length: 5 }, () => deferred());
    const signals: AbortSignal[] = [];
    for (let i = 0; i < 5; i++) {
      runner.addTask(async function gated(this: TaskContext, at: number) {
        signals[at] = this.signal;
        await gates[at]!.promise;
        if (at === 0) throw new Error("task 0 fails");
      }, i);
    }
    const slow = defineTask("slow", () => new Promise<void>(() => {}), { timeoutMs: 10, retries: 0 });
    const slowTimedOut = new Promise<void>((resolve) => runner.on("failure", (_error, info) => info.name === "slow" && resolve()));
    runner.addTask(slow);
    let attempts = 0;
    runner.addTask(async function flaky() {
      if (++attempts === 1) throw new Error("first attempt fails");
      await tick();
    });
    await tick(2);
    gates[2]!.resolve(); // the middle of the list
    gates[4]!.resolve(); // the first linked
    gates[0]!.resolve(); // the last linked; it fails, and so does its retry
    await tick(3);
    await slowTimedOut;
    assert.equal(attempts, 2);
    let result = await runner.drain({ timeoutMs: 20 });
    assert.equal(result.drained, false);
    // Only what still runs is listed, and only its signals are aborted.
    assert.deepEqual(result.unfinished.map((t) => `${t.name}:${t.state}`).sort(), ["gated:running", "gated:running"]);
    assert.deepEqual(signals.map((signal) => signal.aborted), [false, true, false, true, false]);
    gates[1]!.resolve();
    gates[3]!.resolve();
    result = await runner.drain({ timeoutMs: 1_000 });
    assert.deepEqual(result, { drained: true, unfinished: [] });
    const stats = runner.stats();
    assert.deepEqual(
      [stats.running, stats.succeeded, stats.failed, stats.timedOut, stats.retried],
      [0, 5, 2, 1, 2],
    );
  });

  it("settles each of many tasks that return one shared promise, as a batching writer does", async () => {
    const failures: TaskErrorInfo[] = [];
    const runner = new TaskRunner({ retries: 0, onError: (_error, info) => failures.push(info) });
    let batch = deferred();
    let shared: Promise<void> = batch.promise;
    const written: number[] = [];
    // The lines of one batch share its promise.
    const append = defineTask("append", (line: number) => {
      written.push(line);
      return shared;
    });
    const quick = defineTask("quick", (line: number) => append(line), { timeoutMs: 10 });
    for (let line = 0; line < 4; line++) runner.addTask(append, line);
    const quickTimedOut = new Promise<void>((resolve) => runner.on("failure", (_error, info) => info.name === "quick" && resolve()));
    runner.addTask(quick, 4); // shares the promise, but times out on its own
    await tick();
    assert.equal(runner.stats().running, 5);
    await quickTimedOut;
    assert.deepEqual([runner.stats().running, runner.stats().timedOut], [4, 1]);
    batch.resolve();
    await tick(2);
    assert.deepEqual([runner.stats().running, runner.stats().succeeded], [0, 4]);
    runner.addTask(append, 4.5); // the same promise, settled by now: it needs a reaction of its own
    await tick(2);
    assert.deepEqual([runner.stats().running, runner.stats().succeeded], [0, 5]);

    batch = deferred();
    shared = batch.promise.then(() => {
      throw new Error("disk full");
    });
    for (let line = 5; line < 8; line++) runner.addTask(append, line);
    await tick();
    batch.resolve();
    assert.deepEqual(await runner.drain({ timeoutMs: 1_000 }), { drained: true, unfinished: [] });
    assert.deepEqual(written, [0, 1, 2, 3, 4, 4.5, 5, 6, 7]);
    assert.deepEqual(failures.map((info) => `${info.name}:${info.timedOut}`), [
      "quick:true",
      "append:false",
      "append:false",
      "append:false",
    ]);
    assert.deepEqual([runner.stats().succeeded, runner.stats().failed], [5, 4]);
  });

  it("rejects bad options and bad tasks with messages that say how to fix them", () => {
    assert.throws(() => new TaskRunner({ concurrency: 0 }), /concurrency must be a whole number ≥ 1/);
    assert.throws(() => new TaskRunner({ maxPending: -1 }), /maxPending/);
    assert.throws(() => new TaskRunner({ overflow: "wait" as never }), /overflow must be "reject" or "drop"/);
    assert.throws(
      () => new TaskRunner({ timeoutMs: 0 }),
      /TaskRunner: timeoutMs must be a number of milliseconds > 0 and at most 2147483647 .*or Infinity for no limit, got 0/,
    );
    // Longer than a timer keeps: every runtime would fire it after 1 ms.
    assert.throws(() => new TaskRunner({ timeoutMs: 3e9 }), /timeoutMs must be .* at most 2147483647/);
    assert.throws(() => defineTask("mail", () => {}, { timeoutMs: 2 ** 31 }), /defineTask\("mail"\): timeoutMs/);
    assert.throws(() => new TaskRunner().drain({ timeoutMs: 3e9 }), /TaskRunner.drain: timeoutMs must be a number of milliseconds ≥ 0/);
    assert.throws(
      () => new TaskRunner({ retryDelayMs: Infinity }),
      /retryDelayMs must be a number of milliseconds ≥ 0 and at most 2147483647/,
    );
    assert.throws(() => new TaskRunner({ retryDelayMs: -1 }), /retryDelayMs/);
    assert.throws(() => new TaskRunner({ retries: 1.5 }), /retries must be a whole number/);
    assert.throws(() => new TaskRunner().addTask("sendEmail" as never), /fn must be a function, got string.*not its result/);
    assert.throws(() => defineTask("", () => {}), /name must be a non-empty string/);
    assert.throws(
      () => defineTask("mail", () => {}, { concurrency: 0 }),
      /defineTask\("mail"\): concurrency must be a whole number ≥ 1 or Infinity, got 0/,
    );
    assert.throws(() => defineTask("mail", () => {}, { concurrency: 2.5 }), /concurrency must be a whole number/);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BackgroundTasks, defineTask, TaskRunner } from "../../src/mod.ts";
import type { AcceptedTask, TaskContext } from "../../src/mod.ts";
import { tick } from "./_helpers.ts";

describe("BackgroundTasks", () => {
  it("holds tasks until start(), then runs them one after another in order", async () => {
    const runner = new TaskRunner();
    const tasks = new BackgroundTasks({ runner });
    const log: string[] = [];
    tasks.addTask(async (name: string) => {
      log.push(`${name} start`);
      await tick(5);
      log.push(`${name} end`);
    }, "a");
    tasks.addTask((name: string) => void log.push(name), "b");
    await tick(10);
    assert.deepEqual(log, []);
    assert.equal(runner.stats().waiting, 2);
    tasks.start();
    await runner.drain();
    assert.deepEqual(log, ["a start", "a end", "b"]);
  });

  it("runs tasks together with order 'parallel'", async () => {
    const runner = new TaskRunner();
    const tasks = new BackgroundTasks({ runner, order: "parallel" });
    const log: string[] = [];
    for (const name of ["a", "b"]) {
      tasks.addTask(async () => {
        log.push(`${name} start`);
        await tick(5);
        log.push(`${name} end`);
      });
    }
    tasks.start();
    await runner.drain();
    assert.deepEqual(log, ["a start", "b start", "a end", "b end"]);
  });

  it("keeps running later tasks after a failure, or skips them with stopOnError", async () => {
    for (const stopOnError of [false, true]) {
      const runner = new TaskRunner({ onError: () => {} });
      const tasks = new BackgroundTasks({ runner, stopOnError });
      let laterRan = false;
      tasks.addTask(() => {
        throw new Error("first fails");
      });
      tasks.addTask(() => void (laterRan = true));
      tasks.start();
      await runner.drain();
      assert.equal(laterRan, !stopOnError);
      assert.equal(runner.stats().skipped, stopOnError ? 1 : 0);
    }
  });

  it("runs tasks that a running task adds, after it", async () => {
    const runner = new TaskRunner();
    const tasks = new BackgroundTasks({ runner });
    const log: string[] = [];
    tasks.addTask(async () => {
      log.push("parent");
      tasks.addTask(() => void log.push("child"));
      await tick(2);
      log.push("parent done");
    });
    tasks.start();
    await runner.drain();
    assert.deepEqual(log, ["parent", "parent done", "child"]);
  });

  it("tells tasks the response was aborted, and skips them with runOnAbort: false", async () => {
    const runner = new TaskRunner();
    const seen: boolean[] = [];
    const ran = new BackgroundTasks({ runner });
    ran.addTask(function (this: TaskContext) {
      seen.push(this.responseAborted);
    });
    ran.start({ responseAborted: true });
    const skipped = new BackgroundTasks({ runner, runOnAbort: false });
    skipped.addTask(() => void seen.push(false));
    skipped.start({ responseAborted: true });
    await runner.drain();
    assert.deepEqual(seen, [true]);
    assert.equal(runner.stats().skipped, 1);
  });

  it("start() is idempotent and settled() resolves when everything ran", async () => {
    const runner = new TaskRunner();
    const tasks = new BackgroundTasks({ runner });
    let count = 0;
    tasks.addTask(async () => {
      await tick(2);
      count++;
    });
    const settled = tasks.settled();
    tasks.start();
    tasks.start();
    await settled;
    assert.equal(count, 1);
    await tasks.settled();
  });

  it("drain() names waiting tasks whose response never completed", async () => {
    const runner = new TaskRunner();
    const tasks = new BackgroundTasks({ runner, request: new Request("http://localhost/slow", { method: "POST" }) });
    tasks.addTask(function sendReceipt() {});
    const result = await runner.drain({ timeoutMs: 10 });
    assert.equal(result.drained, false);
    assert.deepEqual(result.unfinished, [{
      name: "sendReceipt",
      state: "waiting",
      request: { method: "POST", url: "http://localhost/slow" },
    }]);
    tasks.start();
    assert.equal((await runner.drain()).drained, true);
  });

  it("passes no, one or several arguments, and shows them to store() as an array", async () => {
    const stored: unknown[][] = [];
    class Recording extends TaskRunner {
      protected override store(task: AcceptedTask): undefined {
        stored.push([...task.args]);
        return undefined;
      }
    }
    const runner = new Recording();
    const tasks = new BackgroundTasks({ runner });
    const calls: unknown[][] = [];
    function record(this: TaskContext, ...args: unknown[]): void {
      calls.push(args);
    }
    const defined = defineTask("record", record);
    tasks.addTask(record);
    tasks.addTask(record, undefined);
    tasks.addTask(record, "one");
    tasks.addTask(defined, "defined");
    tasks.addTask(record, 1, "two", { three: 3 });
    tasks.addTask(defined, "a", "b");
    tasks.start();
    await runner.drain();
    const expected = [[], [undefined], ["one"], ["defined"], [1, "two", { three: 3 }], ["a", "b"]];
    assert.deepEqual(calls, expected);
    assert.deepEqual(stored, expected);
  });

  it("rejects a bad order or runner", () => {
    assert.throws(() => new BackgroundTasks({ order: "random" as never }), /order must be "sequential" or "parallel"/);
    assert.throws(() => new BackgroundTasks({ runner: {} as never }), /runner must be a TaskRunner/);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { BackgroundTasks, TaskRunner } from "../../src/mod.ts";
import type { TaskContext } from "../../src/mod.ts";
import { tick } from "./_helpers.ts";

describe("AsyncLocalStorage context of a task", () => {
  it("is the context the task was added in, across a limit, an await and a retry", async () => {
    const store = new AsyncLocalStorage<string>();
    const runner = new TaskRunner({ concurrency: 1, retries: 1, retryDelayMs: 0 });
    const seen: string[] = [];
    async function record(this: TaskContext, expected: string): Promise<void> {
      seen.push(`${expected}:${this.attempt}:${store.getStore()}`);
      await tick(1);
      seen.push(`${expected}:${this.attempt}:${store.getStore()}`);
      if (expected === "b" && this.attempt === 1) throw new Error("once more");
    }
    store.run("a", () => runner.addTask(record, "a"));
    store.run("b", () => runner.addTask(record, "b"));
    const tasks = store.run("c", () => new BackgroundTasks({ runner }));
    store.run("d", () => tasks.addTask(record, "d"));
    store.run("e", () => tasks.start()); // the context that starts the list is not the task's
    await runner.drain();
    assert.deepEqual(seen.sort(), ["a:1:a", "a:1:a", "b:1:b", "b:1:b", "b:2:b", "b:2:b", "d:1:d", "d:1:d"]);
    assert.equal(runner.stats().retried, 1);
  });

  it("is empty for a task added outside any context, even when started inside one", async () => {
    const store = new AsyncLocalStorage<string>();
    const runner = new TaskRunner();
    const tasks = new BackgroundTasks({ runner });
    let seen: string | undefined = "unset";
    tasks.addTask(() => void (seen = store.getStore()));
    store.run("other", () => tasks.start());
    await runner.drain();
    assert.equal(seen, undefined);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage, AsyncResource, createHook } from "node:async_hooks";
import { BackgroundTasks, TaskQueueFullError, TaskRunner } from "../../src/mod.ts";
import type { AcceptedTask, TaskContext } from "../../src/mod.ts";
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

  it("is destroyed as an async resource once its task is done for good: ran, failed, skipped, dropped or refused", async () => {
    const ours = new Set<number>();
    const destroyed: number[] = [];
    const hook = createHook({
      init(id, type) {
        if (type === "BackgroundTask" || type === "Probe") ours.add(id);
      },
      destroy(id) {
        if (!ours.has(id)) return;
        destroyed.push(id);
      },
    }).enable();
    try {
      const probe = new AsyncResource("Probe");
      if (ours.size === 0) {
        // Known limit: Bun's createHook reports no resource, so there is nothing to see there.
        assert.equal(typeof (globalThis as { Bun?: unknown }).Bun, "object", "only Bun reports no async resources");
        return;
      }
      probe.emitDestroy();
      // A task that is dropped or refused is destroyed at once; the garbage collector would take
      // longer than the one turn of the loop in which Node runs the destroy hooks it was given.
      const full = new TaskRunner({ maxPending: 0, overflow: "drop", onError: () => {} });
      assert.equal(full.addTask(() => {}), false);
      const refusing = new TaskRunner({ maxPending: 0 });
      assert.throws(() => refusing.addTask(() => {}), TaskQueueFullError);
      await new Promise((turned) => setImmediate(turned));
      assert.equal(destroyed.length, 3, "the probe, the dropped and the refused task's resources");
      // The tasks that run or are skipped stay reachable (a context holds its task), so only an
      // explicit destroy, not the garbage collector, can report their resources destroyed.
      const kept: unknown[] = [];
      class KeepingRunner extends TaskRunner {
        protected override discard(task: AcceptedTask): void {
          kept.push(task);
        }
      }
      const runner = new KeepingRunner({ retries: 1, retryDelayMs: 0, onError: () => {} });
      runner.addTask(function (this: TaskContext) {
        kept.push(this);
      });
      runner.addTask(function (this: TaskContext) {
        kept.push(this);
        throw new Error("fails both attempts");
      });
      const tasks = new BackgroundTasks({ runner });
      tasks.addTask(() => {});
      tasks.skip();
      await runner.drain();
      assert.equal(runner.stats().succeeded + runner.stats().failed + runner.stats().skipped, 3);
      // Node runs destroy hooks from an immediate that does not wake the loop: keep it turning.
      const deadline = Date.now() + 5_000;
      while (destroyed.length < 6 && Date.now() < deadline) await new Promise((turned) => setImmediate(turned));
      assert.equal(ours.size, 6, "one resource per task, made once (a retry makes none)");
      assert.deepEqual(new Set(destroyed), ours, "each destroyed once");
      assert.equal(destroyed.length, 6);
      assert.equal(kept.length, 4, "two attempts of the failing task, one of the others");
    } finally {
      hook.disable();
    }
  });
});

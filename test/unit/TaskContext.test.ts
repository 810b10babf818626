// A task's `this` is a small object of its own: the documented TaskContext fields and nothing
// that reaches the runner, its request's list or another task.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BackgroundTasks, TaskRunner, TaskTimeoutError } from "../../src/mod.ts";
import type { TaskContext, TaskErrorInfo } from "../../src/mod.ts";
import { deferred } from "./_helpers.ts";

const FIELDS = ["attempt", "idempotencyKey", "name", "request", "responseAborted", "signal"];

/** Every value reachable from `root` through own properties and getters, prototypes included. */
function reachable(root: unknown): Set<unknown> {
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || (typeof value !== "object" && typeof value !== "function") || seen.has(value)) {
      seen.add(value);
      return;
    }
    seen.add(value);
    for (
      let object: object | null = value as object;
      object !== null && object !== Object.prototype && object !== Function.prototype;
      object = Object.getPrototypeOf(object)
    ) {
      for (const key of Reflect.ownKeys(object)) {
        const descriptor = Object.getOwnPropertyDescriptor(object, key)!;
        let item: unknown;
        try {
          item = "value" in descriptor ? descriptor.value : descriptor.get?.call(value);
        } catch {
          continue;
        }
        visit(item);
      }
    }
  };
  visit(root);
  return seen;
}

describe("TaskContext", () => {
  it("shows a task exactly the documented fields, serialises to JSON, and reaches no other task", async () => {
    const runner = new TaskRunner();
    const secret = { email: "someone-else@example.com" };
    const contexts: TaskContext[] = [];
    const record = function (this: TaskContext, _data: unknown): void {
      contexts.push(this);
    };
    const first = new BackgroundTasks({ runner, request: new Request("http://localhost/mine", { method: "POST" }) });
    const second = new BackgroundTasks({ runner, request: new Request("http://localhost/theirs") });
    first.addTask(record, { email: "me@example.com" });
    first.addTask(record, "later");
    second.addTask(record, secret);
    // Both lists hold waiting tasks while the first one's run: a node-linked list would reach them.
    first.start();
    await first.settled();
    second.start();
    await runner.drain();
    assert.equal(contexts.length, 3);
    const context = contexts[0]!;

    assert.deepEqual(Reflect.ownKeys(context), [], "nothing of the runner's is kept on the object itself");
    const names = new Set<string>();
    for (let proto = Object.getPrototypeOf(context); proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const key of Reflect.ownKeys(proto)) if (typeof key === "string" && key !== "constructor") names.add(key);
    }
    assert.deepEqual([...names].sort(), [...FIELDS, "toJSON"].sort());
    for (const field of FIELDS) assert.ok(field in context);

    const json = JSON.parse(JSON.stringify(context));
    assert.deepEqual(json, {
      name: "record",
      attempt: 1,
      signal: { aborted: false },
      request: { method: "POST", url: "http://localhost/mine" },
      responseAborted: false,
    }, "an undefined idempotencyKey is left out by JSON");

    const seen = reachable(context);
    assert.ok(!seen.has(secret), "another request's argument is reachable from this");
    assert.ok(!seen.has(second), "another request's list is reachable from this");
    assert.ok(!seen.has(first), "its own list is reachable from this");
    assert.ok(!seen.has(runner), "the runner is reachable from this");
    assert.ok(![...seen].some((value) => value === "later"), "a later task's argument is reachable from this");
  });

  it("gives each attempt its own context and signal, and serialises an aborted one", async () => {
    const runner = new TaskRunner({ retries: 1, retryDelayMs: 0, timeoutMs: 10, onError: () => {} });
    const contexts: TaskContext[] = [];
    runner.addTask(function flaky(this: TaskContext): Promise<void> {
      contexts.push(this);
      return new Promise(() => {}); // times out
    });
    await runner.drain();
    assert.deepEqual(contexts.map((c) => c.attempt), [1, 2]);
    assert.notEqual(contexts[0], contexts[1]);
    assert.notEqual(contexts[0]!.signal, contexts[1]!.signal);
    assert.ok(contexts[0]!.signal.reason instanceof TaskTimeoutError);
    assert.deepEqual(JSON.parse(JSON.stringify(contexts[1])).signal, { aborted: true });
  });

  it("counts a task that ends when its signal aborts as timed out", async () => {
    const reports: TaskErrorInfo[] = [];
    const runner = new TaskRunner({ timeoutMs: 10, onError: (_error, info) => void reports.push(info) });
    const started = deferred();
    runner.addTask(function endsOnAbort(this: TaskContext): Promise<void> {
      started.resolve();
      return new Promise((resolve) => this.signal.addEventListener("abort", () => resolve()));
    });
    await started.promise;
    await runner.drain();
    assert.equal(runner.stats().timedOut, 1);
    assert.equal(runner.stats().failed, 1);
    assert.equal(reports[0]?.timedOut, true);
  });
});

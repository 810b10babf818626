import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defineTask, idempotencyKeyOf, taskDefinition, TaskRunner, withIdempotencyKey } from "../../src/mod.ts";
import type { TaskContext } from "../../src/mod.ts";
import { deferred } from "./_helpers.ts";

describe("idempotency keys", () => {
  const welcome = defineTask("welcome", (_email: string, _name: string) => {}, {
    idempotencyKey: (email, name) => `welcome ${email} ${name}`,
    concurrency: 1,
  });

  it("derives a task's key from its arguments; a key given at the call wins", () => {
    assert.equal(idempotencyKeyOf(welcome, ["ada@example.com", "ada"]), "welcome ada@example.com ada");
    const keyed = withIdempotencyKey(welcome, "signup-42");
    assert.equal(idempotencyKeyOf(keyed, ["ada@example.com", "ada"]), "signup-42");
    assert.equal(keyed.name, "welcome");
    assert.equal(taskDefinition(keyed), taskDefinition(welcome), "the same definition: same name, settings and limits");
    assert.equal(idempotencyKeyOf(() => {}, []), undefined);
  });

  it("refuses keys that are not non-empty strings of at most 256 characters, saying so", () => {
    assert.throws(() => withIdempotencyKey(welcome, ""), /non-empty string of at most 256 characters/);
    assert.throws(() => withIdempotencyKey(welcome, "x".repeat(257)), /got 257 characters/);
    const numeric = defineTask("numeric", (_n: number) => {}, { idempotencyKey: (n) => n as unknown as string });
    assert.throws(() => idempotencyKeyOf(numeric, [1]), /task "numeric": idempotencyKey\(...args\).*got number/);
    assert.throws(() => defineTask("bad", () => {}, { idempotencyKey: "fixed" as never }), /idempotencyKey must be a function/);
  });

  it("shows the key to each attempt of an in-process task as this.idempotencyKey", async () => {
    const seen: (string | undefined)[] = [];
    const failing = defineTask("flaky", function (this: TaskContext, _id: string) {
      seen.push(this.idempotencyKey);
      if (this.attempt === 1) throw new Error("first attempt fails");
    }, { retries: 1, idempotencyKey: (id) => `flaky ${id}` });
    const runner = new TaskRunner({ retryDelayMs: 0, onError: () => {} });
    runner.addTask(failing, "7");
    runner.addTask(withIdempotencyKey(failing, "given"), "8");
    runner.addTask(function (this: TaskContext) {
      seen.push(this.idempotencyKey ?? "none");
    });
    await runner.drain();
    assert.deepEqual(seen.sort(), ["flaky 7", "flaky 7", "given", "given", "none"]);
  });

  it("counts a keyed call against the task's own concurrency limit", async () => {
    const gate = deferred<void>();
    let running = 0;
    let peak = 0;
    const limited = defineTask("limited", async (_id: string) => {
      peak = Math.max(peak, ++running);
      await gate.promise;
      running--;
    }, { concurrency: 1 });
    const runner = new TaskRunner();
    runner.addTask(limited, "a");
    runner.addTask(withIdempotencyKey(limited, "k"), "b");
    await new Promise((resolve) => setTimeout(resolve, 0));
    gate.resolve();
    await runner.drain();
    assert.equal(peak, 1);
  });
});

// TaskRunner.drain inside Deno's own test runner, which runs microtasks while a timer is being set:
// a task that ends meanwhile must still count as drained.
import assert from "node:assert/strict";
const assertEquals = assert.deepEqual;
import { TaskRunner } from "@background/tasks";

Deno.test("drain({ timeoutMs }) reports drained once the task ends, and leaves no timer behind", async () => {
  const runner = new TaskRunner({ timeoutMs: 5_000 });
  let sent = 0;
  runner.addTask(async (_to: string) => {
    sent++;
  }, "ada@example.com");
  const result = await runner.drain({ timeoutMs: 10_000 });
  assertEquals(result, { drained: true, unfinished: [] });
  assertEquals(sent, 1);
});

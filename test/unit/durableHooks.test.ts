import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "../../src/mod.ts";
import type { AcceptedTask } from "../../src/mod.ts";
import { captureConsoleError, deferred, tick } from "./_helpers.ts";

/** A runner that "stores" tasks in memory and refuses anonymous ones, like a durable runner would. */
class RecordingRunner extends TaskRunner {
  stored: string[] = [];
  invoked: string[] = [];
  discarded: string[] = [];
  gate = deferred();
  fail = false;
  protected override store(task: AcceptedTask): Promise<void> {
    if (task.fn.name === "") throw new TypeError("name your task");
    return this.gate.promise.then(() => {
      if (this.fail) throw new Error("store down");
      this.stored.push(task.name);
    });
  }
  protected override invoke(task: AcceptedTask): unknown {
    this.invoked.push(task.name);
    return undefined;
  }
  protected override discard(task: AcceptedTask): void {
    this.discarded.push(task.name);
  }
}

describe("runner extension points (store, invoke)", () => {
  it("holds the response until the tasks are stored, then invokes through the runner", async () => {
    const runner = new RecordingRunner();
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(function sendWelcomeEmail(_to: string) {}, "ada@example.com");
      return new Response(null, { status: 202 });
    }, { runner });
    let answered = false;
    const pending = Promise.resolve(handler(new Request("http://localhost/register"))).then((r) => {
      answered = true;
      return r;
    });
    await tick(10);
    assert.equal(answered, false, "no response before the task is stored");
    runner.gate.resolve();
    assert.equal((await pending).status, 202);
    assert.deepEqual(runner.stored, ["sendWelcomeEmail"]);
    await runner.drain();
    assert.deepEqual(runner.invoked, ["sendWelcomeEmail"]);
  });

  it("answers 503 and skips the tasks when storing fails", async () => {
    const runner = new RecordingRunner();
    runner.fail = true;
    runner.gate.resolve();
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(function sendWelcomeEmail() {});
      return new Response(null, { status: 202 });
    }, { runner });
    const { result: response, calls } = await captureConsoleError(async () => await handler(new Request("http://localhost/")));
    assert.equal(response.status, 503);
    assert.match((await response.json()).message, /could not be queued/);
    assert.equal(calls.length, 1);
    await runner.drain();
    assert.deepEqual(runner.invoked, []);
    assert.deepEqual(runner.discarded, ["sendWelcomeEmail"], "the stored copy of a skipped task is discarded");
    assert.equal(runner.stats().skipped, 1);
  });

  it("lets store refuse a task at the call, counting nothing", () => {
    const runner = new RecordingRunner();
    assert.throws(() => runner.addTask(() => {}), /name your task/);
    assert.equal(runner.stats().waiting + runner.stats().queued, 0);
  });
});

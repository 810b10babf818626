import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defineTask, getBackgroundTasks, TaskRunner, withBackgroundTasks } from "../../src/mod.ts";
import type { TaskContext } from "../../src/mod.ts";
import { createTestClient, recordTasks } from "../../src/testing.ts";
import { deferred } from "./_helpers.ts";

const sendWelcomeEmail = defineTask("send-welcome-email", async (to: string, name: string) => {
  await Promise.resolve([to, name]);
});

describe("recordTasks", () => {
  it("records name, arguments and request of every task added, before any runs", async () => {
    const runner = new TaskRunner();
    const tasks = recordTasks(runner);
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(sendWelcomeEmail, "ada@example.com", "ada");
      getBackgroundTasks(request).addTask(function writeLog(_line: string) {}, "registered ada");
      return new Response("ok");
    }, { runner });
    const response = await handler(new Request("http://localhost/users", { method: "POST" }));
    assert.deepEqual(tasks.added.map(({ name, args, request, state }) => ({ name, args, request, state })), [
      {
        name: "send-welcome-email",
        args: ["ada@example.com", "ada"],
        request: { method: "POST", url: "http://localhost/users" },
        state: "added",
      },
      { name: "writeLog", args: ["registered ada"], request: { method: "POST", url: "http://localhost/users" }, state: "added" },
    ]);
    tasks.expectTask(sendWelcomeEmail).toHaveBeenAddedWith("ada@example.com", "ada");
    tasks.expectTask("writeLog").toHaveBeenAddedTimes(1);
    tasks.expectTask("other").notToHaveBeenAdded();
    await response.text(); // the response is sent: the tasks start
    await tasks.settled();
    assert.deepEqual(tasks.added.map((task) => [task.state, task.attempts]), [["succeeded", 1], ["succeeded", 1]]);
    tasks.stop();
  });

  it("assertions fail with what was added", () => {
    const runner = new TaskRunner();
    const tasks = recordTasks(runner);
    runner.addTask(sendWelcomeEmail, "bob@example.com", "bob");
    assert.throws(() => tasks.expectTask(sendWelcomeEmail).toHaveBeenAddedWith("ada@example.com", "ada"), {
      message:
        'expected task "send-welcome-email" to have been added with ("ada@example.com", "ada"); added: send-welcome-email("bob@example.com", "bob")',
    });
    assert.throws(
      () => tasks.expectTask("writeLog").toHaveBeenAdded(),
      /expected task "writeLog" to have been added; added: send-welcome-email/,
    );
    assert.throws(() => tasks.expectTask(sendWelcomeEmail).toHaveBeenAddedTimes(2), /added 2 time\(s\), got 1/);
    assert.throws(() => tasks.expectTask(sendWelcomeEmail).notToHaveBeenAdded(), /not to have been added/);
    tasks.stop();
    return runner.drain().then(() => undefined);
  });

  it("runNow() starts tasks whose response was never read, and waits for them", async () => {
    const runner = new TaskRunner();
    const tasks = recordTasks(runner);
    const ran: string[] = [];
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(async (line: string) => void ran.push(line), "from the handler");
      return new Response(new ReadableStream({ start: (controller) => controller.enqueue(new Uint8Array([1])) }));
    }, { runner });
    await handler(new Request("http://localhost/"));
    assert.deepEqual(ran, []);
    await tasks.runNow();
    assert.deepEqual(ran, ["from the handler"]);
    tasks.stop();
  });

  it("marks failed attempts and timeouts, and stops recording on stop()", async () => {
    const runner = new TaskRunner({ retries: 1, retryDelayMs: 0, timeoutMs: 50, onError: () => {} });
    const tasks = recordTasks(runner);
    runner.addTask(function fails() {
      throw new Error("boom");
    });
    const hang = deferred();
    runner.addTask(async function hangs(this: TaskContext) {
      await new Promise((resolve) => this.signal.addEventListener("abort", resolve));
      hang.resolve();
    });
    await tasks.settled();
    await hang.promise;
    const byName = Object.fromEntries(tasks.added.map((task) => [task.name, task]));
    assert.equal(byName.fails!.state, "failed");
    assert.equal(byName.fails!.attempts, 2);
    assert.match(String(byName.fails!.error), /boom/);
    assert.equal(byName.hangs!.state, "failed");
    assert.equal((byName.hangs!.error as Error).name, "TaskTimeoutError");
    assert.deepEqual(tasks.failed.map((task) => task.name), ["fails", "hangs"]);
    tasks.stop();
    runner.addTask(function later() {});
    assert.equal(tasks.added.length, 2);
    await runner.drain();
  });
});

describe("createTestClient", () => {
  it("returns once the body was read and the request's tasks settled", async () => {
    const runner = new TaskRunner();
    const done: string[] = [];
    const app = withBackgroundTasks(async (request: Request) => {
      const { email } = await request.json() as { email: string };
      getBackgroundTasks(request).addTask(async (to: string) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        done.push(to);
      }, email);
      return Response.json({ message: "registered" }, { status: 201, headers: { "x-id": "1" } });
    }, { runner });
    const client = createTestClient(app, { runner });
    const response = await client.fetch("/users", { method: "POST", body: JSON.stringify({ email: "ada@example.com" }) });
    assert.deepEqual(done, ["ada@example.com"], "the task is done when fetch returns");
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-id"), "1");
    assert.deepEqual(await response.json(), { message: "registered" });
    client.tasks.expectTask("").toHaveBeenAddedTimes(0);
    assert.equal(client.tasks.added[0]!.request?.url, "http://localhost/users");
    client.tasks.stop();
  });

  it("refuses a handler that is not a function", () => {
    assert.throws(() => createTestClient("app" as never), /handler must be a function/);
  });
});

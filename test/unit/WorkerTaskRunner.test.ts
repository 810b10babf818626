// WorkerTaskRunner with real threads, on Node, Bun and Deno. The tasks (test/fixtures/worker/tasks.mjs)
// report on a BroadcastChannel, so each step waits on a message, never on a delay.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { defineTask, getBackgroundTasks, TaskTimeoutError, withBackgroundTasks } from "../../src/mod.ts";
import type { TaskErrorInfo } from "../../src/mod.ts";
import { WorkerTaskRunner, WorkerThreadError } from "../../src/worker.ts";
import { crashOnce, fail, hold, holdOne, noop, report, spin, waitForAbort } from "../fixtures/worker/tasks.mjs";

const module = new URL("../fixtures/worker/tasks.mjs", import.meta.url);
const runners: WorkerTaskRunner[] = [];
/** A runner whose threads are up, so a task's timeout does not count a thread's start (slow on a busy machine). */
const made = async (options: Omit<ConstructorParameters<typeof WorkerTaskRunner>[0], "module">): Promise<WorkerTaskRunner> => {
  const runner = new WorkerTaskRunner({ module, onError: () => {}, ...options }); // failures are asserted through events
  runners.push(runner);
  await runner.ready();
  return runner;
};
// Deno loses the messages other threads post to a BroadcastChannel opened after the isolate's last one
// was closed and before its event loop turned again: that close() cancels the isolate's one subscription,
// and the new channel, finding it still set, does not subscribe again. Each test here opens a channel
// right after the one before closed its own, so this channel stays open until the file ends.
const subscribed = new BroadcastChannel("worker-test-stay-subscribed");
/** The tests' channels still open: a test that failed before closing its own leaves it here. */
const open = new Set<BroadcastChannel>();
after(async () => {
  for (const runner of runners) await runner.close({ timeoutMs: 1_000 });
  for (const port of open) port.close(); // an open channel would keep the process alive after a failure
  subscribed.close();
});

let channels = 0;
// deno-lint-ignore no-explicit-any
type Message = Record<string, any>;
/** A fresh channel and a way to wait for the next message that matches. */
function channel(): { name: string; next(match?: (m: Message) => boolean): Promise<Message>; post(m: string): void; close(): void } {
  const name = `worker-test-${Date.now()}-${channels++}`;
  const port = new BroadcastChannel(name);
  open.add(port);
  const seen: Message[] = [];
  let waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  port.onmessage = (event: MessageEvent) => {
    const waiter = waiters.find((w) => w.match(event.data));
    if (waiter === undefined) seen.push(event.data);
    else {
      waiters = waiters.filter((w) => w !== waiter);
      waiter.resolve(event.data);
    }
  };
  return {
    name,
    next(match = () => true) {
      const at = seen.findIndex(match);
      if (at >= 0) return Promise.resolve(seen.splice(at, 1)[0]!);
      // Deno ends a test whose event loop has nothing referenced, and a BroadcastChannel is not: a timer
      // holds it. Deno's test runner has no timeout of its own, so a message that never comes fails here.
      let waiter: { match: (m: Message) => boolean; resolve: (m: Message) => void };
      let timer: ReturnType<typeof setTimeout>;
      return new Promise<Message>((resolve, reject) => {
        waiter = { match, resolve };
        waiters.push(waiter);
        timer = setTimeout(() => reject(new Error(`no matching message on ${name} within 60 s`)), 60_000);
      }).finally(() => {
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== waiter);
      });
    },
    post: (m) => port.postMessage(m),
    close: () => {
      port.close();
      open.delete(port);
    },
  };
}

/** Resolves with the first (error, info) of `event`. */
function once(runner: WorkerTaskRunner, event: "retry" | "failure"): Promise<[unknown, TaskErrorInfo]> {
  return new Promise((resolve) => {
    const off = runner.on(event, (error, info) => {
      off();
      resolve([error, info]);
    });
  });
}

describe("WorkerTaskRunner", () => {
  it("runs a task on a thread after the response body was read, with a plain context of its own as `this`", async () => {
    const runner = await made({ threads: 1 });
    const chan = channel();
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(report, chan.name, { n: 1, at: new Date(0), tags: new Set(["a"]) });
      return new Response("body");
    }, { runner });
    const response = await handler(new Request("http://localhost/upload", { method: "POST" }));
    assert.equal(runner.stats().waiting, 1, "the task waits for the response");
    assert.equal(runner.stats().running, 0);
    assert.equal(await response.text(), "body");
    const seen = await chan.next();
    chan.close();
    assert.deepEqual(seen.value, { n: 1, at: new Date(0), tags: new Set(["a"]) });
    assert.notEqual(seen.threadId, 0, "ran on a worker thread");
    assert.equal(seen.plain, true, "`this` is a plain object");
    assert.deepEqual(seen.keys, ["attempt", "name", "request", "responseAborted", "signal"]);
    assert.deepEqual(seen.json, {
      name: "report",
      attempt: 1,
      signal: {},
      request: { method: "POST", url: "http://localhost/upload" },
      responseAborted: false,
    });
    assert.equal(seen.signal, true);
    await runner.drain();
    assert.equal(runner.stats().succeeded, 1);
  });

  it("lowers each thread's priority to the niceness asked (Linux), leaving the server's", async () => {
    const { getPriority } = await import("node:os");
    const before = getPriority();
    const chan = channel();
    (await made({ threads: 1 })).addTask(report, chan.name, "default");
    const lowered = await chan.next();
    (await made({ threads: 1, niceness: 0 })).addTask(report, chan.name, "unchanged");
    const unchanged = await chan.next();
    chan.close();
    assert.equal(lowered.niceness, 19);
    assert.equal(unchanged.niceness, before);
    assert.equal(getPriority(), before, "the server's own thread keeps its priority");
  });

  it("keeps the global concurrency and a defined task's own limit", async () => {
    const runner = await made({ threads: 2, concurrency: 3 });
    const chan = channel();
    for (let i = 0; i < 3; i++) runner.addTask(holdOne, chan.name, `one-${i}`);
    runner.addTask(hold, chan.name, "a");
    runner.addTask(hold, chan.name, "b");
    runner.addTask(hold, chan.name, "c");
    const first = [await chan.next(), await chan.next(), await chan.next()];
    assert.deepEqual(first.map((m) => m.key).sort(), ["a", "b", "one-0"], "one hold-one at a time, three tasks at once");
    assert.equal(runner.stats().running, 3);
    assert.equal(runner.stats().queued, 3);
    chan.post("release one-0");
    assert.equal((await chan.next()).key, "one-1", "the next hold-one takes the freed place");
    chan.post("release a");
    assert.equal((await chan.next()).key, "c");
    chan.post("release all");
    chan.post("release one-1");
    assert.equal((await chan.next()).key, "one-2");
    chan.post("release one-2");
    assert.deepEqual(await runner.drain({ timeoutMs: 5_000 }), { drained: true, unfinished: [] });
    chan.close();
    assert.equal(runner.stats().succeeded, 6);
  });

  it("aborts a timed-out task's signal in its thread", async () => {
    const runner = await made({ threads: 1, timeoutMs: 300 });
    const chan = channel();
    const failed = once(runner, "failure");
    runner.addTask(waitForAbort, chan.name);
    await chan.next((m) => m.kind === "waiting");
    const aborted = await chan.next((m) => m.kind === "aborted");
    chan.close();
    assert.equal(aborted.reason, "TaskTimeoutError");
    const [error, info] = await failed;
    assert.ok(error instanceof TaskTimeoutError);
    assert.equal(info.timedOut, true);
  });

  it("terminates and replaces a thread stuck in a loop past its timeout", async () => {
    const runner = await made({ threads: 1, timeoutMs: 1_000, abortGraceMs: 20 });
    const chan = channel();
    const failed = once(runner, "failure");
    const flags = new Int32Array(new SharedArrayBuffer(16));
    runner.addTask(spin, flags);
    const [error, info] = await failed;
    assert.ok(error instanceof TaskTimeoutError);
    assert.equal(info.timedOut, true);
    assert.equal(Atomics.load(flags, 0), 1, "the task started");
    await runner.ready(); // the stuck thread does not count: this waits for its replacement
    runner.addTask(report, chan.name, "after");
    const after = await chan.next((m) => m.kind === "report");
    chan.close();
    assert.notEqual(after.threadId, Atomics.load(flags, 1), "the next task runs on a new thread");
    assert.deepEqual(await runner.drain({ timeoutMs: 5_000 }), { drained: true, unfinished: [] });
  });

  for (const how of ["throw", "exit"] as const) {
    it(`replaces a thread that dies (${how}) and retries its task; the server lives on`, async () => {
      const runner = await made({ threads: 1, retries: 1, retryDelayMs: 0 });
      const chan = channel();
      const retried = once(runner, "retry");
      runner.addTask(crashOnce, chan.name, how);
      const first = await chan.next();
      const [error, info] = await retried;
      assert.ok(error instanceof WorkerThreadError, String(error));
      assert.match(error.message, /^Task "crash-once" \(attempt 1\) did not finish: its worker thread /);
      assert.deepEqual(error.task, { name: "crash-once", attempt: 1, args: [chan.name, how] });
      assert.equal(info.attempt, 1);
      const second = await chan.next();
      chan.close();
      assert.equal(second.attempt, 2);
      assert.notEqual(second.threadId, first.threadId);
      assert.deepEqual(await runner.drain({ timeoutMs: 5_000 }), { drained: true, unfinished: [] });
      assert.equal(runner.stats().succeeded, 1);
    });
  }

  it("names the task, attempt and arguments a lost thread ends, apart from the tasks on other threads", async () => {
    const runner = await made({ threads: 2 });
    const chan = channel();
    runner.addTask(hold, chan.name, "elsewhere");
    await chan.next((m) => m.kind === "started");
    const failed = once(runner, "failure");
    runner.addTask(crashOnce, chan.name, "exit");
    const [error, info] = await failed;
    assert.ok(error instanceof WorkerThreadError, String(error));
    assert.deepEqual(error.task, { name: "crash-once", attempt: 1, args: [chan.name, "exit"] });
    assert.match(error.message, /^Task "crash-once" \(attempt 1\) did not finish: its worker thread exited/);
    assert.ok(!inspect(error).includes(chan.name), "a logged error does not print the task's arguments");
    assert.equal(info.name, "crash-once");
    assert.equal(info.final, true);
    assert.equal(runner.stats().running, 1, "the task on the other thread runs on");
    chan.post("release elsewhere");
    assert.deepEqual(await runner.drain({ timeoutMs: 5_000 }), { drained: true, unfinished: [] });
    chan.close();
    assert.equal(runner.stats().succeeded, 1);
  });

  it("reports a task's own error with its name, message and code", async () => {
    const runner = await made({ threads: 1 });
    const failed = once(runner, "failure");
    runner.addTask(fail);
    const [error, info] = await failed;
    assert.ok(error instanceof Error);
    assert.equal(error.name, "InvoiceError");
    assert.equal(error.message, "invoice 42 is missing");
    assert.equal((error as Error & { code?: string }).code, "E_INVOICE");
    assert.equal(info.name, "fail");
  });

  it("drain() waits for running tasks, and at its deadline aborts them in their threads", async () => {
    const runner = await made({ threads: 2 });
    const chan = channel();
    runner.addTask(hold, chan.name, "x");
    runner.addTask(waitForAbort, chan.name);
    await chan.next((m) => m.kind === "started");
    await chan.next((m) => m.kind === "waiting");
    const result = await runner.drain({ timeoutMs: 30 });
    assert.equal(result.drained, false);
    assert.deepEqual(result.unfinished.map((t) => t.name).sort(), ["hold", "wait-for-abort"]);
    assert.equal((await chan.next((m) => m.kind === "aborted")).reason, "DrainTimeoutError");
    const drained = runner.drain();
    chan.post("release x");
    assert.deepEqual(await drained, { drained: true, unfinished: [] });
    chan.close();
  });

  it("close() at its deadline stops the threads; a task still stuck there fails and nothing is left running", async () => {
    const runner = await made({ threads: 1, retries: 2, retryDelayMs: 0 });
    const flags = new Int32Array(new SharedArrayBuffer(16));
    const failed = once(runner, "failure");
    runner.addTask(spin, flags);
    const started = await new Promise<boolean>((resolve) => {
      const check = setInterval(() => {
        if (Atomics.load(flags, 0) === 1) {
          clearInterval(check);
          resolve(true);
        }
      }, 5);
    });
    assert.ok(started);
    const result = await runner.close({ timeoutMs: 50 });
    assert.equal(result.drained, false);
    assert.deepEqual(result.unfinished.map((t) => [t.name, t.state]), [["spin", "running"]]);
    const [error] = await failed;
    assert.ok(error instanceof WorkerThreadError);
    assert.equal(error.message, 'Task "spin" (attempt 3) did not start: the runner was closed.', "its retries are refused too");
    assert.deepEqual(error.task, { name: "spin", attempt: 3, args: [flags] });
    assert.equal(Atomics.load(flags, 0), 1, "its retries started no thread after close()");
    assert.equal(runner.stats().running, 0);
    assert.deepEqual(await runner.drain(), { drained: true, unfinished: [] });
    assert.throws(() => runner.addTask(report, "channel", 1), /after close\(\)/);
  });

  it("refuses at addTask a plain function, a task the module does not export, and arguments a thread cannot receive", async () => {
    const runner = await made({ threads: 1 });
    const chan = channel();
    runner.addTask(report, chan.name, "warm"); // once a thread reported, the runner knows the module's task names
    await chan.next();
    chan.close();
    assert.throws(() => runner.addTask((path: string) => path, "/a.csv"), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /plain function/);
      assert.match(error.message, /defineTask\(/);
      assert.match(error.message, /tasks\.mjs/);
      return true;
    });
    const elsewhere = defineTask("not-exported", () => {});
    assert.throws(() => runner.addTask(elsewhere), /exports no task named "not-exported".*Export it from there/);
    class Invoice {
      constructor(readonly id: number) {}
    }
    const cases: [unknown, RegExp][] = [
      [() => {}, /argument 2 is a function/],
      [Symbol("x"), /argument 2 is a symbol/],
      [new Invoice(1), /argument 2 is a Invoice instance.*without its methods/],
      [{ user: { save: () => {} } }, /argument 2\.user\.save is a function/],
      [[1, new Map([["k", new WeakMap()]])], /argument 2\[1\]\.get\("k"\) is a WeakMap/],
      [Promise.resolve(1), /argument 2 is a Promise.*Await it/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => runner.addTask(report, "channel", value as never), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, message);
        assert.match(error.message, /cannot be sent to a worker thread/);
        return true;
      });
    }
    assert.equal(runner.stats().waiting + runner.stats().queued, 0, "nothing refused was counted");
    assert.throws(() => new WorkerTaskRunner({ module: "./tasks.ts" }), /new URL\("\.\/tasks\.ts", import\.meta\.url\)/);
    assert.throws(() => new WorkerTaskRunner({ module, threads: 0 }), /threads must be a whole number/);
    assert.throws(() => new WorkerTaskRunner({ module, thread: 2 } as never), /unknown option "thread" \(did you mean "threads"\?\)/);
  });

  it("dispatches a burst of no-op tasks and counts every one", async () => {
    const runner = await made({ threads: 2, concurrency: 64 });
    for (let i = 0; i < 2_000; i++) runner.addTask(noop);
    assert.deepEqual(await runner.drain({ timeoutMs: 10_000 }), { drained: true, unfinished: [] });
    assert.equal(runner.stats().succeeded, 2_000);
  });
});

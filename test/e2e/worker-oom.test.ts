// A worker thread that runs out of memory (Node's resourceLimits) is replaced; its task is reported
// and retried, and the server process lives on. Node only: Bun and Deno do not apply resourceLimits.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { TaskErrorInfo } from "../../src/mod.ts";
import { WorkerTaskRunner, WorkerThreadError } from "../../src/worker.ts";
import { crashOnce } from "../fixtures/worker/tasks.mjs";

describe("WorkerTaskRunner on Node", () => {
  const runner = new WorkerTaskRunner({
    module: new URL("../fixtures/worker/tasks.mjs", import.meta.url),
    threads: 1,
    retries: 1,
    retryDelayMs: 0,
    resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
    onError: () => {},
  });
  after(() => runner.close({ timeoutMs: 1_000 }));

  it("replaces a thread that runs out of memory and retries its task", async () => {
    await runner.ready();
    const name = `worker-oom-${Date.now()}`;
    const channel = new BroadcastChannel(name);
    const attempts: number[] = [];
    const second = new Promise<void>((resolve) => {
      channel.onmessage = (event: MessageEvent) => {
        attempts.push(event.data.attempt);
        if (event.data.attempt === 2) resolve();
      };
    });
    const retried = new Promise<[unknown, TaskErrorInfo]>((resolve) => runner.on("retry", (error, info) => resolve([error, info])));
    runner.addTask(crashOnce, name, "oom");
    const [error, info] = await retried;
    assert.ok(error instanceof WorkerThreadError, String(error));
    assert.match(error.message, /ran out of memory/);
    assert.equal(info.name, "crash-once");
    await second;
    channel.close();
    assert.deepEqual(attempts, [1, 2]);
    assert.deepEqual(await runner.drain({ timeoutMs: 5_000 }), { drained: true, unfinished: [] });
    assert.equal(runner.stats().succeeded, 1);
    assert.equal(runner.stats().retried, 1);
  });
});

// In a BullMQ worker too, a task's `this` is its own context: the documented fields (plus
// jobId), serialisable, and nothing of the worker's. Real redis-server, one process.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { defineTask, getBackgroundTasks, withBackgroundTasks } from "../../src/mod.ts";
import { BullMQTaskRunner, createTaskWorker, type DurableTaskContext } from "../../src/bullmq.ts";
import { type RedisServer, startRedis } from "../fixtures/bullmq/_redis.ts";

describe("a durable task's context", { timeout: 60_000 }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it("has exactly the documented fields, serialises to JSON, and holds nothing of the worker", async () => {
    let seen!: (context: DurableTaskContext) => void;
    const ran = new Promise<DurableTaskContext>((resolve) => (seen = resolve));
    const inspect = defineTask("inspect-context", function (this: DurableTaskContext, _to: string) {
      seen(this);
    }, { idempotencyKey: (to) => `welcome ${to}` });
    const connection = { url: redis.url };
    const queueName = `context-${Date.now()}`;
    const runner = new BullMQTaskRunner({ connection, queueName, tasks: [inspect], recoverAfterMs: 10_000 });
    const worker = createTaskWorker({ connection, queueName, tasks: [inspect] });
    try {
      const handler = withBackgroundTasks((request: Request) => {
        getBackgroundTasks(request).addTask(inspect, "ada@example.com");
        return new Response("ok");
      }, { runner });
      const response = await handler(new Request("http://localhost/register", { method: "POST" }));
      await response.text();
      const context = await ran;

      assert.deepEqual(Reflect.ownKeys(context), [], "nothing of the worker's is kept on the object itself");
      const names = new Set<string>();
      for (let proto = Object.getPrototypeOf(context); proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const key of Reflect.ownKeys(proto)) if (typeof key === "string" && key !== "constructor") names.add(key);
      }
      assert.deepEqual(
        [...names].sort(),
        ["attempt", "idempotencyKey", "jobId", "name", "request", "responseAborted", "signal", "toJSON"],
      );
      const json = JSON.parse(JSON.stringify(context));
      assert.deepEqual(json, {
        name: "inspect-context",
        attempt: 1,
        signal: { aborted: false },
        request: { method: "POST", url: "http://localhost/register" },
        responseAborted: false,
        idempotencyKey: "welcome ada@example.com",
        jobId: context.jobId,
      });
      assert.equal(typeof context.jobId, "string");
      assert.ok(context.signal instanceof AbortSignal);
    } finally {
      await worker.close();
      await runner.close({ timeoutMs: 5_000 });
    }
  });
});

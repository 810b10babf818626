// After many requests the runner holds nothing and the heap returns to its baseline.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "../../src/mod.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return process.memoryUsage().heapUsed;
}

describe("memory", () => {
  it("keeps no trace of finished requests: the heap returns to its baseline", async () => {
    const runner = new TaskRunner();
    let ran = 0;
    const payload = "x".repeat(1024);
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask((body: string) => void (ran += body.length > 0 ? 1 : 0), payload + request.url);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(payload));
          controller.close();
        },
      });
      return new Response(stream);
    }, { runner });

    const round = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const response = await handler(new Request(`http://localhost/${i}`, { method: "POST", body: payload }));
        await response.arrayBuffer();
      }
      assert.deepEqual(await runner.drain({ timeoutMs: 5000 }), { drained: true, unfinished: [] });
    };

    await round(2_000); // warm up code and pools
    const baseline = await settledHeap();
    await round(20_000);
    const after = await settledHeap();
    const growthPerRequest = (after - baseline) / 20_000;
    console.log(
      `heap baseline ${(baseline / 1e6).toFixed(1)} MB, after 20k requests ${(after / 1e6).toFixed(1)} MB (${
        growthPerRequest.toFixed(1)
      } B/request)`,
    );
    assert.equal(ran, 22_000);
    const stats = runner.stats();
    assert.equal(stats.waiting + stats.queued + stats.running, 0);
    // Each request carried > 2 KB (request body, payload copy, response body); keeping any of it would show as >= 1 KB/request.
    assert.ok(growthPerRequest < 100, `heap grew ${growthPerRequest.toFixed(1)} bytes per request`);
  });
});

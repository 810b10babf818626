// The runner's parts on their own: the queue, the per-kind limiter and the attempt's timeout and
// retry delay, which the in-process, worker-thread and BullMQ runners share.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { _Queue } from "../../src/runner/queue.ts";
import { _KindLimiter } from "../../src/runner/limiter.ts";
import { _nextRetryDelay, _withinTimeout } from "../../src/runner/attempt.ts";
import { captureConsoleError, deferred } from "./_helpers.ts";

describe("the runner's parts", () => {
  it("queue: first in, first out, across refills, with unshift and a large burst", () => {
    const queue = new _Queue<number>();
    for (let round = 0; round < 3; round++) {
      queue.push(1);
      queue.push(2);
      queue.unshift(0);
      assert.deepEqual([...queue], [0, 1, 2]);
      assert.deepEqual([queue.shift(), queue.shift(), queue.shift(), queue.shift()], [0, 1, 2, undefined]);
      assert.equal(queue.size, 0);
    }
    for (let i = 0; i < 5_000; i++) queue.push(i);
    for (let i = 0; i < 3_000; i++) assert.equal(queue.shift(), i);
    queue.unshift(-1);
    assert.equal(queue.size, 2_001);
    assert.equal(queue.shift(), -1);
    for (let i = 3_000; i < 5_000; i++) assert.equal(queue.shift(), i);
    assert.equal(queue.shift(), undefined);
  });

  it("limiter: a kind's places are taken up to its limit, and a freed place goes to the next waiter", () => {
    const limiter = new _KindLimiter<string, string>();
    assert.equal(limiter.acquire("mail", 2, "a"), true);
    assert.equal(limiter.acquire("mail", 2, "b"), true);
    assert.equal(limiter.acquire("mail", 2, "c"), false);
    assert.equal(limiter.acquire("csv", 1, "x"), true, "another kind has places of its own");
    assert.equal(limiter.acquire("mail", 2, "d"), false);
    assert.equal(limiter.waitingCount, 2);
    assert.deepEqual([...limiter.waiting()], ["c", "d"]);
    assert.equal(limiter.release("mail"), "c", "the place is handed to the first waiter");
    assert.equal(limiter.release("mail"), "d");
    assert.equal(limiter.waitingCount, 0);
    assert.equal(limiter.release("mail"), undefined);
    assert.equal(limiter.release("mail"), undefined);
    assert.equal(limiter.acquire("mail", 2, "e"), true, "both places are free again");
    assert.equal(limiter.acquire("mail", 2, "f"), true);
    assert.equal(limiter.acquire("mail", 2, "g"), false);
  });

  it("attempt: settles as the result does, or rejects at the timeout, aborts after, and ignores a late result", async () => {
    assert.equal(await _withinTimeout(Promise.resolve(7), undefined, () => new Error("never"), () => {}), 7);
    assert.equal(await _withinTimeout(Promise.resolve(8), 1_000, () => new Error("never"), () => {}), 8);

    const late = deferred<number>();
    const order: string[] = [];
    const timeout = new Error("too slow");
    const settled = _withinTimeout(late.promise, 5, () => timeout, (error) => {
      order.push("timedOut");
      assert.equal(error, timeout);
      late.resolve(9); // what a task that ends on abort does: too late to count as a success
    });
    await assert.rejects(settled, (error) => error === timeout);
    assert.deepEqual(order, ["timedOut"]);
  });

  it("retry delay: kept within 0 and the longest timer; a throwing delay function means at once", async () => {
    assert.equal(_nextRetryDelay(() => 250, 1, undefined), 250);
    assert.equal(_nextRetryDelay(() => -5, 1, undefined), 0);
    assert.equal(_nextRetryDelay(() => Number.NaN, 1, undefined), 0);
    assert.equal(_nextRetryDelay(() => Infinity, 1, undefined), 2_147_483_647);
    const { result, calls } = await captureConsoleError(() =>
      Promise.resolve(_nextRetryDelay(
        () => {
          throw new Error("bad delay");
        },
        1,
        undefined,
      ))
    );
    assert.equal(result, 0);
    assert.match(String(calls[0]?.[0]), /retryDelayMs threw/);
  });
});

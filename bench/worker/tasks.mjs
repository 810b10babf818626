// Tasks for the worker-thread benchmarks (bench/worker/measure.mjs); plain JavaScript importing the
// built package, so a thread loads it alike on Node, Bun and Deno.
import { defineTask } from "../../dist/mod.js";

export const noop = defineTask("noop", () => {});

/** Keeps its thread's CPU busy for `ms` milliseconds, as a CSV parse or an image resize would. */
export const burn = defineTask("burn", (ms) => {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x > 0 ? undefined : undefined;
});

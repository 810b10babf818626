// What keeping a task's `AsyncLocalStorage` context costs, step by step, in a tight loop (ns per
// operation, best of 7 runs of 200,000). Run it with deno, bun or node (through tsx):
//   deno run -A bench/profile/capture.ts   bun bench/profile/capture.ts   node --import tsx bench/profile/capture.ts
// Deno registers each AsyncResource with a FinalizationRegistry until it is destroyed, so the
// resource made per task costs far more when nothing destroys it.
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";

const N = 200_000;
function measure(name: string, loop: () => void): void {
  let best = Infinity;
  for (let run = 0; run < 7; run++) {
    const start = performance.now();
    loop();
    best = Math.min(best, performance.now() - start);
  }
  console.log(`${name.padEnd(46)} ${((best * 1e6) / N).toFixed(0).padStart(6)} ns`);
}

function identity(value: number): number {
  return value;
}
const resource = new AsyncResource("BackgroundTask");
const store = new AsyncLocalStorage<number>();
measure("a direct call", () => {
  for (let i = 0; i < N; i++) identity(i);
});
measure("new AsyncResource(), never destroyed", () => {
  for (let i = 0; i < N; i++) new AsyncResource("BackgroundTask");
});
measure("new AsyncResource(), then emitDestroy()", () => {
  for (let i = 0; i < N; i++) new AsyncResource("BackgroundTask").emitDestroy();
});
measure("runInAsyncScope(), one resource", () => {
  for (let i = 0; i < N; i++) resource.runInAsyncScope(identity, null, i);
});
measure("a task's whole capture: new, run, emitDestroy()", () => {
  for (let i = 0; i < N; i++) {
    const context = new AsyncResource("BackgroundTask");
    context.runInAsyncScope(identity, null, i);
    context.emitDestroy();
  }
});
measure("AsyncLocalStorage.run(), for comparison", () => {
  for (let i = 0; i < N; i++) store.run(i, identity, i);
});

// Section "runner", run once per runtime by bench/sections/runner.mjs (also runnable by hand:
//   node --expose-gc --import tsx bench/runner.bench.ts
//   bun bench/runner.bench.ts
//   deno run -A --v8-flags=--expose-gc bench/runner.bench.ts).
// Prints one JSON line (RUNNER_JSON) with:
// - throughput: tasks/s through addTask → run → drain, for a no-op task and a 1 ms async task, at
//   concurrency 1, 16 and unbounded; timed with mitata's measure(), rounds interleaved with a
//   minimal FIFO runner (the baseline: same concurrency, no features), so each case has a ratio;
// - memory: heap bytes per queued task at 10k, 100k and 1M tasks queued at once (GC before and after).
import { measure } from "mitata";
import { TaskRunner } from "@background/tasks";

declare const Bun: any;
const env = (name: string): string | undefined => (globalThis as any).process?.env?.[name] ?? (globalThis as any).Deno?.env.get(name);
const quick = env("BENCH_QUICK") === "1";
const rounds = Number(env("BENCH_ROUNDS") ?? (quick ? 2 : 5));
const runtime = typeof Bun !== "undefined" ? "bun" : (globalThis as any).Deno ? "deno" : "node";

function collect(): void {
  if (typeof Bun !== "undefined") Bun.gc(true);
  else if (typeof (globalThis as any).gc === "function") (globalThis as any).gc();
  else throw new Error("no GC hook: run node with --expose-gc, deno with --v8-flags=--expose-gc");
}
const heapUsed = (): number => (globalThis as any).process.memoryUsage().heapUsed;

/** The baseline: a FIFO with a concurrency limit, a microtask pump, no timeouts/retries/events/stats. */
class MinimalRunner {
  #queue: [(...a: any[]) => unknown, unknown[]][] = [];
  #head = 0;
  #running = 0;
  #scheduled = false;
  #idle: (() => void) | undefined;
  constructor(readonly concurrency: number) {}
  addTask(fn: (...a: any[]) => unknown, ...args: unknown[]): void {
    this.#queue.push([fn, args]);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#pump);
    }
  }
  #done = (): void => {
    this.#running--;
    this.#pump();
  };
  #pump = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    while (this.#running < this.concurrency && this.#head < queue.length) {
      const [fn, args] = queue[this.#head]!;
      queue[this.#head++] = undefined as never;
      this.#running++;
      let result: unknown;
      try {
        result = fn(...args);
      } catch {
        this.#running--;
        continue;
      }
      if (result instanceof Promise) result.then(this.#done, this.#done);
      else this.#running--;
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      if (this.#running === 0 && this.#idle) {
        const idle = this.#idle;
        this.#idle = undefined;
        idle();
      }
    }
  };
  drain(): Promise<void> {
    if (this.#running === 0 && this.#head === this.#queue.length) return Promise.resolve();
    return new Promise((resolve) => (this.#idle = resolve));
  }
}

function noop(): void {}
const sleep1 = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

type Kind = "noop" | "async1ms";
const concurrencies: [string, number][] = [["1", 1], ["16", 16], ["unbounded", Infinity]];
/** Tasks per measured iteration: enough to dominate per-iteration overhead, small enough for the 1 ms cases. */
function batchSize(kind: Kind, concurrency: number): number {
  if (kind === "noop") return quick ? 2_000 : 10_000;
  if (concurrency === 1) return quick ? 20 : 50;
  if (concurrency === 16) return quick ? 200 : 800;
  return quick ? 1_000 : 5_000;
}

async function tasksPerSecond(kind: Kind, concurrency: number, impl: "ours" | "baseline"): Promise<number> {
  const n = batchSize(kind, concurrency);
  const fn = kind === "noop" ? noop : sleep1;
  const ours = new TaskRunner({ concurrency });
  const base = new MinimalRunner(concurrency);
  const iteration = impl === "ours"
    ? async () => {
      for (let i = 0; i < n; i++) ours.addTask(fn);
      await ours.drain();
    }
    : async () => {
      for (let i = 0; i < n; i++) base.addTask(fn);
      await base.drain();
    };
  const stats = await measure(iteration, {
    min_cpu_time: (kind === "noop" ? (quick ? 50 : 250) : (quick ? 100 : 400)) * 1e6,
    min_samples: kind === "noop" ? 12 : 4,
    max_samples: kind === "noop" ? 1e6 : 12,
    warmup_samples: 2,
  } as any);
  if (kind === "noop" && ours.stats().succeeded === 0 && impl === "ours") throw new Error("tasks did not run");
  return n / (stats.p50 / 1e9);
}

function bytesPerQueuedTask(count: number, impl: "ours" | "baseline"): { bytes: number; run: Promise<unknown> } {
  const ours = new TaskRunner();
  const base = new MinimalRunner(Infinity);
  collect();
  const before = heapUsed();
  if (impl === "ours") { for (let i = 0; i < count; i++) ours.addTask(noop); }
  else for (let i = 0; i < count; i++) base.addTask(noop);
  collect(); // synchronous: the queued tasks cannot have run yet
  const after = heapUsed();
  if (impl === "ours" && ours.stats().queued !== count) throw new Error(`expected ${count} queued, got ${JSON.stringify(ours.stats())}`);
  return { bytes: (after - before) / count, run: impl === "ours" ? ours.drain() : base.drain() };
}

const throughput: Record<string, { ours: number[]; baseline: number[] }> = {};
for (let round = 0; round < rounds; round++) {
  for (const kind of ["noop", "async1ms"] as Kind[]) {
    for (const [label, concurrency] of concurrencies) {
      const key = `${kind} c=${label}`;
      throughput[key] ??= { ours: [], baseline: [] };
      throughput[key].ours.push(await tasksPerSecond(kind, concurrency, "ours"));
      throughput[key].baseline.push(await tasksPerSecond(kind, concurrency, "baseline"));
    }
  }
  (globalThis as any).console.error(`  [${runtime}] throughput round ${round + 1}/${rounds}`);
}

const memory: Record<string, { ours: number[]; baseline: number[] }> = {};
const counts = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
for (let round = 0; round < rounds; round++) {
  for (const count of counts) {
    const key = String(count);
    memory[key] ??= { ours: [], baseline: [] };
    for (const impl of ["ours", "baseline"] as const) {
      const { bytes, run } = bytesPerQueuedTask(count, impl);
      memory[key][impl].push(bytes);
      await run;
    }
  }
  (globalThis as any).console.error(`  [${runtime}] memory round ${round + 1}/${rounds}`);
}

console.log("RUNNER_JSON " + JSON.stringify({ runtime, rounds, throughput, memory }));

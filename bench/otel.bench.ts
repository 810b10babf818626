// What instrumentTasks costs per task, side by side in one process (interleaved rounds, A B then B A):
//   flock /tmp/bench.lock node_modules/.bin/bun bench/otel.bench.ts
//   flock /tmp/bench.lock node --import tsx bench/otel.bench.ts
//   flock /tmp/bench.lock node_modules/.bin/deno run -A --config deno.test.json bench/otel.bench.ts
// Each sample: 1000 no-op tasks added inside a request's span, then drain(); per task.
// - plain: a runner without instrumentation (the floor);
// - off: instrumentTasks with no tracer or meter provider registered (the API's no-op ones);
// - on: instrumentTasks with the SDK: a TracerProvider whose spans go through a
//   BatchSpanProcessor to an exporter that drops them, and a MeterProvider with a reader.
// Prints the median per-task time of each, and on − plain, off − plain per round (median, spread).
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { measure } from "mitata";
import { TaskRunner } from "@background/tasks";
import { instrumentTasks } from "@background/tasks/otel";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "bun"
  : (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : "node";
const TASKS = 1000;
const ROUNDS = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.BENCH_ROUNDS ?? 6);

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const dropping: SpanExporter = {
  export: (_spans: ReadableSpan[], done: (result: { code: 0 }) => void) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};
const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: dropping, maxQueueSize: 1 << 16 })] });
class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
const meterProvider = new MeterProvider({ readers: [new PullReader()] });
const requestSpan = tracerProvider.getTracer("bench").startSpan("GET /");
const inRequest = trace.setSpan(context.active(), requestSpan);

const noop = (_n: number): void => {};
const plain = new TaskRunner();
const off = new TaskRunner();
instrumentTasks(off); // no provider registered globally: no-op tracer and meter
const on = new TaskRunner();
instrumentTasks(on, { tracerProvider, meterProvider });

function addAll(runner: TaskRunner): void {
  for (let i = 0; i < TASKS; i++) runner.addTask(noop, i);
}
const sample = (runner: TaskRunner) => async (): Promise<void> => {
  context.with(inRequest, addAll, undefined, runner);
  await runner.drain();
};

const times: Record<"plain" | "off" | "on", number[]> = { plain: [], off: [], on: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order: ["plain" | "off" | "on", TaskRunner][] = [["plain", plain], ["off", off], ["on", on]];
  if (round % 2 === 1) order.reverse();
  for (const [name, runner] of order) {
    const stats = await measure(sample(runner), { min_cpu_time: 400e6 });
    times[name].push(stats.p50 / TASKS);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const diff = (a: number[], b: number[]): number[] => a.map((x, i) => x - b[i]!).sort((x, y) => x - y);
const onCost = diff(times.on, times.plain);
const offCost = diff(times.off, times.plain);
console.log(
  `${runtime} per task: plain ${median(times.plain).toFixed(0)} ns, off ${median(times.off).toFixed(0)} ns, on ${
    median(times.on).toFixed(0)
  } ns`,
);
console.log(
  `${runtime} on − plain: median ${median(onCost).toFixed(0)} ns (spread ${onCost[0]!.toFixed(0)}…${onCost.at(-1)!.toFixed(0)}); ` +
    `off − plain: median ${median(offCost).toFixed(0)} ns (spread ${offCost[0]!.toFixed(0)}…${
      offCost.at(-1)!.toFixed(0)
    }) over ${ROUNDS} rounds`,
);
await tracerProvider.shutdown();
await meterProvider.shutdown();

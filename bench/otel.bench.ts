// What instrumentTasks costs per task, side by side in one process (interleaved rounds, A B then B A):
//   flock /tmp/bench.lock node_modules/.bin/bun bench/otel.bench.ts
//   flock /tmp/bench.lock node --import tsx bench/otel.bench.ts
//   flock /tmp/bench.lock node_modules/.bin/deno run -A --config deno.test.json bench/otel.bench.ts
// Each sample: 1000 tasks added inside a request's span, then drain(); per task.
// - plain: a runner without instrumentation, running a no-op task;
// - off: instrumentTasks with no tracer or meter provider registered (the API's no-op ones);
// - floor: a runner without instrumentation whose task makes, by hand, what the SDK must do for one
//   attempt: the same span started and ended (name, link, the four attributes) and the same two
//   histogram records, called directly. floor − plain is the SDK's own cost, which no
//   instrumentation can go below; floor span and floor records do one part each;
// - on: instrumentTasks with the SDK: a TracerProvider whose spans go through a BatchSpanProcessor to
//   an exporter that drops them, and a MeterProvider with a reader. on − floor is ours.
// With BASELINE=<another build's dist/>, two more contenders, base and base off, are that build's
// instrumentTasks on its own runners, with and without the SDK (to compare a change side by side:
// on − base, off − base off).
// Prints the median per-task time of each, and per-round differences (median, spread).
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { TaskRunner } from "@background/tasks";
import { instrumentTasks } from "@background/tasks/otel";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "bun"
  : (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : "node";
const TASKS = 1000;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 6);
const SAMPLES = Number(env.BENCH_SAMPLES ?? 40);

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

// The floor: what the SDK does for one attempt, called by hand with values made in advance.
const floorTracer = tracerProvider.getTracer("bench-floor");
const floorMeter = meterProvider.getMeter("bench-floor");
const seconds = { unit: "s", advice: { explicitBucketBoundaries: [0.001, 0.01, 0.1, 1, 10] } };
const floorDuration = floorMeter.createHistogram("background_tasks.duration", seconds);
const floorQueueWait = floorMeter.createHistogram("background_tasks.queue_wait", seconds);
const added = requestSpan.spanContext();
const byName = { "background_task.name": "noop" };
const bySuccess = { "background_task.name": "noop", "background_task.outcome": "success" };
function spanByHand(): void {
  const span = floorTracer.startSpan("noop", {
    links: [{ context: added }],
    attributes: { "background_task.name": "noop", "background_task.attempt": 1, "background_task.queue_wait_ms": 0.01 },
  }, ROOT_CONTEXT);
  span.setAttribute("background_task.outcome", "success");
  span.end();
}
function recordsByHand(): void {
  floorQueueWait.record(0.00001, byName);
  floorDuration.record(0.00001, bySuccess);
}
function noopWithSdkByHand(_n: number): void {
  spanByHand();
  recordsByHand();
}

type Contender = "plain" | "off" | "floor" | "floor span" | "floor records" | "on" | "base" | "base off";
const runners: [Contender, TaskRunner, (n: number) => void][] = [];
runners.push(["plain", new TaskRunner(), noop]);
const off = new TaskRunner();
instrumentTasks(off); // no provider registered globally: no-op tracer and meter
runners.push(["off", off, noop]);
runners.push(["floor", new TaskRunner(), noopWithSdkByHand]);
runners.push(["floor span", new TaskRunner(), spanByHand]);
runners.push(["floor records", new TaskRunner(), recordsByHand]);
const on = new TaskRunner();
instrumentTasks(on, { tracerProvider, meterProvider });
runners.push(["on", on, noop]);
if (env.BASELINE !== undefined) {
  const dist = pathToFileURL(resolve(env.BASELINE)).href;
  const base = await import(`${dist}/mod.js`) as { TaskRunner: typeof TaskRunner };
  const baseOtel = await import(`${dist}/otel.js`) as { instrumentTasks: typeof instrumentTasks };
  const runner = new base.TaskRunner();
  baseOtel.instrumentTasks(runner, { tracerProvider, meterProvider });
  runners.push(["base", runner, noop]);
  const runnerOff = new base.TaskRunner();
  baseOtel.instrumentTasks(runnerOff);
  runners.push(["base off", runnerOff, noop]);
}

function addAll(runner: TaskRunner, task: (n: number) => void): void {
  for (let i = 0; i < TASKS; i++) runner.addTask(task, i);
}
const sample = (runner: TaskRunner, task: (n: number) => void) => async (): Promise<void> => {
  context.with(inRequest, addAll, undefined, runner, task);
  await runner.drain();
};

// Contenders take turns sample by sample (A B then B A), so a burst of load from elsewhere on the
// machine hits them alike; each round keeps the median of each and of each sample-by-sample difference.
// Each sample starts on a collected heap, so none pays for the garbage of the one before it.
const collect = (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc ?? (globalThis as { gc?: (full: boolean) => void }).gc;
const perTask = async (runner: TaskRunner, task: (n: number) => void): Promise<number> => {
  collect?.(true);
  const start = performance.now();
  await sample(runner, task)();
  return (performance.now() - start) * 1e6 / TASKS;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pairs: [Contender, Contender][] = [
  ["off", "plain"],
  ["on", "plain"],
  ["floor", "plain"],
  ["floor span", "plain"],
  ["floor records", "plain"],
  ["on", "floor"],
];
if (env.BASELINE !== undefined) pairs.push(["on", "base"], ["off", "base off"]);
const times: Partial<Record<Contender, number[]>> = {};
const diffs = new Map<string, number[]>(pairs.map(([a, b]) => [`${a} − ${b}`, []]));
for (let round = -1; round < ROUNDS; round++) { // round -1 warms up
  const samples: Partial<Record<Contender, number[]>> = {};
  for (let i = 0; i < SAMPLES; i++) {
    const order = i % 2 === 0 ? runners : [...runners].reverse();
    for (const [name, runner, task] of order) (samples[name] ??= []).push(await perTask(runner, task));
  }
  if (round < 0) continue;
  for (const [name] of runners) (times[name] ??= []).push(median(samples[name]!));
  for (const [a, b] of pairs) diffs.get(`${a} − ${b}`)!.push(median(samples[a]!.map((x, i) => x - samples[b]![i]!)));
}
const ns = (x: number): string => `${x.toFixed(0)} ns`;
const spread = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `median ${ns(median(sorted))} (spread ${sorted[0]!.toFixed(0)}…${sorted.at(-1)!.toFixed(0)})`;
};
const label: Record<string, string> = {
  "floor − plain": "floor − plain (the SDK's own span and two records)",
  "floor span − plain": "of which the span",
  "floor records − plain": "of which the two records",
  "on − floor": "on − floor (ours)",
};
console.log(
  `${runtime} per task: ${runners.map(([name]) => `${name} ${ns(median(times[name]!))}`).join(", ")} ` +
    `(${ROUNDS} rounds of ${SAMPLES} samples of ${TASKS} tasks)`,
);
for (const [key, values] of diffs) console.log(`${runtime} ${label[key] ?? key}: ${spread(values)}`);
await tracerProvider.shutdown();
await meterProvider.shutdown();

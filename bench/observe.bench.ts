// What observability costs per request and per task, side by side in one process:
//   node --import tsx bench/observe.bench.ts
//   bun bench/observe.bench.ts
//   deno run -A --config deno.test.json bench/observe.bench.ts
// (wrap each in `flock /tmp/bench.lock`). Prints one line per case: the median time, and the
// ratio to the case it is compared with.
// - "request": a wrapped handler that adds one task, completed as Deno's `info.completed` would,
//   100 requests then drain, per request. The floor is the same handler without the wrapper.
//   With BASELINE=<path to another build's dist/mod.js> (e.g. one whose tasks keep no context)
//   the same handler wrapped by that build runs beside it.
// - "context": keeping the AsyncLocalStorage context per task (an AsyncResource made when the
//   task is added, the task run inside it) against calling the task directly, inside a store.run.
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { measure } from "mitata";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "bun"
  : (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : "node";
const BATCH = 100;
const store = new AsyncLocalStorage<{ id: number }>();
const noop = (_n: number): void => {};
const completed = { completed: Promise.resolve() };

function makeHandler(runner: TaskRunner): (request: Request, info: typeof completed) => Response | Promise<Response> {
  return withBackgroundTasks((req: Request) => {
    getBackgroundTasks(req).addTask(noop, 1);
    return new Response("ok");
  }, { runner });
}

// One request object per contender, reused: each build keeps a request's tasks on the request.
const requestOf = new Map<unknown, Request>();

async function requests(
  handler: (request: Request, info: typeof completed) => Response | Promise<Response>,
  runner: TaskRunner | undefined,
): Promise<void> {
  let request = requestOf.get(handler);
  if (request === undefined) requestOf.set(handler, request = new Request("http://localhost/"));
  for (let i = 0; i < BATCH; i++) await store.run({ id: i }, handler, request, completed);
  if (runner !== undefined) await runner.drain();
}

const floor = (_req: Request): Response => new Response("ok");
const plainRunner = new TaskRunner();
const plain = makeHandler(plainRunner);
const baselinePath = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.BASELINE;
const baselineModule = baselinePath === undefined ? undefined : await import(baselinePath) as typeof import("@background/tasks");
const baselineRunner = baselineModule && new baselineModule.TaskRunner();
const baseline = baselineModule && baselineModule.withBackgroundTasks((req: Request) => {
  baselineModule.getBackgroundTasks(req).addTask(noop, 1);
  return new Response("ok");
}, { runner: baselineRunner });

async function median(fn: () => Promise<void> | void): Promise<number> {
  const stats = await measure(fn, { min_cpu_time: 300e6 });
  return stats.p50;
}

const rows: [string, number, number | undefined][] = [];
// Interleaved rounds (A B, then B A) so drift on a busy machine hits both sides.
const floorTimes: number[] = [];
const plainTimes: number[] = [];
const baselineTimes: number[] = [];
for (let round = 0; round < 6; round++) {
  const pair: [number[], () => Promise<void>][] = [
    [floorTimes, () => requests(floor, undefined)],
    [plainTimes, () => requests(plain, plainRunner)],
  ];
  if (baseline !== undefined) pair.push([baselineTimes, () => requests(baseline as typeof plain, baselineRunner as TaskRunner)]);
  if (round % 2 === 1) pair.reverse();
  for (const [times, fn] of pair) times.push((await median(fn)) / BATCH);
}
const mid = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
rows.push(["request: floor (handler alone)", mid(floorTimes), undefined]);
if (baseline !== undefined) {
  rows.push(["request: wrapped by BASELINE, one task", mid(baselineTimes), mid(baselineTimes) / mid(floorTimes)]);
}
rows.push(["request: wrapped, one task", mid(plainTimes), mid(plainTimes) / mid(floorTimes)]);
if (baseline !== undefined) {
  const ratios = plainTimes.map((t, i) => t / baselineTimes[i]!).sort((a, b) => a - b);
  console.log(
    `${runtime.padEnd(5)} wrapped / BASELINE per round: median ×${mid(ratios).toFixed(3)}, spread ×${ratios[0]!.toFixed(3)}–×${
      ratios.at(-1)!.toFixed(3)
    }`,
  );
}

const direct: number[] = [];
const captured: number[] = [];
const snapshot: number[] = [];
for (let round = 0; round < 4; round++) {
  const pair: [number[], () => void][] = [
    [direct, () => store.run({ id: round }, () => noop(1))],
    [captured, () => store.run({ id: round }, () => new AsyncResource("BackgroundTask").runInAsyncScope(noop, undefined, 1))],
    [snapshot, () => store.run({ id: round }, () => AsyncLocalStorage.snapshot()(noop, 1))],
  ];
  if (round % 2 === 1) pair.reverse();
  for (const [times, fn] of pair) times.push(await median(fn));
}
rows.push(["context: task called directly", mid(direct), undefined]);
rows.push(["context: AsyncResource + runInAsyncScope", mid(captured), mid(captured) / mid(direct)]);
rows.push(["context: AsyncLocalStorage.snapshot() + call", mid(snapshot), mid(snapshot) / mid(direct)]);

for (const [name, ns, ratio] of rows) {
  console.log(
    `${runtime.padEnd(5)} ${name.padEnd(48)} ${ns.toFixed(0).padStart(7)} ns${ratio === undefined ? "" : `  ×${ratio.toFixed(2)}`}`,
  );
}

// Where the per-request time of withBackgroundTasks goes, in-process (no HTTP, so no noise from the
// network stack or a load generator): a batch of 1,000 requests through a handler, then one macrotask
// so the tasks start, then drain. Variants, each adding one step to the previous:
//   bare            new Request + handler returning new Response
//   wrapped         + withBackgroundTasks (no task added)
//   wrapped+task    + getBackgroundTasks(request).addTask(noop), and the platform's completion signal
//   floor           bare + the platform's completion signal + runner.addTask(noop) once it fires:
//                   the least any wrapper that starts a runner's task after the response can cost
// The platform argument imitates each runtime's (Bun: server.requestIP() → null once written;
// Deno: info.completed; Node: a ServerResponse-like 'close' emitter); the real servers are measured
// over HTTP in the "cost" section. Run: bun | deno run -A | node --import tsx
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";

declare const Bun: any;
const runtime = typeof Bun !== "undefined" ? "bun" : (globalThis as any).Deno ? "deno" : "node";
const BATCH = 1000;
const url = "http://127.0.0.1/send-notification/bench@example.com";
const runner = new TaskRunner();
function noop(): void {}
function median(v: number[]): number {
  return [...v].sort((a, b) => a - b)[v.length >> 1]!;
}
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

const bunServer = { requestIP: (_request: Request) => null };
class FakeNodeResponse {
  writableFinished = false;
  #listeners: (() => void)[] = [];
  once(_event: string, listener: () => void): this {
    this.#listeners.push(listener);
    return this;
  }
  finish(): void {
    this.writableFinished = true;
    for (const l of this.#listeners) l();
  }
}

const bare = (_request: Request): Response => new Response("Hello, World!");
// Deno's default server aborts every request.signal after its response, so "auto" soon reads one
// signal in 64; these never abort, so the bench says "legacy" to match the server.
const options = { runner, denoAbortSignal: "legacy" } as const;
const wrappedNoTask = withBackgroundTasks(bare, options);
const wrappedTask = withBackgroundTasks((request: Request): Response => {
  getBackgroundTasks(request).addTask(noop);
  return new Response("Hello, World!");
}, options);

/** The bare handler, then (as hello.ts's floor) one runner.addTask once the platform signals. */
function floorHandler(request: Request, platform?: any): Response {
  if (typeof platform?.completed?.then === "function") platform.completed.then(addNoop);
  else if (typeof platform?.requestIP === "function") {
    if (floorPending.push(request) === 1) setTimeout(checkFloor, 0);
  } else if (typeof platform?.outgoing?.once === "function") platform.outgoing.once("finish", addNoop);
  else setTimeout(addNoop, 0);
  return new Response("Hello, World!");
}
const addNoop = (): void => runner.addTask(noop);
let floorPending: Request[] = [];
function checkFloor(): void {
  const batch = floorPending;
  floorPending = [];
  for (const request of batch) if (bunServer.requestIP(request) == null) addNoop();
}

type Platform = "none" | "bun" | "deno" | "node";
async function batch(handler: (request: Request, ...rest: any[]) => any, platform: Platform): Promise<void> {
  const pending: FakeNodeResponse[] = [];
  let resolveCompleted!: () => void;
  const completed = new Promise<void>((resolve) => (resolveCompleted = resolve));
  for (let i = 0; i < BATCH; i++) {
    const request = new Request(url);
    if (platform === "bun") handler(request, bunServer);
    else if (platform === "deno") handler(request, { completed, remoteAddr: undefined });
    else if (platform === "node") {
      const res = new FakeNodeResponse();
      pending.push(res);
      handler(request, { incoming: undefined, outgoing: res });
    } else handler(request);
  }
  resolveCompleted();
  for (const res of pending) res.finish();
  await macrotask();
  await runner.drain();
}

const platform: Platform = runtime as Platform;
const variants: [string, () => Promise<void>][] = [
  ["bare", () => batch(bare, platform)],
  ["wrapped", () => batch(wrappedNoTask, platform)],
  ["wrapped+task", () => batch(wrappedTask, platform)],
  ["floor", () => batch(floorHandler, platform)],
];
// CPU time, not wall time: each batch waits for a timer (at least 1 ms on some runtimes), and work
// done in microtasks overlaps that wait, so wall time hides it.
const cpu = (globalThis as any).process.cpuUsage as () => { user: number; system: number };
async function cpuNsPerRequest(fn: () => Promise<void>, batches: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < batches; i++) {
    const before = cpu();
    await fn();
    const after = cpu();
    runs.push(((after.user - before.user + after.system - before.system) * 1000) / BATCH);
  }
  return median(runs);
}
const rounds = Number((globalThis as any).process?.env?.BENCH_ROUNDS ?? 5);
const ns: Record<string, number[]> = {};
for (const [, fn] of variants) for (let i = 0; i < 50; i++) await fn(); // warm-up
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const [name, fn] of order) (ns[name] ??= []).push(await cpuNsPerRequest(fn, 100));
}
const out = Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, { nsPerRequest: median(v), runs: v }]));
console.log(`${runtime} (platform signal: ${platform}), CPU ns per request, median of ${rounds} rounds:`);
for (const [k, v] of Object.entries(out)) {
  console.log(`  ${k.padEnd(14)} ${v.nsPerRequest.toFixed(0)} ns  (+${(v.nsPerRequest - out.bare!.nsPerRequest).toFixed(0)} over bare)`);
}
console.log("PROFILE_JSON " + JSON.stringify({ runtime, platform, batch: BATCH, variants: out }));

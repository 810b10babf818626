// Where the per-request time of withBackgroundTasks goes, in-process (no HTTP, so no noise from the
// network stack or a load generator): a batch of 1,000 requests through a handler, then one macrotask
// so the tasks start, then drain. Variants, each adding one step to the previous:
//   bare            new Request + handler returning new Response
//   wrapped         + withBackgroundTasks (no task added)
//   wrapped+task    + getBackgroundTasks(request).addTask(noop), and the platform's completion signal
// The platform argument imitates each runtime's (Bun: server.requestIP() → null once written;
// Deno: info.completed; Node: a ServerResponse-like 'close' emitter); the real servers are measured
// over HTTP in the "cost" section. Run: bun | deno run -A | node --import tsx
import { measure } from "mitata";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";

declare const Bun: any;
const runtime = typeof Bun !== "undefined" ? "bun" : (globalThis as any).Deno ? "deno" : "node";
const BATCH = 1000;
const url = "http://127.0.0.1/send-notification/bench@example.com";
const runner = new TaskRunner();
function noop(): void {}
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
const wrappedNoTask = withBackgroundTasks(bare, { runner });
const wrappedTask = withBackgroundTasks((request: Request): Response => {
  getBackgroundTasks(request).addTask(noop);
  return new Response("Hello, World!");
}, { runner });

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
];
const rounds = Number((globalThis as any).process?.env?.BENCH_ROUNDS ?? 5);
const ns: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, fn] of variants) {
    const stats = await measure(fn, { min_cpu_time: 300e6 } as any);
    (ns[name] ??= []).push(stats.p50 / BATCH);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const out = Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, { nsPerRequest: median(v), runs: v }]));
console.log(`${runtime} (platform signal: ${platform}), ns per request, median of ${rounds} rounds:`);
for (const [k, v] of Object.entries(out)) {
  console.log(`  ${k.padEnd(14)} ${v.nsPerRequest.toFixed(0)} ns  (+${(v.nsPerRequest - out.bare!.nsPerRequest).toFixed(0)} over bare)`);
}
console.log("PROFILE_JSON " + JSON.stringify({ runtime, platform, batch: BATCH, variants: out }));

// Objects allocated per request by the wrapper on Bun, by kind (JSC heap statistics), beside the
// floors of bench/servers/hello.ts: a handler adding one no-op task, after a warm-up long enough for
// the JIT. Requests go straight to the handler with an object standing in for Bun's server
// (requestIP() is null: the response was written). Counts do not depend on a busy machine.
//   bun bench/profile/alloc-hello.ts [warm-up batches, default 1500]
import { heapStats } from "bun:jsc";
import { BackgroundTasks, getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";

const BATCH = 256;
const warmUp = Number(process.argv[2] ?? 1500);
const only = process.argv[3];
const runner = new TaskRunner();
function noop(): void {}
const server = { requestIP: (_request: Request) => null };
type Handler = (request: Request, server: unknown) => unknown;

function withSignalOf(prepare: () => () => void): Handler {
  let pending: [Request, () => void][] = [];
  const check = (): void => {
    const batch = pending;
    pending = [];
    for (const [request, then] of batch) if (server.requestIP(request) == null) then();
  };
  return (request) => {
    if (pending.push([request, prepare()]) === 1) setTimeout(check, 0);
    return new Response("Hello, World!");
  };
}
const handlers: Record<string, () => Handler> = {
  bare: () => () => new Response("Hello, World!"),
  wrapped: () =>
    withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(noop);
      return new Response("Hello, World!");
    }, { runner }),
  floor: () => withSignalOf(() => () => void runner.addTask(noop)),
  listed: () =>
    withSignalOf(() => {
      const tasks = new BackgroundTasks({ runner });
      tasks.addTask(noop);
      return () => tasks.start();
    }),
};

const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
const requests = () => Array.from({ length: BATCH }, () => new Request("http://localhost/"));
async function batch(handler: Handler, list: Request[]): Promise<void> {
  for (const request of list) handler(request, server);
  for (let i = 0; i < 3; i++) await macrotask();
  await runner.drain();
}

if (only === undefined) {
  const counts: Record<string, Record<string, number>> = {};
  for (const name of Object.keys(handlers)) {
    const child = Bun.spawnSync([process.execPath, import.meta.path, String(warmUp), name], { stderr: "inherit" });
    if (child.exitCode !== 0) throw new Error(`counting ${name} failed (exit ${child.exitCode})`);
    counts[name] = JSON.parse(child.stdout.toString());
  }
  const kinds = [...new Set(Object.values(counts).flatMap((byKind) => Object.keys(byKind)))].sort();
  const names = Object.keys(counts);
  console.log(`objects per request, after ${warmUp} batches of ${BATCH} (kind: ${names.join(" | ")})`);
  for (const kind of kinds) console.log(`  ${kind.padEnd(24)} ${names.map((n) => String(counts[n][kind] ?? 0).padStart(7)).join(" ")}`);
  const total = (name: string) => Object.values(counts[name]).reduce((sum, n) => sum + n, 0);
  console.log(`  ${"total".padEnd(24)} ${names.map((n) => total(n).toFixed(2).padStart(7)).join(" ")}`);
} else {
  const handler = handlers[only]!();
  for (let i = 0; i < warmUp; i++) await batch(handler, requests());
  const list = requests();
  Bun.gc(true);
  const before = heapStats().objectTypeCounts;
  await batch(handler, list);
  const after = heapStats().objectTypeCounts;
  const perKind: Record<string, number> = {};
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const perRequest = ((after[kind] ?? 0) - (before[kind] ?? 0)) / BATCH;
    if (perRequest >= 0.05) perKind[kind] = Math.round(perRequest * 100) / 100;
  }
  console.log(JSON.stringify(perKind));
}
process.exit(0);

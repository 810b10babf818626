// Two builds of the library side by side in one process: a handler adding one no-op task, fed
// batches of requests that alternate between the builds (A B, then B A), CPU time per request of
// each. Both see the same load from the rest of the machine at the same moments, so their ratio
// holds steady on a busy machine where separate runs scatter by ±10 %. The platform argument
// imitates Bun's server (requestIP() is null: the response was written), whatever runs it. The
// floor beside them: the bare handler, Bun's signal, one runner add once it fires.
//   bun bench/profile/builds.ts <checkout A> <checkout B>      (each with dist/ built)
// e.g. a clone of main in /tmp/base against this tree: bun bench/profile/builds.ts /tmp/base .
import { resolve } from "node:path";

const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error("usage: bun bench/profile/builds.ts <checkout A> <checkout B>");
  process.exit(2);
}
const BATCH = 500;
const ROUNDS = Number(process.env.ROUNDS ?? 600);
const server = { requestIP: (_request: Request) => null };
const macrotask = () => new Promise((done) => setTimeout(done, 0));

async function batchOf(dir: string): Promise<() => Promise<void>> {
  const lib = await import(resolve(dir, "dist/mod.js"));
  const runner = new lib.TaskRunner();
  function noop(): void {}
  const handler = lib.withBackgroundTasks((request: Request): Response => {
    lib.getBackgroundTasks(request).addTask(noop);
    return new Response("Hello, World!");
  }, { runner });
  return async () => {
    for (let i = 0; i < BATCH; i++) handler(new Request("http://localhost/"), server);
    for (let i = 0; i < 3; i++) await macrotask(); // Bun's signal starts tasks two macrotasks later
    await runner.drain();
  };
}
/** The floor, with build B's runner: the bare handler, Bun's signal, one runner add once it fires. */
async function floorOf(dir: string): Promise<() => Promise<void>> {
  const lib = await import(resolve(dir, "dist/mod.js"));
  const runner = new lib.TaskRunner();
  function noop(): void {}
  let pending: Request[] = [];
  const check = (): void => {
    const batch = pending;
    pending = [];
    for (const request of batch) if (server.requestIP(request) == null) runner.addTask(noop);
  };
  return async () => {
    for (let i = 0; i < BATCH; i++) {
      const request = new Request("http://localhost/");
      if (pending.push(request) === 1) setTimeout(check, 0);
      void new Response("Hello, World!");
    }
    for (let i = 0; i < 3; i++) await macrotask();
    await runner.drain();
  };
}
async function bare(): Promise<void> {
  for (let i = 0; i < BATCH; i++) void new Request("http://localhost/") && new Response("Hello, World!");
  for (let i = 0; i < 3; i++) await macrotask();
}
async function nsPerRequest(batch: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  await batch();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / BATCH;
}

const a = await batchOf(dirA);
const b = await batchOf(dirB);
const floor = await floorOf(dirB);
for (let i = 0; i < 300; i++) await a(), await b(), await floor(); // warm-up: the JIT compiles all
const runs: Record<"a" | "b" | "bare" | "floor", number[]> = { a: [], b: [], bare: [], floor: [] };
for (let i = 0; i < ROUNDS; i++) {
  if (i % 2 === 0) runs.a.push(await nsPerRequest(a)), runs.b.push(await nsPerRequest(b));
  else runs.b.push(await nsPerRequest(b)), runs.a.push(await nsPerRequest(a));
  if (i % 4 === 0) runs.bare.push(await nsPerRequest(bare));
  if (i % 4 === 2) runs.floor.push(await nsPerRequest(floor));
}
// Noise only adds time: the low quantile is each build's steadiest figure.
const quantile = (v: number[], q: number): number => [...v].sort((x, y) => x - y)[Math.floor(v.length * q)]!;
const [pa, pb, pbare, pfloor] = [runs.a, runs.b, runs.bare, runs.floor].map((v) => quantile(v, 0.1)) as [number, number, number, number];
console.log(`CPU ns per request (10th percentile of ${ROUNDS} batches of ${BATCH}):`);
console.log(`  A ${dirA}: ${pa.toFixed(0)} (${(pa - pbare).toFixed(0)} over bare)`);
console.log(`  B ${dirB}: ${pb.toFixed(0)} (${(pb - pbare).toFixed(0)} over bare)`);
console.log(`  the floor (B's runner.addTask once Bun's signal fires): ${pfloor.toFixed(0)} (${(pfloor - pbare).toFixed(0)} over bare)`);
console.log(`  bare request and response: ${pbare.toFixed(0)}`);
console.log(`  B ÷ A = ${(pb / pa).toFixed(3)} (median batches: ${(quantile(runs.b, 0.5) / quantile(runs.a, 0.5)).toFixed(3)})`);
process.exit(0);

// As builds.ts, for the Elysia plugin: two builds of the plugin side by side in one process, each
// on its own app (a route adding one no-op task), beside the plain route and Elysia's own
// onAfterResponse doing the no-op; batches through app.handle() alternate between them, CPU time
// per request of each.
//   bun bench/profile/elysia-builds.ts <checkout A> <checkout B>      (each with dist/ built)
import { resolve } from "node:path";
import { Elysia } from "elysia";

const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error("usage: bun bench/profile/elysia-builds.ts <checkout A> <checkout B>");
  process.exit(2);
}
const BATCH = 500;
const ROUNDS = Number(process.env.ROUNDS ?? 400);
function noop(): void {}
const macrotask = () => new Promise((done) => setTimeout(done, 0));

async function appOf(dir: string) {
  const { TaskRunner } = await import(resolve(dir, "dist/mod.js"));
  const { backgroundTasks } = await import(resolve(dir, "dist/elysia.js"));
  const runner = new TaskRunner();
  const app = new Elysia().use(backgroundTasks(runner)).get("/", ({ backgroundTasks }: any) => {
    backgroundTasks.addTask(noop);
    return "Hello, World!";
  });
  return { app, settled: () => runner.drain() };
}
const a = await appOf(dirA);
const b = await appOf(dirB);
const apps = {
  plain: { app: new Elysia().get("/", () => "Hello, World!"), settled: async () => {} },
  after: { app: new Elysia().onAfterResponse(noop).get("/", () => "Hello, World!"), settled: async () => {} },
  A: a,
  B: b,
};
// Started on Bun's server, so the plugin watches requestIP() as it does when serving.
for (const { app } of Object.values(apps)) app.listen({ port: 0, hostname: "127.0.0.1" });
const batchOf = ({ app, settled }: { app: { handle(r: Request): unknown }; settled: () => Promise<unknown> }) => async () => {
  for (let i = 0; i < BATCH; i++) app.handle(new Request("http://localhost/"));
  for (let i = 0; i < 3; i++) await macrotask();
  await new Promise((done) => setImmediate(done)); // onAfterResponse runs in an immediate
  await settled();
};
const batches = Object.entries(apps).map(([name, app]) => [name, batchOf(app)] as const);
for (let i = 0; i < 300; i++) for (const [, batch] of batches) await batch(); // warm-up
const runs: Record<string, number[]> = {};
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, batch] of i % 2 === 0 ? batches : [...batches].reverse()) {
    const start = process.cpuUsage();
    await batch();
    const used = process.cpuUsage(start);
    (runs[name] ??= []).push(((used.user + used.system) * 1000) / BATCH);
  }
}
const quantile = (v: number[], q: number): number => [...v].sort((x, y) => x - y)[Math.floor(v.length * q)]!;
const p10 = Object.fromEntries(Object.entries(runs).map(([name, v]) => [name, quantile(v, 0.1)]));
console.log(`CPU ns per request (10th percentile of ${ROUNDS} batches of ${BATCH}), and over the plain route:`);
for (const [name, ns] of Object.entries(p10)) {
  const label = name === "A" ? `A ${dirA}` : name === "B" ? `B ${dirB}` : name;
  console.log(`  ${label.padEnd(28)} ${ns.toFixed(0).padStart(6)}  +${(ns - p10.plain!).toFixed(0)}`);
}
console.log(`  B ÷ A = ${(p10.B! / p10.A!).toFixed(3)}`);
process.exit(0);

// Objects allocated per request on the seed's log endpoint, by kind, counted with JSC's heap
// statistics: a batch of requests through app.handle() after a warm-up long enough for the JIT to
// optimise the hot path (it removes allocations that do not escape), counted before any
// collection can run. Three apps, each with the example's error handler as in
// bench/elysia-onafterresponse.ts: the route without background work, with Elysia's
// onAfterResponse, and with our plugin, each in its own process (sharing one would let each app's
// shapes deoptimise the others' code). Counts, unlike timings, do not depend on a busy machine.
//   bun bench/profile/allocations.ts [warm-up batches, default 1500]
import { heapStats } from "bun:jsc";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.env.DATA_DIR ??= mkdtempSync(join(tmpdir(), "bench-allocations-"));
const { Elysia, t } = await import("elysia");
const { backgroundTasks } = await import("@background/tasks/elysia");
const { TaskRunner } = await import("@background/tasks");
const { writeLog } = await import("../../examples/app/tasks/writeLog.ts");
const { Email, ErrorResponse, MessageResponse } = await import("../../examples/app/schemas.ts");
const { jsonErrors } = await import("../../examples/app/errors.ts");

const BATCH = 256;
const warmUp = Number(process.argv[2] ?? 1500);
const only = process.argv[3]; // set when run as one app's child process
const notification = { params: t.Object({ email: Email }), response: { 200: MessageResponse, 422: ErrorResponse } };
const answer = () => ({ message: "Notification sent in the background" });
const runner = new TaskRunner();
// Factories: only the app being counted is made in its process.
const apps = {
  "no work": () => new Elysia().use(jsonErrors).post("/send-notification/:email", answer, notification),
  onAfterResponse: () =>
    new Elysia().use(jsonErrors).post("/send-notification/:email", answer, {
      ...notification,
      afterResponse({ params }) {
        writeLog(`Sending notification to ${params.email}`).catch(console.error);
      },
    }),
  plugin: () =>
    new Elysia().use(jsonErrors).use(backgroundTasks(runner)).post("/send-notification/:email", ({ params, backgroundTasks }) => {
      backgroundTasks.addTask(writeLog, `Sending notification to ${params.email}`);
      return { message: "Notification sent in the background" };
    }, notification),
};

const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
const requests = () =>
  Array.from({ length: BATCH }, () => new Request("http://localhost/send-notification/bench@example.com", { method: "POST" }));
async function batch(app: { handle(request: Request): unknown }, list: Request[]): Promise<void> {
  for (const request of list) app.handle(request);
  for (let i = 0; i < 3; i++) await macrotask(); // the plugin's tasks start two macrotasks after
  await new Promise((resolve) => setImmediate(resolve)); // the log writer's flush
  await runner.drain();
}

if (only === undefined) {
  const counts: Record<string, Record<string, number>> = {};
  for (const name of Object.keys(apps)) {
    const child = Bun.spawnSync([process.execPath, import.meta.path, String(warmUp), name], { stderr: "inherit" });
    if (child.exitCode !== 0) throw new Error(`counting ${name} failed (exit ${child.exitCode})`);
    counts[name] = JSON.parse(child.stdout.toString());
  }
  const kinds = [...new Set(Object.values(counts).flatMap((byKind) => Object.keys(byKind)))].sort();
  const names = Object.keys(counts);
  console.log(`objects per request, after ${warmUp} batches of ${BATCH} (kind: ${names.join(" | ")})`);
  for (const kind of kinds) console.log(`  ${kind.padEnd(24)} ${names.map((n) => String(counts[n][kind] ?? 0).padStart(6)).join(" ")}`);
  const total = (name: string) => Object.values(counts[name]).reduce((sum, n) => sum + n, 0);
  console.log(`  ${"total".padEnd(24)} ${names.map((n) => total(n).toFixed(2).padStart(6)).join(" ")}`);
} else {
  const make = apps[only as keyof typeof apps];
  if (make === undefined) throw new Error(`unknown app ${only}; one of ${Object.keys(apps).join(", ")}`);
  const app = make();
  // Started on Bun's server, so the plugin watches requestIP() as it does when serving.
  app.listen({ port: 0, hostname: "127.0.0.1" });
  for (let i = 0; i < warmUp; i++) await batch(app, requests());
  const list = requests();
  Bun.gc(true);
  const before = heapStats().objectTypeCounts;
  await batch(app, list);
  const after = heapStats().objectTypeCounts;
  const perKind: Record<string, number> = {};
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const perRequest = ((after[kind] ?? 0) - (before[kind] ?? 0)) / BATCH;
    if (perRequest >= 0.05) perKind[kind] = Math.round(perRequest * 100) / 100;
  }
  console.log(JSON.stringify(perKind));
}
process.exit(0);

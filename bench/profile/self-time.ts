// Where a task's time goes in-process, by function (self time), on Deno or Node: batches of 20,000
// no-op tasks, each added to a request's BackgroundTasks list and started (MODE=list, the default),
// or added to the runner alone (MODE=runner), for 6 s under the V8 sampling profiler.
//   deno run -A bench/profile/self-time.ts        MODE=runner deno run -A bench/profile/self-time.ts
//   node --import tsx bench/profile/self-time.ts
// Prints the 15 functions with the most samples (runtime internals included) and the share of each.
import { Session } from "node:inspector";
import { BackgroundTasks, TaskRunner } from "@background/tasks";

type CallFrame = { functionName: string; url: string; lineNumber: number };
type Profile = { nodes: { id: number; callFrame: CallFrame }[]; samples: number[] };

const BATCH = 20_000;
const mode = (globalThis as any).process?.env?.MODE ?? (globalThis as any).Deno?.env.get("MODE") ?? "list";
if (mode !== "list" && mode !== "runner") throw new Error(`MODE must be list or runner, got "${mode}"`);
const runner = new TaskRunner();
const init = Object.freeze({ runner });
const requests = Array.from({ length: BATCH }, (_, i) => ({ method: "GET", url: `http://localhost/${i}` }));
const lists: BackgroundTasks[] = new Array(BATCH);
function noop(): void {}
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

const session = new Session();
session.connect();
const post = (method: string, params: object = {}): Promise<any> =>
  new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
await post("Profiler.enable");
await post("Profiler.setSamplingInterval", { interval: 100 });
await post("Profiler.start");
const end = performance.now() + 6_000;
while (performance.now() < end) {
  if (mode === "runner") { for (let i = 0; i < BATCH; i++) runner.addTask(noop); }
  else {
    for (let i = 0; i < BATCH; i++) (lists[i] = new BackgroundTasks(init, requests[i])).addTask(noop);
    for (let i = 0; i < BATCH; i++) lists[i]!.start();
  }
  await macrotask();
}
const { profile } = (await post("Profiler.stop")) as { profile: Profile };
session.disconnect();

const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
const counts = new Map<string, number>();
for (const id of profile.samples) {
  const frame = frames.get(id)!;
  const key = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/.*\//, "")}:${frame.lineNumber + 1}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
console.log(`${mode}: ${profile.samples.length} samples`);
for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`${((100 * count) / profile.samples.length).toFixed(1).padStart(5)} %  ${key}`);
}

// Minimal reproduction (fails today): on workerd, a response whose handler added a task
// loses its Content-Length and goes out chunked, because the core re-wraps the body in a
// tracking ReadableStream (the only completion signal there) and workerd cannot know the
// length of that stream. Exits 1 while the bytes differ.
//   npm run build && npx tsx test/contract/repro/workers-content-length.ts
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { rawGet } from "../_tests.ts";

const root = new URL("../../..", import.meta.url).pathname;
const dir = join(root, "test/.tmp/repro-workers"); // inside the package, so "@background/tasks" resolves
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, "entry.ts"),
  `
import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
export default {
  fetch: withBackgroundTasks((request: Request) => {
    if (new URL(request.url).pathname === "/with-task") getBackgroundTasks(request).addTask(() => {});
    return new Response("hello\\n", { headers: { "content-type": "text/plain" } });
  }),
};
`,
);
execFileSync(join(root, "node_modules/.bin/bun"), [
  "build",
  join(dir, "entry.ts"),
  "--target=browser",
  "--format=esm",
  `--outfile=${join(dir, "worker.js")}`,
], { stdio: "inherit" });

const mf = new Miniflare({
  modules: true,
  modulesRoot: dir,
  scriptPath: join(dir, "worker.js"),
  compatibilityDate: "2025-09-01",
  cf: false,
  port: 0,
});
const url = (await mf.ready).href;
const without = await rawGet(url, "/no-task");
const withTask = await rawGet(url, "/with-task");
await mf.dispose();
rmSync(dir, { recursive: true, force: true });

console.log("no task:  ", without.headers.join(" | "));
console.log("with task:", withTask.headers.join(" | "));
const same = without.headers.join("\n") === withTask.headers.join("\n");
console.log(same ? "same headers: fixed" : "headers differ: reproduced");
process.exit(same ? 0 : 1);

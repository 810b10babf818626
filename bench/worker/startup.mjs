// What a thread costs: time until ready() with 4 threads, and resident memory per thread.
// `node|bun|deno run -A bench/worker/startup.mjs` after `npm run build`.
import { WorkerTaskRunner } from "../../dist/worker.js";
const module = new URL("../../bench/worker/tasks.mjs", import.meta.url);
const rss = () => (globalThis.Deno ? Deno.memoryUsage().rss : process.memoryUsage().rss) / 2 ** 20;
const before = rss();
const t0 = performance.now();
const runner = new WorkerTaskRunner({ module, threads: 4 });
await runner.ready();
const ms = performance.now() - t0;
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({ readyMs: Math.round(ms), rssPerThreadMB: +((rss() - before) / 4).toFixed(1) }));
await runner.close();

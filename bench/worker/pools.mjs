// The maintained pools weighed against WorkerTaskRunner's own pool: no-op tasks/s through tinypool
// and piscina with 2 threads, on Node, Bun and Deno. Not a dependency of the package; install them
// for this run only:  npm install --no-save tinypool piscina
// then:  node bench/worker/pools.mjs tinypool   (bun …, deno run -A …; or piscina)
const which = globalThis.Deno?.args?.[0] ?? process.argv[2];
const tasks = 100_000;
const filename = new URL("./pool-noop.mjs", import.meta.url).href;
let pool;
if (which === "tinypool") {
  const { Tinypool } = await import("tinypool");
  pool = new Tinypool({ filename, minThreads: 2, maxThreads: 2 });
} else if (which === "piscina") {
  const { Piscina } = await import("piscina");
  pool = new Piscina({ filename, minThreads: 2, maxThreads: 2 });
} else {
  console.error("usage: pools.mjs tinypool|piscina");
  process.exit(2);
}
await Promise.all(Array.from({ length: 2_000 }, () => pool.run(1))); // warm up
const result = {};
for (const inflight of [2, 256]) {
  const t0 = performance.now();
  let done = 0;
  let started = 0;
  await new Promise((resolve) => {
    const next = () => {
      if (started >= tasks) {
        if (done === tasks) resolve();
        return;
      }
      started++;
      pool.run(1).then(() => {
        done++;
        next();
      });
    };
    for (let i = 0; i < inflight; i++) next();
  });
  result[`in flight ${inflight}`] = Math.round(tasks / ((performance.now() - t0) / 1000));
}
await pool.destroy();
console.log(JSON.stringify({ pool: which, tasksPerSecond: result }));

// Serves examples/cloudflare-worker.ts on workerd through miniflare, like the other
// examples serve themselves: reads PORT, prints `listening on <url>`, stops on SIGTERM.
// The worker is bundled first (as wrangler would), resolving "@background/tasks" to the
// built package in dist/, which is what a Workers project installs from npm.
//   npm run build && PORT=0 npx tsx test/contract/_serve-worker.ts
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";

const root = new URL("../..", import.meta.url).pathname;
const outdir = mkdtempSync(join(tmpdir(), "bg-worker-"));
execFileSync(join(root, "node_modules/.bin/bun"), [
  "build",
  join(root, "examples/cloudflare-worker.ts"),
  "--target=browser",
  "--format=esm",
  "--conditions=workerd",
  `--outfile=${join(outdir, "worker.js")}`,
], { stdio: ["ignore", "ignore", "inherit"] });

const mf = new Miniflare({
  modules: true,
  cf: false, // no Request.cf download: the tests stay on loopback
  modulesRoot: outdir,
  scriptPath: join(outdir, "worker.js"),
  compatibilityDate: "2025-09-01",
  host: "127.0.0.1",
  port: Number(process.env.PORT ?? 8787),
  log: new Log(process.env.MINIFLARE_DEBUG ? LogLevel.DEBUG : LogLevel.WARN),
});
const url = await mf.ready;
console.log(`listening on ${url.href.replace(/\/$/, "")}`);

process.on("SIGTERM", async () => {
  await mf.dispose();
  rmSync(outdir, { recursive: true, force: true });
  process.exit(0);
});

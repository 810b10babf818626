// On Cloudflare Workers there are no threads: constructing a WorkerTaskRunner fails at once with a
// message that says so, on real workerd (miniflare), bundled from the built package as wrangler would.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";

const root = new URL("../..", import.meta.url).pathname;

describe("WorkerTaskRunner on Cloudflare Workers", () => {
  const outdir = mkdtempSync(join(tmpdir(), "bg-worker-threads-"));
  let mf: Miniflare | undefined;
  after(async () => {
    await mf?.dispose();
    rmSync(outdir, { recursive: true, force: true });
  });

  it("throws at construction, saying there are no threads and what to use instead", async () => {
    execFileSync(join(root, "node_modules/.bin/bun"), [
      "build",
      join(root, "test/fixtures/worker/cloudflare-worker.ts"),
      "--target=browser",
      "--format=esm",
      "--conditions=workerd",
      "--external=node:*",
      `--outfile=${join(outdir, "worker.js")}`,
    ], { stdio: ["ignore", "ignore", "inherit"] });
    mf = new Miniflare({
      modules: true,
      cf: false,
      modulesRoot: outdir,
      scriptPath: join(outdir, "worker.js"),
      compatibilityDate: "2025-09-01",
      compatibilityFlags: ["nodejs_compat"],
      log: new Log(LogLevel.WARN),
    });
    const response = await mf.dispatchFetch("http://localhost/");
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.match(text, /^Error: WorkerTaskRunner: Cloudflare Workers have no threads to run tasks on\. Use the plain TaskRunner/);
  });
});

// A task runs in the AsyncLocalStorage context of the request that added it: 40 concurrent
// requests, each inside its own store.run({ id }), on Bun, Deno, Node and workerd with
// nodejs_compat. The runner runs one task at a time, so most tasks start from another request's
// completion or another task's end; each must still see its own request's id, before and after
// an await.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Log, LogLevel, Miniflare } from "miniflare";
import { eventually, root, startExample } from "./_exampleServer.ts";

const bin = (name: string): string => join(root, "node_modules/.bin", name);
const server = "test/fixtures/asyncContext/server.ts";

async function checkIsolation(base: string): Promise<void> {
  const ids = Array.from({ length: 40 }, (_, i) => `r${i}`);
  const bodies = await Promise.all(ids.map(async (id) => (await fetch(`${base}/?id=${id}`)).text()));
  assert.deepEqual(bodies, ids.map((id) => `ok ${id}`));
  type Seen = { expected: string; before?: string; after?: string }[];
  const seen = await eventually(async () => {
    const list = (await (await fetch(`${base}/report`)).json()) as Seen;
    return list.length >= ids.length * 2 ? list : undefined;
  }, "every task to report");
  assert.equal(seen.length, ids.length * 2, "every task ran once");
  const wrong = seen.filter((entry) => entry.before !== entry.expected || entry.after !== entry.expected);
  assert.deepEqual(wrong, [], "each task saw its own request's store");
}

describe("a task runs in the AsyncLocalStorage context it was added in", () => {
  const runtimes: [string, string[]][] = [
    ["node", [process.execPath, "--import", "tsx", server]],
    ["bun", [bin("bun"), server]],
    ["deno", [bin("deno"), "run", "-A", "--config", join(root, "deno.test.json"), server]],
  ];
  for (const [runtime, command] of runtimes) {
    it(`on ${runtime}, under concurrent requests`, async () => {
      const example = await startExample({}, { command });
      try {
        await checkIsolation(example.base);
      } finally {
        await example.close();
      }
    });
  }

  it("on workerd with nodejs_compat, under concurrent requests", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "bg-als-worker-"));
    try {
      execFileSync(bin("bun"), [
        "build",
        join(root, "test/fixtures/asyncContext/worker.ts"),
        "--target=node", // keeps the node:async_hooks import for nodejs_compat
        "--format=esm",
        "--conditions=workerd",
        `--outfile=${join(outdir, "worker.js")}`,
      ], { stdio: ["ignore", "ignore", "inherit"] });
      const mf = new Miniflare({
        modules: true,
        cf: false,
        modulesRoot: outdir,
        scriptPath: join(outdir, "worker.js"),
        compatibilityDate: "2025-09-01",
        compatibilityFlags: ["nodejs_compat"],
        host: "127.0.0.1",
        port: 0,
        log: new Log(LogLevel.WARN),
      });
      try {
        const url = await mf.ready;
        await checkIsolation(url.href.replace(/\/$/, ""));
      } finally {
        await mf.dispose();
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

// examples/cloudflare-worker.ts under `wrangler dev`, as its header and docs/runtimes.md say to run
// it: the shipped examples/wrangler.jsonc is accepted by the wrangler in devDependencies (its
// compatibility date is not newer than wrangler's workerd), the worker answers, and its task runs
// after the response. Wrangler's state directory is git-ignored.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { root } from "./_exampleServer.ts";

let child: ReturnType<typeof spawn> | undefined;
after(() => {
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
});

test("npx wrangler dev --config examples/wrangler.jsonc serves the worker and runs its task", async () => {
  child = spawn(join(root, "node_modules/.bin/wrangler"), [
    "dev",
    "--config",
    "examples/wrangler.jsonc",
    "--port",
    "0",
    "--ip",
    "127.0.0.1",
  ], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", CI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<void>((resolve) => child!.once("exit", () => resolve()));
  const waitFor = (pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const check = (): void => {
        const match = pattern.exec(output);
        if (match) done(undefined, match);
      };
      const done = (error?: Error, match?: RegExpExecArray): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(match!);
      };
      waiters.add(check);
      void exited.then(() => done(new Error(`wrangler exited:\n${output}`)));
      check();
    });

  const [, base] = await waitFor(/Ready on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
  const response = await fetch(`${base}/send-notification/ada@example.com`, { method: "POST" });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { message: "Notification sent in the background" });
  await waitFor(/\[log\] Sending notification to ada@example\.com/, 10_000);
  assert.doesNotMatch(output, /compatibility date|compatibility_date/i, "wrangler accepted the compatibility date");
  process.kill(-child.pid!, "SIGTERM");
  await exited;

  const ignored = spawnSync("git", ["check-ignore", "-q", "examples/.wrangler/state"], { cwd: root });
  assert.equal(ignored.status, 0, "examples/.wrangler/ is git-ignored");
});

// The example server's lifecycle: `npm start` on a fresh clone with no
// configuration, graceful shutdown on SIGINT/SIGTERM (stop accepting, drain
// with a deadline, print what was left, exit 0), and a second signal.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfig } from "../../examples/app/config.ts";
import { eventually, type ExampleServer, root, startExample } from "./_exampleServer.ts";

const servers: ExampleServer[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const cleanup of cleanups) await cleanup();
});

async function uploadCsv(base: string, csv: string): Promise<string> {
  const form = new FormData();
  form.set("file", new Blob([csv], { type: "text/csv" }), "rows.csv");
  const response = await fetch(`${base}/upload`, { method: "POST", body: form });
  assert.equal(response.status, 202);
  return (await response.json()).id;
}

function bigCsv(rows: number): string {
  let csv = "id,name\n";
  for (let i = 0; i < rows; i++) csv += `${i},name ${i}\n`;
  return csv;
}

// The build's inputs. When they are committed as they are here and dist/ is newer than each of them
// (npm test builds first), the clone's build would run the same tsc program on the same files: the clone
// gets a copy of dist/ instead. Anything changed or not yet added, and the clone builds for itself.
const buildInputs = ["src", "scripts/build.mjs", "tsconfig.json", "tsconfig.build.json", "package.json"];
function builtFromCommitted(): boolean {
  const changed = execFileSync("git", ["status", "--porcelain", "--untracked-files=all", "--", ...buildInputs], {
    cwd: root,
    encoding: "utf8",
  });
  if (changed !== "" || !existsSync(join(root, "dist/mod.js"))) return false;
  const built = statSync(join(root, "dist/mod.js")).mtimeMs;
  const inputs = execFileSync("git", ["ls-files", "--", ...buildInputs], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean);
  return inputs.every((file) => statSync(join(root, file)).mtimeMs < built);
}

test("with no configuration the server listens on 127.0.0.1:3000 and keeps its data in <repo>/data", () => {
  // Empty variables count as unset. Read, not bound: a test never takes a fixed port.
  for (const env of [{}, { PORT: "", HOST: "", DATA_DIR: "" }]) {
    const config = readConfig(env);
    assert.deepEqual([config.port, config.hostname, config.dataDir], [3000, "127.0.0.1", join(root, "data")]);
  }
});

test("npm start on a fresh clone works with no configuration but the port", async () => {
  const clone = await mkdtemp(join(tmpdir(), "bg-clone-"));
  cleanups.push(() => rm(clone, { recursive: true, force: true }));
  // A local clone hard-links the object files (immutable) instead of copying them: the checkout is the same.
  execFileSync("git", ["clone", "--quiet", root, clone]);
  await symlink(join(root, "node_modules"), join(clone, "node_modules"), "dir");
  if (builtFromCommitted()) await cp(join(root, "dist"), join(clone, "dist"), { recursive: true });
  else execFileSync("npm", ["run", "--silent", "build"], { cwd: clone }); // what `npm ci` runs as "prepare"

  // An empty DATA_DIR counts as unset: the default applies (<clone>/data). PORT=0: any free port.
  const bare = await startExample({ DATA_DIR: "" }, { command: ["npm", "start", "--silent"], cwd: clone });
  servers.push(bare);
  assert.match(bare.base, /^http:\/\/127\.0\.0\.1:\d+$/);
  const answer = await fetch(`${bare.base}/send-notification/ada@example.com`, { method: "POST" });
  assert.equal(answer.status, 200);
  const log = await eventually(
    () =>
      readFile(join(clone, "data", "log.txt"), "utf8").then(
        (text) => (text.includes("ada@example.com") ? text : undefined),
        () => undefined,
      ),
    "the log line in <clone>/data/log.txt",
  );
  assert.match(log, /Sending notification to ada@example.com/);
  assert.equal((await fetch(`${bare.base}/swagger`)).status, 200);
  bare.signal("SIGTERM");
  await bare.waitForOutput(/All background tasks finished/);
});

test("SIGTERM: stops accepting, waits for background tasks, exits 0", async () => {
  const server = await startExample();
  servers.push(server);
  const answers = await Promise.all(
    ["a", "b", "c"].map((name) => fetch(`${server.base}/send-notification/${name}@example.com`, { method: "POST" }).then((r) => r.status)),
  );
  assert.deepEqual(answers, [200, 200, 200]);
  const id = await uploadCsv(server.base, bigCsv(200_000));
  server.signal("SIGTERM");
  await server.waitForOutput(/SIGTERM: not accepting new connections/);
  const exit = await server.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(server.output(), /All background tasks finished/);
  await assert.rejects(fetch(`${server.base}/tasks`), "no longer accepting connections");
  const log = await readFile(join(server.dataDir, "log.txt"), "utf8");
  assert.equal(log.trim().split("\n").length, 3);
  assert.ok(id);
});

test("the drain deadline passes: what was left is printed, exit 0", async () => {
  // In-process, so the CSV holds the runner's one slot and the log task has to wait behind it.
  const server = await startExample({ SHUTDOWN_TIMEOUT_MS: "200", TASK_CONCURRENCY: "1", CSV_THREADS: "0" });
  servers.push(server);
  await uploadCsv(server.base, bigCsv(1_000_000));
  await eventually(async () => {
    const { stats } = await (await fetch(`${server.base}/tasks`)).json();
    return stats.running === 1 ? true : undefined;
  }, "the CSV task to run");
  assert.equal((await fetch(`${server.base}/send-notification/late@example.com`, { method: "POST" })).status, 200);
  server.signal("SIGINT");
  const exit = await server.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  const output = server.output();
  assert.match(output, /2 background task\(s\) did not finish in time:/);
  // The path when the app read the URL: Bun forgets an unread URL once the response is sent.
  assert.match(output, /- process-csv \(running\) for POST( \/upload)?$/m);
  // "waiting" when the signal came before the server saw its response leave, "queued" after.
  assert.match(output, /- write-log \((queued|waiting)\) for POST( \/send-notification\/late@example.com)?$/m);
});

test("a second signal exits at once", async () => {
  const server = await startExample({ SHUTDOWN_TIMEOUT_MS: "30000", TASK_CONCURRENCY: "1" });
  servers.push(server);
  await uploadCsv(server.base, bigCsv(1_000_000));
  await eventually(async () => {
    const { stats } = await (await fetch(`${server.base}/tasks`)).json();
    return stats.running === 1 ? true : undefined;
  }, "the CSV task to run");
  server.signal("SIGTERM");
  await server.waitForOutput(/SIGTERM: not accepting/);
  const signalledAt = Date.now();
  server.signal("SIGTERM");
  const exit = await server.exited;
  assert.ok(Date.now() - signalledAt < 2_000, "exits at once");
  assert.equal(exit.code, 1);
  assert.match(server.output(), /SIGTERM again: exiting now/);
});

// Runs the contract (test/contract/_tests.ts) against every example on its real runtime:
// Bun, Deno, Node (tsx, importing the built package from dist/ by name) and workerd
// (miniflare). Writes the outcomes to test/.tmp/contract-results.json;
// `node scripts/contract-table.mjs` turns them into docs/compatibility.md.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { addTests, behaviours, type Outcome } from "../contract/_tests.ts";

const root = new URL("../..", import.meta.url).pathname;
const bin = (name: string): string => join(root, "node_modules/.bin", name);
const resultsFile = join(root, "test/.tmp/contract-results.json");

interface Target {
  runtime: string;
  router: string;
  example: string;
  command: string[];
  middleware?: boolean;
  known?: Record<string, string>;
}

// Why a behaviour cannot hold on a target; such a test still runs, must still fail there (it
// fails once the behaviour starts to hold), and the table shows it. Keep each reason to what was observed.
const WORKERS_BODY_TRACKING = "workerd gives no completion signal besides the body, so the core re-wraps the body in a tracking " +
  "ReadableStream; workerd then cannot know its length and sends Transfer-Encoding: chunked instead of " +
  "Content-Length (the response's bytes are otherwise unchanged)";

const deno = [bin("deno"), "run", "--allow-net", "--allow-env", "--config", join(root, "examples/deno.json")];
const tsx = [process.execPath, "--import", "tsx"];
// Deno's info.completed resolves (not rejects) when the client leaves, and with the legacy abort
// behaviour request.signal aborts after every response, so neither tells a disconnect apart.
const DENO_ABORT = "Deno: info.completed resolves when the client disconnects and request.signal (legacy abort) aborts after " +
  "every response, so the core cannot tell an aborted response; the tasks do run";

const targets: Target[] = [
  { runtime: "bun", router: "Bun.serve", example: "examples/bun-serve.ts", command: [bin("bun")] },
  { runtime: "deno", router: "Deno.serve", example: "examples/deno-serve.ts", command: deno, known: { disconnect: DENO_ABORT } },
  {
    runtime: "deno --unstable-no-legacy-abort",
    router: "Deno.serve",
    example: "examples/deno-serve.ts",
    command: [deno[0]!, "run", "--unstable-no-legacy-abort", ...deno.slice(2)],
  },
  { runtime: "node", router: "node:http + @hono/node-server", example: "examples/node-server.ts", command: tsx },
  { runtime: "bun", router: "Hono", example: "examples/hono.ts", command: [bin("bun")], middleware: true },
  {
    runtime: "deno",
    router: "Hono",
    example: "examples/hono.ts",
    command: deno,
    middleware: true,
    known: { disconnect: DENO_ABORT },
  },
  { runtime: "bun", router: "itty-router", example: "examples/itty-router.ts", command: [bin("bun")], middleware: true },
  {
    runtime: "deno",
    router: "itty-router",
    example: "examples/itty-router.ts",
    command: deno,
    middleware: true,
    known: { disconnect: DENO_ABORT },
  },
  {
    runtime: "workerd",
    router: "Workers module (miniflare)",
    example: "examples/cloudflare-worker.ts",
    command: [...tsx, join(root, "test/contract/_serve-worker.ts")],
    known: { bytes: WORKERS_BODY_TRACKING },
  },
];

// CONTRACT_ONLY=deno (or "bun Hono", ...) runs only the matching targets, while working on one.
const only = process.env.CONTRACT_ONLY;
const selected = only ? targets.filter((t) => `${t.runtime} ${t.router}`.includes(only)) : targets;

const results = selected.map((target) => ({
  runtime: target.runtime,
  router: target.router,
  example: target.example,
  outcomes: {} as Record<string, Outcome>,
}));

interface Started {
  url: string;
  output: () => string;
  child: ChildProcess;
}

/** Starts an example with PORT=0 and waits for its `listening on <url>` line. */
function start(target: Target): Promise<Started> {
  const args = target.runtime === "workerd" ? target.command.slice(1) : [...target.command.slice(1), join(root, target.example)];
  const child = spawn(target.command[0]!, args, {
    cwd: root,
    env: { ...process.env, PORT: "0", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${target.example} on ${target.runtime} printed no "listening on" line within 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, output: () => output, child });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${target.example} on ${target.runtime} exited with ${code}:\n${output}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

assert.ok(existsSync(join(root, "dist/mod.js")), "dist/ is missing: run `npm run build` first (npm test does)");

// One target at a time: timing checks stay meaningful on a loaded 2-core CI machine.
describe("contract", { concurrency: 1 }, () => {
  selected.forEach((target, index) => {
    describe(`${target.router} on ${target.runtime} (${target.example})`, () => {
      let server: Started | undefined;
      before(async () => {
        server = await start(target);
      });
      after(async () => {
        if (server) await stop(server.child);
      });
      addTests({
        get url() {
          assert.ok(server, "the server did not start");
          return server.url;
        },
        output: () => server?.output() ?? "",
        middleware: target.middleware,
        known: target.known,
        report: (behaviour, outcome) => {
          results[index]!.outcomes[behaviour] = outcome;
        },
      });
    });
  });
});

after(() => {
  if (only) return; // a partial run must not replace the full results behind the table
  const version = (cmd: string, args: string[]): string => spawnSync(cmd, args, { encoding: "utf8" }).stdout.trim().split("\n")[0] ?? "";
  const workerd = JSON.parse(readFileSync(join(root, "node_modules/workerd/package.json"), "utf8")).version as string;
  mkdirSync(join(root, "test/.tmp"), { recursive: true });
  writeFileSync(
    resultsFile,
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        command: "npm test -- e2e (test/e2e/contract.test.ts)",
        versions: {
          node: process.version,
          bun: version(bin("bun"), ["--version"]),
          deno: version(bin("deno"), ["--version"]).split(" ")[1] ?? "",
          workerd,
        },
        behaviours,
        targets: results,
      },
      null,
      2,
    ) + "\n",
  );
});

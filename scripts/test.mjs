// Runs every test suite on every runtime and prints one closing line of counts.
// Usage: npm test                 everything
//        npm test -- unit         the build, then only the steps whose name contains "unit"
//        npm run test:node        (also test:bun, test:deno, test:static) the build, then one runtime's steps
// Steps run side by side as far as two cores allow: the static checks one after another from the
// start; after the build, the unit suites (with the light Bun and Deno suites and the two long
// waiting end-to-end files beside them); then the other end-to-end files, slowest first. Each step
// prints its output when it ends. Counts come from each runner's JUnit report, not from its
// console output.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const reports = join(root, "test/.tmp/junit");
const only = process.argv.slice(2);

function testFiles(dir) {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  const found = [];
  for (const entry of readdirSync(full)) {
    const path = join(full, entry);
    if (statSync(path).isDirectory()) found.push(...testFiles(join(dir, entry)));
    else if (entry.endsWith(".test.ts")) found.push(join(dir, entry));
  }
  return found.sort();
}

const tsc = (project) => [process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", project]];
const deno = (...args) => [bin("deno"), args];
// A hung test fails after 4 minutes instead of holding CI until its deadline. End-to-end files
// mostly wait on the servers they start, so several run at once.
// TypeScript through tsx in each test process's main thread (see scripts/tsx-main-thread.mjs).
const nodeTest = (concurrency) => (files, junit) => [process.execPath, [
  "--import",
  pathToFileURL(join(root, "scripts/tsx-main-thread.mjs")).href,
  "scripts/node-test.mjs",
  junit,
  String(concurrency),
  "240000",
  ...files,
]];
const bunTest = (timeout) => (files, junit) => [bin("bun"), [
  "test",
  "--timeout",
  String(timeout),
  "--reporter=junit",
  `--reporter-outfile=${junit}`,
  ...files.map((f) => "./" + f),
]];
const docTest = (files, junit) =>
  deno(
    "test",
    "-A",
    "--config",
    "deno.test.json",
    "--doc",
    "--preload",
    "test/fixtures/throwingAssert.ts",
    `--junit-path=${junit}`,
    ...files,
  );
// --parallel: each file in its own worker, as many at once as there are cores.
const denoTest = (files, junit) =>
  deno("test", "-A", "--config", "deno.test.json", "--no-check", "--parallel", `--junit-path=${junit}`, ...files);

// The files that take longest start first, so none of them is left running alone at the end
// (longest first keeps the cores busy); the others follow in name order.
const slowestFirst = [
  "unit/WorkerTaskRunner",
  "e2e/reliability-load",
  "e2e/reliability-example-load",
  "e2e/package",
  "e2e/example-swagger",
  "e2e/leak",
  "e2e/bullmq-load",
  "e2e/example-typecheck",
  "e2e/example-lifecycle",
  "e2e/doc-snippets",
  "e2e/doc-commands",
  "e2e/reliability-example-faults",
  "e2e/reliability-example-fuzz",
  "e2e/example-admin",
  "e2e/bullmq-example-recovery",
  "e2e/example-upload",
  "e2e/reliability-example-work",
].map((name) => `test/${name}.test.ts`);
const longestFirst = (files) => [...slowestFirst.filter((f) => files.includes(f)), ...files.filter((f) => !slowestFirst.includes(f))];

// `after`: the steps that must have ended before this one starts (the build: the examples and
// fixtures import the package from dist/). Steps with the same `lane` run one at a time, in order.
const unitSteps = ["unit node", "unit bun", "unit deno"];
const unitFiles = longestFirst(testFiles("test/unit"));
// On Node, files without setup hooks of their own at the top level share a process (as `bun test`
// runs every file in one): starting a process (Node, tsx, the imports) takes longer than many of these
// files. A top-level `after` only cleans up, so it may run when the shared process ends; a file with
// top-level before/beforeEach/afterEach keeps its own process, where those hooks run around its tests
// only (a `before` may set global state); so does each file that `shares` leaves out. The shared
// processes (`groups` of them) run first.
const setupHooks = (file) => /^(before|beforeEach|afterEach)\(/m.test(readFileSync(join(root, file), "utf8"));
const nodeTestTogether = (concurrency, name, shares = () => true, groups = 1) => (files, junit) => {
  const together = files.filter((file) => shares(file) && !setupHooks(file));
  if (together.length < 2) return nodeTest(concurrency)(files, junit);
  // Dealt out in turn, so the slow files (first in `files`) spread over the groups.
  const entries = Array.from({ length: Math.min(groups, together.length) }, (_, group) => {
    const entry = join(root, `test/.tmp/together/${name}-${group + 1}.test.mjs`);
    const mine = together.filter((_, i) => i % groups === group);
    mkdirSync(join(entry, ".."), { recursive: true });
    writeFileSync(entry, mine.map((file) => `import ${JSON.stringify(pathToFileURL(join(root, file)).href)};\n`).join(""));
    return entry.slice(root.length);
  });
  return nodeTest(concurrency)([...entries, ...files.filter((file) => !together.includes(file))], junit);
};
// Two long files that mostly wait (the contract suite on its 1 s tasks and bodies, one target after
// another; the durable suite on BullMQ's lock and stalled-job timers) run from the build on, beside
// the unit suites.
const waiting = ["test/e2e/contract.test.ts", "test/e2e/bullmq-durable.test.ts"];
const e2eFiles = longestFirst(testFiles("test/e2e")).filter((file) => !waiting.includes(file));
const e2eConcurrency = Math.max(4, availableParallelism() + 2);
// The longest files keep a process each; the others share two.
const e2eAlone = slowestFirst.slice(1, 7);
const e2eNodeTest = nodeTestTogether(e2eConcurrency, "e2e-node", (file) => !e2eAlone.includes(file), 2);
const steps = [
  // The build is also the type check of src/: it runs tsc with tsconfig.json's settings (through
  // tsconfig.build.json) and fails on any error, so src/ is not checked a second time.
  { name: "build", runtime: "static", cmd: [process.execPath, ["scripts/build.mjs"]] },
  // The static checks one after another beside the rest: together they would take both cores.
  { name: "typecheck types", runtime: "static", lane: "static", cmd: tsc("test/types/tsconfig.json") },
  { name: "lint", runtime: "static", lane: "static", cmd: [process.execPath, ["scripts/lint.mjs"]] },
  { name: "doc examples deno", runtime: "deno", lane: "static", files: ["src/"], run: docTest },
  // The unit suites before the end-to-end suites, Node's alone, then Bun's and Deno's (the two
  // lightest) side by side: they run real worker threads at the lowest CPU priority, which a fully
  // loaded 2-core machine starves for a minute and more.
  {
    name: "unit node",
    runtime: "node",
    lane: "unit",
    after: ["build"],
    files: unitFiles,
    run: nodeTestTogether(2, "unit-node", (file) => !slowestFirst.includes(file)),
  },
  { name: "unit bun", runtime: "bun", lane: "unit", after: ["build"], files: testFiles("test/unit"), run: bunTest(30_000) },
  { name: "unit deno", runtime: "deno", after: ["build", "unit node"], files: testFiles("test/unit"), run: denoTest },
  // Mostly waiting on the servers they start: they fit beside the unit suites.
  { name: "e2e node waiting", runtime: "node", after: ["build"], files: waiting, run: nodeTest(2) },
  { name: "bun", runtime: "bun", after: ["build"], files: testFiles("test/bun"), run: bunTest(120_000) },
  { name: "deno", runtime: "deno", after: ["build"], files: testFiles("test/deno"), run: denoTest },
  // Several files at once, slowest first (see slowestFirst); all but the longest in two shared processes.
  { name: "e2e node", runtime: "node", after: ["build", ...unitSteps], files: e2eFiles, run: e2eNodeTest },
].filter((step) => step.name === "build" || only.length === 0 || only.some((word) => step.name.includes(word) || step.runtime === word))
  .filter((step) => !step.files || step.files.length > 0);

rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedSteps = [];
const started = Date.now();
const ended = new Map(steps.map((step) => {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return [step.name, { promise, resolve }];
}));
const tracks = [];
for (const step of steps) {
  const track = step.lane && tracks.find((t) => t[0].lane === step.lane);
  if (track) track.push(step);
  else tracks.push([step]);
}
await Promise.all(tracks.map(async (track) => {
  for (const step of track) {
    await Promise.all((step.after ?? []).filter((name) => ended.has(name)).map((name) => ended.get(name).promise));
    await runStep(step);
    ended.get(step.name).resolve();
  }
}));

async function runStep(step) {
  const junit = join(reports, `${step.name.replaceAll(" ", "-")}.xml`);
  const [cmd, args] = step.cmd ?? step.run(step.files, junit);
  const begun = Date.now();
  const result = await run(cmd, args);
  const counts = step.files ? junitCounts(junit) : undefined;
  const ok = result.status === 0;
  if (counts) {
    totals.passed += counts.passed;
    totals.failed += counts.failed;
    totals.skipped += counts.skipped;
    if (!ok && counts.failed === 0) totals.failed++; // the runner failed outside any test
  } else if (ok) totals.passed++;
  else totals.failed++;
  if (!ok) failedSteps.push(step.name);
  const summary = counts ? ` (${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped)` : "";
  process.stdout.write(
    `\n=== ${step.name}: ${[cmd, ...args].map((a) => a.replace(root, "")).join(" ")}\n${result.output}` +
      `=== ${step.name}: ${ok ? "ok" : `FAILED (exit ${result.status ?? result.signal})`}${summary} in ${
        seconds(Date.now() - begun)
      } (from ${seconds(begun - started)})\n`,
  );
}

// Keeps the step's output, printed in one piece when it ends.
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk) => void (output += chunk);
    child.stdout.setEncoding("utf8").on("data", keep);
    child.stderr.setEncoding("utf8").on("data", keep);
    child.on("error", (error) => resolve({ status: 127, signal: null, output: `${output}${error.message}\n` }));
    child.on("close", (status, signal) => resolve({ status, signal, output }));
  });
}

/**
 * Counts the leaf test cases of a JUnit report (Deno lists a test with steps as a case too).
 * Attribute values may hold a bare `>` (Node's reporter escapes only `<`), so quoted values are
 * skipped whole.
 */
function junitCounts(file) {
  if (!existsSync(file)) return undefined;
  const xml = readFileSync(file, "utf8");
  const cases = [...xml.matchAll(/<testcase\b((?:[^>"]|"[^"]*")*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({
    name: /\bname="([^"]*)"/.exec(m[1])?.[1] ?? "",
    body: m[2] ?? "",
  }));
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const { name, body } of cases) {
    if (cases.some((other) => other.name.startsWith(`${name} &gt; `))) continue;
    if (/<(failure|error)\b/.test(body)) counts.failed++;
    else if (/<skipped\b/.test(body)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

if (failedSteps.length) console.log(`\nFailed steps: ${failedSteps.join(", ")}`);
console.log(`\nAll steps took ${seconds(Date.now() - started)}.`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSteps.length ? 1 : 0);

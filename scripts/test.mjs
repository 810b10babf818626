// Runs every test suite on every runtime, then prints one closing line of counts.
// Usage: npm test            (everything)
//        npm test -- unit    (only steps whose name contains "unit")
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
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

// A hung test fails after 4 minutes instead of holding CI until its deadline.
const nodeTest = (files) => [process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=240000", ...files]];
const steps = [
  { name: "typecheck", cmd: [process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]] },
  { name: "typecheck types", cmd: [process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "test/types/tsconfig.json"]] },
  { name: "doc examples deno", cmd: [bin("deno"), ["test", "-A", "--config", "deno.test.json", "--doc", "src/"]] },
  { name: "build", cmd: [process.execPath, ["scripts/build.mjs"]] },
  { name: "unit node", files: testFiles("test/unit"), run: nodeTest },
  { name: "unit bun", files: testFiles("test/unit"), run: (files) => [bin("bun"), ["test", "--timeout", "30000", ...files.map((f) => "./" + f)]] },
  { name: "unit deno", files: testFiles("test/unit"), run: (files) => [bin("deno"), ["test", "-A", "--config", "deno.test.json", "--no-check", ...files]] },
  { name: "e2e node", files: testFiles("test/e2e"), run: nodeTest },
  { name: "bun", files: testFiles("test/bun"), run: (files) => [bin("bun"), ["test", "--timeout", "120000", ...files.map((f) => "./" + f)]] },
  { name: "deno", files: testFiles("test/deno"), run: (files) => [bin("deno"), ["test", "-A", "--config", "deno.test.json", "--no-check", ...files]] },
];

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedSteps = [];
for (const step of steps) {
  if (only.length && !only.some((word) => step.name.includes(word))) continue;
  if (step.files && step.files.length === 0) continue;
  const [cmd, args] = step.cmd ?? step.run(step.files);
  console.log(`\n=== ${step.name}: ${[cmd, ...args].map((a) => a.replace(root, "")).join(" ")}`);
  const started = Date.now();
  const result = await run(cmd, args);
  const output = result.output;
  const counts = countResults(output);
  const ok = result.status === 0;
  if (counts) {
    totals.passed += counts.passed;
    totals.failed += counts.failed;
    totals.skipped += counts.skipped;
  } else if (!step.files) {
    if (ok) totals.passed++;
    else totals.failed++;
  }
  if (!ok) {
    failedSteps.push(step.name);
    if (counts && counts.failed === 0) totals.failed++;
  }
  console.log(`=== ${step.name}: ${ok ? "ok" : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Streams the step's output as it comes (CI shows progress) and keeps it for counting.
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.setEncoding("utf8").on("data", keep);
    child.stderr.setEncoding("utf8").on("data", keep);
    child.on("close", (status, signal) => resolve({ status, signal, output }));
  });
}

function countResults(text) {
  const node = [...text.matchAll(/^# (pass|fail|skipped) (\d+)$/gm)];
  if (node.length) {
    const get = (k) => node.filter((m) => m[1] === k).reduce((s, m) => s + Number(m[2]), 0);
    return { passed: get("pass"), failed: get("fail"), skipped: get("skipped") };
  }
  const bun = text.match(/^\s*(\d+) pass\s*$/m);
  if (bun) {
    const fail = text.match(/^\s*(\d+) fail\s*$/m);
    const skip = text.match(/^\s*(\d+) skip\s*$/m);
    return { passed: Number(bun[1]), failed: fail ? Number(fail[1]) : 0, skipped: skip ? Number(skip[1]) : 0 };
  }
  const deno = text.match(/(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?(?: \| (\d+) ignored)?/);
  if (deno) {
    const passed = Number(deno[2] ?? deno[1]);
    const failed = Number(deno[4] ?? deno[3]);
    return { passed, failed, skipped: Number(deno[5] ?? 0) };
  }
  return undefined;
}

if (failedSteps.length) console.log(`\nFailed steps: ${failedSteps.join(", ")}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSteps.length ? 1 : 0);

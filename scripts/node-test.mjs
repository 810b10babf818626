// Runs test files with Node's test runner in the order given (`node --test` sorts them by name),
// each in its own process, `concurrency` at a time, printing the spec report and writing a JUnit
// report. scripts/test.mjs starts it as `node --import <scripts/tsx-main-thread.mjs> scripts/node-test.mjs ...`;
// the files' processes inherit that `--import` (plain `--import tsx` works too).
// Usage: node --import tsx scripts/node-test.mjs <junit.xml> <concurrency> <timeout ms> <file>...
import { createWriteStream } from "node:fs";
import { run } from "node:test";
import { junit, spec } from "node:test/reporters";

const [junitPath, concurrency, timeout, ...files] = process.argv.slice(2);
if (!junitPath || !(Number(concurrency) > 0) || !(Number(timeout) > 0) || files.length === 0) {
  console.error("usage: node --import tsx scripts/node-test.mjs <junit.xml> <concurrency> <timeout ms> <file>...");
  process.exit(2);
}

const stream = run({ files, concurrency: Number(concurrency), timeout: Number(timeout) });
// As `node --test` does: a failed test fails the run, a failed `todo` test does not.
stream.on("test:fail", (data) => {
  if (!data.todo) process.exitCode = 1;
});
stream.compose(new spec()).pipe(process.stdout);
stream.compose(junit).pipe(createWriteStream(junitPath));

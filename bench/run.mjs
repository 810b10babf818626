#!/usr/bin/env node
// The benchmark suite: `npm run bench` (everything, ~15–20 min), or
//   npm run bench -- --only=cost,latency     sections to run: cost, seed, latency, runner, csv, worker, foreground, durable
//   npm run bench -- --quick                 smoke run: 2 short rounds, small sizes (results not kept)
//   npm run bench -- --pairs=7 --duration=5  rounds per comparison, seconds per load run
//   npm run bench -- --cost-pairs=11 --cost-duration=3   the same for the cost section
//   npm run bench -- --together-rounds=8     cost section: rounds with both servers loaded at once
//   npm run bench -- --no-build              do not rebuild dist/ even when src/ is newer
//   npm run bench -- --render                redraw chart.svg and summary.md from latest.json
//   npm run bench -- --only=foreground --merge   put a partial run's sections into latest.json and redraw
// Writes bench/results/latest.json, chart.svg and summary.md (a full run of every section), or
// bench/results/<name>.json.tmp (+ .svg.tmp, .md.tmp) for partial and quick runs. See bench/README.md.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { loadGenerator } from "./lib/load.mjs";
import { pinning, root } from "./lib/proc.mjs";
import { renderChart } from "./lib/chart.mjs";
import { headlines, renderSummary } from "./lib/summary.mjs";
import { runtimes, version } from "./sections/runtimes.mjs";

/** The results table of bench/README.md lives between markers and is rewritten from the results. */
function writeIntoReadme(summary) {
  const path = join(root, "bench", "README.md");
  const text = readFileSync(path, "utf8");
  const start = "<!-- bench:results:start -->";
  const end = "<!-- bench:results:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return;
  writeFileSync(path, text.slice(0, from + start.length) + "\n" + summary + text.slice(to));
}

const sections = {
  cost: () => import("./sections/cost.mjs"),
  seed: () => import("./sections/seed.mjs"),
  latency: () => import("./sections/latency.mjs"),
  runner: () => import("./sections/runner.mjs"),
  csv: () => import("./sections/csv.mjs"),
  worker: () => import("./sections/worker.mjs"),
  foreground: () => import("./sections/foreground.mjs"),
  durable: () => import("./sections/durable.mjs"),
};

const argv = process.argv.slice(2);
// --render: redraw chart.svg and summary.md (and the derived headlines) from latest.json, measuring nothing.
if (argv.includes("--render")) {
  const file = join(root, "bench", "results", "latest.json");
  const results = JSON.parse(readFileSync(file, "utf8"));
  results.headlines = headlines(results);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(root, "bench", "results", "chart.svg"), renderChart(results));
  writeFileSync(join(root, "bench", "results", "summary.md"), renderSummary(results));
  writeIntoReadme(renderSummary(results));
  console.log(renderSummary(results));
  process.exit(0);
}
const flag = (name) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const value = (name, fallback) => {
  const found = flag(name);
  return found?.includes("=") ? found.slice(found.indexOf("=") + 1) : fallback;
};
if (flag("help")) {
  console.log(readFileSync(new URL(import.meta.url), "utf8").split("\n").slice(1, 10).join("\n").replaceAll("// ", ""));
  process.exit(0);
}
const quick = Boolean(flag("quick"));
const only = (value("only", "") || argv.filter((a) => !a.startsWith("--")).join(",")).split(",").filter(Boolean);
for (const name of only) {
  if (!sections[name]) {
    console.error(`Unknown section "${name}". Sections: ${Object.keys(sections).join(", ")}.`);
    process.exit(2);
  }
}
const chosen = only.length ? only : Object.keys(sections);
const full = !quick && chosen.length === Object.keys(sections).length;

const ctx = {
  quick,
  only: [],
  pairs: Number(value("pairs", quick ? 2 : 5)),
  durationS: Number(value("duration", quick ? 1 : 5)),
  // The cost section measures differences of a few per cent on a noisy shared machine: more,
  // shorter rounds give its medians more to stand on.
  costPairs: Number(value("cost-pairs", quick ? 2 : 11)),
  costDurationS: Number(value("cost-duration", quick ? 1 : 3)),
  // After its interleaved rounds, the cost section loads both servers at the same time this often.
  togetherRounds: Number(value("together-rounds", quick ? 2 : 8)),
  warmupS: quick ? 1 : 2,
  connections: Number(value("connections", 32)),
  log: (line) => console.log(line),
};

// Bun and Node import the package from dist/: rebuild it when any source is newer.
if (!flag("no-build")) {
  const { existsSync, readdirSync, statSync } = await import("node:fs");
  const newest = (dir) => Math.max(0, ...readdirSync(join(root, dir)).map((f) => statSync(join(root, dir, f)).mtimeMs));
  const built = existsSync(join(root, "dist", "mod.js")) ? statSync(join(root, "dist", "mod.js")).mtimeMs : 0;
  if (newest("src") > built) {
    console.log("src/ is newer than dist/: npm run build");
    const build = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
}

const started = new Date();
const git = (...args) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout.trim();
const meta = {
  date: started.toISOString(),
  command: `npm run bench${argv.length ? " -- " + argv.join(" ") : ""}`,
  commit: git("rev-parse", "--short", "HEAD"),
  dirty: git("status", "--porcelain", "--", "src", "examples", "bench").length > 0,
  machine: {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `Linux ${release()}`,
    shared: "shared machine, other jobs may run; hence interleaved runs and paired ratios",
  },
  runtimes: {},
  loadGenerator: { ...loadGenerator, threads: 1, connections: ctx.connections },
  pinning: pinning.enabled
    ? `taskset -c ${pinning.server} for every server (all its threads), taskset -c ${pinning.load} for the load generator`
    : `no pinning: ${pinning.why}`,
  settings: {
    quick,
    pairs: ctx.pairs,
    durationS: ctx.durationS,
    costPairs: ctx.costPairs,
    costDurationS: ctx.costDurationS,
    togetherRounds: ctx.togetherRounds,
    warmupS: ctx.warmupS,
  },
};
for (const name of Object.keys(runtimes)) {
  meta.runtimes[name] = runtimes[name].available() ? await version(name) : "not installed";
}
const py = spawnSync("/usr/bin/python3", ["-c", "import sys; print(sys.version.split()[0])"], { encoding: "utf8" });
meta.runtimes.python = py.status === 0 ? py.stdout.trim() : "not installed";

console.log(`@background/tasks benchmarks, ${meta.date}, commit ${meta.commit}${meta.dirty ? " (uncommitted changes)" : ""}`);
console.log(`machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGiB} GiB`);
console.log(`load: ${loadGenerator.name}, 1 thread, ${ctx.connections} connections; pinning: ${meta.pinning}`);
console.log(
  `rounds: ${ctx.pairs} interleaved, ${ctx.durationS} s each (cost: ${ctx.costPairs} of ${ctx.costDurationS} s)${
    quick ? " (quick smoke run)" : ""
  }\n`,
);

const results = { meta, sections: {} };
for (const name of chosen) {
  console.log(`== ${name}`);
  const t0 = performance.now();
  try {
    const section = await sections[name]();
    results.sections[name] = await section.run(ctx);
  } catch (error) {
    console.log(`  section failed: ${error.stack ?? error}`);
    results.sections[name] = { error: String(error.message ?? error) };
  }
  results.sections[name].elapsedS = Math.round((performance.now() - t0) / 1000);
  console.log(`   (${results.sections[name].elapsedS} s)\n`);
}
meta.elapsedS = Math.round((Date.now() - started.getTime()) / 1000);
results.headlines = headlines(results);

const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
const base = full ? "latest" : quick ? "quick" : `partial-${chosen.join("-")}`;
const suffix = full ? "" : ".tmp";
writeFileSync(join(dir, `${base}.json${suffix}`), JSON.stringify(results, null, 2) + "\n");
// --merge: a partial run's sections replace theirs in latest.json, each noted with when and at which
// commit it ran; the chart, summary and the README's table are redrawn from the result.
const failed = chosen.filter((name) => results.sections[name].error);
if (flag("merge") && failed.length) console.log(`not merged into latest.json: ${failed.join(", ")} failed`);
else if (flag("merge") && !full && !quick) {
  const file = join(dir, "latest.json");
  const latest = JSON.parse(readFileSync(file, "utf8"));
  latest.sectionRuns ??= {};
  for (const name of chosen) {
    latest.sections[name] = results.sections[name];
    latest.sectionRuns[name] = { date: meta.date, commit: meta.commit, dirty: meta.dirty, command: meta.command, settings: meta.settings };
  }
  latest.headlines = headlines(latest);
  writeFileSync(file, JSON.stringify(latest, null, 2) + "\n");
  writeFileSync(join(dir, "chart.svg"), renderChart(latest));
  writeFileSync(join(dir, "summary.md"), renderSummary(latest));
  writeIntoReadme(renderSummary(latest));
  console.log(`merged ${chosen.join(", ")} into bench/results/latest.json; chart.svg, summary.md and bench/README.md redrawn`);
}
writeFileSync(join(dir, full ? "chart.svg" : `${base}.svg.tmp`), renderChart(results));
const summary = renderSummary(results);
writeFileSync(join(dir, `${full ? "summary" : base}.md${suffix}`), summary);
if (full) writeIntoReadme(summary);
console.log(summary);
console.log(
  `written: bench/results/${base}.json${suffix}, ${
    full ? "chart.svg, summary.md" : `${base}.svg.tmp, ${base}.md.tmp`
  } (${meta.elapsedS} s)`,
);

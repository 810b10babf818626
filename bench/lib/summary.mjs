// The headline comparisons of a run (what the chart and the README show), and a Markdown summary.
// Every number shown is taken from latest.json: `headlines` is stored in it, rounded as displayed.
import { formatNumber, round } from "./stats.mjs";

const pick = (summary) =>
  summary && Number.isFinite(summary.median)
    ? { median: round(summary.median), min: round(summary.min), max: round(summary.max), n: summary.n }
    : undefined;

function headline(list, h) {
  if (!h.value) return;
  if (h.goal) {
    h.met = h.goal.op === ">=" ? h.value.median >= h.goal.value : h.value.median <= h.goal.value;
    // The rounds disagree: some on each side of the goal. Said so rather than hidden by the median.
    h.rangeCrossesGoal = h.value.min < h.goal.value && h.value.max > h.goal.value;
  }
  list.push(h);
}

/** @returns {{ group: string, label: string, unit: string, value: {median,min,max,n}, goal?: {op, value}, met?: boolean }[]} */
export function headlines(results) {
  const list = [];
  const s = results.sections;
  for (const [key, r] of Object.entries(s.cost?.runtimes ?? {})) {
    headline(list, {
      group: "cost",
      id: `cost.${key}`,
      label: key === "elysia"
        ? "Elysia plugin ÷ plain route (Bun)"
        : { bun: "Bun.serve", deno: "Deno.serve", node: "Node (@hono/node-server)" }[key],
      unit: "×",
      value: pick(r.ratio),
      goal: r.goal === undefined ? undefined : { op: ">=", value: round(r.goal) },
    });
  }
  for (const [key, r] of Object.entries(s.cost?.runtimes ?? {})) {
    for (const [mode, value] of Object.entries(r.beside ?? {})) {
      headline(list, {
        group: "costFloor",
        id: `cost.${key}.${mode}`,
        label: key === "elysia"
          ? `Elysia on Bun: ${elysiaFloorLabels[mode] ?? mode}`
          : `${{ bun: "Bun.serve", deno: "Deno.serve", node: "Node" }[key]}: ${floorLabels[mode] ?? mode}`,
        unit: "×",
        value: pick(value),
      });
    }
  }
  for (const [key, r] of Object.entries(s.cost?.runtimes ?? {})) {
    headline(list, {
      group: "costCpu",
      id: `cost.${key}.cpu`,
      label: key === "elysia"
        ? "Elysia plugin ÷ plain route (Bun)"
        : { bun: "Bun.serve", deno: "Deno.serve", node: "Node (@hono/node-server)" }[key],
      unit: "×",
      value: pick(r.cpuRatio),
    });
  }
  for (const [key, r] of Object.entries(s.cost?.runtimes ?? {})) {
    headline(list, {
      group: "costTogether",
      id: `cost.${key}.together`,
      label: key === "elysia"
        ? "Elysia plugin ÷ plain route (Bun)"
        : { bun: "Bun.serve", deno: "Deno.serve", node: "Node (@hono/node-server)" }[key],
      unit: "×",
      value: pick(r.together),
    });
  }
  for (const [key, e] of Object.entries(s.seed?.endpoints ?? {})) {
    headline(list, {
      group: "vsFastapi",
      id: `seed.${key}.fastapi`,
      label: e.label,
      unit: "×",
      value: pick(e.ratios?.["ours/fastapi"]?.rps),
      goal: key === "log" ? { op: ">=", value: 40 } : undefined,
    });
    if (key === "log") {
      headline(list, {
        group: "vsFastapi",
        id: "seed.log.onAfterResponseVsFastapi",
        label: "(peer) Elysia onAfterResponse, same log work",
        unit: "×",
        value: pick(e.ratios?.["onAfterResponse/fastapi"]?.rps),
      });
      headline(list, {
        group: "vsFastapi",
        id: "seed.log.ceilingVsFastapi",
        label: "(ceiling) bare Bun.serve, the same JSON and no work",
        unit: "×",
        value: pick(e.ratios?.["ceiling/fastapi"]?.rps),
      });
    }
    headline(list, {
      group: "vsOnAfterResponse",
      id: `seed.${key}.onAfterResponse`,
      label: e.label,
      unit: "×",
      value: pick(e.ratios?.["ours/onAfterResponse"]?.rps),
      // Mail and CSV work can queue behind the example's limits while the answers go out, so for
      // those endpoints "not slower" is judged on the rate until the work is done.
      goal: key === "log" ? { op: ">=", value: 1 } : undefined,
    });
    if (key === "log") {
      headline(list, {
        group: "vsOnAfterResponse",
        id: "seed.log.onAfterResponse.together",
        label: `${e.label.split(" (")[0]}, loaded at the same time`,
        unit: "×",
        value: pick(e.together?.["ours/onAfterResponse"]),
      });
    }
    if (key !== "log") {
      headline(list, {
        group: "vsOnAfterResponse",
        id: `seed.${key}.onAfterResponse.sustained`,
        label: `${e.label.split(" (")[0]}, until its work is done`,
        unit: "×",
        value: pick(e.ratios?.["ours/onAfterResponse"]?.sustainedRps),
        goal: { op: ">=", value: 1 },
      });
    }
  }
  for (const [key, c] of Object.entries(s.latency?.cases ?? {})) {
    for (const p of ["p50", "p99"]) {
      headline(list, {
        group: "latency",
        id: `latency.${key}.${p}`,
        label: `${c.label}: ${p}`,
        unit: "×",
        value: pick(c.ratio?.[`latencyMs.${p}`]),
        goal: key === "sleep200ms" ? { op: "<=", value: 1.1 } : undefined,
      });
    }
    if (c.reference) {
      for (const p of ["p50", "p99"]) {
        headline(list, {
          group: "latency",
          id: `latency.${key}.reference.${p}`,
          label: `${c.reference.label}: ${p}`,
          unit: "×",
          value: pick(c.ratios?.[`${c.reference.name}/none`]?.[`latencyMs.${p}`]),
        });
      }
    }
  }
  for (const [key, r] of Object.entries(s.runner?.runtimes ?? {})) {
    const name = { node: "Node", bun: "Bun", deno: "Deno" }[key];
    headline(list, {
      group: "runnerRate",
      id: `runner.${key}.noop`,
      label: `${name}, no-op, unbounded`,
      unit: "M tasks/s",
      value: pick(r.throughput?.["noop c=unbounded"]?.ours && scale(r.throughput["noop c=unbounded"].ours, 1e-6)),
      goal: { op: ">=", value: 1 },
    });
    const worst = Object.entries(r.memory ?? {}).sort((a, b) => b[1].ours.median - a[1].ours.median)[0];
    if (worst) {
      headline(list, {
        group: "runnerMemory",
        id: `runner.${key}.bytes`,
        label: `${name} (worst of 10k/100k/1M: ${Number(worst[0]).toLocaleString("en")})`,
        unit: "bytes/task",
        value: pick(worst[1].ours),
        goal: { op: "<=", value: 300 },
      });
    }
  }
  const csv = s.csv;
  if (csv?.ratios) {
    headline(list, {
      group: "csv",
      id: "csv.rows",
      label: "rows/s: ours ÷ pandas read_csv",
      unit: "×",
      value: pick(csv.ratios.rowsPerSecondVsPandas),
    });
    headline(list, {
      group: "csv",
      id: "csv.rss",
      label: "peak RSS: ours ÷ seed read-it-all",
      unit: "×",
      value: pick(csv.ratios.peakRssVsSeed),
      goal: { op: "<=", value: 1 },
    });
  }
  const fg = s.foreground?.variants;
  if (fg) {
    const name = {
      worker: "ours, worker thread (default)",
      inProcess: "ours, in-process (CSV_THREADS=0)",
      fastapi: "(peer) FastAPI, seed",
    };
    const order = ["worker", "inProcess", "fastapi"].filter((k) => fg[k]);
    for (const k of order) {
      headline(list, {
        group: "foreground",
        id: `foreground.${k}.kept`,
        label: name[k],
        unit: "×",
        value: pick(fg[k].kept),
        goal: k === "worker" ? { op: ">=", value: 0.5 } : undefined,
      });
    }
    for (const k of order) {
      headline(list, {
        group: "foregroundP99",
        id: `foreground.${k}.p99`,
        label: `${name[k]}: during`,
        unit: "ms",
        value: pick(fg[k].busyP99Ms),
        goal: k === "worker" ? { op: "<=", value: 10 } : undefined,
      });
    }
    for (const k of ["worker", "fastapi"].filter((k) => fg[k])) {
      headline(list, {
        group: "foregroundP99",
        id: `foreground.${k}.idleP99`,
        label: `${name[k]}: idle`,
        unit: "ms",
        value: pick(fg[k].idleP99Ms),
      });
    }
    for (const k of ["worker", "fastapi"].filter((k) => fg[k])) {
      headline(list, {
        group: "foregroundRps",
        id: `foreground.${k}.idleRps`,
        label: `${name[k]}: idle`,
        unit: "k req/s",
        value: pick(fg[k].idleRps && scale(fg[k].idleRps, 1e-3)),
      });
    }
    for (const k of order) {
      headline(list, {
        group: "foregroundRps",
        id: `foreground.${k}.busyRps`,
        label: `${name[k]}: during`,
        unit: "k req/s",
        value: pick(fg[k].busyRps && scale(fg[k].busyRps, 1e-3)),
      });
    }
    headline(list, {
      group: "csvThreads",
      id: "foreground.csv.workerVsInProcess",
      label: "completion time: worker thread ÷ in-process",
      unit: "×",
      value: pick(s.foreground.csvSecondsWorkerVsInProcess),
      goal: { op: "<=", value: 1.2 },
    });
    for (const k of order) {
      headline(list, {
        group: "csvThreadsRate",
        id: `foreground.${k}.csvRows`,
        label: name[k],
        unit: "k rows/s",
        value: pick(fg[k].csvRowsPerSecond && scale(fg[k].csvRowsPerSecond, 1e-3)),
      });
    }
  }
  const runtimeLabel = { node: "Node", bun: "Bun", deno: "Deno" };
  const timerModes = {
    inProcess: "in-process",
    worker: "worker threads (niceness 19)",
    workerNormalPriority: "worker threads at normal priority",
  };
  for (const [key, r] of Object.entries(s.worker?.runtimes ?? {})) {
    if (!r.throughput) continue;
    headline(list, {
      group: "workerPool",
      id: `worker.${key}.noop`,
      label: `${runtimeLabel[key] ?? key}, concurrency 256`,
      unit: "k tasks/s",
      value: pick(r.throughput["noop c=256"] && scale(r.throughput["noop c=256"], 1e-3)),
      goal: { op: ">=", value: 50 },
    });
    headline(list, {
      group: "workerPool",
      id: `worker.${key}.roundTrip`,
      label: `${runtimeLabel[key] ?? key}, one task's round trip on an idle pool`,
      unit: "µs",
      value: pick(r.roundTripUs),
    });
    for (const [mode, value] of Object.entries(r.timerDelayMaxMs ?? {})) {
      headline(list, {
        group: "workerTimers",
        id: `worker.${key}.timer.${mode}`,
        label: `${runtimeLabel[key] ?? key}: ${timerModes[mode] ?? mode}`,
        unit: "ms",
        value: pick(value),
        goal: mode === "worker" ? { op: "<=", value: 60 } : undefined,
      });
    }
  }
  return list;
}

/** The floors run beside each cost figure (bench/servers/hello.ts, elysia-hello.ts). */
const floorLabels = {
  untouched: "wrapped, no task added",
  signal: "the platform's completion signal alone",
  floor: "signal + one TaskRunner.addTask",
  listed: "signal + a list with one task added by the handler",
};
const elysiaFloorLabels = {
  untouched: "the plugin, no task added",
  after: "Elysia's onAfterResponse doing the no-op (the peer)",
  floor: "onAfterResponse + one TaskRunner.addTask",
  sent: "onAfterResponse + Bun's signal + one TaskRunner.addTask",
  signal: "the floor: Bun's signal + one TaskRunner.addTask (the request taken through wrap)",
};

const scale = (s, k) => ({ median: s.median * k, min: s.min * k, max: s.max * k, n: s.n });

export const shortGroups = {
  cost: "Cost per request (÷ bare)",
  costFloor: "Floors beside the cost (÷ bare)",
  costCpu: "CPU per request (bare ÷ ours)",
  costTogether: "Cost per request, loaded together (÷ bare)",
  vsFastapi: "vs FastAPI",
  vsOnAfterResponse: "vs Elysia onAfterResponse",
  latency: "Latency (÷ no task)",
  runnerRate: "TaskRunner rate",
  runnerMemory: "TaskRunner memory",
  csv: "100 MB CSV",
  foreground: "Log endpoint kept during two 80 MB CSVs",
  foregroundP99: "Log endpoint p99 (ms)",
  foregroundRps: "Log endpoint throughput",
  csvThreads: "Two 80 MB CSVs",
  csvThreadsRate: "Two 80 MB CSVs, rows/s",
  workerPool: "Worker pool, no-op defined tasks",
  workerTimers: "Main-loop timer delay, four 400 ms CPU tasks (worst, ms)",
};

export const groups = {
  cost: "Cost per request: throughput with one no-op task ÷ bare handler (same runtime)",
  costFloor: "The floors, in the same rounds: throughput ÷ bare handler",
  costCpu: "Same runs, from the server's CPU time: bare CPU µs per request ÷ ours (less sensitive to a busy machine)",
  costTogether: "Cost per request, both servers loaded at the same time (steadier on a busy machine; no goal)",
  vsFastapi: "Seed endpoints: our example server ÷ FastAPI + uvicorn (throughput)",
  vsOnAfterResponse: "Seed endpoints: our plugin ÷ Elysia onAfterResponse, same work (throughput)",
  latency: "Response latency with a slow task ÷ with no task (under load)",
  runnerRate: "TaskRunner: no-op tasks per second (addTask → run → drain)",
  runnerMemory: "TaskRunner: heap bytes per queued task",
  csv: "100 MB CSV in the background",
  foreground: "Log endpoint while two 80 MB CSVs are processed ÷ idle (throughput, same server and round)",
  foregroundP99: "Log endpoint p99 latency, idle and while two 80 MB CSVs are processed (ms)",
  foregroundRps: "Log endpoint throughput, idle and while two 80 MB CSVs are processed (thousand req/s)",
  csvThreads: "Two 80 MB CSVs at once, no load: completion time, worker thread ÷ in-process",
  csvThreadsRate: "Two 80 MB CSVs at once, no load: thousand rows/s (both files)",
  workerPool: "WorkerTaskRunner (2 threads): thousand no-op tasks/s through the pool, and one task's round trip",
  workerTimers: "A 1 ms timer chain on the main thread while four 400 ms CPU-bound tasks run: worst delay (ms)",
};

const show = (v, unit) => `${formatNumber(v.median)} (${formatNumber(v.min)}–${formatNumber(v.max)})${unit === "×" ? "×" : " " + unit}`;

export function renderSummary(results) {
  const { meta } = results;
  const lines = [
    `Run ${meta.date.slice(0, 16).replace("T", " ")} UTC, commit ${meta.commit}${
      meta.dirty ? " (+ uncommitted changes)" : ""
    }, \`${meta.command}\`.`,
    `Machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGiB} GiB, shared. ` +
    `Runtimes: Bun ${meta.runtimes.bun}, Deno ${meta.runtimes.deno}, Node ${meta.runtimes.node}, Python ${meta.runtimes.python} (FastAPI/uvicorn from Debian).`,
    `Load: ${meta.loadGenerator.name}, 1 thread, ${meta.loadGenerator.connections} connections; ${meta.pinning}. ` +
    `${meta.settings.pairs} interleaved rounds of ${meta.settings.durationS} s per comparison` +
    (meta.settings.costPairs
      ? ` (cost per request: ${meta.settings.costPairs} rounds of ${meta.settings.costDurationS} s` +
        (meta.settings.togetherRounds ? `, then ${meta.settings.togetherRounds} rounds with both loaded at the same time` : "") + ")"
      : "") +
    `; median (min–max) of the per-round ratios.`,
    ...Object.entries(results.sectionRuns ?? {}).map(([name, run]) =>
      `Section ${name} from a separate run: ${run.date.slice(0, 16).replace("T", " ")} UTC, commit ${run.commit}${
        run.dirty ? " (+ uncommitted changes)" : ""
      }, \`${run.command}\`, ${run.settings.pairs} rounds.`
    ),
    "",
    "| comparison | result | goal | met |",
    "|---|---|---|---|",
  ];
  for (const h of results.headlines) {
    const goal = h.goal ? `${h.goal.op === ">=" ? "≥" : "≤"} ${h.goal.value}${h.unit === "×" ? "×" : " " + h.unit}` : "—";
    const met = !h.goal ? "" : `${h.met ? "yes" : "**no**"}${h.rangeCrossesGoal ? " (median; rounds on both sides)" : ""}`;
    lines.push(`| ${shortGroups[h.group]}: ${h.label} | ${show(h.value, h.unit)} | ${goal} | ${met} |`);
  }
  return lines.join("\n") + "\n";
}

// Summarizes a .cpuprofile (Chrome format, as written by `bun --cpu-prof` or `node --cpu-prof`):
// each sample goes to the innermost frame that has a source file (native calls count for the JS
// function that made them), grouped by area, plus the top functions of the core.
import { readFileSync } from "node:fs";

export function attribute(path, { coreMatch = /^(dist|src)\// } = {}) {
  const profile = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const areas = new Map();
  const functions = new Map();
  let total = 0;
  for (const [id, count] of counts) {
    let node = byId.get(id);
    const leaf = node.callFrame.functionName;
    if (leaf === "(idle)" || leaf === "(program)" || leaf === "(garbage collector)") continue;
    total += count;
    let cur = id;
    while (node && !node.callFrame.url) {
      cur = parent.get(cur);
      node = cur === undefined ? undefined : byId.get(cur);
    }
    const raw = node ? node.callFrame.url : "(native)";
    const url = raw.includes("/node_modules/")
      ? raw.replace(/.*node_modules\//, "npm:")
      : raw.replace(/^.*?\/(?=(dist|src|examples|bench)\/)/, "");
    const area = coreMatch.test(url)
      ? "@background/tasks (core + plugin)"
      : url.startsWith("examples/")
      ? "task work (examples/)"
      : url.startsWith("bench/")
      ? "bench app"
      : /^npm:(elysia|@sinclair|memoirist)/.test(url)
      ? "elysia + typebox"
      : url.startsWith("node:") || url.startsWith("internal:")
      ? "runtime built-ins (node:fs …)"
      : "other";
    areas.set(area, (areas.get(area) ?? 0) + count);
    if (area.startsWith("@background")) {
      const key = `${node.callFrame.functionName || "(anonymous)"} ${url}:${node.callFrame.lineNumber + 1}` +
        (leaf !== node.callFrame.functionName ? ` → native ${leaf}` : "");
      functions.set(key, (functions.get(key) ?? 0) + count);
    }
  }
  const share = (map) => [...map].sort((a, b) => b[1] - a[1]).map(([name, count]) => ({ name, percent: (100 * count) / total }));
  return { samples: total, areas: share(areas), coreFunctions: share(functions) };
}

// Section "cost": throughput of a handler wrapped with withBackgroundTasks that adds one no-op task,
// divided by the same bare handler's, same runtime, in-memory body, judged on the interleaved
// rounds against each target's goal; then the two are also loaded at the same time
// (bench/lib/together.mjs). The same rounds run the floors beside each figure (the modes are
// described in bench/servers/hello.ts and elysia-hello.ts): the wrapper adding no task, the
// platform's completion signal alone, the signal plus one TaskRunner.addTask, and the same with the
// task added to a list while the handler runs; for Elysia, its own onAfterResponse (the peer).
import { spawnSync } from "node:child_process";
import { interleave, warmUp } from "../lib/compare.mjs";
import { root, startServer } from "../lib/proc.mjs";
import { runLoad } from "../lib/load.mjs";
import { loadTogether } from "../lib/together.mjs";
import { runtimes } from "./runtimes.mjs";

/** The goal of each target; Elysia's is the peer's own ratio in the same rounds. */
const GOALS = { bun: 0.93, deno: 0.92, node: 0.95 };

export async function run(ctx) {
  const { log } = ctx;
  const result = { goals: GOALS, connections: ctx.connections, durationS: ctx.costDurationS, pairs: ctx.costPairs, runtimes: {} };
  const targets = [
    { key: "bun", label: "Bun.serve", file: "bench/servers/hello.ts", runtime: "bun", extra: ["untouched", "signal", "floor", "listed"] },
    {
      key: "deno",
      label: "Deno.serve",
      file: "bench/servers/hello.ts",
      runtime: "deno",
      extra: ["untouched", "signal", "floor", "listed"],
    },
    { key: "node", label: "Node (node:http via @hono/node-server)", file: "bench/servers/hello-node.mjs", runtime: "node", plainJs: true },
    {
      key: "elysia",
      label: "Elysia on Bun: plugin vs plain route",
      file: "bench/servers/elysia-hello.ts",
      runtime: "bun",
      modes: ["plain", "plugin"],
      extra: ["untouched", "after", "floor", "sent", "signal"],
      needs: elysiaPluginAvailable,
    },
  ];
  for (const target of targets.filter((t) => ctx.only.length === 0 || ctx.only.includes(t.key) || ctx.only.includes("cost"))) {
    const rt = runtimes[target.runtime];
    if (!rt.available()) {
      log(`  ${target.label}: skipped: ${target.runtime} not found; install with: ${rt.install}`);
      result.runtimes[target.key] = { label: target.label, skipped: `${target.runtime} not installed (${rt.install})` };
      continue;
    }
    const missing = target.needs?.();
    if (missing) {
      log(`  ${target.label}: skipped: ${missing}`);
      result.runtimes[target.key] = { label: target.label, skipped: missing };
      continue;
    }
    log(`  ${target.label}`);
    const [baseMode, ourMode] = target.modes ?? ["bare", "wrapped"];
    const modes = [baseMode, ourMode, ...(target.extra ?? [])];
    const servers = [];
    try {
      for (const mode of modes) {
        // A plain .mjs file runs on Node without the TypeScript loader.
        const [cmd, args] = target.plainJs ? [process.execPath, [target.file]] : rt.command(target.file);
        servers.push(await startServer({ name: `${target.key}-${mode}`, cmd, args, env: { MODE: mode } }));
      }
      const load = { connections: ctx.connections };
      for (const server of servers) await warmUp(server, load, ctx.warmupS);
      const variants = servers.map((server, i) => ({ name: modes[i], server }));
      const compared = await interleave({
        variants,
        pairs: ctx.costPairs,
        log,
        metrics: ["rps", "cpuUsPerRequest", "latencyMs.p50", "latencyMs.p99"],
        measure: (v) => runLoad({ ...load, url: v.server.url + "/", durationS: ctx.costDurationS }),
      });
      const ratio = compared.ratios[`${ourMode}/${baseMode}`].rps;
      const goal = target.key === "elysia" ? compared.ratios[`after/${baseMode}`].rps.median : GOALS[target.key];
      // Capacity from CPU time: (bare CPU per request) / (wrapped CPU per request), per round.
      const cpu = compared.ratios[`${ourMode}/${baseMode}`].cpuUsPerRequest;
      const cpuRatio = _inverse(cpu);
      log(
        `    => ${ourMode}/${baseMode} throughput ratio ${ratio.median.toFixed(3)} (${ratio.min.toFixed(3)}–${
          ratio.max.toFixed(3)
        }), goal ≥ ${goal.toFixed(3)}; CPU-time ratio ${cpuRatio.median.toFixed(3)} (${cpuRatio.min.toFixed(3)}–${
          cpuRatio.max.toFixed(3)
        })`,
      );
      const beside = Object.fromEntries((target.extra ?? []).map((mode) => [mode, compared.ratios[`${mode}/${baseMode}`].rps]));
      const besideCpu = Object.fromEntries(
        (target.extra ?? []).map((mode) => [mode, _inverse(compared.ratios[`${mode}/${baseMode}`].cpuUsPerRequest)]),
      );
      for (const [mode, r] of Object.entries(beside)) {
        const c = besideCpu[mode];
        log(
          `    => ${mode}/${baseMode} throughput ratio ${r.median.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)}); CPU-time ratio ${
            c.median.toFixed(3)
          }`,
        );
      }
      // The same two servers loaded at the same time: a steadier figure on a busy machine (no goal).
      // A failure here is reported without losing the interleaved figures above.
      const together = await loadTogether({ servers: variants.slice(0, 2), rounds: ctx.togetherRounds, durationS: ctx.costDurationS, log })
        .then((r) => r.ratios[`${ourMode}/${baseMode}`], (error) => ({ error: String(error.message).slice(0, 2000) }));
      log(
        together.error
          ? `    loaded at the same time: failed: ${together.error}`
          : `    => loaded at the same time: ${ourMode}/${baseMode} ${together.median.toFixed(3)} (${together.min.toFixed(3)}–${
            together.max.toFixed(3)
          }), ${together.n} rounds`,
      );
      result.runtimes[target.key] = {
        label: target.label,
        baseline: baseMode,
        ours: ourMode,
        ratio,
        cpuRatio,
        beside,
        besideCpu,
        together,
        ...compared,
        goal,
        goalMet: ratio.median >= goal,
      };
    } catch (error) {
      log(`  ${target.label}: failed: ${error.message}`);
      result.runtimes[target.key] = { label: target.label, error: String(error.message).slice(0, 2000) };
    } finally {
      for (const server of servers) await server.stop();
    }
  }
  return result;
}

/** bare ÷ ours from ours ÷ bare, per round. */
function _inverse(r) {
  return { median: 1 / r.median, min: 1 / r.max, max: 1 / r.min, n: r.n, values: r.values.map((v) => 1 / v) };
}

/** The Elysia part needs src/elysia.ts on main and the "./elysia" export. */
export function elysiaPluginAvailable() {
  const inGit = spawnSync("git", ["cat-file", "-e", "HEAD:src/elysia.ts"], { cwd: root }).status === 0;
  if (!inGit) return "src/elysia.ts (the Elysia plugin) is not on main yet; this comparison runs once it lands";
  return undefined;
}

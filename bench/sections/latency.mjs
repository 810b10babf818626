// Section "latency": p50/p99 response latency of a route whose task sleeps 200 ms (or burns 5 ms of
// CPU) vs the same route with no task, under paced load. Goal: the sleep case within 10 %.
import { interleave, warmUp } from "../lib/compare.mjs";
import { runLoad } from "../lib/load.mjs";
import { sleep, startServer } from "../lib/proc.mjs";
import { runtimes } from "./runtimes.mjs";

export const GOAL = 1.1;

export async function run(ctx) {
  const { log } = ctx;
  // Paced load (wrk's per-connection delay), so the server is busy but not saturated and latency
  // means something: the sleep case at ~5k req/s offered, the CPU case at ~100 req/s (5 ms each:
  // about half a core of task work).
  const cases = {
    // The reference: the same sleep started by the handler itself, without the library. What it
    // costs the responses is the sleep's own (its timer and promise live 200 ms), not ours.
    sleep200ms: {
      label: "task sleeps 200 ms",
      path: "/sleep",
      connections: 32,
      delayMs: 5,
      reference: { name: "sleepInHandler", label: "the same sleep started by the handler, no task", path: "/sleep-in-handler" },
    },
    cpu5ms: { label: "task burns 5 ms CPU", path: "/cpu", connections: 4, delayMs: 40 },
  };
  const result = { goal: { sleep200ms: GOAL }, runtime: "bun", load: "wrk with a per-connection delay (paced, not saturating)", cases: {} };
  const rt = runtimes.bun;
  if (!rt.available()) {
    log(`  skipped: bun not installed (${rt.install})`);
    return { ...result, skipped: `bun not installed (${rt.install})` };
  }
  const [cmd, args] = rt.command("bench/servers/latency.ts");
  const server = await startServer({ name: "latency-bun", cmd, args });
  try {
    for (const [key, c] of Object.entries(cases)) {
      log(`  Bun.serve, ${c.label} vs no task (${c.connections} connections, ${c.delayMs} ms pause per connection between requests)`);
      const load = { connections: c.connections, delayMs: c.delayMs };
      await warmUp(server, { ...load, path: c.path }, ctx.warmupS);
      const compared = await interleave({
        variants: [
          { name: "none", server, path: "/none" },
          { name: key, server, path: c.path },
          ...(c.reference ? [{ name: c.reference.name, server, path: c.reference.path }] : []),
        ],
        ratioPairs: [[key, "none"], ...(c.reference ? [[c.reference.name, "none"], [key, c.reference.name]] : [])],
        pairs: ctx.pairs,
        log,
        metrics: ["rps", "latencyMs.p50", "latencyMs.p99"],
        measure: async (v) => {
          const figures = await runLoad({ ...load, url: server.url + v.path, durationS: ctx.durationS });
          await sleep(300); // let the last sleeping tasks finish before the next run
          return figures;
        },
      });
      const ratio = compared.ratios[`${key}/none`];
      log(
        `    => latency ratio p50 ${ratio["latencyMs.p50"].median.toFixed(3)} (${ratio["latencyMs.p50"].min.toFixed(3)}–${
          ratio["latencyMs.p50"].max.toFixed(3)
        }), p99 ${ratio["latencyMs.p99"].median.toFixed(3)} (${ratio["latencyMs.p99"].min.toFixed(3)}–${
          ratio["latencyMs.p99"].max.toFixed(3)
        })`,
      );
      if (c.reference) {
        const ref = compared.ratios[`${c.reference.name}/none`];
        log(
          `    => ${c.reference.label} ÷ no task: p50 ${ref["latencyMs.p50"].median.toFixed(3)}, p99 ${
            ref["latencyMs.p99"].median.toFixed(3)
          } (${ref["latencyMs.p99"].min.toFixed(3)}–${ref["latencyMs.p99"].max.toFixed(3)})`,
        );
      }
      result.cases[key] = { label: c.label, ...c, ratio, ...compared };
    }
  } finally {
    await server.stop();
  }
  return result;
}

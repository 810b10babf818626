// Interleaved comparisons: every variant's server stays up, and the runs alternate A B B A A B …
import { runLoad } from "./load.mjs";
import { cpuMs, waitIdle } from "./proc.mjs";
import { pairedRatios, summarize } from "./stats.mjs";

/**
 * @param {object} o
 * @param {{ name: string, server: { pid: number, url: string } }[]} o.variants the first one is the baseline
 * @param {number} o.pairs rounds; each round runs every variant once, in order, reversed every other round
 * @param {(variant) => Promise<object>} o.measure one run, returning figures
 * @param {string[]} o.metrics keys of the figures to summarize (dot paths allowed)
 * @param {(line: string) => void} o.log
 * @param {[string, string][]} [o.ratioPairs] [numerator, denominator] variant names; default each vs the first
 */
export async function interleave({ variants, pairs, measure, metrics, log, settle = true, ratioPairs }) {
  const runs = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let round = 1; round <= pairs; round++) {
    const parts = [];
    // A B, then B A: a machine that speeds up or slows down within a round favours neither.
    for (const variant of round % 2 === 1 ? variants : [...variants].reverse()) {
      const cpuBefore = variant.server ? cpuMs(variant.server.pid) : NaN;
      const figures = await measure(variant);
      if (settle && variant.server) figures.settleMs = await waitIdle(variant.server.pid);
      // Server CPU time per request, background work included: robust to other load on the machine,
      // which steals wall time (throughput) but not the CPU time a request costs.
      if (variant.server && figures.requests > 0) {
        figures.cpuUsPerRequest = ((cpuMs(variant.server.pid) - cpuBefore) * 1000) / figures.requests;
      }
      runs[variant.name].push(figures);
      parts.push(`${variant.name} ${describe(figures)}`);
    }
    log(`    round ${round}/${pairs}: ${parts.join(" | ")}`);
  }
  const get = (figures, path) => path.split(".").reduce((o, k) => o?.[k], figures);
  const result = { variants: {}, ratios: {} };
  for (const variant of variants) {
    result.variants[variant.name] = Object.fromEntries(
      metrics.map((m) => [m, summarize(runs[variant.name].map((f) => get(f, m)))]),
    );
    result.variants[variant.name].runs = runs[variant.name];
  }
  ratioPairs ??= variants.slice(1).map((v) => [v.name, variants[0].name]);
  for (const [num, den] of ratioPairs) {
    result.ratios[`${num}/${den}`] = Object.fromEntries(metrics.map((m) => [
      m,
      pairedRatios(runs[den].map((f) => get(f, m)), runs[num].map((f) => get(f, m))),
    ]));
  }
  return result;
}

function describe(f) {
  const bits = [];
  if (f.rps !== undefined) bits.push(`${Math.round(f.rps)} req/s`);
  if (f.cpuUsPerRequest !== undefined) bits.push(`${f.cpuUsPerRequest.toFixed(1)} µs CPU/req`);
  if (f.latencyMs) bits.push(`p50 ${f.latencyMs.p50.toFixed(2)} ms p99 ${f.latencyMs.p99.toFixed(2)} ms`);
  if (f.errors || f.non2xx) bits.push(`errors ${f.errors} non-2xx ${f.non2xx}`);
  return bits.join(", ");
}

/** A short warm-up so JITs have compiled the hot path before the measured runs. */
export async function warmUp(server, loadOptions, seconds) {
  await runLoad({ ...loadOptions, url: server.url + (loadOptions.path ?? "/"), durationS: seconds });
  await waitIdle(server.pid);
}

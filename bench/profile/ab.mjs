// Quick interleaved A/B of server variants while working on the hot path: CPU time per request
// (steadier than throughput on a shared machine) and throughput, median of the rounds.
//   node bench/profile/ab.mjs <runtime> <file> <MODE,MODE,...> [rounds=5] [seconds=3] [METHOD /path]
// A mode written MODE@DIR runs DIR's copy of <file> (another checkout, built), to set a change
// beside the code before it: e.g. wrapped,wrapped@/tmp/base.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { interleave, warmUp } from "../lib/compare.mjs";
import { runLoad } from "../lib/load.mjs";
import { startServer } from "../lib/proc.mjs";
import { runtimes } from "../sections/runtimes.mjs";

const [runtime, file, modes, rounds = "5", seconds = "3", method = "GET", path = "/"] = process.argv.slice(2);
const command = runtimes[runtime] && (() => runtimes[runtime].command(file));
if (!command || !file || !modes) {
  console.error("usage: node bench/profile/ab.mjs bun|deno|node <file> <MODE,MODE,...> [rounds] [seconds]");
  process.exit(2);
}
const variants = [];
for (const name of modes.split(",")) {
  const [mode, dir] = name.split("@");
  const [cmd, args] = dir === undefined ? command() : runtimes[runtime].command(resolve(dir, file));
  const env = { MODE: mode, DATA_DIR: mkdtempSync(join(tmpdir(), "ab-")) };
  const server = await startServer({ name, cmd, args, env, cwd: dir });
  await warmUp(server, { method, path }, 2);
  variants.push({ name, server });
}
try {
  const result = await interleave({
    variants,
    pairs: Number(rounds),
    measure: (v) => runLoad({ url: v.server.url + path, method, durationS: Number(seconds) }),
    metrics: ["rps", "cpuUsPerRequest"],
    log: console.log,
  });
  for (const [name, r] of Object.entries(result.ratios)) {
    console.log(
      `${name}: throughput ${r.rps.median.toFixed(3)} (${r.rps.min.toFixed(2)}–${r.rps.max.toFixed(2)}), ` +
        `CPU bare÷ours ${(1 / r.cpuUsPerRequest.median).toFixed(3)}`,
    );
  }
  // Noise only ever adds time, so each variant's least CPU per request is its steadiest figure.
  const base = result.variants[variants[0].name].cpuUsPerRequest.min;
  for (const v of variants) {
    const least = result.variants[v.name].cpuUsPerRequest.min;
    console.log(`${v.name}: least CPU ${least.toFixed(2)} µs/request; ${variants[0].name} ÷ ${v.name} = ${(base / least).toFixed(3)}`);
  }
} finally {
  for (const v of variants) await v.server.stop();
}

// Where the CPU goes on the log endpoint: the same Elysia app (bench/elysia-onafterresponse.ts) with
// Elysia's afterResponse vs with our plugin, each under `bun --cpu-prof`, loaded with wrk for a few
// seconds; prints each profile's shares by area and the core's top functions.
//   node bench/profile/elysia-cpu.mjs [seconds]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "../lib/load.mjs";
import { bin, startServer } from "../lib/proc.mjs";
import { attribute } from "./cpuProfile.mjs";

const seconds = Number(process.argv[2] ?? 6);
const dir = mkdtempSync(join(tmpdir(), "bench-cpuprof-"));
for (const mode of ["afterResponse", "plugin"]) {
  const server = await startServer({
    name: mode,
    cmd: bin("bun"),
    args: ["--cpu-prof", "--cpu-prof-interval=250", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${mode}.cpuprofile`, "bench/elysia-onafterresponse.ts"],
    env: { MODE: mode, DATA_DIR: mkdtempSync(join(dir, "data-")) },
  });
  const load = await runLoad({ url: server.url + "/send-notification/bench@example.com", method: "POST", durationS: seconds });
  await server.stop();
  const profile = attribute(join(dir, `${mode}.cpuprofile`));
  console.log(`\n${mode}: ${Math.round(load.rps)} req/s; ${profile.samples} samples; share of the JS thread's busy samples:`);
  for (const a of profile.areas) console.log(`  ${a.percent.toFixed(1).padStart(5)} %  ${a.name}`);
  if (profile.coreFunctions.length) console.log("  core functions (self, with the native calls they make):");
  for (const f of profile.coreFunctions.slice(0, 15)) console.log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.name}`);
}
console.log(`\nprofiles kept in ${dir} (open in Chrome DevTools → Performance)`);

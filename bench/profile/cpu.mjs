// Where the CPU goes: runs a bench server under a sampling profiler (`bun --cpu-prof`, or
// `node --cpu-prof` through tsx) in two modes, loads it with wrk, and prints each profile's shares
// by area and the core's top functions. Proportions inside one profile do not depend on how busy
// the machine is, unlike throughput.
//   node bench/profile/cpu.mjs [target] [seconds]
// targets: elysia-log (default; bench/elysia-onafterresponse.ts, afterResponse vs plugin on the log
// endpoint), elysia-hello (plain vs plugin), bun-hello, node-hello (bare vs wrapped, no-op task).
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "../lib/load.mjs";
import { bin, startServer } from "../lib/proc.mjs";
import { attribute } from "./cpuProfile.mjs";

const targets = {
  "elysia-log": {
    file: "bench/elysia-onafterresponse.ts",
    runtime: "bun",
    modes: ["afterResponse", "plugin"],
    path: "/send-notification/bench@example.com",
    method: "POST",
  },
  "elysia-hello": { file: "bench/servers/elysia-hello.ts", runtime: "bun", modes: ["plain", "plugin"], path: "/" },
  "bun-hello": { file: "bench/servers/hello.ts", runtime: "bun", modes: ["bare", "wrapped"], path: "/" },
  "node-hello": { file: "bench/servers/hello.ts", runtime: "node", modes: ["bare", "wrapped"], path: "/" },
};
const name = process.argv[2] ?? "elysia-log";
const target = targets[name];
if (!target) throw new Error(`unknown target ${name}; one of ${Object.keys(targets).join(", ")}`);
const seconds = Number(process.argv[3] ?? 6);
const dir = mkdtempSync(join(tmpdir(), "bench-cpuprof-"));
for (const mode of target.modes) {
  // One folder per mode: Node writes a profile per thread (tsx runs a loader thread); the main
  // thread's is the biggest.
  const modeDir = join(dir, mode);
  const profileFlags = ["--cpu-prof", `--cpu-prof-dir=${modeDir}`];
  const [cmd, args] = target.runtime === "bun"
    ? [bin("bun"), [...profileFlags, "--cpu-prof-interval=250", target.file]]
    : [process.execPath, [...profileFlags, "--cpu-prof-interval=250", "--import", "tsx", target.file]];
  const server = await startServer({ name: mode, cmd, args, env: { MODE: mode, DATA_DIR: mkdtempSync(join(dir, "data-")) } });
  const load = await runLoad({ url: server.url + target.path, method: target.method ?? "GET", durationS: seconds });
  await server.stop();
  const files = readdirSync(modeDir).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(modeDir, f));
  const biggest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  const profile = attribute(biggest);
  console.log(`\n${name} ${mode}: ${Math.round(load.rps)} req/s; ${profile.samples} busy samples; shares of the JS thread:`);
  for (const a of profile.areas) console.log(`  ${a.percent.toFixed(1).padStart(5)} %  ${a.name}`);
  if (profile.coreFunctions.length) console.log("  core functions (self, with the native calls they make):");
  for (const f of profile.coreFunctions.slice(0, 16)) console.log(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.name}`);
}
console.log(`\nprofiles kept in ${dir} (open them in Chrome DevTools → Performance)`);

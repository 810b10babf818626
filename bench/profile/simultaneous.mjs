// Diagnostic: loads several servers at the same time instead of one after another (see
// bench/lib/together.mjs). Steadier than the interleaved rounds of `npm run bench` on a busy
// machine, but not what the suite's goals are judged on.
//   node bench/profile/simultaneous.mjs <rounds> <seconds> <METHOD> <path> name=runtime:file[:MODE] ...
// e.g. node bench/profile/simultaneous.mjs 8 3 GET / bare=bun:bench/servers/hello.ts:bare wrapped=bun:bench/servers/hello.ts:wrapped
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { warmUp } from "../lib/compare.mjs";
import { startServer } from "../lib/proc.mjs";
import { loadTogether } from "../lib/together.mjs";
import { runtimes } from "../sections/runtimes.mjs";
import { EXAMPLE_ENV } from "../sections/seed.mjs";

const [rounds, seconds, method, path, ...specs] = process.argv.slice(2);
if (!(Number(rounds) > 0) || !(Number(seconds) > 0) || !path || specs.length < 2) {
  console.error(
    "usage: node bench/profile/simultaneous.mjs <rounds> <seconds> <METHOD> <path> name=runtime:file[:MODE] name=... (two or more)",
  );
  process.exit(2);
}
const servers = [];
const dirs = [];
try {
  for (const spec of specs) {
    const [name, target = ""] = spec.split("=");
    const [runtime, file, mode = ""] = target.split(":");
    if (!runtimes[runtime] || !file) {
      throw new Error(`"${spec}": expected name=runtime:file[:MODE], runtime one of ${Object.keys(runtimes).join(", ")}`);
    }
    const [cmd, args] = runtimes[runtime].command(file);
    const dataDir = mkdtempSync(join(tmpdir(), "bench-simultaneous-"));
    dirs.push(dataDir);
    const server = await startServer({ name, cmd, args, env: { ...EXAMPLE_ENV, MODE: mode, DATA_DIR: dataDir } });
    servers.push({ name, server });
  }
  for (const { server } of servers) await warmUp(server, { method, path }, 2);
  const { ratios } = await loadTogether({
    servers,
    rounds: Number(rounds),
    durationS: Number(seconds),
    method,
    path,
    log: (line) => console.log(line.trim()),
  });
  for (const [pair, s] of Object.entries(ratios)) {
    console.log(`${pair.replace("/", " ÷ ")}: ${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)}, ${s.n} rounds)`);
  }
} finally {
  for (const { server } of servers) await server.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

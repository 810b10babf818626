// Instructions per request under valgrind's callgrind: a count, not a time, so it barely moves
// with whatever else the shared machine is doing. Each variant's server runs under callgrind; after
// a warm-up (so the JIT has compiled the hot path) the counters are zeroed, wrk sends load for a
// while, and the instructions executed by the server (all threads) are divided by the requests.
//   node bench/profile/instructions.mjs <runtime> <file> <MODE,MODE,...> [rounds=3] [seconds=8] [METHOD /path]
// A mode written MODE@DIR runs DIR's copy of <file>, to set a change beside the code before it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runLoad } from "../lib/load.mjs";
import { sleep, startServer, which } from "../lib/proc.mjs";
import { summarize } from "../lib/stats.mjs";
import { runtimes } from "../sections/runtimes.mjs";

export async function instructionsPerRequest(
  { runtime, file, modes, rounds = 3, seconds = 8, warmupS = 30, path = "/", method = "GET", log = console.log },
) {
  if (!which("valgrind") || !which("callgrind_control")) throw new Error("valgrind is needed: apt-get install valgrind");
  const dir = mkdtempSync(join(tmpdir(), "bench-callgrind-"));
  const variants = [];
  try {
    for (const mode of modes) {
      // MODE@DIR runs DIR's copy of the file (another checkout, built), as in ab.mjs.
      const [name, checkout] = mode.split("@");
      const [cmd, args] = runtimes[runtime].command(checkout === undefined ? file : resolve(checkout, file));
      const out = join(dir, `${mode.replace(/\W/g, "_")}.%p`);
      const server = await startServer({
        name: mode,
        cmd: "valgrind",
        args: ["--tool=callgrind", "--collect-atstart=yes", `--callgrind-out-file=${out}`, cmd, ...args],
        env: { MODE: name, DATA_DIR: mkdtempSync(join(dir, "data-")) },
        cwd: checkout,
        timeoutMs: 120_000,
      });
      variants.push({ mode, server });
      // Warm-up: under valgrind the JIT needs many requests (and time) before the hot path is compiled.
      await runLoad({ url: server.url + path, method, durationS: warmupS, connections: 8 });
    }
    const perRequest = Object.fromEntries(modes.map((m) => [m, []]));
    for (let round = 1; round <= rounds; round++) {
      const parts = [];
      for (const { mode, server } of variants) {
        const pid = valgrindPid(server.pid);
        control(pid, "-z");
        const load = await runLoad({ url: server.url + path, method, durationS: seconds, connections: 8 });
        await sleep(300); // the tasks of the last requests
        const before = dumps(dir, mode.replace(/\W/g, "_"));
        control(pid, "-d");
        let total;
        for (let i = 0; i < 600 && total === undefined; i++) {
          await sleep(100);
          total = newDumpTotal(dir, mode.replace(/\W/g, "_"), before);
        }
        if (total === undefined || load.requests === 0) {
          throw new Error(`${mode}: ${total === undefined ? "no callgrind dump within 60 s" : "no request answered"}`);
        }
        perRequest[mode].push(total / load.requests);
        parts.push(`${mode} ${Math.round(total / load.requests)} instructions/request (${load.requests} requests)`);
      }
      log(`    round ${round}/${rounds}: ${parts.join(" | ")}`);
    }
    return Object.fromEntries(modes.map((m) => [m, summarize(perRequest[m])]));
  } finally {
    for (const { server } of variants) await server.stop();
  }
}

// startServer pins with taskset, which execs valgrind: the pid is valgrind's.
const valgrindPid = (pid) => pid;
function control(pid, flag) {
  const r = spawnSync("callgrind_control", [flag, String(pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`callgrind_control ${flag} ${pid} failed: ${r.stderr || r.stdout}`);
}
const dumps = (dir, mode) => new Set(readdirSync(dir).filter((f) => f.startsWith(mode + ".")));
function newDumpTotal(dir, mode, before) {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(mode + ".") || before.has(f)) continue;
    const text = readFileSync(join(dir, f), "utf8");
    const m = text.match(/^(?:summary|totals): (\d+)/m);
    if (m) return Number(m[1]);
  }
  return undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [runtime, file, modes, rounds = "3", seconds = "8", method = "GET", path = "/"] = process.argv.slice(2);
  if (!runtimes[runtime] || !file || !modes) {
    console.error("usage: node bench/profile/instructions.mjs bun|deno|node <file> <MODE,MODE,...> [rounds] [seconds]");
    process.exit(2);
  }
  const list = modes.split(",");
  const result = await instructionsPerRequest({
    runtime,
    file,
    modes: list,
    rounds: Number(rounds),
    seconds: Number(seconds),
    method,
    path,
  });
  const base = result[list[0]].median;
  for (const m of list) {
    console.log(`${m}: ${Math.round(result[m].median)} instructions/request; ${list[0]} ÷ ${m} = ${(base / result[m].median).toFixed(3)}`);
  }
}

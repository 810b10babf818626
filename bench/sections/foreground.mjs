// Section "foreground": does the server stay fast while its tasks work?
// The log endpoint (POST /send-notification/{email}) idle, then while two 80 MB CSVs uploaded at
// once are processed in the background, on
//   - our example server with the CSV task on the server's own thread (CSV_THREADS=0),
//   - our example server with the CSV task on a worker thread (the default),
//   - the seed's FastAPI app (pandas.read_csv in Starlette's threadpool).
// Per round and contender: idle load run, upload both files, load run at once (while they are
// processed), wait until both are done; then both files again with no load, for the CSV
// completion time. The kept ratio is busy ÷ idle of the same round; rounds alternate the order.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { generateCsv } from "../lib/csv.mjs";
import { runLoad } from "../lib/load.mjs";
import { pinned, sleep, startServer, waitIdle, which } from "../lib/proc.mjs";
import { pairedRatios, summarize } from "../lib/stats.mjs";
import { runtimes } from "./runtimes.mjs";
import { EXAMPLE_ENV, exampleServerOnMain, fastapiMissing, PYTHON, removeLargeFiles } from "./seed.mjs";

const LOG_PATH = "/send-notification/bench@example.com";

function capture(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out.slice(-1000)}`))));
  });
}

/** Uploads with curl pinned to the load core (streams the file from disk); resolves to the answer's JSON. */
async function upload(url, csvPath) {
  // Each file under its own name: the seed's app stores an upload under the client's file name.
  const [cmd, args] = pinned("load", which("curl"), [
    "-sS",
    "--fail-with-body",
    "-F",
    `file=@${csvPath};type=text/csv;filename=${basename(csvPath)}`,
    url + "/upload",
  ]);
  return JSON.parse(await capture(cmd, args));
}

async function waitFor(check, what, timeoutMs = 600_000) {
  const started = performance.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function contenders() {
  const bun = runtimes.bun;
  const oursMissing = !bun.available()
    ? `bun not installed (${bun.install})`
    : !exampleServerOnMain()
    ? "examples/server.ts is not on main yet"
    : undefined;
  const ours = (name, label, env) => ({
    label,
    missing: oursMissing,
    kind: "ours",
    start(dataDir) {
      const [cmd, args] = bun.command("examples/server.ts");
      return startServer({
        name,
        cmd,
        args,
        env: { DATA_DIR: dataDir, HOST: "127.0.0.1", ...EXAMPLE_ENV, ...env },
        readyPath: "/swagger/json",
      });
    },
  });
  return {
    inProcess: ours("inProcess", "ours, CSV on the server's thread (CSV_THREADS=0)", { CSV_THREADS: "0" }),
    worker: ours("worker", "ours, CSV on a worker thread (default)", {}),
    fastapi: {
      label: "FastAPI + uvicorn (seed; pandas in the threadpool)",
      missing: fastapiMissing({ pandas: true }),
      kind: "fastapi",
      start: (dataDir) =>
        startServer({
          name: "fastapi",
          cmd: PYTHON,
          args: [
            "-m",
            "uvicorn",
            "app:app",
            "--app-dir",
            join(new URL("../..", import.meta.url).pathname, "bench/fastapi"),
            "--host",
            "127.0.0.1",
            "--port",
            "$PORT",
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
          ],
          env: { DATA_DIR: dataDir },
          readyPath: "/docs",
        }),
    },
  };
}

/** Uploads both files at once; resolves when both answered, with a function that waits until both are processed. */
async function startCsvs(contender, server, files, rows) {
  if (contender.kind === "ours") {
    const answers = await Promise.all(files.map((file) => upload(server.url, file)));
    const uploaded = performance.now();
    return {
      uploaded,
      async done() {
        const finished = [];
        for (const answer of answers) {
          const job = await waitFor(async () => {
            const s = await (await fetch(`${server.url}/uploads/${answer.id}`)).json();
            if (s.status === "failed") throw new Error(`${server.name}: the upload failed: ${JSON.stringify(s.error)}`);
            return s.status === "done" ? s : undefined;
          }, `${server.name}: upload ${answer.id}`);
          if (job.rows !== rows) throw new Error(`${server.name} counted ${job.rows} rows, expected ${rows}`);
          finished.push(performance.now());
        }
        return Math.max(...finished);
      },
    };
  }
  const pattern = /文件处理(完毕，共有 (\d+) 行数据|失败: .*)/g;
  const before = [...server.output().matchAll(pattern)].length;
  await Promise.all(files.map((file) => upload(server.url, file)));
  const uploaded = performance.now();
  return {
    uploaded,
    async done() {
      const lines = await waitFor(() => {
        const found = [...server.output().matchAll(pattern)].slice(before);
        return found.length >= files.length ? found : undefined;
      }, "the seed app to process both files");
      for (const line of lines) {
        if (!line[2]) throw new Error(`the seed app failed: ${line[0]}`);
        if (Number(line[2]) !== rows) throw new Error(`the seed app counted ${line[2]} rows, expected ${rows}`);
      }
      return performance.now();
    },
  };
}

export async function run(ctx) {
  const { log } = ctx;
  const sizeMb = ctx.quick ? 8 : 80;
  const durationS = ctx.quick ? 1 : 3;
  const work = mkdtempSync(join(tmpdir(), "bench-foreground-"));
  const files = [join(work, "a.csv"), join(work, "b.csv")];
  let rows = 0;
  for (const file of files) rows = await generateCsv(file, sizeMb * 1000 * 1000);
  const bytes = statSync(files[0]).size;
  log(`  two files of ${(bytes / 1e6).toFixed(0)} MB, ${rows.toLocaleString("en")} rows each; load runs of ${durationS} s`);
  const all = contenders();
  const result = {
    files: { count: files.length, bytes, rows },
    durationS,
    connections: ctx.connections,
    contenders: Object.fromEntries(
      Object.entries(all).map(([k, c]) => [k, c.missing ? { label: c.label, skipped: c.missing } : { label: c.label }]),
    ),
    definitions: {
      kept: "log endpoint req/s during the CSVs ÷ idle req/s, same round, same server",
      busyCovered: "the CSVs were still being processed when the load run ended (else the run also measured idle time)",
      csvSeconds: "time from both uploads answered to both files processed, with no load (two files at once)",
      csvSecondsLoaded: "the same, while the load run of the round was going on",
      csvRowsPerSecond: "rows of both files ÷ csvSeconds",
    },
    variants: {},
  };
  if (!which("curl")) return { ...result, skipped: "curl not found (apt-get install curl)" };
  const order = Object.keys(all).filter((name) => {
    if (all[name].missing) log(`  ${all[name].label}: skipped: ${all[name].missing}`);
    return !all[name].missing;
  });
  const servers = {};
  const runs = Object.fromEntries(order.map((name) => [name, []]));
  try {
    for (const name of order) {
      const dataDir = mkdtempSync(join(work, `${name}-`));
      servers[name] = await all[name].start(dataDir);
      servers[name].dataDir = dataDir;
    }
    const load = (server) => runLoad({ url: server.url + LOG_PATH, method: "POST", connections: ctx.connections, durationS, timeoutS: 30 });
    for (const name of order) await load(servers[name]); // warm-up
    for (let round = 1; round <= ctx.pairs; round++) {
      const parts = [];
      for (const name of round % 2 === 1 ? order : [...order].reverse()) {
        const server = servers[name];
        await waitIdle(server.pid);
        const idle = await load(server);
        const csvs = await startCsvs(all[name], server, files, rows);
        // Watched during the load run, so the time they were done is known within a poll (20 ms).
        const csvsDone = csvs.done();
        csvsDone.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
        const busy = await load(server);
        const loadEnded = performance.now();
        const doneLoaded = await csvsDone;
        removeLargeFiles(server.dataDir);
        await waitIdle(server.pid);
        const quiet = await startCsvs(all[name], server, files, rows);
        const doneQuiet = await quiet.done();
        removeLargeFiles(server.dataDir);
        const r = {
          idle,
          busy,
          kept: busy.rps / idle.rps,
          busyCovered: doneLoaded >= loadEnded,
          csvSecondsLoaded: (doneLoaded - csvs.uploaded) / 1000,
          csvSeconds: (doneQuiet - quiet.uploaded) / 1000,
        };
        r.csvRowsPerSecond = (rows * files.length) / r.csvSeconds;
        runs[name].push(r);
        parts.push(
          `${name} idle ${Math.round(idle.rps)} req/s p99 ${idle.latencyMs.p99.toFixed(1)} ms, ` +
            `busy ${Math.round(busy.rps)} req/s p99 ${busy.latencyMs.p99.toFixed(1)} ms (${r.kept.toFixed(3)}×${
              r.busyCovered ? "" : ", CSVs done early"
            }), ` +
            `CSVs ${r.csvSeconds.toFixed(1)} s`,
        );
      }
      log(`    round ${round}/${ctx.pairs}: ${parts.join(" | ")}`);
    }
  } catch (error) {
    log(`    failed: ${error.stack ?? error}`);
    result.error = String(error.message ?? error).slice(0, 2000);
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  for (const [name, list] of Object.entries(runs)) {
    if (list.length === 0) continue;
    result.variants[name] = {
      label: all[name].label,
      idleRps: summarize(list.map((r) => r.idle.rps)),
      idleP99Ms: summarize(list.map((r) => r.idle.latencyMs.p99)),
      busyRps: summarize(list.map((r) => r.busy.rps)),
      busyP50Ms: summarize(list.map((r) => r.busy.latencyMs.p50)),
      busyP99Ms: summarize(list.map((r) => r.busy.latencyMs.p99)),
      kept: summarize(list.map((r) => r.kept)),
      busyCovered: list.filter((r) => r.busyCovered).length,
      csvSeconds: summarize(list.map((r) => r.csvSeconds)),
      csvSecondsLoaded: summarize(list.map((r) => r.csvSecondsLoaded)),
      csvRowsPerSecond: summarize(list.map((r) => r.csvRowsPerSecond)),
      runs: list,
    };
    const v = result.variants[name];
    log(
      `    => ${name}: kept ${v.kept.median.toFixed(3)}× (${v.kept.min.toFixed(3)}–${v.kept.max.toFixed(3)}), ` +
        `p99 idle ${v.idleP99Ms.median.toFixed(1)} ms, during ${v.busyP99Ms.median.toFixed(1)} ms; ` +
        `CSVs ${v.csvSeconds.median.toFixed(1)} s (${Math.round(v.csvRowsPerSecond.median).toLocaleString("en")} rows/s); ` +
        `load run within the CSVs in ${v.busyCovered}/${list.length} rounds`,
    );
  }
  if (runs.worker?.length && runs.inProcess?.length) {
    result.csvSecondsWorkerVsInProcess = pairedRatios(runs.inProcess.map((r) => r.csvSeconds), runs.worker.map((r) => r.csvSeconds));
    const r = result.csvSecondsWorkerVsInProcess;
    log(`    => CSV completion, worker ÷ in-process: ${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`);
  }
  return result;
}

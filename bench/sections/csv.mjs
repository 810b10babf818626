// Section "csv": a generated 100 MB CSV through the upload endpoint, parsed in the background.
// - speed: rows/s of our background parse vs pandas.read_csv on the same file (Debian python3-pandas);
// - memory: peak RSS of our server vs the seed's FastAPI app, which reads the whole upload into memory
//   and then pandas-reads it (the "read-it-all" approach).
// Each round starts fresh processes, so the kernel's peak-RSS mark (VmHWM) belongs to that round.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCsv } from "../lib/csv.mjs";
import { memoryKb, pinned, readJsonLine, root, sleep, which } from "../lib/proc.mjs";
import { pairedRatios, summarize } from "../lib/stats.mjs";
import { contenders, fastapiMissing, PYTHON, removeLargeFiles } from "./seed.mjs";

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

/** Uploads with curl pinned to the load core (streams the file from disk). */
async function upload(url, csvPath) {
  const [cmd, args] = pinned("load", which("curl"), [
    "-sS",
    "--fail-with-body",
    "-F",
    `file=@${csvPath};type=text/csv;filename=data.csv`,
    url,
  ]);
  return capture(cmd, args);
}

async function waitFor(check, { timeoutMs = 600_000, everyMs = 50 } = {}) {
  const started = performance.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() - started > timeoutMs) throw new Error("timed out");
    await sleep(everyMs);
  }
}

export async function run(ctx) {
  const { log } = ctx;
  const sizeMb = ctx.quick ? 10 : 100;
  const work = mkdtempSync(join(tmpdir(), "bench-csv-"));
  const csvPath = join(work, "big.csv");
  const rows = await generateCsv(csvPath, sizeMb * 1024 * 1024);
  const bytes = statSync(csvPath).size;
  log(`  generated ${(bytes / 2 ** 20).toFixed(0)} MiB, ${rows.toLocaleString("en")} rows`);
  const all = contenders();
  const result = {
    file: { bytes, rows },
    ours: all.ours.label,
    definitions: {
      parseRowsPerSecond: "rows / (time from the upload's response to GET /uploads/{id} reporting done): the background parse",
      endToEndRowsPerSecond: "rows / (time from the start of the upload to done)",
      peakRssMb: "the server process's VmHWM after the round (fresh process per round), MiB",
      pandas: "pandas.read_csv(file) in a fresh python3, timed inside the process; peak RSS = ru_maxrss",
    },
  };
  if (!which("curl")) return { ...result, skipped: "curl not found (apt-get install curl)" };
  const pandasMissing = fastapiMissing({ pandas: true }) && spawnCheck();
  const variants = [
    { name: "ours", run: () => runOurs(all.ours, csvPath, work, rows) },
    !pandasMissing && { name: "pandas", run: () => runPandas(csvPath) },
    !fastapiMissing({ pandas: true }) && { name: "seed", run: () => runSeed(all.fastapi, csvPath, work, rows) },
  ].filter(Boolean);
  if (pandasMissing) log(`  pandas: skipped: ${pandasMissing}`);
  if (fastapiMissing({ pandas: true })) log(`  seed FastAPI upload: skipped: ${fastapiMissing({ pandas: true })}`);

  const runs = Object.fromEntries(variants.map((v) => [v.name, []]));
  try {
    for (let round = 1; round <= ctx.pairs; round++) {
      const parts = [];
      for (const v of variants) {
        const r = await v.run();
        runs[v.name].push(r);
        parts.push(`${v.name} ${Math.round(r.parseRowsPerSecond).toLocaleString("en")} rows/s, peak RSS ${r.peakRssMb.toFixed(0)} MiB`);
      }
      log(`    round ${round}/${ctx.pairs}: ${parts.join(" | ")}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  result.variants = {};
  for (const [name, list] of Object.entries(runs)) {
    result.variants[name] = {
      parseRowsPerSecond: summarize(list.map((r) => r.parseRowsPerSecond)),
      endToEndRowsPerSecond: summarize(list.map((r) => r.endToEndRowsPerSecond)),
      peakRssMb: summarize(list.map((r) => r.peakRssMb)),
      idleRssMb: summarize(list.map((r) => r.idleRssMb)),
      runs: list,
    };
  }
  result.ratios = {};
  if (runs.pandas) {
    result.ratios.rowsPerSecondVsPandas = pairedRatios(
      runs.pandas.map((r) => r.parseRowsPerSecond),
      runs.ours.map((r) => r.parseRowsPerSecond),
    );
    log(
      `    => rows/s ours ÷ pandas.read_csv: ${result.ratios.rowsPerSecondVsPandas.median.toFixed(2)}× (${
        result.ratios.rowsPerSecondVsPandas.min.toFixed(2)
      }–${result.ratios.rowsPerSecondVsPandas.max.toFixed(2)})`,
    );
  }
  if (runs.seed) {
    result.ratios.peakRssVsSeed = pairedRatios(runs.seed.map((r) => r.peakRssMb), runs.ours.map((r) => r.peakRssMb));
    result.ratios.endToEndRowsPerSecondVsSeed = pairedRatios(
      runs.seed.map((r) => r.endToEndRowsPerSecond),
      runs.ours.map((r) => r.endToEndRowsPerSecond),
    );
    log(
      `    => peak RSS ours ÷ seed: ${result.ratios.peakRssVsSeed.median.toFixed(2)}× (${result.ratios.peakRssVsSeed.min.toFixed(2)}–${
        result.ratios.peakRssVsSeed.max.toFixed(2)
      }); end-to-end rows/s ours ÷ seed ${result.ratios.endToEndRowsPerSecondVsSeed.median.toFixed(2)}×`,
    );
  }
  return result;
}

function spawnCheck() {
  return fastapiMissing({ pandas: true });
}

async function runOurs(contender, csvPath, work, rows) {
  const dataDir = mkdtempSync(join(work, "ours-"));
  const server = await contender.start(dataDir);
  try {
    await sleep(300);
    const idle = memoryKb(server.pid);
    const t0 = performance.now();
    const answer = JSON.parse(await upload(server.url + "/upload", csvPath));
    const t1 = performance.now();
    if (!answer.id) throw new Error(`upload answered without an id: ${JSON.stringify(answer)}`);
    const status = await waitFor(async () => {
      const s = await (await fetch(`${server.url}/uploads/${answer.id}`)).json();
      if (s.status === "failed") throw new Error(`upload failed: ${JSON.stringify(s)}`);
      return s.status === "done" ? s : undefined;
    });
    const t2 = performance.now();
    if (status.rows !== rows) throw new Error(`ours counted ${status.rows} rows, expected ${rows}`);
    const mem = memoryKb(server.pid);
    return {
      rows: status.rows,
      uploadMs: t1 - t0,
      parseMs: t2 - t1,
      parseRowsPerSecond: rows / ((t2 - t1) / 1000),
      endToEndRowsPerSecond: rows / ((t2 - t0) / 1000),
      peakRssMb: mem.peakRssKb / 1024,
      idleRssMb: idle.rssKb / 1024,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function runPandas(csvPath) {
  const [cmd, args] = pinned("server", PYTHON, [join(root, "bench/csv/pandas_read.py"), csvPath]);
  const r = readJsonLine(await capture(cmd, args), "PANDAS_JSON");
  return {
    rows: r.rows,
    parseMs: r.seconds * 1000,
    parseRowsPerSecond: r.rows / r.seconds,
    endToEndRowsPerSecond: r.rows / r.seconds,
    peakRssMb: r.peakRssKb / 1024,
    idleRssMb: NaN,
  };
}

async function runSeed(contender, csvPath, work, rows) {
  const dataDir = mkdtempSync(join(work, "seed-"));
  const server = await contender.start(dataDir);
  try {
    await sleep(300);
    const idle = memoryKb(server.pid);
    const t0 = performance.now();
    await upload(server.url + "/upload", csvPath);
    const t1 = performance.now();
    const pattern = /文件处理(完毕，共有 (\d+) 行数据|失败: .*)/;
    const line = await waitFor(() => server.output().match(pattern));
    const t2 = performance.now();
    if (!line[2]) throw new Error(`the seed app failed: ${line[0]}`);
    if (Number(line[2]) !== rows) throw new Error(`the seed app counted ${line[2]} rows, expected ${rows}`);
    const mem = memoryKb(server.pid);
    return {
      rows,
      uploadMs: t1 - t0,
      parseMs: t2 - t1,
      parseRowsPerSecond: rows / ((t2 - t1) / 1000),
      endToEndRowsPerSecond: rows / ((t2 - t0) / 1000),
      peakRssMb: mem.peakRssKb / 1024,
      idleRssMb: idle.rssKb / 1024,
    };
  } finally {
    await server.stop();
    removeLargeFiles(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

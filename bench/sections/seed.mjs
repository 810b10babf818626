// Section "seed": the seed's three endpoints on our example server vs the seed's FastAPI app under
// uvicorn vs the same Elysia routes doing the same work in `onAfterResponse`.
// Goals: ≥ 40× FastAPI on the log endpoint; never slower than onAfterResponse.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interleave, warmUp } from "../lib/compare.mjs";
import { generateCsv, writeMultipartBody } from "../lib/csv.mjs";
import { runLoad } from "../lib/load.mjs";
import { loadTogether } from "../lib/together.mjs";
import { root, startServer } from "../lib/proc.mjs";
import { runtimes } from "./runtimes.mjs";

export const PYTHON = "/usr/bin/python3"; // Debian's, where python3-fastapi & co. live (not a pyenv shim)

export function fastapiMissing({ pandas = false } = {}) {
  const modules = ["fastapi", "uvicorn", "multipart", ...(pandas ? ["pandas"] : [])];
  const probe = spawnSync(PYTHON, ["-c", `import ${modules.join(", ")}`], { encoding: "utf8" });
  if (probe.status === 0) return undefined;
  return `${PYTHON} cannot import ${modules.join(", ")}; install with: apt-get install python3-fastapi python3-uvicorn python3-multipart${
    pandas ? " python3-pandas" : ""
  }`;
}

/**
 * The example's defaults, except two limits the peers do not have: the bound on waiting tasks (at
 * its default, 10,000, a load run outpaces the mail and CSV tasks and the server sheds load with
 * 503s) and the upload size (100 MiB; the generated "100 MB" file is a few bytes over).
 */
export const EXAMPLE_ENV = { TASK_MAX_PENDING: "100000000", MAX_UPLOAD_BYTES: String(2 ** 30) };

export function exampleServerOnMain() {
  return spawnSync("git", ["cat-file", "-e", "HEAD:examples/server.ts"], { cwd: root }).status === 0;
}

/** The three contenders, each a function starting its server with its own data directory. */
export function contenders() {
  const bun = runtimes.bun;
  const example = exampleServerOnMain();
  return {
    fastapi: {
      label: "FastAPI + uvicorn (seed)",
      missing: fastapiMissing(),
      start: (dataDir) =>
        startServer({
          name: "fastapi",
          cmd: PYTHON,
          args: [
            "-m",
            "uvicorn",
            "app:app",
            "--app-dir",
            join(root, "bench/fastapi"),
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
    onAfterResponse: {
      label: "Elysia onAfterResponse (Bun)",
      missing: bun.available() ? undefined : `bun not installed (${bun.install})`,
      start: (dataDir) =>
        startServer({
          name: "onAfterResponse",
          cmd: bun.command("bench/elysia-onafterresponse.ts")[0],
          args: bun.command("bench/elysia-onafterresponse.ts")[1],
          env: { DATA_DIR: dataDir },
        }),
    },
    ceiling: {
      label: "ceiling: bare Bun.serve answering the same JSON, no work (log endpoint only)",
      only: ["log"],
      missing: bun.available() ? undefined : `bun not installed (${bun.install})`,
      start: () =>
        startServer({
          name: "ceiling",
          cmd: bun.command("bench/servers/log-ceiling.ts")[0],
          args: bun.command("bench/servers/log-ceiling.ts")[1],
        }),
    },
    ours: {
      label: "ours: examples/server.ts (Bun, Elysia plugin)",
      missing: !bun.available() ? `bun not installed (${bun.install})` : !example ? "examples/server.ts is not on main yet" : undefined,
      start(dataDir) {
        const [cmd, args] = bun.command("examples/server.ts");
        return startServer({
          name: "ours",
          cmd,
          args,
          env: { DATA_DIR: dataDir, HOST: "127.0.0.1", ...EXAMPLE_ENV },
          readyPath: "/swagger/json",
        });
      },
    },
  };
}

export async function run(ctx) {
  const { log } = ctx;
  const work = mkdtempSync(join(tmpdir(), "bench-seed-"));
  const csvPath = join(work, "upload-1mb.csv");
  const rows = await generateCsv(csvPath, ctx.quick ? 256 * 1024 : 1024 * 1024);
  const uploadBody = join(work, "upload-body.bin");
  const uploadType = writeMultipartBody(csvPath, uploadBody);
  const registerBody = join(work, "register.json");
  (await import("node:fs")).writeFileSync(registerBody, JSON.stringify({ email: "bench@example.com", username: "bench" }));

  const endpoints = {
    log: { label: "POST /send-notification/{email} (log)", path: "/send-notification/bench@example.com", method: "POST" },
    register: {
      label: "POST /register (welcome email to a local sink)",
      path: "/register",
      method: "POST",
      bodyFile: registerBody,
      contentType: "application/json",
    },
    upload: {
      label: `POST /upload (${ctx.quick ? "256 KB" : "1 MB"} CSV, ${rows} rows, multipart)`,
      path: "/upload",
      method: "POST",
      bodyFile: uploadBody,
      contentType: uploadType,
      connections: 8,
    },
  };
  const all = contenders();
  const result = {
    goals: { logVsFastapi: 40, vsOnAfterResponse: 1 },
    contenders: Object.fromEntries(
      Object.entries(all).map(([k, c]) => [k, c.missing ? { label: c.label, skipped: c.missing } : { label: c.label }]),
    ),
    note:
      "rps = requests answered per second during the load run. sustainedRps = requests / (load seconds + time until the server's CPU went idle again), i.e. including the background work each run left behind.",
    endpoints: {},
  };
  const available = Object.entries(all).filter(([_name, c]) => {
    if (c.missing) log(`  ${c.label}: skipped: ${c.missing}`);
    return !c.missing;
  });
  const contenderOrder = ["fastapi", "ceiling", "onAfterResponse", "ours"].filter((n) => available.some(([k]) => k === n));

  for (const [key, endpoint] of Object.entries(endpoints)) {
    log(`  ${endpoint.label}`);
    const order = contenderOrder.filter((name) => all[name].only === undefined || all[name].only.includes(key));
    const servers = {};
    const dirs = [];
    try {
      for (const name of order) {
        const dataDir = mkdtempSync(join(work, `${name}-`));
        dirs.push(dataDir);
        servers[name] = await all[name].start(dataDir);
        servers[name].dataDir = dataDir;
        await checkEndpoint(servers[name], endpoint);
      }
      const load = {
        connections: endpoint.connections ?? ctx.connections,
        method: endpoint.method,
        bodyFile: endpoint.bodyFile,
        contentType: endpoint.contentType,
        timeoutS: 30,
      };
      for (const name of order) await warmUp(servers[name], { ...load, path: endpoint.path }, ctx.warmupS);
      const ratioPairs = [["ours", "fastapi"], ["ours", "onAfterResponse"], ["onAfterResponse", "fastapi"], ["ceiling", "fastapi"], [
        "ours",
        "ceiling",
      ]]
        .filter(([a, b]) => servers[a] && servers[b]);
      const compared = await interleave({
        variants: order.map((name) => ({ name, server: servers[name] })),
        pairs: ctx.pairs,
        log,
        metrics: ["rps", "sustainedRps", "settleMs", "cpuUsPerRequest", "latencyMs.p50", "latencyMs.p99"],
        ratioPairs,
        measure: async (v) => {
          if (key === "upload") removeLargeFiles(v.server.dataDir);
          const figures = await runLoad({ ...load, url: v.server.url + endpoint.path, durationS: ctx.durationS });
          if (figures.non2xx || figures.errors) log(`    ! ${v.name}: ${figures.non2xx} non-2xx, ${figures.errors} socket errors`);
          return figures;
        },
      });
      for (const name of order) {
        for (const run of compared.variants[name].runs) {
          run.sustainedRps = (run.requests - run.non2xx) / (ctx.durationS + run.settleMs / 1000);
        }
        const s = compared.variants[name];
        const { summarize } = await import("../lib/stats.mjs");
        s.sustainedRps = summarize(s.runs.map((r) => r.sustainedRps));
      }
      const { pairedRatios } = await import("../lib/stats.mjs");
      for (const [a, b] of ratioPairs) {
        compared.ratios[`${a}/${b}`].sustainedRps = pairedRatios(
          compared.variants[b].runs.map((r) => r.sustainedRps),
          compared.variants[a].runs.map((r) => r.sustainedRps),
        );
      }
      for (const [pair, r] of Object.entries(compared.ratios)) {
        log(
          `    => ${pair}: throughput ${r.rps.median.toFixed(2)}× (${r.rps.min.toFixed(2)}–${r.rps.max.toFixed(2)}), sustained ${
            r.sustainedRps.median.toFixed(2)
          }×`,
        );
      }
      result.endpoints[key] = { label: endpoint.label, ...compared };
      if (key === "log" && servers.ours && servers.onAfterResponse) {
        // Ours beside its peer (and the ceiling) loaded at the same time: steadier on a busy
        // machine (no goal). FastAPI stays out: it would take the CPU the others measure by.
        // A failure here is reported without losing the interleaved figures above.
        const together = await loadTogether({
          servers: ["onAfterResponse", "ours", "ceiling"].filter((name) => servers[name]).map((name) => ({ name, server: servers[name] })),
          rounds: ctx.togetherRounds,
          durationS: ctx.costDurationS,
          method: endpoint.method,
          path: endpoint.path,
          log,
        }).catch((error) => {
          log(`    loaded at the same time: failed: ${error.message}`);
          return { ratios: { error: String(error.message).slice(0, 2000) } };
        });
        for (const [pair, r] of Object.entries(together.ratios)) {
          if (pair !== "error") {
            log(`    => loaded at the same time: ${pair} ${r.median.toFixed(3)} (${r.min.toFixed(3)}–${r.max.toFixed(3)}), ${r.n} rounds`);
          }
        }
        result.endpoints[key].together = together.ratios;
      }
    } catch (error) {
      log(`    failed: ${error.message}`);
      result.endpoints[key] = { label: endpoint.label, error: String(error.message).slice(0, 2000) };
    } finally {
      for (const server of Object.values(servers)) await server.stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(work, { recursive: true, force: true });
  return result;
}

/** One request by hand before the load: a contender that answers with an error is not measured. */
async function checkEndpoint(server, endpoint) {
  const { readFileSync } = await import("node:fs");
  const response = await fetch(server.url + endpoint.path, {
    method: endpoint.method,
    body: endpoint.bodyFile ? readFileSync(endpoint.bodyFile) : undefined,
    headers: endpoint.contentType ? { "content-type": endpoint.contentType } : {},
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${server.name} answered ${response.status} to ${endpoint.method} ${endpoint.path}: ${text.slice(0, 300)}`);
  }
}

/** Big files the upload runs leave behind (the servers' copies of the CSV). */
export function removeLargeFiles(dir, minBytes = 100_000) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removeLargeFiles(path, minBytes);
    else if (statSync(path).size >= minBytes) rmSync(path, { force: true });
  }
}

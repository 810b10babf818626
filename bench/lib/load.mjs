// One load-generator run: wrk (preferred) or autocannon, pinned to the load core.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { pinned, readJsonLine, root, which } from "./proc.mjs";

const here = new URL(".", import.meta.url).pathname;

export const loadGenerator = (() => {
  const wrk = which("wrk");
  if (wrk) return { name: "wrk", path: wrk, version: "wrk 4 (Debian)" };
  return { name: "autocannon", path: join(root, "node_modules", "autocannon"), version: "autocannon (npm)" };
})();

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.once("error", reject);
    // "close", not "exit": the output may still be on its way when the process has exited.
    child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}:\n${out}`))));
  });
}

/**
 * Runs load against `url` for `durationS` seconds with `connections` keep-alive connections.
 * @param {{ url: string, connections?: number, durationS?: number, method?: string, bodyFile?: string,
 *   contentType?: string, delayMs?: number, timeoutS?: number }} options
 * @returns {Promise<{ rps: number (2xx/3xx answers per second), rpsAll: number, requests: number, errors: number, non2xx: number,
 *   latencyMs: { mean: number, p50: number, p90: number, p99: number, max: number } }>}
 */
export async function runLoad(options) {
  const { url, connections = 32, durationS = 5, method = "GET", bodyFile, contentType, delayMs = 0, timeoutS = 10 } = options;
  if (loadGenerator.name === "wrk") {
    const [cmd, args] = pinned("load", loadGenerator.path, [
      "-t1",
      `-c${connections}`,
      `-d${durationS}s`,
      `--timeout`,
      `${timeoutS}s`,
      "-s",
      join(here, "wrk.lua"),
      url,
    ]);
    const out = await run(cmd, args, {
      WRK_METHOD: method,
      WRK_BODY_FILE: bodyFile ?? "",
      WRK_CONTENT_TYPE: contentType ?? "",
      WRK_DELAY_MS: String(delayMs),
    });
    const r = readJsonLine(out, "WRK_JSON");
    if (!r) throw new Error(`wrk printed no result:\n${out}`);
    const seconds = r.duration_us / 1e6;
    // Only successful answers count: a server shedding load with fast 503s must not look faster.
    return {
      rps: (r.requests - r.status) / seconds,
      rpsAll: r.requests / seconds,
      requests: r.requests,
      errors: r.connect + r.read + r.write + r.timeout,
      non2xx: r.status,
      latencyMs: {
        mean: r.lat_mean_us / 1000,
        p50: r.lat_p50_us / 1000,
        p90: r.lat_p90_us / 1000,
        p99: r.lat_p99_us / 1000,
        max: r.lat_max_us / 1000,
      },
    };
  }
  const [cmd, args] = pinned("load", process.execPath, [
    join(here, "autocannon-run.mjs"),
    JSON.stringify({ url, connections, durationS, method, bodyFile, contentType, delayMs, timeoutS }),
  ]);
  const r = readJsonLine(await run(cmd, args, {}), "AUTOCANNON_JSON");
  return r;
}

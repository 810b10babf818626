// Starting servers pinned to one core, waiting for them, and reading their CPU time and memory from /proc.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";

export const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const bin = (name) => join(root, "node_modules", ".bin", name);

const whichCache = new Map();
/** @returns the absolute path of a program on PATH, or undefined */
export function which(name) {
  if (!whichCache.has(name)) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    whichCache.set(name, found.status === 0 ? found.stdout.trim() : undefined);
  }
  return whichCache.get(name);
}

/**
 * Server on core 0, load generator on core 1, when there are two cores and `taskset` exists.
 * Every thread of a process inherits its affinity, so a runtime's GC and I/O threads share core 0 too.
 */
export const pinning = (() => {
  const taskset = which("taskset");
  const cores = cpus().length;
  if (!taskset || cores < 2) {
    return { enabled: false, why: !taskset ? "taskset not found (apt-get install util-linux)" : `only ${cores} core(s)` };
  }
  return { enabled: true, taskset, server: "0", load: "1", cores };
})();

/** Prefixes `cmd args` with `taskset -c <core>` when pinning is possible. */
export function pinned(role, cmd, args) {
  if (!pinning.enabled) return [cmd, args];
  return [pinning.taskset, ["-c", pinning[role], cmd, ...args]];
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU time (user + system, all threads) of a process in ms, or NaN once it is gone. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}

/** { rssKb, peakRssKb } of a process from /proc/<pid>/status (VmRSS, VmHWM). */
export function memoryKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const get = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
    return { rssKb: get("VmRSS"), peakRssKb: get("VmHWM") };
  } catch {
    return { rssKb: NaN, peakRssKb: NaN };
  }
}

/**
 * Waits until a process has gone quiet: its CPU time grows by less than `busyMs` over `windowMs`.
 * Used after each load run so background work a server queued does not spill into the next run.
 * @returns how long it took, in ms
 */
export async function waitIdle(pid, { windowMs = 200, busyMs = 10, timeoutMs = 120_000 } = {}) {
  const started = performance.now();
  let last = cpuMs(pid);
  while (performance.now() - started < timeoutMs) {
    await sleep(windowMs);
    const now = cpuMs(pid);
    if (!(now - last >= busyMs)) return performance.now() - started - windowMs;
    last = now;
  }
  return performance.now() - started;
}

/**
 * Spawns a server pinned to the server core and waits until `readyPath` answers over HTTP.
 * The port is passed as $PORT in the environment and replaces an argument spelled "$PORT".
 * @returns {{ pid, port, url, name, stop(): Promise<void>, output(): string }}
 */
export async function startServer(options) {
  for (let attempt = 1;; attempt++) {
    try {
      return await startServerOnce(options);
    } catch (error) {
      // dist/ vanishes for a few seconds whenever someone rebuilds it (npm test, npm run build) on a
      // shared working tree: wait and try again rather than lose a whole comparison.
      if (attempt >= 6 || !/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(error.message)) throw error;
      console.log(`    (${options.name}: a module was missing, dist/ is probably being rebuilt; retrying in 5 s)`);
      await sleep(5000);
    }
  }
}

async function startServerOnce({ name, cmd, args, env = {}, cwd = root, port, readyPath = "/", timeoutMs = 30_000 }) {
  port ??= await freePort();
  const [command, commandArgs] = pinned("server", cmd, args.map((a) => (a === "$PORT" ? String(port) : a)));
  const child = spawn(command, commandArgs, {
    cwd,
    env: { ...process.env, NO_COLOR: "1", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-8000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = false;
  const exitedPromise = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    })
  );
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (exited) throw new Error(`${name} exited before it was ready:\n${output}`);
    try {
      await fetch(url + readyPath, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (performance.now() - started > timeoutMs) {
        child.kill("SIGKILL");
        throw new Error(`${name} did not answer on ${url}${readyPath} within ${timeoutMs} ms:\n${output}`);
      }
      await sleep(100);
    }
  }
  return {
    name,
    pid: child.pid,
    port,
    url,
    output: () => output,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

export function readJsonLine(text, marker) {
  const line = text.split("\n").find((l) => l.startsWith(marker + " "));
  return line ? JSON.parse(line.slice(marker.length + 1)) : undefined;
}

export { existsSync };

// How to run a TypeScript file on each runtime, and how to install a missing one.
// Bun and Node load the package as users get it, through package.json "exports" (dist/, which
// run.mjs rebuilds first when src/ is newer); Deno maps it to src/ with the repository's deno.json.
import { existsSync } from "node:fs";
import { bin } from "../lib/proc.mjs";

export const runtimes = {
  bun: {
    label: "Bun",
    available: () => existsSync(bin("bun")),
    install: "npm install -D bun (or see bun.sh)",
    command: (file, flags = []) => [bin("bun"), [...flags, file]],
    gcFlags: [],
  },
  deno: {
    label: "Deno",
    available: () => existsSync(bin("deno")),
    install: "npm install -D deno (or see deno.com)",
    command: (file, flags = []) => [bin("deno"), ["run", "-A", ...flags, file]],
    gcFlags: ["--v8-flags=--expose-gc"],
  },
  node: {
    label: "Node",
    available: () => true,
    install: "",
    command: (file, flags = []) => [process.execPath, [...flags, "--import", "tsx", file]],
    gcFlags: ["--expose-gc"],
  },
};

export async function version(runtime) {
  const { spawnSync } = await import("node:child_process");
  const [cmd] = runtimes[runtime].command("x");
  if (runtime === "node") return process.version;
  const line = spawnSync(cmd, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0].trim();
  return line.match(/\d+\.\d+\.\d+/)?.[0] ?? line;
}

// How to run a TypeScript file on each runtime, and how to install a missing one.
// All three load the core from its TypeScript sources: Bun through the package's "bun" export
// condition, Node (tsx) and Deno by asking for that condition too, so no run depends on a stale or
// half-rebuilt dist/.
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
    command: (file, flags = []) => [bin("deno"), ["run", "-A", "--conditions=bun", ...flags, file]],
    gcFlags: ["--v8-flags=--expose-gc"],
  },
  node: {
    label: "Node",
    available: () => true,
    install: "",
    command: (file, flags = []) => [process.execPath, [...flags, "--conditions=bun", "--import", "tsx", file]],
    gcFlags: ["--expose-gc"],
  },
};

export async function version(runtime) {
  const { spawnSync } = await import("node:child_process");
  const [cmd] = runtimes[runtime].command("x");
  if (runtime === "node") return process.version;
  return spawnSync(cmd, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0].trim();
}

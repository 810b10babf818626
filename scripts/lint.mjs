// Lints and checks the formatting of the code with Deno's own tools (deno lint, deno fmt), set up
// in deno.test.json. `node scripts/lint.mjs --fix` formats the files instead of checking them.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const deno = join(root, "node_modules/.bin/deno");
const fix = process.argv.includes("--fix");
const config = ["--config", join(root, "deno.test.json")];

let failed = false;
for (const args of [["lint", ...config], ["fmt", ...config, ...(fix ? [] : ["--check"])]]) {
  const result = spawnSync(deno, args, { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);

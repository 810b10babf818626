// Builds the npm package: ESM + .d.ts from src/ into dist/.
// Builds into a fresh folder and swaps it in, so a process reading dist/ never sees it half-written.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const next = mkdtempSync(join(root, ".dist-"));
try {
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", next], {
    stdio: "inherit",
    cwd: root,
  });
  // The worker thread's entry is plain JavaScript (so Node starts it without a TypeScript loader): copied as it is.
  copyFileSync(join(root, "src/worker/thread.js"), join(next, "worker/thread.js"));
  const old = join(root, `.dist-old-${process.pid}`);
  try {
    renameSync(join(root, "dist"), old);
  } catch {
    // no previous build
  }
  renameSync(next, join(root, "dist"));
  rmSync(old, { recursive: true, force: true });
} catch (error) {
  rmSync(next, { recursive: true, force: true });
  throw error;
}

// Section "durable": bench/bullmq.mjs (its own Redis, web processes and workers under Bun).
// Goal: our runner's overhead over plain BullMQ `Queue.add` + `Worker` ≤ 10 %.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { readJsonLine, root } from "../lib/proc.mjs";

export async function run(ctx) {
  const args = [join(root, "bench", "bullmq.mjs"), ...(ctx.quick ? ["--quick"] : ["--rounds", "3"])];
  ctx.log(`  node ${args.join(" ").replace(root + "/", "")}`);
  const out = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
      for (const line of chunk.split("\n")) if (line.startsWith("round ") || line.startsWith("| ")) ctx.log(`  ${line}`);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => (err += chunk));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`bench/bullmq.mjs exited ${code}: ${err.slice(-2000)}`))));
  });
  return readJsonLine(out, "durable");
}

// The upload route's multipart receiver: throughput of a large upload to completion and the
// server's peak RSS, ours (examples/app/uploads/receiveFile.ts) against other receiveFile
// modules (each exporting `receiveFile(request, { field, path, maxBytes })`) and against the
// floor (the raw body written to disk, no parsing).
//
//   flock /tmp/bench.lock node bench/upload-parser.mjs [other/receiveFile.ts ...]
//   (BENCH_UPLOAD_DIR=/dev/shm writes to memory, keeping the disk out of the figure)
//
// Speed: one Bun server holds all receivers (bench/servers/upload.ts); 7 interleaved pairs,
// A B then B A, of one upload each; the median ratio and its spread. Memory: a fresh server per
// receiver, VmHWM before and after one upload. UPLOAD_MIB sets the file's size (default 96), ROUNDS
// the number of rounds (default 7).
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bin, memoryKb, startServer } from "./lib/proc.mjs";
import { fmt, pairedRatios, summarize } from "./lib/stats.mjs";

const alts = process.argv.slice(2).map((path) => resolve(path));
const mib = Number(process.env.UPLOAD_MIB ?? 96);
const PAIRS = Number(process.env.ROUNDS ?? 7);

function multipartBody() {
  const boundary = "----bench" + "x".repeat(16);
  const lines = [];
  let size = 0;
  for (let i = 0; size < mib * 1024 * 1024; i++) {
    const line = `${i},user${i}@example.com,"Name, ${i % 977}",${(i * 7919) % 100000}\n`;
    lines.push(line);
    size += line.length;
  }
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="data.csv"\r\nContent-Type: text/csv\r\n\r\nid,email,name,score\n`;
  return { boundary, body: Buffer.concat([Buffer.from(head), Buffer.from(lines.join("")), Buffer.from(`\r\n--${boundary}--\r\n`)]) };
}

function upload(url, { boundary, body }) {
  return new Promise((done, fail) => {
    const started = performance.now();
    const req = request(url, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c) => (text += c));
      res.on("end", () => {
        if (res.statusCode !== 200) return fail(new Error(`${url}: ${res.statusCode} ${text}`));
        done(performance.now() - started);
      });
    });
    req.on("error", fail);
    req.end(body);
  });
}

const dir = mkdtempSync(join(process.env.BENCH_UPLOAD_DIR ?? tmpdir(), "bench-upload-"));
const server = (name) =>
  startServer({
    name,
    cmd: bin("bun"),
    args: ["run", "bench/servers/upload.ts"],
    env: { UPLOAD_DIR: dir, ALT_RECEIVE_FILES: alts.join(",") },
    readyPath: "/ready",
  });
const payload = multipartBody();
const mb = payload.body.length / 1e6;
const routes = ["/ours", ...alts.map((_, i) => `/alt/${i}`), "/floor"];
const label = (route) => (route.startsWith("/alt/") ? alts[Number(route.slice(5))] : route);
try {
  console.log(`upload: ${(payload.body.length / 1048576).toFixed(1)} MiB multipart, ${PAIRS} interleaved rounds`);
  const speed = Object.fromEntries(routes.map((r) => [r, []]));
  const s = await server("upload receivers");
  for (const r of routes) await upload(s.url + r, payload); // warm-up
  for (let round = 0; round < PAIRS; round++) {
    const order = round % 2 === 0 ? routes : [...routes].reverse();
    for (const r of order) speed[r].push(mb / ((await upload(s.url + r, payload)) / 1000));
  }
  await s.stop();
  for (const r of routes) console.log(`  ${label(r)}: MB/s ${fmt(summarize(speed[r]))}`);
  for (const r of routes.filter((r) => r.startsWith("/alt/"))) {
    console.log(`  ours ÷ ${label(r)} throughput: ${fmt(pairedRatios(speed[r], speed["/ours"]))}`);
  }
  console.log(`  ours ÷ floor throughput: ${fmt(pairedRatios(speed["/floor"], speed["/ours"]))}`);

  for (const r of routes) {
    const fresh = await server(r);
    const before = memoryKb(fresh.pid).peakRssKb;
    await upload(fresh.url + r, payload);
    const after = memoryKb(fresh.pid).peakRssKb;
    await fresh.stop();
    console.log(
      `  ${label(r)}: peak RSS ${(before / 1024).toFixed(0)} → ${(after / 1024).toFixed(0)} MiB (+${
        ((after - before) / 1024).toFixed(0)
      } MiB)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

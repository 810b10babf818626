// POST /upload of the example server: a real multipart upload of a CSV of at
// least 50 MB processed with bounded memory (the server's peak RSS is
// printed), and the documented outcome of each kind of bad upload.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, type ExampleServer, startExample } from "./_exampleServer.ts";

const BIG_CSV_BYTES = Number(process.env.BIG_CSV_BYTES ?? 80 * 1024 * 1024);
// Measured here: +50 MiB at 55 MiB and at 150 MiB files (Bun's body buffers, parser garbage), independent of size.
const MAX_RSS_GROWTH_MIB = 80;
let workDir: string;
let server: ExampleServer;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), "bg-upload-"));
  server = await startExample({ MAX_UPLOAD_BYTES: String(200 * 1024 * 1024) });
});
after(async () => {
  await server?.close();
  await rm(workDir, { recursive: true, force: true });
});

/** Writes a CSV of about `bytes` bytes, streaming; returns its data row count. */
async function writeCsv(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  out.write("id,name,email,score\n");
  let rows = 0;
  let written = 20;
  while (written < bytes) {
    let block = "";
    for (let i = 0; i < 5_000; i++, rows++) block += `${rows},user ${rows},user${rows}@example.com,${rows % 100}\n`;
    written += Buffer.byteLength(block);
    if (!out.write(block)) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return rows;
}

interface Part {
  readonly filename: string;
  readonly type?: string;
  readonly content?: string | Buffer;
  readonly path?: string;
  readonly field?: string;
}

/** Sends one file as multipart/form-data, streaming it from disk when `path` is given. */
async function upload(part: Part): Promise<{ status: number; json: any }> {
  const boundary = `----bgtest${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${part.field ?? "file"}"; filename="${part.filename}"\r\n` +
      (part.type ? `Content-Type: ${part.type}\r\n` : "") + "\r\n",
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = part.path ? (await stat(part.path)).size : Buffer.byteLength(part.content ?? "");
  return new Promise((resolve, reject) => {
    const req = request(`${server.base}/upload`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length + size + tail.length },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.write(head);
    if (part.path) {
      const file = createReadStream(part.path);
      file.on("error", reject);
      file.on("end", () => req.end(tail));
      file.pipe(req, { end: false });
    } else {
      req.write(part.content ?? "");
      req.end(tail);
    }
  });
}

async function status(id: string): Promise<any> {
  return (await fetch(`${server.base}/uploads/${id}`)).json();
}

async function finished(id: string): Promise<any> {
  return eventually(
    async () => {
      const job = await status(id);
      return job.status === "done" || job.status === "failed" ? job : undefined;
    },
    `upload ${id} to finish`,
    60_000,
  );
}

function rssKiB(pid: number): Promise<{ rss: number; peak: number }> {
  return readFile(`/proc/${pid}/status`, "utf8").then((text) => ({
    rss: Number(/VmRSS:\s+(\d+)/.exec(text)![1]),
    peak: Number(/VmHWM:\s+(\d+)/.exec(text)![1]),
  }));
}

test(`a CSV of ${(BIG_CSV_BYTES / 2 ** 20).toFixed(0)} MiB: streamed to disk, parsed in the background, memory bounded`, async () => {
  const path = join(workDir, "big.csv");
  const rows = await writeCsv(path, BIG_CSV_BYTES);
  const size = (await stat(path)).size;
  assert.ok(size >= 50 * 1024 * 1024);
  const pid = server.child.pid!;
  const before = await rssKiB(pid);
  let sampledPeak = before.rss;
  const sampler = setInterval(() => {
    rssKiB(pid).then(({ rss }) => (sampledPeak = Math.max(sampledPeak, rss)), () => {});
  }, 25);
  try {
    const started = performance.now();
    const answer = await upload({ filename: "big.csv", type: "text/csv", path });
    const uploadedMs = performance.now() - started;
    const atAnswer = await rssKiB(pid);
    assert.equal(answer.status, 202, JSON.stringify(answer.json));
    assert.equal(answer.json.bytes, size);
    assert.ok(["queued", "running"].includes(answer.json.status));
    const job = await finished(answer.json.id);
    const processedMs = performance.now() - started;
    assert.equal(job.status, "done", JSON.stringify(job));
    assert.equal(job.rows, rows);
    assert.deepEqual(job.columns, ["id", "name", "email", "score"]);
    const after = await rssKiB(pid);
    const peak = Math.max(after.peak, sampledPeak);
    const growthMiB = (peak - before.rss) / 1024;
    console.log(
      `# upload ${(size / 2 ** 20).toFixed(1)} MiB, ${rows} rows: uploaded in ${uploadedMs.toFixed(0)} ms, ` +
        `parsed by ${processedMs.toFixed(0)} ms; server RSS before ${(before.rss / 1024).toFixed(0)} MiB, ` +
        `peak ${(peak / 1024).toFixed(0)} MiB (+${growthMiB.toFixed(0)} MiB; peak by the answer ${(atAnswer.peak / 1024).toFixed(0)} MiB)`,
    );
    // Holding the whole file (or its rows) in memory would add at least its size (≥ 80 MiB by default).
    assert.ok(growthMiB < MAX_RSS_GROWTH_MIB, `peak RSS grew by ${growthMiB.toFixed(0)} MiB for a ${(size / 2 ** 20).toFixed(0)} MiB file`);
    const stored = await readdir(join(server.dataDir, "uploads"));
    assert.ok(stored.includes(`${answer.json.id}.csv`));
  } finally {
    clearInterval(sampler);
  }
});

test("a small CSV: 202 with an id, then done with the row count", async () => {
  const answer = await upload({ filename: "people.csv", type: "text/csv", content: "name,age\nada,36\nbob,40\n" });
  assert.equal(answer.status, 202);
  assert.match(answer.json.id, /^[0-9a-f-]{36}$/);
  assert.equal(answer.json.filename, "people.csv");
  const job = await finished(answer.json.id);
  assert.deepEqual({ status: job.status, rows: job.rows }, { status: "done", rows: 2 });
});

test("hostile filename: stored under a server-chosen name inside DATA_DIR", async () => {
  const answer = await upload({ filename: "../../etc/passwd", type: "text/csv", content: "a,b\n1,2\n" });
  assert.equal(answer.status, 202);
  assert.equal(answer.json.filename, "passwd");
  assert.deepEqual((await finished(answer.json.id)).rows, 1);
  const stored = await readdir(join(server.dataDir, "uploads"));
  assert.ok(stored.every((name) => /^[0-9a-f-]{36}\.csv$/.test(name)), stored.join());
  const outside = await readdir(join(server.dataDir, ".."));
  assert.ok(!outside.includes("passwd") && !outside.includes("etc"));
});

test("malformed CSV: accepted, then failed with the line and reason", async () => {
  const ragged = await upload({ filename: "ragged.csv", type: "text/csv", content: "a,b\n1,2\n3\n4,5\n" });
  assert.equal(ragged.status, 202);
  const job = await finished(ragged.json.id);
  assert.equal(job.status, "failed");
  assert.equal(job.error.line, 3);
  assert.match(job.error.reason, /Invalid Record Length/);

  const unclosed = await upload({ filename: "quote.csv", type: "text/csv", content: 'a,b\n"1,2\n' });
  const failed = await finished(unclosed.json.id);
  assert.equal(failed.status, "failed");
  assert.match(failed.error.reason, /Quote Not Closed/);
});

test("empty file, wrong type, binary content, missing field: clear errors at once", async () => {
  const empty = await upload({ filename: "empty.csv", type: "text/csv", content: "" });
  assert.equal(empty.status, 400);
  assert.match(empty.json.message, /empty/);

  const png = await upload({ filename: "photo.png", type: "image/png", content: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
  assert.equal(png.status, 415);
  assert.match(png.json.message, /Expected a CSV file/);

  const binary = await upload({ filename: "data.csv", type: "text/csv", content: Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0x00, 0x01]) });
  assert.equal(binary.status, 415);
  assert.match(binary.json.message, /binary/);

  const wrongField = await upload({ filename: "a.csv", type: "text/csv", content: "a\n1\n", field: "upload" });
  assert.equal(wrongField.status, 400);
  assert.match(wrongField.json.message, /field "file"/);

  const json = await fetch(`${server.base}/upload`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  assert.equal(json.status, 415);
  assert.match((await json.json()).message, /multipart\/form-data/);

  const leftovers = (await readdir(join(server.dataDir, "uploads"))).filter((name) => name.endsWith(".part"));
  assert.deepEqual(leftovers, []);
});

test("oversize: 413 JSON, by Content-Length at once and while streaming", async () => {
  const small = await startExample({ MAX_UPLOAD_BYTES: "1000" });
  try {
    const saved = server;
    server = small;
    try {
      const declared = await upload({ filename: "big.csv", type: "text/csv", content: "a\n" + "1\n".repeat(100_000) });
      assert.equal(declared.status, 413);
      assert.match(declared.json.message, /limit/);
      const streamed = await upload({ filename: "big.csv", type: "text/csv", content: "a\n" + "1\n".repeat(2_000) });
      assert.equal(streamed.status, 413);
      assert.match(streamed.json.message, /larger than the limit of 1000 bytes/);
      assert.deepEqual(await readdir(join(small.dataDir, "uploads")), []);
    } finally {
      server = saved;
    }
  } finally {
    await small.close();
  }
});

test("unknown and invalid upload ids", async () => {
  const missing = await fetch(`${server.base}/uploads/00000000-0000-4000-8000-000000000000`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error, "Not Found");
  const invalid = await fetch(`${server.base}/uploads/..%2F..%2Fetc`);
  assert.ok([404, 422].includes(invalid.status));
  assert.ok(typeof (await invalid.json()).message === "string");
});

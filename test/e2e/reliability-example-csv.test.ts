// Hostile CSV uploads against the example server (Bun, real sockets): what a job
// keeps and returns is bounded (column count and name length, said in the status),
// and a record without a bound (no line break, a field over many lines, a line of
// commas) fails the job with the line and the reason instead of holding a CSV slot.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { eventually, type ExampleServer, startExample } from "./_exampleServer.ts";

const MiB = 1024 * 1024;
let server: ExampleServer;

before(async () => {
  // One CSV at a time: a slot held by a hostile file would hold back the next upload.
  server = await startExample({ CSV_CONCURRENCY: "1" });
});
after(async () => {
  await server?.close();
});

async function upload(content: string, filename = "data.csv"): Promise<string> {
  const form = new FormData();
  form.set("file", new Blob([content], { type: "text/csv" }), filename);
  const response = await fetch(`${server.base}/upload`, { method: "POST", body: form });
  const body = await response.json();
  assert.equal(response.status, 202, JSON.stringify(body));
  return body.id;
}

/** The job once finished, and the size of its status answer in bytes. */
async function finished(id: string): Promise<{ job: any; bytes: number }> {
  return eventually(
    async () => {
      const text = await (await fetch(`${server.base}/uploads/${id}`)).text();
      const job = JSON.parse(text);
      return job.status === "done" || job.status === "failed" ? { job, bytes: Buffer.byteLength(text) } : undefined;
    },
    `upload ${id} to finish`,
    30_000,
  );
}

test("a header of 20,000 columns: the job keeps the first 256 and says it cut them", async () => {
  const names = Array.from({ length: 20_000 }, (_, i) => `column_${i}`);
  const row = Array.from({ length: 20_000 }, (_, i) => String(i % 10)).join(",");
  const { job, bytes } = await finished(await upload(`${names.join(",")}\n${row}\n${row}\n`));
  assert.equal(job.status, "done", JSON.stringify(job.error));
  assert.equal(job.rows, 2);
  assert.equal(job.columnCount, 20_000);
  assert.equal(job.columnsTruncated, true);
  assert.deepEqual(job.columns, names.slice(0, 256));
  assert.ok(bytes < 16 * 1024, `the status answer has ${bytes} bytes`);
});

test("a column name of 10,000 characters is cut to 128, and the status says so", async () => {
  const long = "x".repeat(10_000);
  const { job } = await finished(await upload(`id,${long}\n1,2\n`));
  assert.equal(job.status, "done");
  assert.deepEqual(job.columns, ["id", "x".repeat(128)]);
  assert.equal(job.columnCount, 2);
  assert.equal(job.columnsTruncated, true);
});

test("a header within the bounds is kept whole and not marked as cut", async () => {
  const { job } = await finished(await upload("id,name\n1,ada\n"));
  assert.deepEqual({ columns: job.columns, columnCount: job.columnCount, columnsTruncated: job.columnsTruncated }, {
    columns: ["id", "name"],
    columnCount: 2,
    columnsTruncated: false,
  });
});

test("line breaks of every kind (LF, CRLF, CR) count the same rows", async () => {
  for (const eol of ["\n", "\r\n", "\r"]) {
    const { job } = await finished(await upload(["id,name", "1,ada", '2,"bob\nsmith"', "3,cy", ""].join(eol)));
    assert.deepEqual(
      { status: job.status, rows: job.rows, columns: job.columns },
      { status: "done", rows: 3, columns: ["id", "name"] },
      JSON.stringify(eol),
    );
  }
});

test("16 MiB without a line break: the job fails at line 1 with the reason, and the next upload runs", async () => {
  const hostile = await upload("a".repeat(16 * MiB), "one-line.csv");
  const next = await upload("id\n1\n2\n3\n");
  const { job } = await finished(hostile);
  assert.equal(job.status, "failed");
  assert.equal(job.error.line, 1);
  assert.match(job.error.reason, /line 1 is longer than 1048576 bytes/);
  assert.equal(job.columns, undefined, "nothing of the unbroken line is kept");
  const after = await finished(next);
  assert.deepEqual({ status: after.job.status, rows: after.job.rows }, { status: "done", rows: 3 });
});

test("a line of two million commas fails with its line before it becomes a record", async () => {
  const { job } = await finished(await upload(`a,b\n1,2\n${",".repeat(2 * MiB)}\n`));
  assert.equal(job.status, "failed");
  assert.equal(job.error.line, 3);
  assert.match(job.error.reason, /line 3 is longer than 1048576 bytes/);
  assert.equal(job.rows, 1);
});

test("a quoted field over many short lines past 1 MiB fails with csv-parse's record limit", async () => {
  const field = "0123456789\n".repeat(200_000); // 2.2 MB, every line short
  const { job } = await finished(await upload(`id,note\n1,"${field}"\n`));
  assert.equal(job.status, "failed");
  assert.match(job.error.reason, /Max Record Size/);
  assert.equal(typeof job.error.line, "number");
  assert.ok(job.error.line >= 2, `line ${job.error.line}`);
});

// The upload route's multipart receiver on its own, on Node: bodies split into chunks of every
// size (so each boundary and header is cut at every position), look-alike boundaries inside the
// file, limits that stop the reading, and nothing left on disk after a refusal.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { receiveFile } from "../../examples/app/uploads/receiveFile.ts";
import { HttpError } from "../../examples/app/errors.ts";

const BOUNDARY = "----formBoundary7MA4YWxkTrZu0gW";
const FILE = 'name,note\nada,"a\r\n--not the boundary"\nbob,--' + BOUNDARY.slice(0, 10) + "\n" + "x".repeat(3000) + "\n";

function body(parts: { head: string; content: string }[], { preamble = "", close = true } = {}): Uint8Array {
  let text = preamble;
  for (const part of parts) text += `--${BOUNDARY}\r\n${part.head}\r\n\r\n${part.content}\r\n`;
  if (close) text += `--${BOUNDARY}--\r\nan epilogue`;
  return new TextEncoder().encode(text);
}

/** A request whose body arrives in chunks of `size` bytes; `pulled()` tells how much was read. */
function request(bytes: Uint8Array, size: number): { request: Request; pulled: () => number } {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  }, { highWaterMark: 0 });
  const req = new Request("http://example.test/upload", {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
    body: stream,
    duplex: "half",
  } as RequestInit);
  return { request: req, pulled: () => Math.min(at, bytes.length) };
}

const form = body([
  { head: 'Content-Disposition: form-data; name="note"', content: "a field before the file" },
  { head: 'Content-Disposition: form-data; name="file"; filename="../../people.csv"\r\nContent-Type: text/csv', content: FILE },
  { head: 'Content-Disposition: form-data; name="other"; filename="b.csv"', content: "ignored" },
], { preamble: "a preamble\r\n" });

describe("example receiveFile, on Node", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "receive-file-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("stores the file exactly, whatever the chunk size", async () => {
    for (const size of [1, 2, 3, 5, 7, 13, 64, 1000, 1 << 20]) {
      const path = join(dir, `file-${size}.csv`);
      const file = await receiveFile(request(form, size).request, { field: "file", path, maxBytes: 1 << 20 });
      assert.deepEqual(file, { filename: "people.csv", contentType: "text/csv", bytes: Buffer.byteLength(FILE) }, `chunks of ${size}`);
      assert.equal(await readFile(path, "utf8"), FILE, `chunks of ${size}`);
    }
  });

  it("a file over maxBytes: 413 quoting the file's limit, reading stops, no file left", async () => {
    const big = body([{ head: 'Content-Disposition: form-data; name="file"; filename="big.csv"', content: "y".repeat(200_000) }]);
    const { request: req, pulled } = request(big, 1000);
    const path = join(dir, "big.csv");
    await assert.rejects(receiveFile(req, { field: "file", path, maxBytes: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 413);
      assert.match(error.message, /limit of 10000 bytes/);
      return true;
    });
    assert.ok(pulled() < 20_000, `read ${pulled()} bytes of ${big.length}`);
    assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith("big")), []);
  });

  it("junk with no boundary: 413 once past the body's limit, not read to its end", async () => {
    const junk = new Uint8Array(8 << 20).fill(0x61);
    const { request: req, pulled } = request(junk, 64 * 1024);
    await assert.rejects(receiveFile(req, { field: "file", path: join(dir, "junk.csv"), maxBytes: 10_000 }), { status: 413 });
    assert.ok(pulled() < 4 << 20, `read ${pulled()} bytes of ${junk.length}`);
  });

  it("cut off inside the file: 400, no file left; no file field: 400; not multipart: 415", async () => {
    const cut = form.slice(0, form.indexOf(new TextEncoder().encode("xxxx")) + 100);
    await assert.rejects(receiveFile(request(cut, 50).request, { field: "file", path: join(dir, "cut.csv"), maxBytes: 1 << 20 }), {
      status: 400,
    });
    assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith("cut")), []);
    const none = body([{ head: 'Content-Disposition: form-data; name="note"', content: "no file" }]);
    await assert.rejects(
      receiveFile(request(none, 7).request, { field: "file", path: join(dir, "none.csv"), maxBytes: 1 << 20 }),
      /No file in the form field "file"/,
    );
    const plain = new Request("http://example.test/upload", { method: "POST", body: "a,b\n", headers: { "content-type": "text/csv" } });
    await assert.rejects(receiveFile(plain, { field: "file", path: join(dir, "plain.csv"), maxBytes: 1 << 20 }), { status: 415 });
  });
});

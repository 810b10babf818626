// The example server (Bun) under hostile requests on the HTTP side: body limits
// that hold whatever the framing, nothing kept of a refused upload, a retention
// policy for uploads, and honest statuses and headers. Real server, real sockets;
// memory is the server process's own peak RSS (VmHWM in /proc/<pid>/status).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { eventually, type ExampleServer, startExample } from "./_exampleServer.ts";

const MiB = 1024 * 1024;

/** The process's peak resident set size so far, in bytes. */
function peakRss(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
}

interface ChunkedAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Body bytes written before the answer came (or the connection ended). */
  sentBytes: number;
}

/**
 * POSTs `totalBytes` with Transfer-Encoding: chunked (no Content-Length), `head`
 * first and then `fill` bytes, 64 KiB at a time, as fast as the server reads
 * them; stops sending as soon as the answer arrives.
 */
function postChunked(
  base: string,
  path: string,
  headers: Record<string, string>,
  totalBytes: number,
  head = "",
  fill = 0x61,
): Promise<ChunkedAnswer> {
  const { port } = new URL(base);
  const chunk = Buffer.alloc(64 * 1024, fill);
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    const req = httpRequest(
      { host: "127.0.0.1", port, method: "POST", path, headers: { ...headers, "transfer-encoding": "chunked" } },
      (res) => {
        answered = true;
        let body = "";
        res.setEncoding("utf8").on("data", (text: string) => (body += text));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sentBytes });
          req.destroy();
        });
      },
    );
    req.on("error", (error) => {
      if (!answered) reject(new Error(`no answer after ${sentBytes} bytes sent: ${error.message}`));
    });
    const pump = (): void => {
      while (!answered && sentBytes < totalBytes) {
        const piece = sentBytes === 0 && head !== "" ? Buffer.from(head) : chunk;
        sentBytes += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

async function json(response: Response): Promise<{ error: string; message: string } & Record<string, unknown>> {
  return await response.json() as { error: string; message: string } & Record<string, unknown>;
}

function csvForm(content: string, name = "people.csv"): FormData {
  const form = new FormData();
  form.append("file", new Blob([content], { type: "text/csv" }), name);
  return form;
}

async function storedUploads(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, "uploads")).catch(() => [] as string[])).sort();
}

describe("reliability: body limits hold whatever the framing (example server, Bun)", { timeout: 120_000 }, () => {
  const BODY = 256 * MiB; // far over every limit below
  const BOUND = 48 * MiB; // the most the server's peak RSS may grow by while refusing it
  let server: ExampleServer;
  before(async () => {
    server = await startExample({ MAX_UPLOAD_BYTES: String(MiB) });
  });
  after(() => server?.close());

  it("POST /register: a chunked JSON body far over 64 KiB is refused with 413 without being read", async () => {
    const peak = peakRss(server.child.pid!);
    const answer = await postChunked(
      server.base,
      "/register",
      { "content-type": "application/json" },
      BODY,
      `{"email":"a@example.com","username":"`,
    );
    assert.equal(answer.status, 413, answer.body);
    assert.match(JSON.parse(answer.body).message, /larger than 65536 bytes/);
    assert.ok(answer.sentBytes < BODY, `the answer came only after the whole ${BODY}-byte body was sent`);
    const grown = peakRss(server.child.pid!) - peak;
    assert.ok(grown < BOUND, `peak RSS grew by ${(grown / MiB).toFixed(0)} MiB for a refused body`);
  });

  it("POST /upload: a chunked multipart body with no boundary in sight is refused with 413 (the file's limit) without being read", async () => {
    const peak = peakRss(server.child.pid!);
    const answer = await postChunked(server.base, "/upload", { "content-type": "multipart/form-data; boundary=XyZ" }, BODY);
    assert.equal(answer.status, 413, answer.body);
    assert.match(JSON.parse(answer.body).message, new RegExp(`limit of ${MiB} bytes per file`));
    // Bun may discard the rest of a refused body before the answer leaves (fast on loopback), so
    // what is bounded here is the memory the body costs, not how much of it the client could send.
    const grown = peakRss(server.child.pid!) - peak;
    assert.ok(grown < BOUND, `peak RSS grew by ${(grown / MiB).toFixed(0)} MiB for a refused body`);
    assert.deepEqual(await storedUploads(server.dataDir), []);
  });

  it("POST /upload: a chunked file far over MAX_UPLOAD_BYTES is refused with 413 quoting the file's limit, nothing kept", async () => {
    const head = '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\nname\n';
    const answer = await postChunked(server.base, "/upload", { "content-type": "multipart/form-data; boundary=XyZ" }, BODY, head);
    assert.equal(answer.status, 413, answer.body);
    assert.match(JSON.parse(answer.body).message, new RegExp(`limit of ${MiB} bytes`));
    assert.ok(answer.sentBytes < BODY);
    assert.deepEqual(await storedUploads(server.dataDir), []);
  });

  it("the routes that take no body answer without reading one", async () => {
    // Offered far more than the other tests: the answer must beat the whole of it even when a
    // busy machine slows the client's reading of the answer while the server drains the body.
    const offered = 4 * BODY;
    for (const path of ["/send-notification/a@example.com", "/nowhere"]) {
      const peak = peakRss(server.child.pid!);
      const answer = await postChunked(server.base, path, { "content-type": "application/json" }, offered);
      assert.ok(answer.status === 200 || answer.status === 404, `${path}: ${answer.status} ${answer.body}`);
      assert.ok(answer.sentBytes < offered, `${path}: answered only after the whole body`);
      assert.ok(peakRss(server.child.pid!) - peak < BOUND, `${path}: peak RSS grew`);
    }
  });
});

describe("reliability: honest statuses and headers (example server, Bun)", { timeout: 60_000 }, () => {
  let server: ExampleServer;
  let smtp: Server;
  const sockets = new Set<Socket>();
  before(async () => {
    // An SMTP server that accepts connections and never greets: each mail task hangs until SMTP_TIMEOUT_MS.
    smtp = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    const { port } = smtp.address() as { port: number };
    server = await startExample({
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      SMTP_TIMEOUT_MS: "30000",
      MAIL_RETRIES: "0",
      TASK_CONCURRENCY: "1",
      TASK_MAX_PENDING: "1",
      // In-process, so the upload's task shares the full runner with the mail (a worker thread's has its own bound).
      CSV_THREADS: "0",
    });
  });
  after(async () => {
    await server?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => smtp?.close(resolve));
  });

  it("GET /swagger/assets/{constructor,__proto__,toString,hasOwnProperty}: 404, like any unknown asset", async () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "no-such.js"]) {
      const response = await fetch(`${server.base}/swagger/assets/${name}`);
      assert.equal(response.status, 404, `${name}: ${response.status} ${await response.clone().text()}`);
      assert.match((await json(response)).message, /No docs asset/);
    }
    assert.equal((await fetch(`${server.base}/swagger/assets/swagger-ui.css`)).status, 200);
  });

  it("POST /register: any Content-Type but application/json is refused with 415, and nobody is registered", async () => {
    const body = JSON.stringify({ email: "csrf@example.com", username: "csrf" });
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
      const response = await fetch(`${server.base}/register`, {
        method: "POST",
        body,
        headers: type === undefined ? {} : { "content-type": type },
      });
      // fetch adds text/plain;charset=UTF-8 to a string body without a type.
      assert.equal(response.status, 415, `${type}: ${response.status}`);
      assert.match((await json(response)).message, /application\/json/);
    }
    const stats = await json(await fetch(`${server.base}/tasks`));
    assert.equal((stats.stats as { running: number }).running + (stats.stats as { queued: number }).queued, 0, "no mail task was added");
  });

  it("a full task queue: 503 with Retry-After, and the refused upload leaves no file behind", async () => {
    // Fill the runner: one mail task running (SMTP never answers), one waiting: TASK_MAX_PENDING=1 is reached.
    for (const username of ["first", "second"]) {
      const response = await fetch(`${server.base}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: `${username}@example.com`, username }),
      });
      assert.equal(response.status, 200, await response.text());
      // The first mail must hold the one slot before the second comes: while it still waits for its
      // response to be sent, it counts against TASK_MAX_PENDING and the second would get 503.
      if (username === "first") {
        await eventually(async () => {
          const { stats } = await json(await fetch(`${server.base}/tasks`)) as unknown as { stats: { running: number } };
          return stats.running === 1 ? true : undefined;
        }, "the first mail task to run");
      }
    }
    await eventually(async () => {
      const { stats } = await json(await fetch(`${server.base}/tasks`)) as unknown as { stats: { running: number; queued: number } };
      return stats.running === 1 && stats.queued === 1 ? true : undefined;
    }, "one mail task running and one queued");

    const refused = await fetch(`${server.base}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "third@example.com", username: "third" }),
    });
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get("retry-after") ?? "", /^\d+$/, "503 without Retry-After");

    const upload = await fetch(`${server.base}/upload`, { method: "POST", body: csvForm("name\nada\n") });
    assert.equal(upload.status, 503, await upload.clone().text());
    assert.match(upload.headers.get("retry-after") ?? "", /^\d+$/, "503 without Retry-After");
    assert.match((await json(upload)).message, /try again/);
    assert.deepEqual(await storedUploads(server.dataDir), [], "the refused upload's file was kept");
  });
});

describe("reliability: uploads are not kept forever (retention policy)", { timeout: 60_000 }, () => {
  const servers: ExampleServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  async function uploadAndWait(server: ExampleServer, content: string): Promise<string> {
    const response = await fetch(`${server.base}/upload`, { method: "POST", body: csvForm(content) });
    assert.equal(response.status, 202, await response.clone().text());
    const { id } = await json(response) as unknown as { id: string };
    await eventually(async () => {
      const job = await json(await fetch(`${server.base}/uploads/${id}`));
      return job.status === "done" ? true : undefined;
    }, `upload ${id} processed`);
    return id;
  }

  it("UPLOAD_KEEP_COUNT: only the newest uploads are kept, file and status", async () => {
    const server = await startExample({ UPLOAD_KEEP_COUNT: "2" });
    servers.push(server);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await uploadAndWait(server, `name\nrow${i}\n`));
    await eventually(async () => (await storedUploads(server.dataDir)).length === 2 ? true : undefined, "two uploads left");
    assert.deepEqual(await storedUploads(server.dataDir), ids.slice(2).map((id) => `${id}.csv`).sort());
    assert.equal((await fetch(`${server.base}/uploads/${ids[0]}`)).status, 404);
    assert.equal((await fetch(`${server.base}/uploads/${ids[3]}`)).status, 200);
  });

  it("UPLOAD_KEEP_BYTES: the oldest uploads go once the stored bytes pass the bound", async () => {
    const server = await startExample({ UPLOAD_KEEP_BYTES: "250" });
    servers.push(server);
    const row = `name\n${"x".repeat(94)}\n`; // 100 bytes
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await uploadAndWait(server, row));
    await eventually(async () => (await storedUploads(server.dataDir)).length === 2 ? true : undefined, "two uploads left");
    assert.deepEqual(await storedUploads(server.dataDir), ids.slice(2).map((id) => `${id}.csv`).sort());
  });

  it("UPLOAD_KEEP_SECONDS: uploads older than the bound are deleted at start", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "bg-retention-"));
    try {
      await mkdir(join(dataDir, "uploads"));
      const old = `${randomUUID()}.csv`;
      const fresh = `${randomUUID()}.csv`;
      await writeFile(join(dataDir, "uploads", old), "name\nold\n");
      await writeFile(join(dataDir, "uploads", fresh), "name\nfresh\n");
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(join(dataDir, "uploads", old), twoHoursAgo, twoHoursAgo);
      const server = await startExample({ DATA_DIR: dataDir, UPLOAD_KEEP_SECONDS: "3600" });
      servers.push(server);
      assert.deepEqual(await storedUploads(dataDir), [fresh]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

// The example server's background work under hostile conditions: a disk that
// fills up under the log, mail that is accepted but cannot be sent before a
// shutdown, Redis that is unreachable from the start, and keep-alive clients
// during a shutdown. Real parts throughout: a tmpfs, the loopback SMTP server,
// redis-server, raw keep-alive sockets.
import { after, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import http from "node:http";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, type ExampleServer, startExample } from "./_exampleServer.ts";
import { freePort, REDIS_SERVER } from "../fixtures/bullmq/_redis.ts";
import { startSmtpServer, type TestSmtpServer } from "../fixtures/reliability/_smtp.ts";

interface TasksView {
  stats: Record<string, number>;
  recentFailures: { task: string; attempts: number; timedOut: boolean; error: string; request?: string; subject?: string }[];
}

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function start(env: Record<string, string> = {}): Promise<ExampleServer> {
  const server = await startExample({ RETRY_BASE_MS: "10", ...env });
  cleanups.push(() => server.close());
  return server;
}

async function getTasks(base: string): Promise<TasksView> {
  const response = await fetch(`${base}/tasks`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200);
  return await response.json() as TasksView;
}

/** Polls GET /tasks until `check` holds. */
async function tasksUntil(base: string, check: (view: TasksView) => boolean, timeoutMs = 20_000): Promise<TasksView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await getTasks(base);
    if (check(view)) return view;
    if (Date.now() > deadline) throw new Error(`GET /tasks never matched: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const settled = (view: TasksView, total: number): boolean =>
  view.stats.waiting === 0 && view.stats.queued === 0 && view.stats.running === 0 &&
  view.stats.succeeded! + view.stats.failed! === total;

/** Mounts a tmpfs of `size` on a fresh directory, or skips the test saying why it cannot. */
function mountTmpfs(t: TestContext, size: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "bt-full-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(
      `needs a real full disk, but mounting a tmpfs is not permitted here (run as root): ${
        String((error as { stderr?: Buffer }).stderr ?? error).trim()
      }`,
    );
    return undefined;
  }
  cleanups.push(() => {
    execFileSync("umount", ["-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the file system holding `dir` with `filler` until it is full, then frees `freeBytes` of it. */
function fillDisk(filler: string, freeBytes: number): void {
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 0x2e);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  }
  ftruncateSync(fd, Math.max(0, size - freeBytes));
  closeSync(fd);
}

/** Starts redis-server on `port` (no persistence) and resolves once it accepts connections; returns a stop function. */
async function redisOn(port: number): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), "bt-redis-"));
  const child = spawn(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", () => reject(new Error(`redis-server exited:\n${out}`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  return stop;
}

async function timedPost(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { method: "POST", signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

/** A raw client socket that records what it receives and how it ends. */
interface RawClient {
  readonly socket: Socket;
  text(): string;
  /** Resolves with "end" (the server closed cleanly) or the error code (a reset). */
  readonly ended: Promise<string>;
}

async function rawClient(base: string): Promise<RawClient> {
  const { port } = new URL(base);
  const socket = connect(Number(port), "127.0.0.1");
  await once(socket, "connect");
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  const ended = new Promise<string>((resolve) => {
    socket.once("end", () => resolve("end"));
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
  return { socket, text: () => text, ended };
}

/** Resolves once `client` has received a whole response with a `Content-Length` body. */
async function responseOn(client: RawClient, from = 0): Promise<string> {
  for (;;) {
    const text = client.text().slice(from);
    const head = text.indexOf("\r\n\r\n");
    const length = /content-length: (\d+)/i.exec(text.slice(0, head));
    if (head !== -1 && length && text.length >= head + 4 + Number(length[1])) return text.slice(0, head + 4 + Number(length[1]));
    await Promise.race([
      once(client.socket, "data"),
      client.ended.then(() => {
        throw new Error(`the connection ended before a whole response: ${JSON.stringify(text)}`);
      }),
    ]);
  }
}

async function smtpServer(behaviour: Parameters<typeof startSmtpServer>[0] = {}): Promise<TestSmtpServer> {
  const smtp = await startSmtpServer(behaviour);
  cleanups.push(() => smtp.close());
  return smtp;
}

async function register(base: string, email: string): Promise<number> {
  const response = await fetch(`${base}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, username: email.split("@")[0] }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bt-mail-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const filesIn = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

const count = (text: string, pattern: RegExp): number => text.match(new RegExp(pattern, "g"))?.length ?? 0;

describe("reliability: the example server's background work under hostile conditions", { timeout: 120_000 }, () => {
  it("disk full under the log: every line whole and once, the lines not written reported as failed", async (t) => {
    const disk = mountTmpfs(t, "64k");
    if (disk === undefined) return;
    const dataDir = join(disk, "data");
    mkdirSync(dataDir);
    const server = await start({ DATA_DIR: dataDir });
    // One page free: about 60 lines fit, then writes fail part-way through a batch with ENOSPC.
    fillDisk(join(disk, "filler"), 4096);
    const requests = 100;
    const answers = await Promise.all(
      Array.from(
        { length: requests },
        (_, i) =>
          fetch(`${server.base}/send-notification/user${i}@example.com`, { method: "POST", signal: AbortSignal.timeout(10_000) })
            .then((response) => response.status),
      ),
    );
    assert.deepEqual(new Set(answers), new Set([200]));
    const view = await tasksUntil(server.base, (v) => settled(v, requests));

    const lines = readFileSync(join(dataDir, "log.txt"), "utf8").split("\n");
    assert.equal(lines.pop(), "", "the file ends with a whole line");
    const torn = lines.filter((line) => !/^\d{4}-\d\d-\d\dT[\d:.]+Z Sending notification to user\d+@example\.com$/.test(line));
    assert.deepEqual(torn, [], "no line cut in half");
    const ids = lines.map((line) => /user(\d+)@/.exec(line)![1]);
    const duplicated = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.deepEqual(duplicated, [], "no line written twice");
    assert.ok(view.stats.failed! > 0, `the disk was really full: ${JSON.stringify(view.stats)}`);
    assert.equal(lines.length + view.stats.failed!, requests, "every line is in the log or reported as failed");
    assert.equal(view.stats.succeeded, lines.length, "GET /tasks counts the lines written");
    assert.ok(view.stats.retried! >= view.stats.failed!, "each failed line was retried before giving up");
    assert.ok(view.recentFailures.length > 0 && view.recentFailures.every((f) => f.task === "write-log" && /ENOSPC/.test(f.error)));
    t.diagnostic(
      `figure: disk full under 100 notifications: ${lines.length} lines written whole, ${view.stats.failed} reported failed, ` +
        `${view.stats.retried} retries, 0 torn, 0 duplicated`,
    );

    // Space again: the log recovers on its own.
    rmSync(join(disk, "filler"));
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${server.base}/send-notification/later${i}@example.com`, { method: "POST" });
      assert.equal(response.status, 200);
    }
    await tasksUntil(server.base, (v) => settled(v, requests + 5));
    const after = readFileSync(join(dataDir, "log.txt"), "utf8");
    assert.equal(after.match(/later\d@example\.com\n/g)?.length, 5);
  });

  it("Redis unreachable from the start: 503 at once, one line per outage, recovery when it comes up", async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const server = await start({ REDIS_URL: redisUrl });
    const banner = await server.waitForOutput(/Swagger UI: .*\n/);
    assert.match(banner, new RegExp(`durable, Redis ${redisUrl} queue "background-tasks"`), "the banner names Redis and the queue");
    assert.doesNotMatch(banner, /local outbox/);
    await server.waitForOutput(/Redis is unreachable/);
    const refused = [];
    for (let i = 0; i < 10; i++) refused.push(await timedPost(`${server.base}/send-notification/down${i}@example.com`));
    assert.deepEqual(refused.map((answer) => answer.status), Array(10).fill(503));
    // The store timeout is 2 s; refusing must not wait for it.
    assert.ok(refused.every((answer) => answer.ms < 1_000), `answered in ${refused.map((a) => Math.round(a.ms)).join(", ")} ms`);
    const outage = server.output();
    assert.equal(count(outage, /Redis is unreachable/), 1, outage);
    assert.equal(count(outage, /could not store a request's tasks/), 1, outage);
    assert.doesNotMatch(outage, /^\s+at /m, "no stack frames");

    const stopRedis = await redisOn(port);
    await eventually(
      async () => (await timedPost(`${server.base}/send-notification/back@example.com`)).status === 200 || undefined,
      "a 200 once Redis is up",
    );
    await server.waitForOutput(/Redis is reachable again/);
    await server.waitForOutput(/storing tasks works again; \d+ request\(s\) were answered 503/);

    // Down again in the middle of the run: refused at once, one more line.
    await stopRedis();
    await eventually(
      async () => (await timedPost(`${server.base}/send-notification/again@example.com`)).status === 503 || undefined,
      "a 503 once Redis is gone",
    );
    const again = await timedPost(`${server.base}/send-notification/again2@example.com`);
    assert.equal(again.status, 503);
    assert.ok(again.ms < 1_000, `answered in ${Math.round(again.ms)} ms`);
    assert.equal(count(server.output(), /Redis is unreachable/), 2, server.output());
  });

  it("durable mode with no worker: one warning on stderr and in GET /tasks, gone when a worker comes", async () => {
    const port = await freePort();
    await redisOn(port);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const server = await start({ REDIS_URL: redisUrl, WORKER_CHECK_MS: "100" });
    for (let i = 0; i < 3; i++) assert.equal((await timedPost(`${server.base}/send-notification/w${i}@example.com`)).status, 200);
    await server.waitForOutput(/No worker has taken jobs from the queue "background-tasks"/);
    const view = await tasksUntil(server.base, (v) => (v as TasksView & { warnings: string[] }).warnings.length > 0) as TasksView & {
      warnings: string[];
    };
    assert.match(view.warnings[0]!, /3 job\(s\) waiting and no worker connected.*examples\/worker\.ts/);

    const worker = spawn(join(import.meta.dirname, "../../node_modules/.bin/bun"), ["run", "examples/worker.ts"], {
      cwd: join(import.meta.dirname, "../.."),
      env: { ...process.env, REDIS_URL: redisUrl, DATA_DIR: server.dataDir },
      stdio: "ignore",
    });
    cleanups.push(async () => {
      if (worker.exitCode === null && worker.signalCode === null) {
        worker.kill("SIGKILL");
        await once(worker, "exit");
      }
    });
    await server.waitForOutput(/A worker is taking jobs from the queue "background-tasks" again/);
    await tasksUntil(server.base, (v) => (v as TasksView & { warnings: string[] }).warnings.length === 0);
    assert.equal(count(server.output(), /No worker has taken jobs/), 1, "warned once");
  });

  it("SIGTERM with keep-alive clients: the request in flight is answered with Connection: close, idle connections end cleanly", async () => {
    const server = await start();
    // An idle keep-alive connection: one request answered, then nothing.
    const idle = await rawClient(server.base);
    idle.socket.write("GET /tasks HTTP/1.1\r\nHost: example\r\n\r\n");
    assert.match(await responseOn(idle), /^HTTP\/1\.1 200/);
    // A keep-alive agent with a socket in its pool.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const viaAgent = (): Promise<string> =>
      new Promise((resolve) => {
        const request = http.request(`${server.base}/tasks`, { agent }, (response) => {
          response.resume();
          response.on("end", () => resolve(String(response.statusCode)));
        });
        request.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
        request.end();
      });
    assert.equal(await viaAgent(), "200");
    // A request in flight: an upload whose body is still coming.
    const form = '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n' +
      "name,score\nada,1\n\r\n--XYZ--\r\n";
    const busy = await rawClient(server.base);
    busy.socket.write(
      `POST /upload HTTP/1.1\r\nHost: example\r\nContent-Type: multipart/form-data; boundary=XYZ\r\n` +
        `Content-Length: ${form.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    // The server asks for the body once the route reads it: the request is in flight.
    await eventually(async () => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(busy.text()) || undefined, "100 Continue");
    busy.socket.write(form.slice(0, 20));

    server.signal("SIGTERM");
    await server.waitForOutput(/SIGTERM: not accepting new connections/);
    assert.equal(await idle.ended, "end", "the idle connection is closed cleanly, not reset");
    busy.socket.write(form.slice(20));
    const answer = await responseOn(busy, busy.text().indexOf("\r\n\r\n") + 4);
    assert.match(answer, /^HTTP\/1\.1 202/);
    assert.match(answer, /\r\nConnection: close\r\n/i, `the answer during the drain says Connection: close:\n${answer}`);
    assert.equal(await busy.ended, "end", "then the connection ends cleanly");
    // The agent noticed its pooled connection was closed: a new request tries a new connection (refused), it is not reset.
    assert.equal(await viaAgent(), "ECONNREFUSED");
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });

  it("mail that fails is named by subject and masked address in GET /tasks and on stderr", async () => {
    const picky = await smtpServer({ rejectRecipient: /^nobody@/ });
    const server = await start({ SMTP_URL: picky.url, MAIL_RETRIES: "1" });
    assert.equal(await register(server.base, "nobody@example.com"), 200);
    const view = await tasksUntil(server.base, (v) => v.stats.failed === 1);
    assert.equal(view.recentFailures[0]!.subject, '"Welcome!" to n***@example.com');
    const output = await server.waitForOutput(/"msg":"background task failed".*\n/);
    const line = output.split("\n").find((l) => l.includes('"msg":"background task failed"'))!;
    assert.equal(JSON.parse(line).subject, '"Welcome!" to n***@example.com');
    // Kept for a person to look at, not sent again by itself.
    const failedDir = join(server.dataDir, "mail-spool", "failed");
    const kept = (): string[] => filesIn(failedDir).filter((name) => name.endsWith(".json") && !name.startsWith("."));
    const failed = await eventually(async () => kept().length > 0 ? kept() : undefined, "the failed mail to be kept");
    assert.equal(failed.length, 1);
    assert.equal(JSON.parse(readFileSync(join(server.dataDir, "mail-spool", "failed", failed[0]!), "utf8")).to, "nobody@example.com");
  });

  it("mail still unsent at the shutdown deadline is spooled, named, and sent after a restart", async () => {
    const dataDir = join(freshDir(), "data");
    // An SMTP server that never greets in time: the mails are accepted, none can be sent before the deadline.
    const stuck = await smtpServer({ greetingDelayMs: 60_000 });
    const first = await start({
      DATA_DIR: dataDir,
      SMTP_URL: stuck.url,
      SMTP_TIMEOUT_MS: "30000",
      SHUTDOWN_TIMEOUT_MS: "300",
      MAIL_CONCURRENCY: "1",
    });
    const users = ["ada@example.com", "bob@example.org", "cy@example.net"];
    for (const email of users) assert.equal(await register(first.base, email), 200);
    await eventually(async () => stuck.connections() > 0 || undefined, "the first send to start");
    first.signal("SIGTERM");
    assert.deepEqual(await first.exited, { code: 0, signal: null });
    const report = first.output();
    assert.match(report, /3 accepted mail\(s\) not sent yet, kept in .*mail-spool and sent at the next start/);
    for (const masked of ['"Welcome!" to a***@example.com', '"Welcome!" to b***@example.org', '"Welcome!" to c***@example.net']) {
      assert.ok(report.includes(`  - ${masked}`), `the report names ${masked}:\n${report}`);
    }
    for (const email of users) assert.ok(!report.includes(email), `no full address in the report: ${email}`);
    assert.equal(filesIn(join(dataDir, "mail-spool")).filter((name) => name.endsWith(".json")).length, 3);

    // A real restart on the same DATA_DIR with a working SMTP server: the spooled mail goes out, once each.
    const healthy = await smtpServer();
    const second = await start({ DATA_DIR: dataDir, SMTP_URL: healthy.url });
    await second.waitForOutput(/Sending 3 mail\(s\) spooled at the last shutdown/);
    const mails = await healthy.waitForMails(3);
    assert.deepEqual(mails.map((mail) => mail.rcptTo[0]).sort(), [...users].sort());
    assert.ok(mails.every((mail) => /Subject: Welcome!/.test(mail.raw) && /thanks for registering/.test(mail.raw)));
    await eventually(
      async () => filesIn(join(dataDir, "mail-spool")).every((name) => name === "failed") || undefined,
      "the spool to empty",
    );
    assert.equal((await tasksUntil(second.base, (v) => settled(v, 3))).stats.succeeded, 3);
  });

  it("outbox write on a full disk: the failure is reported with its subject, no empty .eml is left", async (t) => {
    const disk = mountTmpfs(t, "64k");
    if (disk === undefined) return;
    const dataDir = join(disk, "data");
    mkdirSync(join(dataDir, "outbox"), { recursive: true });
    mkdirSync(join(dataDir, "mail-spool", "failed"), { recursive: true });
    const server = await start({ DATA_DIR: dataDir, MAIL_RETRIES: "0" });
    fillDisk(join(disk, "filler"), 0);
    assert.equal(await register(server.base, "full@example.com"), 200);
    const view = await tasksUntil(server.base, (v) => v.stats.failed === 1);
    assert.match(view.recentFailures[0]!.error, /ENOSPC/);
    assert.equal(view.recentFailures[0]!.subject, '"Welcome!" to f***@example.com');
    assert.deepEqual(filesIn(join(dataDir, "outbox")), [], "nothing half-written in the outbox");
    const listed = await (await fetch(`${server.base}/outbox`)).json();
    assert.deepEqual(listed, []);
  });
});

// The example server (Bun) when what its tasks depend on fails: SMTP down,
// slow, or refusing the recipient; the log's disk full; the uploads directory
// not writable. The HTTP answer is unaffected (or an honest JSON error when the
// request itself needs the disk), the failure is visible in GET /tasks, on
// stderr or in GET /uploads/{id}, and the process keeps serving.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, getJson, startExample } from "../fixtures/reliability/_harness.ts";
import { closedPort, startSmtpServer, type TestSmtpServer } from "../fixtures/reliability/_smtp.ts";

interface TasksView {
  stats: Record<string, number>;
  recentFailures: { task: string; attempts: number; timedOut: boolean; error: string; request?: string }[];
}

const children: Child[] = [];
const dirs: string[] = [];
const smtpServers: TestSmtpServer[] = [];
after(async () => {
  for (const child of children) await child.stop();
  for (const smtp of smtpServers) await smtp.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bt-reliability-"));
  dirs.push(dir);
  return join(dir, "data");
}

async function start(dir: string, env: Record<string, string> = {}): Promise<Child> {
  const child = await startExample(dir, { RETRY_BASE_MS: "10", ...env });
  children.push(child);
  return child;
}

async function post(url: string, body?: unknown): Promise<{ status: number; ms: number; json: unknown }> {
  const started = Date.now();
  const response = await fetch(url, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = await response.json();
  return { status: response.status, ms: Date.now() - started, json };
}

/** Polls GET /tasks until `check` holds. */
async function tasksUntil(url: string, check: (view: TasksView) => boolean, timeoutMs = 20_000): Promise<TasksView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await getJson<TasksView>(`${url}/tasks`);
    if (check(view)) return view;
    if (Date.now() > deadline) throw new Error(`GET /tasks never matched: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Makes garbage (so a leaked handle would be collected) and checks the server still answers. The
 * 1,000 GET /tasks (50 at a time, each a 200 with a JSON body) go through node:http, whose client
 * takes a fifth of fetch's CPU time per request; the server sees the same requests.
 */
async function stillServing(child: Child): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const get = (url: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const request = httpGet(url, { agent, timeout: 40_000 }, (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("error", reject).on("end", () => {
          if (response.statusCode !== 200) reject(new Error(`${url}: ${response.statusCode} ${body}`));
          else resolve(JSON.parse(body));
        });
      });
      request.on("timeout", () => request.destroy(new Error(`${url}: no answer in 40 s`))).on("error", reject);
    });
  try {
    for (let i = 0; i < 20; i++) {
      await Promise.all(Array.from({ length: 50 }, () => get(`${child.url}/tasks`)));
    }
  } finally {
    agent.destroy();
  }
  assert.equal((await fetch(`${child.url}/tasks`)).status, 200);
  assert.equal(child.process.exitCode, null, `the server is still running\n${child.stderr()}`);
}

const user = (email: string) => ({ email, username: email.split("@")[0] });

describe("reliability: example server when its dependencies fail (Bun)", { timeout: 120_000 }, () => {
  it("SMTP down: 200 at once, retried as configured, reported once in GET /tasks and on stderr", async () => {
    const port = await closedPort();
    const child = await start(dataDir(), { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_RETRIES: "2" });
    const answer = await post(`${child.url}/register`, user("down@example.com"));
    assert.equal(answer.status, 200);
    assert.ok(answer.ms < 1_000, `answered in ${answer.ms} ms, not after the mail attempts`);
    const view = await tasksUntil(child.url, (v) => v.stats.failed === 1);
    assert.equal(view.stats.retried, 2);
    assert.equal(view.recentFailures.length, 1);
    const [failure] = view.recentFailures;
    assert.equal(failure!.task, "send-welcome-email");
    assert.equal(failure!.attempts, 3);
    assert.equal(failure!.request, "POST /register");
    assert.match(failure!.error, /ECONNREFUSED/);
    assert.equal(child.stderr().match(/"msg":"background task failed"/g)?.length, 1, child.stderr());
    await stillServing(child);
  });

  it("SMTP slow (greeting after 3 s, timeout 300 ms): reported as a failure, later mail still delivered", async () => {
    const slow = await startSmtpServer({ greetingDelayMs: 3_000 });
    smtpServers.push(slow);
    const child = await start(dataDir(), { SMTP_URL: slow.url, SMTP_TIMEOUT_MS: "300", MAIL_RETRIES: "1" });
    const answer = await post(`${child.url}/register`, user("slow@example.com"));
    assert.equal(answer.status, 200);
    assert.ok(answer.ms < 1_000, `answered in ${answer.ms} ms`);
    const view = await tasksUntil(child.url, (v) => v.stats.failed === 1);
    assert.equal(view.recentFailures[0]!.attempts, 2);
    assert.match(view.recentFailures[0]!.error, /greeting|timeout|timed out/i);
    assert.equal(slow.mails.length, 0);
    await stillServing(child);
  });

  it("SMTP refuses the recipient (550): that mail is reported, the next one is delivered", async () => {
    const picky = await startSmtpServer({ rejectRecipient: /^nobody@/ });
    smtpServers.push(picky);
    const child = await start(dataDir(), { SMTP_URL: picky.url, MAIL_RETRIES: "1" });
    assert.equal((await post(`${child.url}/register`, user("nobody@example.com"))).status, 200);
    assert.equal((await post(`${child.url}/register`, user("ada@example.com"))).status, 200);
    const view = await tasksUntil(child.url, (v) => v.stats.failed === 1 && v.stats.succeeded === 1);
    assert.match(view.recentFailures[0]!.error, /550|rejected/i);
    await picky.waitForMails(1);
    assert.deepEqual(picky.mails.map((mail) => mail.rcptTo), [["ada@example.com"]]);
    assert.deepEqual(picky.recipientsTried.filter((to) => to === "nobody@example.com").length, 2, "tried twice");
    await stillServing(child);
  });

  it("disk full for the log (log.txt → /dev/full): 200, ENOSPC reported, the process survives", async () => {
    const dir = dataDir();
    mkdirSync(dir, { recursive: true });
    symlinkSync("/dev/full", join(dir, "log.txt"));
    const child = await start(dir, {});
    for (let i = 0; i < 5; i++) {
      assert.equal((await post(`${child.url}/send-notification/full${i}@example.com`)).status, 200);
    }
    const view = await tasksUntil(child.url, (v) => v.stats.failed === 5);
    assert.ok(view.recentFailures.every((f) => /ENOSPC/.test(f.error) && f.task === "write-log"), JSON.stringify(view));
    await stillServing(child);
  });

  it("uploads directory not writable: a JSON error, no crash, nothing left behind; the next upload works", async () => {
    const dir = dataDir();
    const child = await start(dir);
    const uploads = join(dir, "uploads");
    rmSync(uploads, { recursive: true, force: true });
    symlinkSync("/proc/self/fdinfo", uploads); // a directory nobody can create files in, not even root
    const csv = "name,score\nada,1\n";
    const upload = async (): Promise<Response> => {
      const form = new FormData();
      form.append("file", new Blob([csv], { type: "text/csv" }), "scores.csv");
      return await fetch(`${child.url}/upload`, { method: "POST", body: form, signal: AbortSignal.timeout(10_000) });
    };
    const refused = await upload();
    const body = await refused.json() as { error?: unknown; message?: unknown };
    assert.ok(refused.status >= 500 && refused.status < 600, `the server's own failure: ${refused.status}`);
    assert.equal(typeof body.error, "string");
    assert.equal(typeof body.message, "string");
    assert.match(child.stderr(), /request failed|ENOENT|EACCES|EROFS/, "the failure is logged");

    rmSync(uploads);
    mkdirSync(uploads);
    const accepted = await upload();
    assert.equal(accepted.status, 202);
    const job = await accepted.json() as { id: string };
    const deadline = Date.now() + 10_000;
    let status = "";
    while (Date.now() < deadline && status !== "done") {
      status = (await getJson<{ status: string }>(`${child.url}/uploads/${job.id}`)).status;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(status, "done");
    assert.deepEqual(readdirSync(uploads), [`${job.id}.csv`], "no .part file left behind");
    await stillServing(child);
  });

  it("the uploaded file vanishes before its background task runs: the job fails visibly, nothing crashes", async () => {
    // One task slot, held by a welcome mail to a slow SMTP server, so the CSV task waits in the queue.
    const slow = await startSmtpServer({ greetingDelayMs: 1_000 });
    smtpServers.push(slow);
    const dir = dataDir();
    // In-process (CSV_THREADS=0), so the CSV task shares the one slot and waits behind the mail.
    const child = await start(dir, { SMTP_URL: slow.url, TASK_CONCURRENCY: "1", CSV_THREADS: "0" });
    assert.equal((await post(`${child.url}/register`, user("first@example.com"))).status, 200);
    const form = new FormData();
    form.append("file", new Blob(["a,b\n1,2\n"], { type: "text/csv" }), "x.csv");
    const response = await fetch(`${child.url}/upload`, { method: "POST", body: form });
    assert.equal(response.status, 202);
    const { id } = await response.json() as { id: string };
    assert.equal((await getJson<{ status: string }>(`${child.url}/uploads/${id}`)).status, "queued");
    rmSync(join(dir, "uploads", `${id}.csv`));
    const view = await tasksUntil(child.url, (v) => v.stats.failed === 1);
    assert.equal(view.recentFailures[0]!.task, "process-csv");
    const job = await getJson<{ status: string; error?: { reason: string } }>(`${child.url}/uploads/${id}`);
    assert.equal(job.status, "failed");
    assert.match(job.error?.reason ?? "", /ENOENT|no such file/i);
    await slow.waitForMails(1);
    await stillServing(child);
  });
});

// The example server (examples/server.ts on Bun) under load and shutdown:
// 50,000 POST /send-notification, every task accounted for in DATA_DIR/log.txt
// and in GET /tasks; SIGTERM in the middle of a load: it stops accepting,
// finishes or reports every accepted task, exits 0; a second signal exits at once.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, getJson, load, mb, startExample } from "../fixtures/reliability/_harness.ts";
import { startSmtpServer, type TestSmtpServer } from "../fixtures/reliability/_smtp.ts";

interface TasksView {
  stats: Record<string, number>;
  recentFailures: { task: string; request?: string; error: string }[];
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
  const child = await startExample(dir, env);
  children.push(child);
  return child;
}

/** The emails logged in DATA_DIR/log.txt, with how often each appears. */
function loggedEmails(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync(join(dir, "log.txt"), "utf8");
  } catch {
    return counts;
  }
  for (const match of text.matchAll(/Sending notification to (\S+)$/gm)) {
    counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  }
  return counts;
}

async function waitUntilIdle(url: string, timeoutMs = 30_000): Promise<TasksView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await getJson<TasksView>(`${url}/tasks`);
    const { waiting, queued, running } = view.stats;
    if (waiting + queued + running === 0) return view;
    if (Date.now() > deadline) throw new Error(`still busy after ${timeoutMs} ms: ${JSON.stringify(view.stats)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Peak RSS of a running child, from the kernel. */
function peakRss(child: Child): number {
  const status = readFileSync(`/proc/${child.process.pid}/status`, "utf8");
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

const emailFor = (id: string): string => `${id}@example.com`;

describe("reliability: example server under load and shutdown (Bun)", { timeout: 180_000 }, () => {
  it("50,000 POST /send-notification: no 5xx, each email logged exactly once, stats agree", async () => {
    const dir = dataDir();
    const child = await start(dir);
    const amount = 50_000;
    const result = await load(child.url, {
      amount,
      connections: 50,
      method: "POST",
      pathFor: (id) => `/send-notification/${emailFor(id)}`,
    });
    const view = await waitUntilIdle(child.url);
    console.log(
      `figure: example POST /send-notification: ${result.total} requests in ${result.durationSeconds.toFixed(1)} s, ` +
        `${result.requestsPerSecond} req/s, peak RSS ${mb(peakRss(child))}`,
    );
    assert.deepEqual(result.statuses, { 200: amount }, "every request answered 200");
    assert.equal(result.errors, 0);
    assert.equal(view.stats.succeeded, amount, "stats().succeeded: one task per request");
    assert.equal(view.stats.failed + view.stats.dropped + view.stats.skipped, 0);
    assert.deepEqual(view.recentFailures, []);

    child.process.kill("SIGTERM");
    assert.equal(await child.exited, 0);
    const logged = loggedEmails(dir);
    assert.equal(logged.size, amount, "one line per request");
    const missing = result.ids.filter((id) => logged.get(emailFor(id)) !== 1);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} emails not logged exactly once`);
    assert.match(child.stdout(), /All background tasks finished/);
  });

  it("SIGTERM during load: stops accepting, every accepted task logged or reported, exit 0", async () => {
    const dir = dataDir();
    const child = await start(dir, { SHUTDOWN_TIMEOUT_MS: "10000" });
    let signalled = false;
    let gone: Promise<number> | undefined;
    const stopLoad = new AbortController();
    const signalledAt = { responses: 0, time: 0 };
    const result = await load(child.url, {
      amount: 30_000,
      connections: 50,
      method: "POST",
      timeoutSeconds: 5,
      signal: stopLoad.signal,
      pathFor: (id) => `/send-notification/${emailFor(id)}`,
      onProgress(responses) {
        if (signalled || responses < 5_000) return;
        signalled = true;
        signalledAt.responses = responses;
        signalledAt.time = Date.now();
        child.process.kill("SIGTERM");
        gone = processGone(child.process.pid!);
        // Keep knocking for a while after the exit, then stop the generator.
        void gone.then(() => setTimeout(() => stopLoad.abort(), 500));
      },
    });
    // Node delivers the child's "exit" event late while the load generator reconnects in a tight loop, so
    // the exit time is read from /proc.
    const exitMs = (await gone!) - signalledAt.time;
    const code = await child.exited;
    const stdout = child.stdout();
    console.log(
      `figure: example SIGTERM after ${signalledAt.responses} responses: ${result.accepted.length} accepted, ` +
        `exit ${code} ${exitMs} ms after the signal`,
    );
    assert.equal(code, 0, `exit code 0\n${stdout}\n${child.stderr()}`);
    assert.match(stdout, /SIGTERM: not accepting new connections/);
    assert.ok(exitMs < 10_000, `exited within the 10 s deadline (${exitMs} ms)`);
    assert.ok(result.accepted.length >= 5_000);
    assert.ok(result.accepted.length < 30_000, "the server stopped accepting before the load ended");
    assert.deepEqual(Object.keys(result.statuses).filter((status) => Number(status) >= 500), [], "no 5xx");

    // Every accepted request's task either wrote its line, or was named as unfinished or failed.
    const logged = loggedEmails(dir);
    const unfinished = new Set([...stdout.matchAll(/^ {2}- write-log \(\w+\) for POST \/send-notification\/(\S+)$/gm)]
      .map((m) => decodeURIComponent(m[1]!)));
    const failed = new Set([...child.stderr().matchAll(/"request":"POST \/send-notification\/([^"]+)"/g)]
      .map((m) => decodeURIComponent(m[1]!)));
    const vanished = result.accepted.filter((id) => {
      const email = emailFor(id);
      return logged.get(email) !== 1 && !unfinished.has(email) && !failed.has(email);
    });
    assert.deepEqual(vanished.slice(0, 10), [], `${vanished.length} accepted tasks vanished without a report`);
    const twice = [...logged].filter(([, times]) => times > 1);
    assert.deepEqual(twice, [], "no task ran twice");
    // The server may have handled requests whose answers the client never read: they are logged too.
    assert.ok(logged.size >= result.accepted.length - unfinished.size - failed.size);

    // Nothing listens any more.
    await assert.rejects(fetch(`${child.url}/tasks`, { signal: AbortSignal.timeout(5_000) }));
  });

  it("SIGTERM while slow tasks run: new connections are refused during the drain, the tasks finish, exit 0", async () => {
    const smtp = await startSmtpServer({ greetingDelayMs: 1_500 });
    smtpServers.push(smtp);
    const child = await start(dataDir(), { SMTP_URL: smtp.url, SMTP_TIMEOUT_MS: "10000", SHUTDOWN_TIMEOUT_MS: "15000" });
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${child.url}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: `slow${i}@example.com`, username: `slow${i}` }),
      });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    const signalled = Date.now();
    child.process.kill("SIGTERM");
    await waitForOutput(child, /SIGTERM: not accepting new connections/);
    await assert.rejects(
      fetch(`${child.url}/tasks`, { signal: AbortSignal.timeout(2_000) }),
      "a new connection during the drain is refused",
    );
    assert.equal(child.process.exitCode, null, "still draining when the connection was refused");
    assert.equal(await child.exited, 0);
    const elapsed = Date.now() - signalled;
    assert.equal(smtp.mails.length, 5, "every welcome mail was delivered before the exit");
    assert.match(child.stdout(), /All background tasks finished/);
    assert.ok(elapsed >= 1_000, `waited for the slow tasks (${elapsed} ms)`);
  });

  it("drain deadline passes: unfinished tasks are named, exit 0 within the deadline", async () => {
    const smtp = await startSmtpServer({ greetingDelayMs: 30_000 });
    smtpServers.push(smtp);
    const child = await start(dataDir(), { SMTP_URL: smtp.url, SMTP_TIMEOUT_MS: "60000", SHUTDOWN_TIMEOUT_MS: "1000" });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${child.url}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: `stuck${i}@example.com`, username: `stuck${i}` }),
      });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    await waitFor(() => smtp.connections() >= 3, "the mail tasks connected");
    const signalled = Date.now();
    child.process.kill("SIGTERM");
    assert.equal(await child.exited, 0);
    const elapsed = Date.now() - signalled;
    assert.ok(elapsed < 5_000, `exited ${elapsed} ms after SIGTERM with a 1 s deadline`);
    const stdout = child.stdout();
    assert.match(stdout, /3 background task\(s\) did not finish in time/);
    const named = [...stdout.matchAll(/^ {2}- send-welcome-email \(running\) for POST \/register$/gm)];
    assert.equal(named.length, 3, stdout);
  });

  // A supervisor may send SIGTERM the moment the listening line appears; the handlers must already be in place.
  it("SIGTERM right after the listening line still shuts down gracefully (5 starts)", async () => {
    for (let i = 0; i < 5; i++) {
      const child = await start(dataDir());
      child.process.kill("SIGTERM");
      assert.equal(await child.exited, 0, `start ${i + 1}: ${child.stdout()}`);
      assert.match(child.stdout(), /All background tasks finished/);
    }
  });

  it("a second signal exits at once, without waiting for the drain", async () => {
    const smtp = await startSmtpServer({ greetingDelayMs: 30_000 });
    smtpServers.push(smtp);
    const child = await start(dataDir(), { SMTP_URL: smtp.url, SMTP_TIMEOUT_MS: "60000", SHUTDOWN_TIMEOUT_MS: "30000" });
    const response = await fetch(`${child.url}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "wait@example.com", username: "wait" }),
    });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    await waitFor(() => smtp.connections() >= 1, "the mail task connected");
    child.process.kill("SIGTERM");
    await waitForOutput(child, /SIGTERM: not accepting new connections/);
    assert.equal(child.process.exitCode, null, "the first signal waits for the drain (up to 30 s)");
    const second = Date.now();
    child.process.kill("SIGINT");
    const code = await child.exited;
    const elapsed = Date.now() - second;
    assert.ok(elapsed < 2_000, `exited ${elapsed} ms after the second signal`);
    assert.notEqual(code, 0, "a forced exit is not a clean one");
    assert.match(child.stdout(), /again: exiting now/);
  });
});

/** Resolves with the time the process ended (gone from /proc, or a zombie), polling every 10 ms. */
async function processGone(pid: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (/^\d+ \(.*\) Z/.test(stat)) return Date.now();
    } catch {
      return Date.now();
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => pattern.test(child.stdout()), `stdout matches ${pattern}`, timeoutMs);
}

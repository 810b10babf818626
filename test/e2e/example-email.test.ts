// POST /register of the example server with real mail: an in-process SMTP
// server (smtp-server) on loopback, an unreachable one, and the default local
// outbox; plus the log writer under concurrent requests.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { eventually, type ExampleServer, startExample } from "./_exampleServer.ts";

const servers: ExampleServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
  at: number;
}

function startSmtpServer(): Promise<{ port: number; mails: ReceivedMail[]; arrived: Promise<ReceivedMail>; close(): Promise<void> }> {
  const mails: ReceivedMail[] = [];
  let resolveArrived!: (mail: ReceivedMail) => void;
  const arrived = new Promise<ReceivedMail>((resolve) => (resolveArrived = resolve));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          at: Date.now(),
        };
        mails.push(mail);
        resolveArrived(mail);
        callback();
      });
    },
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.server.address() as { port: number }).port;
      resolve({ port, mails, arrived, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function register(base: string, body: unknown): Promise<{ status: number; json: any; at: number }> {
  const response = await fetch(`${base}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json(), at: Date.now() };
}

test("SMTP_URL: the welcome mail reaches a real SMTP server after the HTTP response", async () => {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const server = await startExample({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: "Example <hello@example.com>" });
  servers.push(server);

  const answer = await register(server.base, { email: "ada@example.com", username: "Ada" });
  assert.equal(answer.status, 200);
  assert.match(answer.json.message, /Registered Ada/);
  const mail = await smtp.arrived;
  assert.ok(mail.at >= answer.at - 5, "the mail arrives after the response");
  assert.deepEqual(mail.to, ["ada@example.com"]);
  assert.equal(mail.from, "hello@example.com");
  assert.match(mail.raw, /^Subject: Welcome!/m);
  assert.match(mail.raw, /Welcome Ada, thanks for registering!/);
  const tasks = await (await fetch(`${server.base}/tasks`)).json();
  assert.equal(tasks.stats.failed, 0);
});

test("unreachable SMTP: retried with backoff, then reported; the response is unaffected", async () => {
  const port = await closedPort();
  const server = await startExample({
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    MAIL_RETRIES: "2",
    RETRY_BASE_MS: "50",
    SMTP_TIMEOUT_MS: "2000",
  });
  servers.push(server);

  const started = Date.now();
  const answer = await register(server.base, { email: "bob@example.com", username: "bob" });
  assert.equal(answer.status, 200);
  assert.ok(answer.at - started < 2_000, "answered at once");

  const tasks = await eventually(async () => {
    const body = await (await fetch(`${server.base}/tasks`)).json();
    return body.stats.failed === 1 ? body : undefined;
  }, "the failure report");
  assert.equal(tasks.stats.retried, 2);
  const [failure] = tasks.recentFailures;
  assert.equal(failure.task, "send-welcome-email");
  assert.equal(failure.attempts, 3);
  assert.equal(failure.request, "POST /register");
  assert.match(failure.error, /ECONNREFUSED/);
  await server.waitForOutput(/"msg":"background task failed".*"task":"send-welcome-email"/);
});

test("no configuration: mail lands in the local outbox, newest first; invalid input is a JSON error", async () => {
  const server = await startExample();
  servers.push(server);
  for (const name of ["first", "second"]) {
    assert.equal((await register(server.base, { email: `${name}@example.com`, username: name })).status, 200);
    await eventually(async () => {
      const list = await (await fetch(`${server.base}/outbox`)).json();
      return list.some((mail: { to: string }) => mail.to === `${name}@example.com`) ? true : undefined;
    }, `the ${name} mail`);
  }
  const outbox = await (await fetch(`${server.base}/outbox`)).json();
  assert.deepEqual(outbox.map((mail: { to: string }) => mail.to), ["second@example.com", "first@example.com"]);
  assert.equal(outbox[0].subject, "Welcome!");
  assert.equal(outbox[0].text, "Welcome second, thanks for registering!");
  const eml = await readFile(join(server.dataDir, "outbox", `${outbox[0].id}.eml`), "utf8");
  assert.match(eml, /^To: second@example.com$/m);

  const invalid = await register(server.base, { email: "not-an-email", username: "x" });
  assert.equal(invalid.status, 422);
  assert.match(invalid.json.message, /email/);
  const missing = await register(server.base, { email: "x@example.com" });
  assert.equal(missing.status, 422);
  assert.match(missing.json.message, /username/);
  const huge = await register(server.base, { email: "x@example.com", username: "x".repeat(70_000) });
  assert.equal(huge.status, 413);
  assert.match(huge.json.message, /larger than 65536 bytes/);
  const broken = await fetch(`${server.base}/register`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
  assert.equal(broken.status, 400);
  assert.match((await broken.json()).message, /JSON/);
});

test("the notification log keeps every line whole under 300 concurrent requests", async () => {
  const server = await startExample();
  servers.push(server);
  const emails = Array.from({ length: 300 }, (_, i) => `user${i}@example.com`);
  const answers = await Promise.all(emails.map(async (email) => {
    const response = await fetch(`${server.base}/send-notification/${email}`, { method: "POST" });
    return [response.status, await response.json()] as const;
  }));
  for (const [status, body] of answers) {
    assert.equal(status, 200);
    assert.deepEqual(body, { message: "Notification sent in the background" });
  }
  const lines = await eventually(async () => {
    const text = await readFile(join(server.dataDir, "log.txt"), "utf8").catch(() => "");
    const lines = text.split("\n").filter(Boolean);
    return lines.length >= emails.length ? lines : undefined;
  }, "300 log lines");
  assert.equal(lines.length, emails.length);
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z Sending notification to user\d+@example\.com$/);
  assert.deepEqual(
    lines.map((line) => line.split(" ").pop()).sort(),
    [...emails].sort(),
  );
  const invalid = await fetch(`${server.base}/send-notification/not-an-email`, { method: "POST" });
  assert.equal(invalid.status, 422);
  assert.equal((await invalid.json()).error, "Unprocessable Entity");
});

// Fuzzing the example server (Bun) with fast-check: more than 2,000 random and
// hostile requests to every endpoint. Each answer must be a success or a 4xx
// with a JSON { error, message }; never a 5xx, a hang, a crash, or a file
// outside DATA_DIR. With a real SMTP server behind it, no registration may
// inject a header or a recipient into the SMTP conversation.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { domainToUnicode } from "node:url";
import fc from "fast-check";
import { type Child, getJson, root, startExample } from "../fixtures/reliability/_harness.ts";
import { headerLines, startSmtpServer, type TestSmtpServer } from "../fixtures/reliability/_smtp.ts";

const MAX_UPLOAD_BYTES = 256 * 1024;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const nonce = `fz${process.pid}x${SEED}`;

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

let child: Child;
let smtp: TestSmtpServer;
let sandbox: string;
let dataDir: string;
let cwd: string;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const statuses = new Map<string, Map<number, number>>();
const registered: string[] = []; // emails of registrations answered 200
const uploads: string[] = []; // ids of uploads answered 202
let sent = 0;

before(async () => {
  sandbox = mkdtempSync(join(tmpdir(), "bt-fuzz-"));
  dataDir = join(sandbox, "data");
  cwd = join(sandbox, "cwd");
  mkdirSync(cwd);
  smtp = await startSmtpServer();
  child = await startExample(dataDir, {
    SMTP_URL: smtp.url,
    MAIL_RETRIES: "0",
    MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
  }, cwd);
  console.log(`fuzz seed ${SEED} (set FUZZ_SEED to replay)`);
});

after(async () => {
  agent.destroy();
  await child?.stop();
  await smtp?.close();
  rmSync(sandbox, { recursive: true, force: true });
});

/** Sends one request with node:http (paths go out as written, bodies and headers as given). */
function send(request: Sent, timeoutMs = 10_000): Promise<Answer> {
  const { port } = new URL(child.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      method: request.method,
      path: request.path,
      // An explicit length: node:http would send a GET body chunked, which servers may not read.
      headers: request.body === undefined
        ? request.headers
        : { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
      agent,
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 1 << 20) chunks.push(chunk);
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs} ms (a hang): ${show(request)}`)));
    req.on("error", reject);
    req.end(request.body);
  });
}

function show(request: Sent): string {
  const body = request.body === undefined
    ? ""
    : ` body(${request.body.length} bytes)=${JSON.stringify(String(request.body).slice(0, 300))}`;
  return `${request.method} ${request.path.slice(0, 300)} ${JSON.stringify(request.headers ?? {})}${body}`;
}

/** The checks every answer must pass. */
async function check(endpoint: string, request: Sent): Promise<Answer> {
  sent++;
  let answer: Answer;
  try {
    answer = await send(request);
  } catch (error) {
    assert.equal(child.process.exitCode, null, `the server died on: ${show(request)}\n${child.stderr().slice(-3000)}`);
    throw error;
  }
  const byStatus = statuses.get(endpoint) ?? new Map<number, number>();
  byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
  statuses.set(endpoint, byStatus);
  assert.ok(answer.status < 500, `${answer.status} ${answer.body.slice(0, 300)} for ${show(request)}`);
  if (answer.status >= 400) {
    assert.match(answer.contentType, /^application\/json/, `JSON error for ${show(request)}: ${answer.body.slice(0, 200)}`);
    const error = JSON.parse(answer.body) as { error?: unknown; message?: unknown };
    assert.equal(typeof error.error, "string", answer.body);
    assert.ok(typeof error.message === "string" && error.message.length > 0, answer.body);
    assert.ok([400, 404, 413, 415, 422].includes(answer.status), `an undocumented ${answer.status}: ${answer.body}`);
  }
  return answer;
}

// ---------------------------------------------------------------- arbitraries

const hostileStrings = fc.constantFrom(
  "",
  " ",
  "../../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "/etc/passwd",
  "\u0000",
  "a\u0000b@example.com",
  "a@example.com\r\nBcc: evil@example.com",
  "a@example.com\nBcc: evil@example.com",
  "a@example.com, evil@example.com",
  '"a\r\nBcc: evil@example.com"@example.com',
  "<a@example.com>",
  "a@example.com>\r\nRCPT TO:<evil@example.com",
  "%0d%0aBcc:%20evil@example.com",
  "ß@例え.jp",
  "😀@example.com",
  "a".repeat(300) + "@example.com",
  "x".repeat(10_000),
  "@",
  "a@",
  "@b.c",
  "a@b",
  "=?utf-8?q?evil?=@example.com",
  "a@[127.0.0.1]",
  "{{7*7}}",
  "${process.exit()}",
  "<script>alert(1)</script>",
  "null",
  "undefined",
  "__proto__",
);

const validEmail = fc.tuple(
  fc.stringMatching(/^[a-z][a-z0-9._+-]{0,20}$/),
  fc.constantFrom("example.com", "mail.example.org", "xn--bcher-kva.example"),
).map(([local, domain]) => `${local.replace(/\.+$/, "").replace(/\.\.+/g, ".")}@${domain}`);

const anyText = fc.oneof(
  { weight: 3, arbitrary: hostileStrings },
  { weight: 2, arbitrary: validEmail },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 80 }) },
);

/** Percent-encodes what node:http refuses in a path (controls, spaces, non-ASCII), keeping `..`, `/`, `%`. */
function rawPath(text: string): string {
  return text.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c)).replace(/[?#]/g, (c) => encodeURIComponent(c));
}

const notificationRequests: fc.Arbitrary<Sent> = fc.record({
  email: anyText,
  encode: fc.constantFrom("component", "raw"),
  method: fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE"),
  body: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
}).map(({ email, encode, method, body }) => ({
  method,
  path: `/send-notification/${encode === "component" ? encodeURIComponent(email) : rawPath(email)}`,
  headers: body === undefined ? {} : { "content-type": "text/plain" },
  body,
}));

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const userLike = fc.record({
  email: fc.oneof(anyText, validEmail, jsonValue),
  username: fc.oneof(anyText, fc.string({ minLength: 1, maxLength: 64 }), jsonValue),
}, { requiredKeys: [] });

const deepNesting = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);

const registerBodies = fc.oneof(
  { weight: 6, arbitrary: userLike.map((user) => ({ type: "application/json", body: JSON.stringify(user) })) },
  {
    weight: 3,
    arbitrary: fc.record({ email: validEmail, username: anyText }).map((user) => ({
      type: "application/json",
      body: JSON.stringify(user),
    })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ email: validEmail, username: fc.string({ minLength: 1, maxLength: 64 }) }).map((user) => ({
      type: "application/json",
      body: JSON.stringify(user),
    })),
  },
  { weight: 1, arbitrary: jsonValue.map((value) => ({ type: "application/json", body: JSON.stringify(value) })) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 300 }).map((body) => ({ type: "application/json", body })) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom(
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
        "application/json; charset=utf-16",
        "APPLICATION/JSON",
      ),
      userLike,
    ).map(([type, user]) => ({ type, body: JSON.stringify(user) })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { type: "application/json", body: "" },
      { type: "application/json", body: "{" },
      { type: "application/json", body: '{"email":"a@example.com","username":"a"' },
      { type: "application/json", body: '{"email":"a@example.com","email":"b@example.com","username":"dup"}' },
      { type: "application/json", body: '{"__proto__":{"email":"p@example.com"},"username":"proto"}' },
      { type: "application/json", body: deepNesting(100_000) },
      { type: "application/json", body: JSON.stringify({ email: "big@example.com", username: "x".repeat(3 * 1024 * 1024) }) },
      { type: "application/json", body: "\u0000".repeat(1000) },
      { type: "application/json", body: '\ufeff{"email":"bom@example.com","username":"bom"}' },
    ),
  },
);

const registerRequests: fc.Arbitrary<Sent> = registerBodies.map(({ type, body }) => ({
  method: "POST",
  path: "/register",
  headers: type === "" ? {} : { "content-type": type },
  body,
}));

// Multipart bodies, built by hand so that they can be broken on purpose.
const hostileFilenames = fc.oneof(
  fc.constantFrom(
    "scores.csv",
    `../../../${nonce}-up.csv`,
    `../../${nonce}-up.csv`,
    `/tmp/${nonce}-abs.csv`,
    `..\\..\\${nonce}-win.csv`,
    `${nonce}\u0000.csv`,
    `${"a".repeat(5000)}.csv`,
    "données-😀-表.csv",
    "..",
    ".",
    "",
    ".csv",
    "....//....//x.csv",
    "%2e%2e%2f%2e%2e%2fx.csv",
    'x.csv"; name="other',
    "x.csv\r\nContent-Type: text/html",
    "CON.csv",
    "x.exe",
    "x.csv.exe",
  ),
  fc.string({ unit: "grapheme", maxLength: 40 }).map((name) => `${name}.csv`),
);

const csvContents = fc.oneof(
  fc.constantFrom(
    "name,score\nada,1\ngrace,2\n",
    "",
    "name,score\n",
    "\ufeffname,score\nada,1\n",
    'a,b\n"unterminated,1\n',
    "a,b\n1,2,3\n4\n",
    "a,b\n1,2\u0000\n",
    `a,b\n${"x".repeat(200_000)},1\n`,
    `${"h".repeat(100_000)}\n1\n`,
    "a;b;c\n1;2;3\n",
    '"a""b",c\n"""","\n"\n',
    "\r\n\r\n\r\n",
    "a,b\r\n1,2\r\n",
  ),
  fc.array(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 5 }), { maxLength: 20 })
    .map((rows) => rows.map((row) => row.join(",")).join("\n")),
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
);

interface PartSpec {
  name: string;
  filename: string | undefined;
  type: string | undefined;
  content: string;
}

function multipartBody(parts: PartSpec[], boundary: string, close: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? "" : `; filename="${part.filename}"`;
    const type = part.type === undefined ? "" : `Content-Type: ${part.type}\r\n`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n${type}\r\n`, "latin1"));
    chunks.push(Buffer.from(part.content, "utf8"));
    chunks.push(Buffer.from("\r\n"));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const partSpec: fc.Arbitrary<PartSpec> = fc.record({
  name: fc.constantFrom("file", "file", "file", "other", "FILE", ""),
  filename: fc.option(hostileFilenames, { nil: undefined, freq: 8 }),
  type: fc.option(
    fc.constantFrom("text/csv", "application/octet-stream", "text/plain", "image/png", "application/json", "text/csv; charset=utf-8"),
    { nil: undefined },
  ),
  content: csvContents,
});

const uploadRequests: fc.Arbitrary<Sent> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      parts: fc.array(partSpec, { minLength: 1, maxLength: 3 }),
      boundary: fc.constantFrom("----fuzz", "x", "a".repeat(70), "--", 'b"q'),
      declared: fc.constantFrom("same", "same", "same", "other", "none", "quoted"),
      close: fc.constantFrom(true, true, true, true, false),
    }).map(({ parts, boundary, declared, close }) => {
      const header = declared === "none"
        ? "multipart/form-data"
        : `multipart/form-data; boundary=${declared === "other" ? "not-the-boundary" : declared === "quoted" ? `"${boundary}"` : boundary}`;
      return { method: "POST", path: "/upload", headers: { "content-type": header }, body: multipartBody(parts, boundary, close) };
    }),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom("text/csv", "application/json", "", "application/x-www-form-urlencoded", "multipart/mixed; boundary=x"),
      csvContents,
    ).map(([type, content]) => ({ method: "POST", path: "/upload", headers: type === "" ? {} : { "content-type": type }, body: content })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Sent>(
      // bigger than MAX_UPLOAD_BYTES
      {
        method: "POST",
        path: "/upload",
        headers: { "content-type": "multipart/form-data; boundary=big" },
        body: multipartBody(
          [{ name: "file", filename: "big.csv", type: "text/csv", content: "a\n" + "1\n".repeat(MAX_UPLOAD_BYTES) }],
          "big",
          true,
        ),
      },
      // empty body, no body
      { method: "POST", path: "/upload", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "" },
      { method: "POST", path: "/upload", headers: { "content-type": "multipart/form-data; boundary=x" } },
      // headers of a part that never end
      {
        method: "POST",
        path: "/upload",
        headers: { "content-type": "multipart/form-data; boundary=x" },
        body: `--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"${"a".repeat(40_000)}`,
      },
      // a file field without a filename, then a real one
      {
        method: "POST",
        path: "/upload",
        headers: { "content-type": "multipart/form-data; boundary=x" },
        body: multipartBody(
          [
            { name: "file", filename: undefined, type: undefined, content: "not a file" },
            { name: "file", filename: "ok.csv", type: "text/csv", content: "a,b\n1,2\n" },
          ],
          "x",
          true,
        ),
      },
      // boundary not followed by CRLF
      { method: "POST", path: "/upload", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--xGARBAGE" },
      // GET on a POST route
      { method: "GET", path: "/upload" },
    ),
  },
);

const uploadStatusRequests: fc.Arbitrary<Sent> = fc.oneof(
  fc.uuid().map((id) => ({ method: "GET", path: `/uploads/${id}` })),
  anyText.map((id) => ({ method: "GET", path: `/uploads/${encodeURIComponent(id)}` })),
  fc.constantFrom<Sent>(
    { method: "GET", path: "/uploads/" },
    { method: "GET", path: "/uploads/../../etc/passwd" },
    { method: "GET", path: "/uploads/%2e%2e%2f%2e%2e%2fetc%2fpasswd" },
    { method: "DELETE", path: "/uploads/00000000-0000-0000-0000-000000000000" },
  ),
);

const outboxAndTasksRequests: fc.Arbitrary<Sent> = fc.oneof(
  fc.oneof(anyText, fc.integer().map(String), fc.constantFrom("0", "1", "500", "501", "-1", "1e3", "0x10", "NaN", "", "1.5"))
    .map((limit) => ({ method: "GET", path: `/outbox?limit=${encodeURIComponent(limit)}` })),
  fc.constantFrom<Sent>(
    { method: "GET", path: "/outbox" },
    { method: "GET", path: "/outbox?limit=1&limit=2" },
    { method: "POST", path: "/outbox", headers: { "content-type": "application/json" }, body: "{}" },
    { method: "GET", path: "/tasks" },
    { method: "GET", path: "/tasks?x=%00" },
    { method: "POST", path: "/tasks" },
    { method: "GET", path: "/does-not-exist" },
    { method: "GET", path: "/%2e%2e/%2e%2e/etc/passwd" },
  ),
);

const runs = { notification: 500, register: 600, upload: 600, uploadStatus: 200, outboxAndTasks: 200 };

function property(endpoint: string, arbitrary: fc.Arbitrary<Sent>, numRuns: number, onAnswer?: (request: Sent, answer: Answer) => void) {
  return async () => {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (request) => {
        const answer = await check(endpoint, request);
        onAnswer?.(request, answer);
      }),
      { numRuns, seed: SEED, endOnFailure: true, includeErrorInReport: true },
    );
  };
}

describe("reliability: fuzzing the example server (Bun)", { timeout: 300_000 }, () => {
  it(`POST /send-notification/{email}: ${runs.notification} requests`, property("notification", notificationRequests, runs.notification));

  it(
    `POST /register: ${runs.register} requests`,
    property("register", registerRequests, runs.register, (request, answer) => {
      if (answer.status === 200) {
        registered.push((JSON.parse(String(request.body).replace(/^\ufeff/, "")) as { email: string }).email);
      }
    }),
  );

  it(
    `POST /upload: ${runs.upload} requests`,
    property("upload", uploadRequests, runs.upload, (_request, answer) => {
      if (answer.status === 202) uploads.push((JSON.parse(answer.body) as { id: string }).id);
    }),
  );

  it(`GET /uploads/{id}: ${runs.uploadStatus} requests`, property("uploadStatus", uploadStatusRequests, runs.uploadStatus));

  it(
    `GET /outbox, GET /tasks and strays: ${runs.outboxAndTasks} requests`,
    property("outboxAndTasks", outboxAndTasksRequests, runs.outboxAndTasks),
  );

  it("header injection attempts through email and username: refused, or harmless in the body", async () => {
    const attempts: { email: string; username: string }[] = [
      { email: "inj1@example.com", username: "bob\r\nBcc: evil@example.com" },
      { email: "inj2@example.com", username: "bob\nSubject: hacked" },
      { email: "inj3@example.com", username: "bob\rTo: evil@example.com" },
      { email: "inj4@example.com\r\nBcc: evil@example.com", username: "bob" },
      { email: "inj5@example.com\nBcc: evil@example.com", username: "bob" },
      { email: "inj6@example.com,evil@example.com", username: "bob" },
      { email: '"inj7\r\nBcc: evil@example.com"@example.com', username: "bob" },
      { email: "inj8@example.com>\r\nRCPT TO:<evil@example.com", username: "bob" },
      { email: "inj9@example.com", username: "bob\u2028Bcc: evil@example.com" },
      { email: "inj10@example.com", username: "=?utf-8?q?Bcc=3A_evil=40example=2Ecom?=" },
      { email: "inj11@example.com", username: "bob\u0000Bcc: evil@example.com" },
      { email: "inj12@example.com", username: "\r\n.\r\nMAIL FROM:<evil@example.com>" },
    ];
    const accepted: string[] = [];
    for (const attempt of attempts) {
      const request: Sent = {
        method: "POST",
        path: "/register",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(attempt),
      };
      const answer = await check("register", request);
      if (answer.status === 200) {
        registered.push(attempt.email);
        accepted.push(attempt.email);
      }
      if (/[\r\n]/.test(attempt.email) || /[\r\n]/.test(attempt.username)) {
        assert.equal(answer.status, 422, `refused: ${JSON.stringify(attempt)} → ${answer.body}`);
      }
    }
    // Their mails are checked with all the others in the last test.
    console.log(`header injection: ${accepted.length} of ${attempts.length} attempts accepted (${accepted.join(", ")})`);
  });

  it("afterwards: the server is alive, every background task settled, nothing logged as a 500", async () => {
    assert.ok(sent >= 2_000, `${sent} requests sent`);
    assert.equal(child.process.exitCode, null);
    const deadline = Date.now() + 60_000;
    let view: { stats: Record<string, number>; recentFailures: { task: string; error: string }[] };
    for (;;) {
      view = await getJson(`${child.url}/tasks`);
      if (view.stats.waiting + view.stats.queued + view.stats.running === 0) break;
      if (Date.now() > deadline) throw new Error(`tasks still busy: ${JSON.stringify(view.stats)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(
      `fuzz: ${sent} requests; answers by endpoint: ${
        JSON.stringify(Object.fromEntries([...statuses].map(([endpoint, byStatus]) => [endpoint, Object.fromEntries(byStatus)])))
      }; runner ${JSON.stringify(view.stats)}`,
    );
    assert.doesNotMatch(child.stderr(), /"msg":"request failed"/, "no request ended in a 500");
    for (const id of uploads) {
      const job = await getJson<{ status: string; error?: { reason: string } }>(`${child.url}/uploads/${id}`);
      assert.ok(job.status === "done" || job.status === "failed", `upload ${id} settled: ${JSON.stringify(job)}`);
    }
    const failures = view.recentFailures.filter((failure) => failure.task !== "send-welcome-email");
    assert.deepEqual(failures, [], "no log or CSV task failed (a malformed CSV fails its job, not the task)");
  });

  it("afterwards: no file outside DATA_DIR, and only server-chosen names inside it", () => {
    const files = walk(sandbox).map((path) => relative(sandbox, path));
    const outside = files.filter((path) => !path.startsWith("data/"));
    assert.deepEqual(outside, [], "nothing written outside DATA_DIR (the server's cwd stays empty)");
    const unexpected = files.filter((path) =>
      !/^data\/(log\.txt|outbox\/\d{15}-[0-9a-f]{8}\.(eml|json)|uploads\/[0-9a-f-]{36}\.csv)$/.test(path)
    );
    assert.deepEqual(unexpected, []);
    for (const dir of [tmpdir(), "/tmp", root, join(root, "examples"), "/"]) {
      const planted = existsSync(dir) ? readdirSync(dir).filter((name) => name.includes(nonce)) : [];
      assert.deepEqual(planted, [], `no hostile file name landed in ${dir}`);
    }
  });

  it("afterwards: every accepted registration reached SMTP with exactly its own recipient and clean headers", async () => {
    const view = await getJson<{ stats: Record<string, number>; recentFailures: { task: string }[] }>(`${child.url}/tasks`);
    const mailFailures = view.recentFailures.filter((failure) => failure.task === "send-welcome-email").length;
    assert.ok(registered.length > 50, `${registered.length} registrations accepted`);
    await smtp.waitForMails(registered.length - mailFailures, 30_000);
    // nodemailer writes an IDN domain (xn--…) in Unicode in RCPT TO: compare both in Unicode.
    const normal = (email: string): string => {
      const at = email.lastIndexOf("@");
      return `${email.slice(0, at)}@${domainToUnicode(email.slice(at + 1))}`.toLowerCase();
    };
    const expected = new Set(registered.map(normal));
    const allowed = new Set(["from", "to", "subject", "message-id", "content-transfer-encoding", "date", "mime-version", "content-type"]);
    for (const mail of smtp.mails) {
      assert.equal(mail.rcptTo.length, 1, `one recipient: ${JSON.stringify(mail.rcptTo)}`);
      assert.ok(expected.has(normal(mail.rcptTo[0]!)), `RCPT TO ${mail.rcptTo[0]} is an address that registered`);
      const names = headerLines(mail.raw).map((line) => line.slice(0, line.indexOf(":")).toLowerCase());
      const extra = names.filter((name) => !allowed.has(name));
      assert.deepEqual(extra, [], `no injected header: ${headerLines(mail.raw).join(" | ")}`);
      assert.equal(names.filter((name) => name === "to").length, 1);
      assert.ok(headerLines(mail.raw).includes("Subject: Welcome!"), `the subject is untouched: ${headerLines(mail.raw).join(" | ")}`);
    }
    const strangers = smtp.recipientsTried.filter((to) => !expected.has(normal(to)));
    assert.deepEqual(strangers, [], "no RCPT TO for an address nobody registered (an injected recipient)");
    assert.equal(smtp.mails.length + mailFailures, registered.length, "every accepted registration was mailed or reported");
  });
});

function walk(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...walk(path));
    else found.push(path);
  }
  return found;
}

// The example's admin pages: closed unless ADMIN_TOKEN is set; bull-board at
// /admin/queues in durable mode and the live stats page at /admin/tasks,
// both rendered in headless Chromium from local assets only (every request
// off 127.0.0.1 is blocked and counted). UPDATE_SCREENSHOTS=1 also saves
// the screenshots shown in docs/durable.md.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { type ExampleServer, root, startExample } from "./_exampleServer.ts";
import { bin } from "../fixtures/reliability/_harness.ts";
import { type Child, inspectQueue, type RedisServer, startChild, startRedis, waitFor } from "../fixtures/bullmq/_setup.ts";

const TOKEN = "admin-test-token-7f3a";
const shots = process.env.UPDATE_SCREENSHOTS === "1" ? join(root, "docs") : join(root, "test/.tmp");

describe("the example's admin pages", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let durable: ExampleServer;
  let inProcess: ExampleServer;
  let closed: ExampleServer;
  let worker: Child;
  let browser: Browser;
  let profile: string;

  before(async () => {
    mkdirSync(shots, { recursive: true });
    redis = await startRedis();
    [durable, inProcess, closed] = await Promise.all([
      startExample({ REDIS_URL: redis.url, ADMIN_TOKEN: TOKEN }),
      startExample({ ADMIN_TOKEN: TOKEN }),
      startExample(),
    ]);
    worker = await startChild([bin("bun"), ["run", "examples/worker.ts"]], {
      env: { REDIS_URL: redis.url, DATA_DIR: durable.dataDir },
      ready: /Worker (\d+) taking tasks/,
    });
    profile = await mkdtemp(join(tmpdir(), "bg-chromium-"));
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await worker?.stop();
    await Promise.all([durable?.close(), inProcess?.close(), closed?.close()]);
    await redis?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** A page with the admin credentials, recording requests off 127.0.0.1 (blocked) and page errors. */
  async function adminPage(): Promise<{ page: Page; offHost: string[]; errors: string[] }> {
    const context = await browser.newContext({
      httpCredentials: { username: "admin", password: TOKEN },
      viewport: { width: 1280, height: 760 },
    });
    const page = await context.newPage();
    const offHost: string[] = [];
    const errors: string[] = [];
    await page.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      offHost.push(url.href);
      return route.abort();
    });
    page.on("pageerror", (error) => errors.push(error.message));
    return { page, offHost, errors };
  }

  it("is closed without ADMIN_TOKEN, saying how to open it", async () => {
    for (const path of ["/admin/queues", "/admin/tasks", "/admin/tasks/stats"]) {
      const response = await fetch(`${closed.base}${path}`);
      assert.equal(response.status, 403, path);
      assert.match((await response.json() as { message: string }).message, /Set ADMIN_TOKEN/);
    }
  });

  it("asks for the token, and takes it as a bearer token or a basic-auth password", async () => {
    const missing = await fetch(`${durable.base}/admin/tasks/stats`);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Basic /);
    const wrong = await fetch(`${durable.base}/admin/queues/api/queues`, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    const bearer = await fetch(`${durable.base}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bearer.status, 200);
    assert.ok((await bearer.json() as { queues: { name: string }[] }).queues.some((q) => q.name === "background-tasks"));
    const basic = await fetch(`${inProcess.base}/admin/tasks/stats`, { headers: { authorization: `Basic ${btoa(`anyone:${TOKEN}`)}` } });
    assert.equal(basic.status, 200);
    assert.equal((await basic.json() as { mode: string }).mode, "in-process");
    const noQueue = await fetch(`${inProcess.base}/admin/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(noQueue.status, 404);
    assert.match(await noQueue.text(), /REDIS_URL/);
  });

  it("shows bull-board at /admin/queues in durable mode, with the worker's finished jobs, from local assets", async () => {
    const queue = inspectQueue(redis.url, "background-tasks");
    try {
      for (const name of ["ada", "grace", "linus"]) {
        const response = await fetch(`${durable.base}/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: `${name}@example.com`, username: name }),
        });
        assert.equal(response.status, 200);
      }
      await waitFor("the worker to send the mails", async () => (await queue.getJobCounts("completed")).completed === 3);
    } finally {
      await queue.close();
    }
    const { page, offHost, errors } = await adminPage();
    const response = await page.goto(`${durable.base}/admin/queues`);
    assert.equal(response?.status(), 200);
    await page.getByText("background-tasks").first().waitFor({ timeout: 20_000 });
    await page.goto(`${durable.base}/admin/queues/queue/background-tasks?status=completed`);
    await page.getByText("send-welcome-email").first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(shots, "bull-board.png") });
    assert.deepEqual(offHost, [], "nothing loaded from outside the server");
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it("shows the runner's stats live at /admin/tasks", async () => {
    const { page, offHost, errors } = await adminPage();
    const response = await page.goto(`${inProcess.base}/admin/tasks`);
    assert.equal(response?.status(), 200);
    const succeeded = page.locator('[data-counter="succeeded"] b');
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-counter="succeeded"] b')?.textContent ?? ""));
    const before = Number(await succeeded.textContent());
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(`${inProcess.base}/send-notification/user${i}@example.com`, { method: "POST" })).status, 200);
    }
    // The page updates by itself (polling): wait for it to count the three tasks.
    await page.waitForFunction(
      (least) => Number(document.querySelector('[data-counter="succeeded"] b')?.textContent) >= least,
      before + 3,
      { timeout: 20_000 },
    );
    assert.match(await page.locator("#mode").textContent() ?? "", /in-process/);
    await page.screenshot({ path: join(shots, "admin-tasks.png") });
    assert.deepEqual(offHost, []);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});

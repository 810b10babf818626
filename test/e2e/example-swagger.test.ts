// Swagger UI of the example server in headless Chromium: the page renders from
// local assets only (every request off 127.0.0.1 is blocked and counted), the
// endpoints and their schemas are listed, and "Try it out" works.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type ExampleServer, startExample } from "./_exampleServer.ts";

let server: ExampleServer;
let browser: BrowserContext;
let profile: string;
let page: Page;
const offHost: string[] = [];
const pageErrors: string[] = [];

before(async () => {
  server = await startExample();
  profile = await mkdtemp(join(tmpdir(), "bg-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage();
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    offHost.push(url.href);
    return route.abort();
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const operation = (method: string, path: string) => page.locator(`.opblock-${method}:has(.opblock-summary-path[data-path="${path}"])`);

test("the page renders from local assets and lists every endpoint", async () => {
  const response = await page.goto(`${server.base}/swagger`);
  assert.equal(response?.status(), 200);
  await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
  assert.equal(await page.locator(".info .title").first().innerText().then((t) => t.includes("Background tasks example")), true);
  for (
    const [method, path] of [
      ["post", "/send-notification/{email}"],
      ["post", "/register"],
      ["post", "/upload"],
      ["get", "/uploads/{id}"],
      ["get", "/outbox"],
      ["get", "/tasks"],
    ] as const
  ) {
    assert.equal(await operation(method, path).count(), 1, `${method.toUpperCase()} ${path} is listed`);
  }
  assert.equal(await page.locator('.opblock-summary-path[data-path^="/swagger"]').count(), 0, "docs routes are hidden");
  assert.deepEqual(offHost, [], "nothing was fetched from off the host");
  assert.deepEqual(pageErrors, []);
});

test("schemas: the register body and the upload file picker", async () => {
  const register = operation("post", "/register");
  await register.locator(".opblock-summary").click();
  const body = register.locator(".opblock-section-request-body");
  await body.waitFor();
  await register.locator(".model-example .tablinks", { hasText: "Schema" }).first().click();
  const model = await body.innerText();
  for (const field of ["email", "username"]) assert.ok(model.includes(field), `register body shows ${field}: ${model}`);
  assert.ok((await register.locator(".responses-table").innerText()).includes("422"));

  const upload = operation("post", "/upload");
  await upload.locator(".opblock-summary").click();
  await upload.locator(".try-out__btn").click();
  const picker = upload.locator('input[type="file"]');
  await picker.waitFor();
  await picker.setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from("name,age\nada,36\n") });
  await upload.locator(".execute").click();
  const status = upload.locator(".live-responses-table tr.response .response-col_status").first();
  await status.waitFor({ timeout: 10_000 });
  assert.equal((await status.innerText()).trim(), "202");
});

test('"Try it out" of POST /send-notification/{email} answers 200', async () => {
  const notify = operation("post", "/send-notification/{email}");
  await notify.locator(".opblock-summary").click();
  await notify.locator(".try-out__btn").click();
  await notify.locator('input[placeholder="email"]').fill("ada@example.com");
  await notify.locator(".execute").click();
  const status = notify.locator(".live-responses-table tr.response .response-col_status").first();
  await status.waitFor({ timeout: 10_000 });
  assert.equal((await status.innerText()).trim(), "200");
  const body = await notify.locator(".live-responses-table tr.response .response-col_description").first().innerText();
  assert.match(body, /Notification sent in the background/);
  assert.deepEqual(offHost, []);
});

test('"Try it out" → "Execute" on every operation answers 2xx with the default example', async () => {
  await page.goto(`${server.base}/swagger`);
  await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
  const document = await (await fetch(`${server.base}/swagger/json`)).json() as { paths: Record<string, Record<string, unknown>> };
  const all = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => ({ method, path })));
  // The upload first: GET /uploads/{id} needs the id it answers with (any other id is a 404).
  all.sort((a, b) => Number(b.path === "/upload") - Number(a.path === "/upload"));
  let uploadId: string | undefined;
  const answered: string[] = [];
  for (const { method, path } of all) {
    const block = operation(method, path);
    await block.locator(".opblock-summary").click();
    await block.locator(".try-out__btn").click();
    if (path === "/upload") {
      await block.locator('input[type="file"]').setInputFiles({
        name: "people.csv",
        mimeType: "text/csv",
        buffer: Buffer.from("name,age\nada,36\n"),
      });
    }
    if (path === "/uploads/{id}") {
      assert.ok(uploadId, "POST /upload answered an id");
      await block.locator('input[placeholder="id"]').fill(uploadId);
    }
    if (path === "/register") {
      const body = await block.locator(".body-param textarea").inputValue();
      assert.deepEqual(JSON.parse(body), { email: "ada@example.com", username: "ada" }, "the body is the documented example");
    }
    await block.locator(".execute").click();
    const status = block.locator(".live-responses-table tr.response .response-col_status").first();
    await status.waitFor({ timeout: 10_000 });
    const code = (await status.innerText()).trim();
    const text = await block.locator(".live-responses-table tr.response .response-col_description").first().innerText();
    assert.match(code, /^2\d\d$/, `${method.toUpperCase()} ${path} answered ${code}: ${text}`);
    if (path === "/upload") uploadId = /"id":\s*"([0-9a-f-]{36})"/.exec(text)?.[1];
    answered.push(`${method.toUpperCase()} ${path} ${code}`);
    // Closed again once checked: each open operation adds to the work of every later render.
    await block.locator(".opblock-summary").click();
    await block.locator(".opblock-body").waitFor({ state: "detached" });
  }
  assert.ok(answered.length >= 6, answered.join("\n"));
  assert.deepEqual(offHost, []);
  assert.deepEqual(pageErrors, []);
});

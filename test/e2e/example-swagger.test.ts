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
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
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

const operation = (method: string, path: string) =>
  page.locator(`.opblock-${method}:has(.opblock-summary-path[data-path="${path}"])`);

test("the page renders from local assets and lists every endpoint", async () => {
  const response = await page.goto(`${server.base}/swagger`);
  assert.equal(response?.status(), 200);
  await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
  assert.equal(await page.locator(".info .title").first().innerText().then((t) => t.includes("Background tasks example")), true);
  for (const [method, path] of [
    ["post", "/send-notification/{email}"],
    ["post", "/register"],
    ["post", "/upload"],
    ["get", "/uploads/{id}"],
    ["get", "/outbox"],
    ["get", "/tasks"],
  ] as const) {
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

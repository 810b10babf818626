// The testing kit on the example server, in process: `createApp().handle(request)` through
// createTestClient, with the app's own runner. When client.fetch returns, the task has run:
// the log line is in DATA_DIR/log.txt and the welcome mail in the local outbox.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestClient, type TestClient } from "@background/tasks/testing";

let dataDir: string;
let client: TestClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "bg-kit-"));
  process.env.DATA_DIR = dataDir; // read once, when the app's config is first imported
  delete process.env.REDIS_URL;
  delete process.env.SMTP_URL;
  const { createApp } = await import("../../examples/app/app.ts");
  const { runner } = await import("../../examples/app/runner.ts");
  const app = createApp();
  client = createTestClient((request) => app.handle(request), { runner });
});

afterAll(async () => {
  client.tasks.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test("the notification's log line is written when the request returns", async () => {
  const response = await client.fetch("/send-notification/ada@example.com", { method: "POST" });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ message: "Notification sent in the background" });
  client.tasks.expectTask("write-log").toHaveBeenAddedWith("Sending notification to ada@example.com");
  expect(await readFile(join(dataDir, "log.txt"), "utf8")).toContain("Sending notification to ada@example.com\n");
});

test("the welcome mail is in the outbox when the request returns", async () => {
  const response = await client.fetch("/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "grace@example.com", username: "grace" }),
  });
  expect(response.status).toBe(200);
  client.tasks.expectTask("send-welcome-email").toHaveBeenAddedWith("grace@example.com", "grace");
  const recorded = client.tasks.named("send-welcome-email").at(-1)!;
  expect(recorded.state).toBe("succeeded");
  expect(recorded.request?.method).toBe("POST");
  const files = await readdir(join(dataDir, "outbox"));
  const summaries = await Promise.all(
    files.filter((file) => file.endsWith(".json")).map((file) => readFile(join(dataDir, "outbox", file), "utf8")),
  );
  expect(summaries.some((text) => text.includes("grace@example.com"))).toBe(true);
});

test("a refused request adds no task", async () => {
  const before = client.tasks.added.length;
  const response = await client.fetch("/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "not an email", username: "x" }),
  });
  expect(response.status).toBe(422);
  expect(client.tasks.added.length).toBe(before);
});

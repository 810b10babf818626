// The example server with REDIS_URL set: its mail and log tasks go through
// Redis to examples/worker.ts; the CSV task stays in the server (inProcess).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, type ExampleServer, startExample } from "./_exampleServer.ts";
import { bin } from "../fixtures/reliability/_harness.ts";
import { type Child, type RedisServer, startChild, startRedis } from "../fixtures/bullmq/_setup.ts";

describe("the example server with REDIS_URL and examples/worker.ts", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let server: ExampleServer;
  let worker: Child;

  before(async () => {
    redis = await startRedis();
    server = await startExample({ REDIS_URL: redis.url });
    worker = await startChild([bin("bun"), ["run", "examples/worker.ts"]], {
      env: { REDIS_URL: redis.url, DATA_DIR: server.dataDir, PORT: "0" },
      ready: /Worker (\d+) taking tasks/,
    });
  });
  after(async () => {
    await worker?.stop();
    await server?.close();
    await redis?.stop();
  });

  it("sends the welcome mail from the worker, once", async () => {
    const response = await fetch(`${server.base}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "ada@example.com", username: "ada" }),
    });
    assert.equal(response.status, 200);
    await eventually(async () => /"task":"send-welcome-email"/.test(worker.stdout()) || undefined, "the worker to send the mail");
    const outbox = await (await fetch(`${server.base}/outbox`)).json() as { to: string; text: string }[];
    assert.equal(outbox.length, 1, "one mail, not one from the server and one from the worker");
    assert.equal(outbox[0]!.to, "ada@example.com");
    assert.match(outbox[0]!.text, /Welcome ada/);
  });

  it("writes the notification log line from the worker", async () => {
    const response = await fetch(`${server.base}/send-notification/bob@example.com`, { method: "POST" });
    assert.equal(response.status, 200);
    await eventually(async () => /"task":"write-log"/.test(worker.stdout()) || undefined, "the worker to write the line");
    const log = readFileSync(join(server.dataDir, "log.txt"), "utf8");
    assert.equal(log.match(/Sending notification to bob@example\.com/g)?.length, 1);
  });

  it("keeps the CSV task in the server process (its upload and status live there)", async () => {
    const form = new FormData();
    form.append("file", new Blob(["name,age\nada,36\nbob,40\n"], { type: "text/csv" }), "people.csv");
    const response = await fetch(`${server.base}/upload`, { method: "POST", body: form });
    assert.equal(response.status, 202);
    const { id } = await response.json() as { id: string };
    const job = await eventually(async () => {
      const view = await (await fetch(`${server.base}/uploads/${id}`)).json() as { status: string; rows: number };
      return view.status === "done" || view.status === "failed" ? view : undefined;
    }, "the upload to be processed");
    assert.deepEqual([job.status, job.rows], ["done", 2]);
    assert.doesNotMatch(worker.stdout() + worker.stderr(), /process-csv/);
  });

  it("stops gracefully on SIGTERM", async () => {
    worker.process.kill("SIGTERM");
    assert.equal(await worker.exited, 0);
    assert.match(worker.stdout(), /Worker stopped/);
  });
});

// The example server's OpenTelemetry: turned on by the standard environment variables, the
// caller's W3C traceparent is continued by the request's span, the task's span links to it (so
// it carries the caller's trace id), and GET /metrics serves Prometheus text, with or without
// the metrics SDK.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { bun, root, startExample } from "./_exampleServer.ts";

const traceId = "0af7651916cd43dd8448eb211c80319c";
const traceparent = `00-${traceId}-b7ad6b7169203331-01`;

describe("example server: OpenTelemetry", () => {
  it("OTEL_TRACES_EXPORTER=console prints the request's span in the caller's trace and the task's span linked to it", async () => {
    const server = await startExample({ OTEL_TRACES_EXPORTER: "console", OTEL_METRICS_EXPORTER: "prometheus" });
    try {
      await server.waitForOutput(/OpenTelemetry: traces console; metrics \S+\/metrics \(SDK\)/);
      const response = await fetch(`${server.base}/send-notification/ada@example.com`, { method: "POST", headers: { traceparent } });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      // The request's span: a child of the caller's span, in the caller's trace.
      const requestSpan = await server.waitForOutput(
        new RegExp(
          `traceId: "${traceId}",\\s*parentSpanContext: \\{\\s*traceId: "${traceId}",\\s*spanId: "b7ad6b7169203331"[\\s\\S]*?name: "POST",\\s*id: "([0-9a-f]{16})"`,
        ),
      );
      const requestSpanId = new RegExp(`spanId: "b7ad6b7169203331"[\\s\\S]*?name: "POST",\\s*id: "([0-9a-f]{16})"`).exec(requestSpan)![1]!;
      // The task's span: its own trace, linked to the request's span.
      await server.waitForOutput(
        new RegExp(
          `name: "write-log"[\\s\\S]*?"background_task.outcome": "success"[\\s\\S]*?links: \\[\\s*\\{\\s*context: \\{\\s*traceId: "${traceId}",\\s*spanId: "${requestSpanId}"`,
        ),
      );
      const metrics = await (await fetch(`${server.base}/metrics`)).text();
      assert.match(metrics, /^background_tasks_succeeded_total\{background_task_name="write-log"\} 1$/m);
      assert.match(metrics, /^background_tasks_duration_count\{background_task_name="write-log",background_task_outcome="success"\} 1$/m);
      assert.match(metrics, /^background_tasks_queue_wait_count\{background_task_name="write-log"\} 1$/m);
      const tasks = await (await fetch(`${server.base}/tasks`)).json() as { stats: { succeeded: number } };
      assert.equal(tasks.stats.succeeded, 1, "/tasks stays");
    } finally {
      await server.close();
    }
  });

  it("OTEL_EXPORTER_OTLP_ENDPOINT sends the spans to a collector over OTLP/HTTP", async () => {
    let received!: (body: string) => void;
    const bodies: string[] = [];
    const gotTask = new Promise<string>((resolve) => (received = resolve));
    const collector = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        bodies.push(`${request.method} ${request.url} ${request.headers["content-type"]}`);
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
        if (body.includes('"write-log"')) received(body);
      });
    });
    collector.listen(0, "127.0.0.1");
    await once(collector, "listening");
    const { port } = collector.address() as { port: number };
    const server = await startExample({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: "50" });
    try {
      await server.waitForOutput(/OpenTelemetry: traces otlp; metrics off/);
      const response = await fetch(`${server.base}/send-notification/ada@example.com`, { method: "POST", headers: { traceparent } });
      await response.arrayBuffer();
      const body = await gotTask;
      assert.match(bodies[0]!, /^POST \/v1\/traces application\/json/);
      assert.ok(body.includes(traceId), "the exported spans carry the caller's trace id (the request's span, the task's link)");
    } finally {
      await server.close();
      collector.close();
    }
  });

  it("without OTEL_* variables: no SDK, and GET /metrics serves the runner's counters", async () => {
    const server = await startExample();
    try {
      assert.doesNotMatch(server.output(), /OpenTelemetry/);
      const response = await fetch(`${server.base}/send-notification/grace@example.com`, { method: "POST", headers: { traceparent } });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      let metrics = "";
      for (let tries = 0; tries < 100 && !/^background_tasks_succeeded_total 1$/m.test(metrics); tries++) {
        const answer = await fetch(`${server.base}/metrics`);
        assert.equal(answer.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
        metrics = await answer.text();
        if (!/^background_tasks_succeeded_total 1$/m.test(metrics)) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(metrics, /^# TYPE background_tasks_succeeded_total counter$/m);
      assert.match(metrics, /^background_tasks_succeeded_total 1$/m);
      assert.match(metrics, /^background_tasks_running 0$/m);
      assert.doesNotMatch(server.output(), /traceId/);
    } finally {
      await server.close();
    }
  });

  it("refuses an exporter it does not support, saying which it supports", () => {
    const result = spawnSync(bun, ["run", "examples/server.ts"], {
      cwd: root,
      env: { ...process.env, PORT: "0", OTEL_TRACES_EXPORTER: "zipkin" },
      encoding: "utf8",
      timeout: 15_000,
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /OTEL_TRACES_EXPORTER: "zipkin" is not supported by the example; use console, otlp or none/);
  });
});

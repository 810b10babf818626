// instrumentTasks on a WorkerTaskRunner (real threads, on Node, Bun and Deno): each attempt is a
// span on the runner's side, from the hand-over to the thread until the thread reports, linked
// to the span active when the task was added; the attempt's trace context travels to the thread,
// so the spans the task makes there are children of the attempt's span.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, propagation, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { WorkerTaskRunner } from "../../src/worker.ts";
import { instrumentTasks } from "../../src/otel.ts";
import { fail, noop } from "../fixtures/worker/tasks.mjs";
import { parseRows } from "../fixtures/worker/otel-tasks.mjs";

const spans = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const contextManager = new AsyncLocalStorageContextManager();
// tasks.mjs sets up no OpenTelemetry in its thread; otel-tasks.mjs does, as a user's tasks module would.
const runner = new WorkerTaskRunner({ module: new URL("../fixtures/worker/tasks.mjs", import.meta.url), threads: 1, onError: () => {} });
const tracedRunner = new WorkerTaskRunner({ module: new URL("../fixtures/worker/otel-tasks.mjs", import.meta.url), threads: 1 });

before(() => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
after(async () => {
  await Promise.all([runner.close({ timeoutMs: 1_000 }), tracedRunner.close({ timeoutMs: 1_000 })]);
  context.disable();
  propagation.disable();
  await tracerProvider.shutdown();
});

describe("instrumentTasks on worker threads", () => {
  it("a span per attempt, linked to the adding span, with the outcome the thread reported", async () => {
    await runner.ready();
    const stop = instrumentTasks(runner, { tracerProvider, meterProvider: false });
    const requestSpan = tracerProvider.getTracer("test").startSpan("POST /import");
    context.with(trace.setSpan(context.active(), requestSpan), () => {
      runner.addTask(noop);
      runner.addTask(fail);
    });
    requestSpan.end();
    await runner.drain();
    await tracerProvider.forceFlush();
    const byName = new Map(spans.getFinishedSpans().map((span) => [span.name, span]));
    const ok = byName.get("noop");
    const failed = byName.get("fail");
    assert.equal(ok?.attributes["background_task.outcome"], "success");
    assert.equal(failed?.attributes["background_task.outcome"], "failure");
    assert.equal(failed?.status.code, SpanStatusCode.ERROR);
    for (const span of [ok, failed]) assert.equal(span?.links[0]?.context.spanId, requestSpan.spanContext().spanId);
    stop();
  });

  it("the spans a task makes in its thread are children of the attempt's span, in its trace", async () => {
    await tracedRunner.ready();
    spans.reset();
    const stop = instrumentTasks(tracedRunner, { tracerProvider, meterProvider: false });
    const channel = `otel-worker-${crypto.randomUUID()}`;
    const port = new BroadcastChannel(channel);
    const reported = new Promise<{ name: string; traceId: string; spanId: string; parentSpanId?: string }[]>((resolve) => {
      port.onmessage = (event) => resolve(event.data);
    });
    try {
      tracedRunner.addTask(parseRows, channel);
      await tracedRunner.drain();
      const threadSpans = new Map((await reported).map((span) => [span.name, span]));
      await tracerProvider.forceFlush();
      const attempt = spans.getFinishedSpans().find((span) => span.name === "parse-rows");
      assert.ok(attempt, "the attempt has its span in the main thread");
      const parse = threadSpans.get("parse");
      const row = threadSpans.get("row");
      assert.equal(parse?.parentSpanId, attempt.spanContext().spanId, "the task's span is a child of the attempt's span");
      assert.equal(parse?.traceId, attempt.spanContext().traceId);
      assert.equal(row?.parentSpanId, parse?.spanId, "after an await, the task's context still holds in the thread");
      assert.equal(row?.traceId, attempt.spanContext().traceId);
    } finally {
      port.close();
      stop();
    }
  });
});

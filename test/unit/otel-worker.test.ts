// instrumentTasks on a WorkerTaskRunner (real threads, on Node, Bun and Deno): each attempt is a
// span on the runner's side, from the hand-over to the thread until the thread reports, linked
// to the span active when the task was added.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { WorkerTaskRunner } from "../../src/worker.ts";
import { instrumentTasks } from "../../src/otel.ts";
import { fail, noop } from "../fixtures/worker/tasks.mjs";

const spans = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const contextManager = new AsyncLocalStorageContextManager();
const runner = new WorkerTaskRunner({ module: new URL("../fixtures/worker/tasks.mjs", import.meta.url), threads: 1, onError: () => {} });

before(() => void context.setGlobalContextManager(contextManager.enable()));
after(async () => {
  await runner.close({ timeoutMs: 1_000 });
  context.disable();
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
});

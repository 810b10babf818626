// Durable tasks carry the trace context through Redis: the web side's BullMQ queue and the
// worker are given bullmq-otel's telemetry, so the job's span in the worker is in the trace of
// the request that added the task, and the task runs inside it. Real redis-server, one process.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { Queue } from "bullmq";
import { BullMQOtel } from "bullmq-otel";
import { defineTask, getBackgroundTasks, withBackgroundTasks } from "../../src/mod.ts";
import { BullMQTaskRunner, createTaskWorker } from "../../src/bullmq.ts";
import { instrumentTasks } from "../../src/otel.ts";
import { type RedisServer, startRedis } from "../fixtures/bullmq/_redis.ts";

describe("trace context of durable tasks", { timeout: 60_000 }, () => {
  let redis: RedisServer;
  const spans = new InMemorySpanExporter();
  let workerSpanEnded!: () => void;
  const workerSpan = new Promise<void>((resolve) => (workerSpanEnded = resolve));
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans }), {
      onStart() {},
      onEnd(span: ReadableSpan) {
        if (span.instrumentationScope.name === "worker" && span.name.startsWith("process")) workerSpanEnded();
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    }],
  });

  before(async () => {
    redis = await startRedis();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator()); // bullmq-otel writes the context with it
  });
  after(async () => {
    trace.disable();
    context.disable();
    propagation.disable();
    await provider.shutdown();
    await redis?.stop();
  });

  it("the worker runs the task in the trace of the request that added it", async () => {
    const queueName = `otel-${process.pid}-${Date.now()}`;
    const connection = { url: redis.url };
    let resolveSeen!: (value: { traceId: string | undefined; attempt: number }) => void;
    const seen = new Promise<{ traceId: string | undefined; attempt: number }>((resolve) => (resolveSeen = resolve));
    const sendWelcomeEmail = defineTask("send-welcome-email", function (to: string) {
      resolveSeen({ traceId: trace.getActiveSpan()?.spanContext().traceId, attempt: this.attempt });
      return Promise.resolve(to);
    });
    const queue = new Queue(queueName, { connection, telemetry: new BullMQOtel({ tracerName: "web" }) });
    const runner = new BullMQTaskRunner({ queue, tasks: [sendWelcomeEmail] });
    const stop = instrumentTasks(runner, { meterProvider: false });
    const worker = createTaskWorker({
      connection,
      queueName,
      tasks: [sendWelcomeEmail],
      telemetry: new BullMQOtel({ tracerName: "worker" }),
    });
    try {
      const handler = withBackgroundTasks((request: Request) => {
        getBackgroundTasks(request).addTask(sendWelcomeEmail, "ada@example.com");
        return new Response("registered");
      }, { runner });
      const requestSpan = provider.getTracer("test").startSpan("POST /register");
      const response = await context.with(
        trace.setSpan(context.active(), requestSpan),
        () => handler(new Request("http://localhost/register", { method: "POST" })),
      );
      assert.equal(await response.text(), "registered");
      requestSpan.end();
      const inWorker = await seen;
      assert.equal(inWorker.traceId, requestSpan.spanContext().traceId, "the task runs in the request's trace");
      await runner.drain();
      await workerSpan;
      await provider.forceFlush();
      const finished = spans.getFinishedSpans();
      // The web side: the hand-over of the task to the queue is a span named after it, linked to the request.
      const handOver = finished.find((span) => span.name === "send-welcome-email");
      assert.ok(handOver, `a span named after the task; spans: ${finished.map((span) => span.name).join(", ")}`);
      assert.equal(handOver.links[0]?.context.spanId, requestSpan.spanContext().spanId);
      // The worker side: bullmq-otel's consumer span, in the request's trace.
      const consumer = finished.find((span) => span.instrumentationScope.name === "worker" && span.name.startsWith("process"));
      assert.ok(consumer, `a worker span; spans: ${finished.map((span) => `${span.instrumentationScope.name}:${span.name}`).join(", ")}`);
      assert.equal(consumer.spanContext().traceId, requestSpan.spanContext().traceId);
    } finally {
      stop();
      await worker.close();
      await runner.close?.();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
  });
});
